"""Standing questions meet only the articles an update added, on both stores (FAISS directory, Milvus Lite file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.alerts import added_article_ids, find_matches
from bot.answerer import Answerer
from bot.follow import Follow
from bot.settings import BotSettings
from index import build_index
from index.stores import open_store
from tests.support.corpora import write_jsonl


@pytest.mark.parametrize("vector_store", ["faiss", "milvus"])
def test_only_the_added_articles_are_matched(vector_store: str, tmp_path: Path, tiny_embedder: Any,
                                             tiny_model_dir: Path, news_records: list[dict[str, Any]]) -> None:
    settings = BotSettings(_env_file=None, index_dir=tmp_path / "index", embedding_model=str(tiny_model_dir),
                           vector_store=vector_store, milvus_uri=str(tmp_path / "milvus.db"), search_mode="lexical",
                           no_answer_threshold=-1.0, reload_check_seconds=0)

    def build(records: list[dict[str, Any]], name: str, incremental: bool = False) -> None:
        store = open_store(settings)
        build_index([write_jsonl(tmp_path / f"{name}.jsonl", records)], settings.index_dir, tiny_embedder,
                    store=store, incremental=incremental)
        store.close()

    build(news_records[100:105], "old")
    answerer = Answerer.open(settings, tiny_embedder)
    before = answerer.retriever.manifest.article_fingerprints
    build(news_records[100:108], "new", incremental=True)
    assert answerer.reload().swapped
    fetched = [r["id"] for r in news_records[105:108]]  # what the feed run brought (Milvus manifests list no article)
    new_ids = added_article_ids(before, answerer.retriever.manifest.article_fingerprints, fetched)
    assert sorted(new_ids) == sorted(r["id"] for r in news_records[105:108])

    wanted, old = news_records[106], news_records[101]
    follows = [Follow(1, 10, f"ماذا جاء في الخبر: {wanted['title']}", ""),
               Follow(2, 20, f"ماذا جاء في الخبر: {old['title']}", "")]
    matches = find_matches(answerer.retriever, follows, new_ids, threshold=-1.0)
    assert matches
    assert {m.passage.article.id for m in matches} <= set(new_ids), "old articles are never matched"
    assert [m.passage.article.id for m in matches if m.follow.id == 1][0] == wanted["id"]
    assert old["id"] not in {m.passage.article.id for m in matches}
    assert find_matches(answerer.retriever, follows, new_ids, threshold=1.01) == [], "the bar holds"
