"""The default store: one directory per index, FAISS vectors beside SQLite metadata and bm25s files.

Everything runs in the serving process (no server), which is right up to a few million chunks
on one machine. Layout, atomic switch and lock are :mod:`index.store`'s; the files are
``vectors.faiss`` (:mod:`index.vectors`), ``chunks.sqlite`` (:mod:`index.metadata`), ``lexical/``
(:mod:`index.lexical`) and ``manifest.json`` (:mod:`index.manifest`). A build is always written
whole into a new directory; an update lends it the unchanged chunks' vectors of the current one.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from corpus import Article, Chunk, ChunkerSettings
from index.embedding import Embedder
from index.errors import AkhbarIndexError, IndexCorrupt, IndexMismatch, IndexNotFound, rebuild_command
from index.filters import SearchFilters
from index.lexical import LEXICAL_DIR, LexicalIndex
from index.manifest import FORMAT_VERSION, MANIFEST_NAME, Manifest, file_digest, verify_files
from index.metadata import METADATA_NAME, MetadataDB, write_metadata
from index.store import build_lock, current_build_id, hold_build, new_build_dir, publish_build, resolve_build
from index.stores.base import BuildContent, Restriction, reusable
from index.vectors import VECTORS_NAME, read_vectors, search_vectors, write_vectors

logger = logging.getLogger(__name__)


class FaissStore:
    """An index directory (``INDEX_DIR``): ``current -> builds/<id>``, switched atomically."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self.description = str(index_dir)
        self.rebuild_command = rebuild_command(self.description)

    @contextmanager
    def lock(self, wait: bool = False) -> Iterator[None]:
        """The directory's ``flock`` (see :func:`index.store.build_lock`)."""
        with build_lock(self.index_dir, wait=wait):
            yield

    def previous(self, embedder: Embedder, settings: ChunkerSettings, embed_titles: bool) -> FaissPrevious | None:
        """The current build, opened to lend vectors of unchanged articles (None: embed everything)."""
        try:
            build_dir = resolve_build(self.index_dir)
            manifest = Manifest.read(build_dir)
        except IndexNotFound:
            logger.info("no current build at %s: the update embeds everything", self.index_dir)
            return None
        except AkhbarIndexError as error:
            logger.warning("current build unusable (%s): the update embeds everything", error)
            return None
        if not reusable(manifest, embedder, settings, embed_titles):
            logger.warning("model, embedding backend or chunker changed since the current build: "
                           "the update embeds everything")
            return None
        return FaissPrevious(build_dir, manifest)

    def write(self, content: BuildContent, previous: object | None = None) -> Path:
        """Write a whole new build into a staging directory and publish it.

        A failed write (a full disk, above all) must not leave its partial files taking the space
        the next attempt needs, so the staging directory is removed; the previous build stays current.

        Raises:
            OSError: a file could not be written, whichever library wrote it.

        """
        built_at = datetime.now(UTC)
        build_id = built_at.strftime("%Y%m%dT%H%M%S%fZ")
        staging = new_build_dir(self.index_dir, build_id)
        try:
            _write_files(staging, content, built_at, build_id)
            return publish_build(self.index_dir, staging, build_id)
        except BaseException:
            if staging.exists():  # not yet renamed into place by publish_build
                shutil.rmtree(staging, ignore_errors=True)
            raise

    def current_articles(self) -> list[Article]:
        """Every article of the current build, in build order (none when there is no usable build)."""
        try:
            build_dir = resolve_build(self.index_dir)
            metadata = MetadataDB(build_dir / METADATA_NAME)
        except AkhbarIndexError as error:
            logger.info("no current build to add to at %s (%s)", self.index_dir, error)
            return []
        try:
            return metadata.all_articles()
        finally:
            metadata.close()

    def current_build_id(self) -> str | None:
        """What ``current`` points at (one readlink)."""
        return current_build_id(self.index_dir)

    def exists(self) -> bool:
        """Whether ``index_dir`` is a build or has a current one."""
        try:
            resolve_build(self.index_dir)
        except IndexNotFound:
            return False
        return True

    def close(self) -> None:
        """Nothing to release: every reader opens its own files."""

    def drop(self) -> None:
        """Remove the index directory."""
        shutil.rmtree(self.index_dir, ignore_errors=True)

    def open(self, verify: bool = True) -> FaissReader:
        """Open the current build (or ``index_dir`` itself when it is one build)."""
        return FaissReader.open(self.index_dir, verify)


def _write_files(staging: Path, content: BuildContent, built_at: datetime, build_id: str) -> None:
    """Write vectors, metadata, lexical index and manifest into ``staging``.

    FAISS reports a failed write as ``RuntimeError`` and SQLite as ``sqlite3.OperationalError``
    ("database or disk is full"); both become ``OSError`` so callers handle one kind of failure.
    """
    manifest = content.manifest
    if any(vector is None for vector in content.vectors):
        raise ValueError("the FAISS store writes whole builds: every chunk needs its vector")
    matrix = (np.vstack(content.vectors).astype(np.float32) if content.vectors  # type: ignore[arg-type]
              else np.zeros((0, manifest.dimension), np.float32))
    try:
        manifest.faiss_index = write_vectors(staging / VECTORS_NAME, matrix, content.vector_index)
    except RuntimeError as error:
        raise OSError(f"cannot write {VECTORS_NAME}: {_first_line(error)}") from error
    try:
        write_metadata(staging / METADATA_NAME, content.articles, content.chunks)
    except sqlite3.Error as error:
        raise OSError(f"cannot write {METADATA_NAME}: {_first_line(error)}") from error
    LexicalIndex.build(content.lexical_texts).save(staging / LEXICAL_DIR)
    manifest.built_at = built_at.isoformat(timespec="seconds")
    manifest.build_id = build_id
    manifest.files = {str(p.relative_to(staging)): file_digest(p) for p in sorted(staging.rglob("*")) if p.is_file()}
    (staging / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")


def _first_line(error: BaseException) -> str:
    """The part of a library's error a user can act on (FAISS prefixes the C++ check that failed)."""
    line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    _, found, rest = line.partition("write error in ")
    return f"write error in {rest}" if found else line


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
        return chunks, [self.vectors.reconstruct(int(v)) for v, *_ in rows]

    def close(self) -> None:
        """Close the metadata connection."""
        self.metadata.close()


class FaissReader:
    """One published build: FAISS for dense search, bm25s for lexical, SQLite for quotes."""

    def __init__(self, build_dir: Path, manifest: Manifest, vectors: faiss.Index, metadata: MetadataDB,
                 lexical: LexicalIndex) -> None:
        self.location = build_dir
        self.manifest = manifest
        #: The FAISS index itself (benchmarks and tests read vectors from it).
        self.faiss = vectors
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
        return {int(key): self.faiss.reconstruct(int(key)) for key in keys}

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
