"""The index survives maintenance and tampering (security review 2026-12, findings 7, 13, 14, 15, 20, 22)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from index import IndexCorrupt, Retriever, build_index
from index.build.feeds import FEEDS_LOCK, IndexedArticles, fetch_feeds
from index.errors import FeedsBusy
from index.stores import FaissStore
from index.stores.faiss.layout import BUILDS, build_lock, file_lock, resolve_build
from index.stores.manifest import MANIFEST_NAME
from index.stores.milvus.schema import PRUNE_GRACE_SECONDS, recently_replaced
from tests.support.corpora import write_jsonl


def _records(news_records: list[dict], start: int, count: int = 4) -> list[dict]:
    return news_records[start:start + count]


def test_pruning_never_deletes_the_build_a_reader_serves(tmp_path: Path, tiny_embedder,
                                                          news_records: list[dict]) -> None:
    index_dir = tmp_path / "index"
    corpus = write_jsonl(tmp_path / "a.jsonl", _records(news_records, 0))
    build_index([corpus], index_dir, tiny_embedder)
    served = resolve_build(index_dir)
    retriever = Retriever.open(index_dir, embedder=tiny_embedder)
    question = news_records[1]["title"]
    before = [p.article.id for p in retriever.search(question, k=3)]
    for n in range(3):  # three more builds: the served one is two generations past KEEP_PREVIOUS_BUILDS
        build_index([write_jsonl(tmp_path / f"b{n}.jsonl", _records(news_records, 0, 4 + n))], index_dir,
                    tiny_embedder)
    assert served.is_dir(), "the build a reader holds is kept"
    assert [p.article.id for p in retriever.search(question, k=3)] == before
    builds = sorted(p.name for p in (index_dir / BUILDS).iterdir() if not p.name.startswith("."))
    assert len(builds) == 3, "current + one previous + the held one; the unheld old one was pruned"
    retriever.close()
    build_index([write_jsonl(tmp_path / "c.jsonl", _records(news_records, 0, 8))], index_dir, tiny_embedder)
    assert not served.exists(), "once released, the old build is pruned like any other"


def test_a_pick_whose_article_is_missing_is_left_out_not_a_key_error(tmp_path: Path, tiny_embedder,
                                                                    news_records: list[dict],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """What a reader sees during a Milvus update in place: chunk rows whose article row is not written yet."""
    index_dir = tmp_path / "index"
    build_index([write_jsonl(tmp_path / "a.jsonl", _records(news_records, 10, 6))], index_dir, tiny_embedder)
    retriever = Retriever.open(index_dir, embedder=tiny_embedder)
    question = news_records[12]["title"]
    full = retriever.search(question, k=3)
    missing = full[0].article.id
    real = retriever.metadata

    class ArticleRowNotYetWritten:
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def articles(self, ids: list[str]) -> dict:
            return {k: v for k, v in real.articles(ids).items() if k != missing}

    monkeypatch.setattr(retriever.store, "metadata", ArticleRowNotYetWritten())
    partial = retriever.search(question, k=3)
    assert missing not in [p.article.id for p in partial]
    assert [p.article.id for p in partial] == [p.article.id for p in full[1:]][:len(partial)]
    retriever.close()


def test_milvus_keeps_builds_replaced_within_the_grace_period() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)

    def name(minutes_ago: float) -> str:
        return f"akh_c_{(now - timedelta(minutes=minutes_ago)):%Y%m%dT%H%M%S%fZ}"

    # Builds made 60, 30, 3 and 1 minutes ago: each was replaced when the next one was made.
    made_60, made_30, made_3, current = name(60), name(30), name(3), name(1)
    kept = recently_replaced([made_60, made_30, made_3], current, now)
    assert PRUNE_GRACE_SECONDS == 300
    assert kept == {made_30, made_3}, "replaced 3 and 1 minutes ago: kept; replaced 30 minutes ago: not"


def test_a_manifest_cannot_name_files_outside_its_build(tmp_path: Path, tiny_embedder,
                                                        news_records: list[dict]) -> None:
    index_dir = tmp_path / "index"
    build_index([write_jsonl(tmp_path / "a.jsonl", _records(news_records, 20))], index_dir, tiny_embedder)
    manifest_path = resolve_build(index_dir) / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    (tmp_path / "outside.txt").write_text("x", encoding="utf-8")
    for name in ("../../../outside.txt", str(tmp_path / "outside.txt")):
        manifest["files"] = {name: {"bytes": 1, "sha256": "0" * 64}}
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
        with pytest.raises(IndexCorrupt, match="names a file outside the build"):
            Retriever.open(index_dir, embedder=tiny_embedder, verify=True)


def test_a_symlinked_lock_file_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("important config", encoding="utf-8")
    (index_dir / ".lock").symlink_to(victim)
    with pytest.raises(OSError, match="is a symbolic link"), build_lock(index_dir):
        pass
    assert victim.read_text(encoding="utf-8") == "important config"


def test_one_feed_run_at_a_time_per_index(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    from corpus.feeds import FetchSettings

    with file_lock(index_dir, FEEDS_LOCK), pytest.raises(FeedsBusy, match="another feed run is fetching"):
        fetch_feeds(["http://news.example.com/rss.xml"], index_dir, FetchSettings(),
                    IndexedArticles(FaissStore(index_dir)))


def test_the_source_filter_folds_case_beyond_ascii(tmp_path: Path, tiny_embedder, news_records: list[dict]) -> None:
    records = [dict(r) for r in _records(news_records, 30)]
    records[0]["source"] = "ÉCO Ñews"
    index_dir = tmp_path / "index"
    build_index([write_jsonl(tmp_path / "a.jsonl", records)], index_dir, tiny_embedder)
    retriever = Retriever.open(index_dir, embedder=tiny_embedder)
    for typed in ("ÉCO Ñews", "éco ñews", "ÉCO ÑEWS"):
        found = retriever.search(records[0]["title"], k=3, sources=[typed])
        assert [p.article.source for p in found] == ["ÉCO Ñews"], typed
    retriever.close()


class _Dates:
    """The part of a build's metadata the archive's "today" is read from."""

    def __init__(self, newest: datetime | None, days: tuple[str, str] | None) -> None:
        self._newest, self._days = newest, days

    def newest_date(self) -> datetime | None:
        return self._newest

    def date_range(self) -> tuple[str, str] | None:
        return self._days


def test_a_future_dated_article_does_not_move_the_archive_s_today() -> None:
    """Finding 11: one item dated 2099 made every "last week" question search 2099."""
    from index.search.plan import plan_question, reference_day

    now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    honest = _Dates(datetime(2018, 7, 18, 15, 25, tzinfo=UTC), ("2018-02-01", "2018-07-18"))
    assert reference_day(honest, now).isoformat() == "2018-07-18"  # type: ignore[arg-type]
    poisoned = _Dates(datetime(2099, 12, 31, 23, 59, tzinfo=UTC), ("2018-02-01", "2099-12-31"))
    today = reference_day(poisoned, now)  # type: ignore[arg-type]
    assert today is not None
    assert today.isoformat() == "2026-12-04", "never later than tomorrow"
    plan = plan_question("ماذا حدث في السعودية الأسبوع الماضي؟", today)
    assert plan.period is not None
    assert plan.period.until.year == 2026
