"""Embeddings, the stores, the retriever and its query path (Python API + LangChain adapter), the index CLI.

Knows nothing of Telegram. The public surface is what a caller (the bot included) needs::

    from index import Retriever
    retriever = Retriever.open("data/index")
    answer = retriever.ask("ماذا حدث في السعودية الأسبوع الماضي؟", k=3)   # period, recency, no-answer
    passages = retriever.search("سؤال", k=5)                               # the raw ranked search

The rooms (see docs/architecture.md): ``embedding/`` models, ``stores/`` FAISS and Milvus,
``search/`` retrieval and planning, ``build/`` writing indexes.
"""

import logging

from index.build.builder import BuildReport, build_index
from index.embedding import SentenceTransformerEmbedder, load_embedder
from index.embedding.base import Embedder
from index.errors import (
    AkhbarIndexError,
    BadQuery,
    EmptyCorpus,
    IndexCorrupt,
    IndexLocked,
    IndexMismatch,
    IndexNotFound,
    StoreUnavailable,
)
from index.search.filters import SearchFilters
from index.search.passage import Passage, Quote
from index.search.plan import PlannedResults, SearchPlan, plan_question, reference_day, run_plan, top_relevance
from index.search.retriever import MAX_QUESTION_CHARS, Retriever
from index.search.timeexpr import TimeQuery, TimeRange, parse_time
from index.settings import MAX_K, IndexSettings
from index.stores import open_store

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "MAX_K",
    "MAX_QUESTION_CHARS",
    "AkhbarIndexError",
    "BadQuery",
    "BuildReport",
    "Embedder",
    "EmptyCorpus",
    "IndexCorrupt",
    "IndexLocked",
    "IndexMismatch",
    "IndexNotFound",
    "IndexSettings",
    "Passage",
    "PlannedResults",
    "Quote",
    "Retriever",
    "SearchFilters",
    "SearchPlan",
    "SentenceTransformerEmbedder",
    "StoreUnavailable",
    "TimeQuery",
    "TimeRange",
    "build_index",
    "load_embedder",
    "open_store",
    "parse_time",
    "plan_question",
    "reference_day",
    "run_plan",
    "top_relevance",
]
