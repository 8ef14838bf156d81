"""Embeddings, the on-disk index, the retriever (Python API + LangChain adapter), the index CLI.

Knows nothing of Telegram. The public surface is what a caller needs to search::

    from index import Retriever
    passages = Retriever.open("data/index").search("سؤال", k=5)
"""

import logging

from index.builder import BuildReport, build_index
from index.embedding import Embedder, SentenceTransformerEmbedder, load_embedder
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
from index.search.passage import Passage, Quote
from index.search.retriever import Retriever, SearchFilters
from index.settings import IndexSettings
from index.timeexpr import TimeQuery, TimeRange, parse_time

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
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
    "Quote",
    "Retriever",
    "SearchFilters",
    "SentenceTransformerEmbedder",
    "StoreUnavailable",
    "TimeQuery",
    "TimeRange",
    "build_index",
    "load_embedder",
    "parse_time",
]
