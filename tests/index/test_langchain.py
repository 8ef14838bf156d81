"""LangChain's own standard retriever test-suite, unmodified, against Akhbar's adapter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests

from index import IndexSettings, Retriever
from index.search.langchain import AkhbarLangChainRetriever


@pytest.fixture(scope="module", autouse=True)
def _open_index(small_index: Path, tiny_model_dir: Path, tiny_embedder) -> None:  # noqa: ANN001
    settings = IndexSettings(index_dir=small_index, embedding_model=str(tiny_model_dir), _env_file=None)
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
    documents = TestAkhbarLangChainRetriever.opened.as_langchain(k=2).invoke("تامر حسني")
    assert len(documents) == 2 and all(isinstance(d, Document) for d in documents)
    for document in documents:
        meta = document.metadata
        assert set(meta) >= {"article_id", "title", "date", "source", "url", "score", "start", "end"}
        article = TestAkhbarLangChainRetriever.opened.metadata.articles([meta["article_id"]])[meta["article_id"]]
        assert article.text[meta["start"]:meta["end"]] == document.page_content
