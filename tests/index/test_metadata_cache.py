"""The FAISS reader's article cache: bounded, and never the reason an article is missing from a read."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from corpus.types import Article, Chunk
from index.stores.faiss import metadata
from index.stores.faiss.metadata import MetadataDB, write_metadata

HEADLINES = ["إعصار مكونو يضرب سلطنة عمان", "ريم بنا تغادر الحياة في برلين", "السعودية تسمح للنساء بالقيادة",
             "كيم جونغ أون يلتقي ترامب في سنغافورة", "المغرب يخسر سباق استضافة كأس العالم 2026",
             "انخفاض أسعار النفط بعد قرار أوبك", "ميسي يقود الأرجنتين", "زلزال يضرب إندونيسيا"]


@pytest.fixture
def database(tmp_path: Path) -> Iterator[MetadataDB]:
    articles = [Article(id=f"a{n}", title=title, text=f"{title}. نص الخبر رقم {n}.",
                        date=datetime(2018, 5, 1 + n, tzinfo=UTC), source="بي بي سي", url=f"https://example.com/{n}")
                for n, title in enumerate(HEADLINES)]
    chunks = [Chunk(f"a{n}:0", a.id, a.text, 0, len(a.text)) for n, a in enumerate(articles)]
    path = tmp_path / "chunks.sqlite"
    write_metadata(path, articles, chunks)
    opened = MetadataDB(path)
    yield opened
    opened.close()


def test_the_cache_stays_within_its_bound_and_every_read_is_whole(database: MetadataDB,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metadata, "CACHED_ARTICLES", 3)
    everything = database.all_articles()
    assert [a.title for a in everything] == HEADLINES  # more than the cache holds, all returned in order
    assert len(database._articles) == 3
    found = database.articles(["a0", "a7", "a3", "missing"])
    assert sorted(found) == ["a0", "a3", "a7"]
    assert found["a3"].text.startswith("كيم جونغ أون")


def test_threads_reading_past_the_bound_each_get_all_they_asked_for(database: MetadataDB,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metadata, "CACHED_ARTICLES", 2)
    failures: list[str] = []

    def reader(offset: int) -> None:
        for round_ in range(50):
            wanted = [f"a{(offset + round_ + k) % len(HEADLINES)}" for k in range(4)]
            if sorted(database.articles(wanted)) != sorted(wanted):
                failures.append(f"thread {offset} round {round_}")

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures
    assert len(database._articles) <= 2
