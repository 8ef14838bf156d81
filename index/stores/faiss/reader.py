"""Reading one FAISS build: the previous build an update borrows vectors from, and a build opened for search.

A reader holds a shared ``flock`` on its build's reader mark for as long as it serves it, so
pruning (:func:`index.stores.faiss.layout.prune_builds`) never deletes a build still being read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

from corpus import Article, Chunk
from index.errors import IndexCorrupt, IndexMismatch
from index.search.filters import SearchFilters
from index.stores.base import Restriction
from index.stores.faiss.layout import hold_build, resolve_build
from index.stores.faiss.metadata import METADATA_NAME, MetadataDB
from index.stores.faiss.vectors import VECTORS_NAME, BatchedExactSearch, read_vectors, search_vectors
from index.stores.lexical import LEXICAL_DIR, LexicalIndex
from index.stores.manifest import FORMAT_VERSION, Manifest, verify_files


class FaissPrevious:
    """The current build, opened to lend chunks and vectors of unchanged articles to an update."""

    def __init__(self, build_dir: Path, manifest: Manifest) -> None:
        self.manifest = manifest
        self.metadata = MetadataDB(build_dir / METADATA_NAME)
        self.vectors = read_vectors(build_dir / VECTORS_NAME)
        self.rows: dict[str, list[tuple[int, str, int, int]]] = {}
        for vector_id, chunk_id, article_id, start, end in self.metadata.chunk_rows():
            self.rows.setdefault(article_id, []).append((vector_id, chunk_id, start, end))

    def reuse(self, article: Article) -> tuple[list[Chunk], list[np.ndarray | None]] | None:
        """The article's chunks and vectors if it is unchanged since the previous build."""
        if self.manifest.article_fingerprints.get(article.id) != article.fingerprint():
            return None
        rows = self.rows.get(article.id)
        if not rows:
            return None
        chunks = [Chunk(chunk_id, article.id, article.text[s:e], s, e) for _, chunk_id, s, e in rows]
        return chunks, [np.asarray(self.vectors.reconstruct(int(v)), dtype=np.float32) for v, *_ in rows]

    def close(self) -> None:
        """Close the metadata connection."""
        self.metadata.close()


class FaissReader:
    """One published build: FAISS for dense search, bm25s for lexical, SQLite for quotes."""

    def __init__(self, build_dir: Path, manifest: Manifest, vectors: faiss.Index, metadata: MetadataDB,
                 lexical: LexicalIndex) -> None:
        #: The build directory served.
        self.build_dir = build_dir
        self.build_id = build_dir.name
        self.manifest = manifest
        #: The FAISS index itself (benchmarks and tests read vectors from it).
        self.faiss = vectors
        # A reading process searches one question per thread: FAISS's OpenMP threads only contend
        # with the other questions' (one search took 15 ms on 2 threads against 8 ms on one).
        faiss.omp_set_num_threads(1)
        #: Unfiltered exact searches of concurrent questions share one pass over the vectors.
        self._exact = BatchedExactSearch(vectors) if BatchedExactSearch.supports(vectors) else None
        self.metadata = metadata
        self.lexical_index = lexical
        #: The shared hold that keeps pruning away from this build while it is served.
        self._hold = hold_build(build_dir)

    @classmethod
    def open(cls, path: Path, verify: bool) -> FaissReader:
        """Open the build ``path`` names, checking format version, files and counts.

        Raises:
            IndexNotFound: nothing at ``path``.
            IndexMismatch: another format version.
            IndexCorrupt: a file is missing, truncated or damaged, or the counts disagree.

        """
        build_dir = resolve_build(path)
        manifest = Manifest.read(build_dir)
        where = str(path)
        if manifest.format_version != FORMAT_VERSION:
            raise IndexMismatch(where, "format version", manifest.format_version, FORMAT_VERSION)
        if verify:
            verify_files(build_dir, manifest)
        vectors = read_vectors(build_dir / VECTORS_NAME)
        metadata = MetadataDB(build_dir / METADATA_NAME)
        lexical = LexicalIndex.load(build_dir / LEXICAL_DIR)
        if not vectors.ntotal == metadata.count_chunks() == manifest.chunks == lexical.size:
            raise IndexCorrupt(where, f"{vectors.ntotal} vectors, {metadata.count_chunks()} chunk rows, "
                                      f"{lexical.size} lexical rows and {manifest.chunks} in the manifest differ")
        if vectors.d != manifest.dimension:
            raise IndexMismatch(where, "vector dimension", manifest.dimension, vectors.d)
        return cls(build_dir, manifest, vectors, metadata, lexical)

    @property
    def size(self) -> int:
        """Number of chunks (= vectors)."""
        return int(self.faiss.ntotal)

    def restrict(self, filters: SearchFilters) -> Restriction:
        """Allowed vector ids from SQLite: a FAISS id selector and a BM25 mask use the same array."""
        if not filters:
            return Restriction(self.size, None)
        allowed = np.asarray(self.metadata.vector_ids_matching(filters.sources, filters.since, filters.until),
                             dtype=np.int64)
        return Restriction(len(allowed), allowed)

    def dense(self, query_vector: np.ndarray, pool: int, restriction: Restriction) -> dict[int, float]:
        """Exact (or HNSW) inner product, restricted by an id selector inside the search."""
        if pool <= 0:
            return {}
        allowed = restriction.handle if isinstance(restriction.handle, np.ndarray) else None
        if allowed is None and self._exact is not None:
            scores, ids = self._exact.search(query_vector, pool)
        else:
            scores, ids = search_vectors(self.faiss, query_vector, pool, allowed)
        return {int(i): float(s) for i, s in zip(ids, scores, strict=True) if i >= 0}

    def lexical(self, question: str, pool: int, restriction: Restriction) -> dict[int, float]:
        """BM25 scores of every chunk, masked by the restriction, top ``pool`` kept."""
        scores = self.lexical_index.scores(question)
        allowed = restriction.handle if isinstance(restriction.handle, np.ndarray) else None
        if allowed is not None:
            masked = np.full_like(scores, -1.0)
            masked[allowed] = scores[allowed]
            scores = masked
        if pool <= 0 or not len(scores):
            return {}
        top = np.argpartition(-scores, min(pool, len(scores)) - 1)[:pool]
        return {int(i): float(scores[i]) for i in top if scores[i] > 0}

    def hybrid(self, question: str, query_vector: np.ndarray, pool: int,
               restriction: Restriction) -> dict[int, float] | None:
        """None: the retriever fuses the two pools itself."""
        return None

    def vectors(self, keys: Sequence[int]) -> dict[int, np.ndarray]:
        """Vectors read back from FAISS's flat storage."""
        if self._exact is not None:
            return dict(zip((int(key) for key in keys), self._exact.rows(keys), strict=True))
        return {int(key): np.asarray(self.faiss.reconstruct(int(key)), dtype=np.float32) for key in keys}

    def close(self) -> None:
        """Release the metadata connection and the hold on the build."""
        self.metadata.close()
        if self._hold is not None:
            os.close(self._hold)
            self._hold = None

    def __del__(self) -> None:
        # A reader dropped without close() (a bot swapping builds) releases its hold when collected.
        if getattr(self, "_hold", None) is not None:
            os.close(self._hold)  # type: ignore[arg-type]
