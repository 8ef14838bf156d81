"""LangChain adapter: :class:`index.Retriever` as a ``langchain_core`` ``BaseRetriever``.

For users who compose Akhbar into LangChain pipelines. Documents carry the verbatim chunk as
``page_content`` and everything needed to cite it in ``metadata``. Questions take the same query
path as the bot's (:meth:`index.Retriever.ask`): time words become a period, "latest" questions
show the newest first, and a question the archive cannot answer (best relevance under the
calibrated threshold) returns no documents rather than noise. Explicit ``since``/``until`` filters
search as given instead. ``k`` may be set at construction or per call. A leaf: nothing in
``index`` imports it.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from index.search.passage import Passage
from index.search.retriever import Retriever


def passage_to_document(passage: Passage) -> Document:
    """A LangChain Document for one passage (metadata: :meth:`index.Passage.as_record`)."""
    return Document(page_content=passage.chunk.text, id=passage.chunk.id, metadata=passage.as_record())


def as_langchain(retriever: Retriever, k: int = 4) -> AkhbarLangChainRetriever:
    """``retriever`` as a LangChain ``BaseRetriever`` returning ``Document``s."""
    return AkhbarLangChainRetriever(retriever=retriever, k=k)


class AkhbarLangChainRetriever(BaseRetriever):
    """Retrieves Arabic news passages as ``Document``s.

    Args:
        retriever: An open :class:`index.Retriever`.
        k: Documents per query (overridable per call with ``invoke(query, k=3)``).
        sources: Only these outlets.
        since: Only articles from this day on.
        until: Only articles up to this day.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Retriever
    k: int = Field(default=4, ge=1, le=100)
    sources: list[str] = Field(default_factory=list)
    since: date | None = None
    until: date | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                **kwargs: Any) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        sources = list(kwargs.get("sources", self.sources) or [])
        since, until = kwargs.get("since", self.since), kwargs.get("until", self.until)
        if since is not None or until is not None:
            passages = self.retriever.search(query, k=k, sources=sources, since=since, until=until)
        else:
            answer = self.retriever.ask(query, k=k, sources=sources)
            passages = list(answer.passages) if answer.answered else []
        return [passage_to_document(p) for p in passages]

    async def _aget_relevant_documents(self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun,
                                       **kwargs: Any) -> list[Document]:
        # Search is CPU-bound: run it in a worker thread so the event loop stays responsive.
        return await asyncio.to_thread(self._get_relevant_documents, query,
                                       run_manager=run_manager.get_sync(), **kwargs)
