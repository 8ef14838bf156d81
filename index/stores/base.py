"""The store interface: where an index's vectors, lexical index and quote metadata live.

The index pipeline (:func:`index.build_index`) and the retriever (:class:`index.Retriever`) talk
to a store only through the two protocols below, so neither knows whether it writes a FAISS
directory or a Milvus collection:

* :class:`IndexStore` locates one index: it takes the build lock, lends the current build's
  chunks to an update, writes a build (or applies an update) and opens a reader.
* :class:`StoreReader` serves one build: filtered dense and lexical candidate pools (keys and
  scores; the retriever fuses them), the chunks and articles behind keys, and the vectors for
  the relevance signal.

Chunk keys are integers: FAISS's row numbers, or in Milvus a stable 63-bit hash of the chunk id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from corpus import Article, Chunk, ChunkerSettings
from index.embedding.base import Embedder
from index.search.filters import SearchFilters
from index.settings import VectorIndexKind
from index.stores.manifest import Manifest


@dataclass(frozen=True, slots=True)
class Restriction:
    """A :class:`SearchFilters` in the form its store executes, prepared once per question.

    Attributes:
        count: Chunks that pass (all chunks when unfiltered).
        handle: The store's own form: FAISS an array of allowed keys, Milvus a filter expression; None
            when nothing is filtered.

    """

    count: int
    handle: np.ndarray | str | None


@dataclass(slots=True)
class BuildContent:
    """Everything a store writes for one build or update, in corpus order.

    Attributes:
        vectors: One per chunk; None for a chunk of an unchanged article the store already holds
            (only a store whose :meth:`IndexStore.previous` lent it that way, i.e. an in-place update).
        lexical_texts: The text each chunk is lexically indexed by (headline + chunk), read once in order.
        manifest: Model, chunker, counts and fingerprints; a store adds its own fields (files, index kind).
        stories: Article id → story id (:mod:`index.build.stories`); an article left out is its own
            story. The FAISS store keeps it; the Milvus store does not (its copies fold by words only).

    """

    articles: list[Article]
    chunks: list[Chunk]
    vectors: list[np.ndarray | None]
    lexical_texts: Sequence[str]
    manifest: Manifest
    vector_index: VectorIndexKind = "auto"
    stories: Mapping[str, str] = field(default_factory=dict)


class PreviousBuild(Protocol):
    """The current build, opened so an update reuses what did not change."""

    manifest: Manifest

    def reuse(self, article: Article) -> tuple[list[Chunk], list[np.ndarray | None]] | None:
        """The article's chunks and vectors (None: kept in place) if it is unchanged, else None."""

    def close(self) -> None:
        """Release what was opened."""


class Metadata(Protocol):
    """Read access to the articles and chunks a quote is cut from (the bot's /about uses it too)."""

    def chunks(self, keys: Sequence[int]) -> dict[int, Chunk]:
        """Chunks by key."""

    def articles(self, ids: Sequence[str]) -> dict[str, Article]:
        """Articles by id."""

    def all_articles(self) -> list[Article]:
        """Every article (a migration copies them)."""

    def sources(self) -> list[tuple[str, int]]:
        """Each source with its article count, largest first."""

    def newest_date(self) -> datetime | None:
        """Publication time of the newest article (by instant), or None."""

    def date_range(self) -> tuple[str, str] | None:
        """Oldest and newest article day, or None."""

    def vector_ids_matching(self, sources: Sequence[str] | None, since: date | None,
                            until: date | None) -> list[int]:
        """Keys of chunks whose article matches the filters."""

    def chunk_rows(self) -> list[tuple[int, str, str, int, int]]:
        """All ``(key, chunk_id, article_id, start, end)`` rows."""

    def count_chunks(self) -> int:
        """Number of chunks."""

    def stories(self, ids: Iterable[str]) -> dict[str, str]:
        """Story id of each of these articles that joined another's story; one left out has its own id as story id."""


class StoreReader(Protocol):
    """One build, opened for searching; thread-safe for concurrent searches."""

    @property
    def manifest(self) -> Manifest:
        """The build's manifest (model, counts, chunker, dates)."""

    @property
    def metadata(self) -> Metadata:
        """Its chunks, articles, sources and dates."""

    @property
    def build_id(self) -> str:
        """Names the build served: the build directory's name (FAISS), ``<collection>@<build id>`` (Milvus)."""

    @property
    def size(self) -> int:
        """Number of chunks."""

    def restrict(self, filters: SearchFilters) -> Restriction:
        """Prepare ``filters`` for the searches of one question."""

    def dense(self, query_vector: np.ndarray, pool: int, restriction: Restriction) -> dict[int, float]:
        """Top ``pool`` chunks by cosine to ``query_vector``: key → score."""

    def lexical(self, question: str, pool: int, restriction: Restriction) -> dict[int, float]:
        """Top ``pool`` chunks by BM25 over Arabic-normalised tokens (positive scores only)."""

    def hybrid(self, question: str, query_vector: np.ndarray, pool: int,
               restriction: Restriction) -> dict[int, float] | None:
        """A store's own fused ranking, or None to let the retriever fuse dense and lexical pools."""

    def vectors(self, keys: Sequence[int]) -> dict[int, np.ndarray]:
        """Stored vectors by key (for the mode-independent relevance signal)."""

    def close(self) -> None:
        """Release files and connections."""


class IndexStore(Protocol):
    """One index, wherever it lives; what :func:`index.build_index` and :class:`index.Retriever` use."""

    #: Names the index in messages (a directory, or a Milvus URI and collection).
    description: str
    #: The command that rebuilds it, for error messages.
    rebuild_command: str

    def lock(self, wait: bool = False) -> AbstractContextManager[None]:
        """Hold the index's build lock (one writer at a time).

        Raises:
            IndexLocked: held by another build and ``wait`` is false.

        """

    def previous(self, embedder: Embedder, settings: ChunkerSettings, embed_titles: bool) -> PreviousBuild | None:
        """The current build, if an update may reuse it (same model, backend and chunker)."""

    def write(self, content: BuildContent, previous: PreviousBuild | None) -> Path:
        """Write ``content`` and make it current; returns :attr:`StoreReader.location` of the result.

        Raises:
            OSError: a file or the server refused the write; the previous build stays current.

        """

    def current_articles(self) -> list[Article]:
        """Every article of the current build, in build order (none when there is none)."""

    def current_build_id(self) -> str | None:
        """Name of the build serving now (cheap), to notice a switch made by another process."""

    def exists(self) -> bool:
        """Whether a build is there to open (cheap: no files or collections are loaded)."""

    def close(self) -> None:
        """Release a connection the store opened (readers keep their own)."""

    def drop(self) -> None:
        """Delete the whole index, every build (temporary indexes: evaluation, tests)."""

    def open(self, verify: bool = True) -> StoreReader:
        """Open the current build for searching, checking its format.

        Raises:
            IndexNotFound: nothing built yet.
            IndexMismatch: another format version.
            IndexCorrupt: damaged.

        """


def reusable(manifest: Manifest, embedder: Embedder, settings: ChunkerSettings, embed_titles: bool) -> bool:
    """Whether vectors and chunks of ``manifest``'s build are what this build would compute."""
    return (manifest.model_id == embedder.model_id and manifest.dimension == embedder.dimension
            and manifest.embedding_backend == embedder.backend
            and manifest.chunk_tokens == settings.max_tokens
            and manifest.chunk_overlap_tokens == settings.overlap_tokens
            and manifest.embed_titles == embed_titles)
