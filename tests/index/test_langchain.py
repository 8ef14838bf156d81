"""LangChain's own standard retriever test-suite, unmodified, against Akhbar's adapter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests

from index import IndexSettings, Retriever
from index.search.langchain import AkhbarLangChainRetriever, as_langchain


@pytest.fixture(scope="module", autouse=True)
def _open_index(small_index: Path, tiny_model_dir: Path, tiny_embedder) -> None:  # noqa: ANN001
    # The no-answer threshold is calibrated for the default model; the tiny test model has none.
    settings = IndexSettings(index_dir=small_index, embedding_model=str(tiny_model_dir), no_answer_threshold=-1.0,
                             _env_file=None)
    TestAkhbarLangChainRetriever.opened = Retriever.open(small_index, settings=settings, embedder=tiny_embedder)


class TestAkhbarLangChainRetriever(RetrieversIntegrationTests):
    opened: Retriever

    @property
    def retriever_constructor(self) -> type[AkhbarLangChainRetriever]:
        return AkhbarLangChainRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"retriever": self.opened}

    @property
    def retriever_query_example(self) -> str:
        return "ما آخر أخبار فيسبوك؟"


def test_documents_carry_citation_metadata() -> None:
    documents = as_langchain(TestAkhbarLangChainRetriever.opened, k=2).invoke("تامر حسني")
    assert len(documents) == 2
    assert all(isinstance(d, Document) for d in documents)
    for document in documents:
        meta = document.metadata
        assert set(meta) >= {"article_id", "title", "date", "source", "url", "score", "start", "end"}
        article = TestAkhbarLangChainRetriever.opened.metadata.articles([meta["article_id"]])[meta["article_id"]]
        assert article.text[meta["start"]:meta["end"]] == document.page_content
        assert meta["quote"] in document.page_content


def test_an_unanswerable_question_returns_no_documents(small_index: Path, tiny_model_dir: Path,
                                                       tiny_embedder) -> None:  # noqa: ANN001
    """The no-answer decision of the bot applies to LangChain too: nothing rather than noise."""
    settings = IndexSettings(index_dir=small_index, embedding_model=str(tiny_model_dir), no_answer_threshold=1.0,
                             _env_file=None)
    strict = Retriever.open(small_index, settings=settings, embedder=tiny_embedder)
    try:
        assert strict.search("تامر حسني", k=2), "the raw search still finds passages"
        assert as_langchain(strict, k=2).invoke("تامر حسني") == []
    finally:
        strict.close()
