"""The bot on the Milvus store (Milvus Lite file): it answers, and notices a new build and reloads it.

Nothing in ``bot/`` knows the store: the same :class:`Answerer` runs over ``VECTOR_STORE=milvus``.
"""

from __future__ import annotations

from pathlib import Path

from bot.answerer import Answerer
from bot.settings import BotSettings
from index import build_index
from index.stores import open_store
from tests.support.corpora import write_jsonl


def test_answerer_on_milvus_answers_and_hot_reloads_a_new_build(
        tmp_path: Path, tiny_embedder, tiny_model_dir: Path, news_records: list[dict]) -> None:  # noqa: ANN001
    settings = BotSettings(_env_file=None, index_dir=tmp_path / "index", embedding_model=str(tiny_model_dir),
                           vector_store="milvus", milvus_uri=str(tmp_path / "milvus.db"), search_mode="lexical",
                           no_answer_threshold=-1.0, reload_check_seconds=0)

    def build(records: list[dict], name: str) -> str:
        store = open_store(settings)
        build_index([write_jsonl(tmp_path / f"{name}.jsonl", records)], settings.index_dir, tiny_embedder, store=store)
        current = store.current_build_id() or ""
        store.close()
        return current

    first = build(news_records[100:105], "one")
    answerer = Answerer.open(settings, tiny_embedder)
    assert answerer.build_id == first
    assert not answerer.reload_due()
    old = news_records[101]
    assert answerer.answer(f"ماذا جاء في الخبر: {old['title']}").passages[0].article.id == old["id"]

    second = build(news_records[108:113], "two")
    assert second != first
    assert answerer.reload_due()
    assert answerer.reload().swapped
    assert answerer.build_id == second
    new = news_records[110]
    assert answerer.answer(f"ماذا جاء في الخبر: {new['title']}").passages[0].article.id == new["id"]

    # An in-place update (upserts and deletes in the same collection) is a new build to the bot too,
    # so /about's counts follow; the answers changed as soon as it was written.
    store = open_store(settings)
    build_index([write_jsonl(tmp_path / "three.jsonl", news_records[108:115])], settings.index_dir, tiny_embedder,
                incremental=True, store=store)
    store.close()
    assert answerer.reload_due()
    assert answerer.reload().swapped
    assert answerer.retriever.manifest.articles == 7
