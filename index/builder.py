"""Build and update an index: read → chunk → embed (only what changed) → write → switch.

``update`` is the same pipeline as ``build`` with reuse: an article whose fingerprint, the model
and the chunker settings are unchanged keeps its chunks and vectors from the current build, so
only new or edited articles are embedded, removed ones disappear, and the result is the build a
full rebuild would write (same order, same ids, same vectors).
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import faiss
import numpy as np

from corpus import Article, Chunk, Chunker, ChunkerSettings, read_corpus
from corpus.types import RepairedInput, SkippedInput
from index.embedcache import EmbeddingCache, embed_with_cache
from index.embedding import Embedder
from index.errors import AkhbarIndexError, EmptyCorpus, IndexNotFound
from index.lexical import LEXICAL_DIR, LexicalIndex
from index.manifest import MANIFEST_NAME, Manifest, file_digest
from index.metadata import METADATA_NAME, MetadataDB, write_metadata
from index.progress import NullProgress, Progress
from index.store import build_lock, new_build_dir, publish_build, resolve_build
from index.vectors import VECTORS_NAME, VectorIndexKind, read_vectors, write_vectors

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class BuildReport:
    """What a build did, for the CLI summary and benchmarks."""

    build_dir: Path
    articles: int
    chunks: int
    embedded_chunks: int
    reused_chunks: int
    skipped: list[SkippedInput] = field(default_factory=list)
    repaired: list[RepairedInput] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    #: Chunks whose vectors came from the embedding cache (or repeated a text of this build).
    cached_chunks: int = 0


def embedding_text(article: Article, chunk: Chunk, embed_titles: bool) -> str:
    """The text embedded for a chunk: its headline gives every chunk the article's context."""
    if embed_titles and article.title:
        return f"{article.title}\n{chunk.text}"
    return chunk.text


def build_index(sources: Sequence[Path | str], index_dir: Path, embedder: Embedder,
                chunker_settings: ChunkerSettings | None = None, *, incremental: bool = False,
                embed_titles: bool = True, progress: Progress | None = None, wait: bool = False,
                build_threads: int = 0, cache: EmbeddingCache | None = None,
                vector_index: VectorIndexKind = "auto") -> BuildReport:
    """Index every article under ``sources`` into ``index_dir`` and make it current.

    Args:
        sources: Files and folders in any supported corpus format.
        index_dir: The index directory (created if needed).
        embedder: The model; its id is recorded in the manifest.
        incremental: Reuse chunks and vectors of unchanged articles from the current build.
        embed_titles: Prefix each chunk with its headline when embedding (not in what is quoted).
        wait: Queue behind a running build instead of failing.
        cache: Vectors of texts embedded before by this model and backend; new ones are added.
        vector_index: Exact search, an HNSW graph, or ``auto`` (by size, see :mod:`index.vectors`).

    Raises:
        EmptyCorpus: nothing readable in ``sources``.
        IndexLocked: another build is running and ``wait`` is false.
    """
    progress = progress or NullProgress()
    settings = chunker_settings or ChunkerSettings()
    seconds: dict[str, float] = {}
    with build_lock(index_dir, wait=wait):
        clock = time.perf_counter()
        progress.start("reading", None, "articles")
        corpus = read_corpus(sources, on_article=lambda _: progress.advance())
        progress.finish()
        seconds["read"] = time.perf_counter() - clock
        if not corpus.articles:
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in corpus.skipped[:5]) or "no files found"
            raise EmptyCorpus(f"no article could be read from {', '.join(map(str, sources))} ({reasons})")

        previous = _previous_build(index_dir, embedder, settings, embed_titles) if incremental else None
        clock = time.perf_counter()
        chunker = Chunker(embedder.count_tokens, settings)
        progress.start("chunking", len(corpus.articles), "articles")
        chunks: list[Chunk] = []
        vectors: list[np.ndarray | None] = []
        to_embed: list[tuple[int, str]] = []
        reused = 0
        for article in corpus.articles:
            kept = previous.reuse(article) if previous else None
            if kept is not None:
                chunks.extend(kept[0])
                vectors.extend(kept[1])
                reused += len(kept[0])
            else:
                for chunk in chunker.chunk(article):
                    to_embed.append((len(chunks), embedding_text(article, chunk, embed_titles)))
                    chunks.append(chunk)
                    vectors.append(None)
            progress.advance()
        progress.finish()
        seconds["chunk"] = time.perf_counter() - clock

        clock = time.perf_counter()
        embedder.set_threads(build_threads)
        progress.start("embedding", len(to_embed), "chunks")
        fresh, embedded = embed_with_cache([text for _, text in to_embed],
                                           lambda texts: embedder.embed_documents(texts, on_batch=progress.advance),
                                           embedder.dimension, cache, on_known=progress.advance)
        progress.finish()
        for (position, _), vector in zip(to_embed, fresh, strict=True):
            vectors[position] = vector
        seconds["embed"] = time.perf_counter() - clock

        clock = time.perf_counter()
        progress.start("writing", None, "files")
        matrix = np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0, embedder.dimension), np.float32)
        build_dir = _write_build(index_dir, corpus.articles, chunks, matrix, embedder, settings, embed_titles,
                                 [str(s) for s in sources], vector_index)
        progress.finish()
        seconds["write"] = time.perf_counter() - clock
    if previous:
        previous.close()
    logger.info("built %s: %d articles, %d chunks (%d embedded, %d from the cache, %d reused)", build_dir,
                len(corpus.articles), len(chunks), embedded, len(to_embed) - embedded, reused)
    return BuildReport(build_dir, len(corpus.articles), len(chunks), embedded, reused,
                       corpus.skipped, corpus.repaired, seconds, cached_chunks=len(to_embed) - embedded)


def _write_build(index_dir: Path, articles: list[Article], chunks: list[Chunk], matrix: np.ndarray,
                 embedder: Embedder, settings: ChunkerSettings, embed_titles: bool,
                 sources: list[str], vector_index: VectorIndexKind) -> Path:
    """Write the build into a staging directory and publish it; on any failure remove the staging.

    A failed write (a full disk, above all) must not leave its partial files taking the space the
    next attempt needs; the previous build stays current either way.

    Raises:
        OSError: a file could not be written, whichever library wrote it.
    """
    built_at = datetime.now(timezone.utc)
    build_id = built_at.strftime("%Y%m%dT%H%M%S%fZ")
    staging = new_build_dir(index_dir, build_id)
    try:
        _write_files(staging, articles, chunks, matrix, embedder, settings, embed_titles, sources, built_at, build_id,
                     vector_index)
        return publish_build(index_dir, staging, build_id)
    except BaseException:
        if staging.exists():  # not yet renamed into place by publish_build
            shutil.rmtree(staging, ignore_errors=True)
        raise


def _write_files(staging: Path, articles: list[Article], chunks: list[Chunk], matrix: np.ndarray,
                 embedder: Embedder, settings: ChunkerSettings, embed_titles: bool, sources: list[str],
                 built_at: datetime, build_id: str, vector_index: VectorIndexKind) -> None:
    """Write vectors, metadata, lexical index and manifest into ``staging``.

    FAISS reports a failed write as ``RuntimeError`` and SQLite as ``sqlite3.OperationalError``
    ("database or disk is full"); both become ``OSError`` so callers handle one kind of failure.
    """
    try:
        faiss_kind = write_vectors(staging / VECTORS_NAME, matrix, vector_index)
    except RuntimeError as error:
        raise OSError(f"cannot write {VECTORS_NAME}: {_first_line(error)}") from error
    try:
        write_metadata(staging / METADATA_NAME, articles, chunks)
    except sqlite3.Error as error:
        raise OSError(f"cannot write {METADATA_NAME}: {_first_line(error)}") from error
    by_id = {a.id: a for a in articles}
    LexicalIndex.build([_lexical_text(by_id[c.article_id], c, embed_titles) for c in chunks]).save(
        staging / LEXICAL_DIR)
    days = sorted(a.date.date().isoformat() for a in articles if a.date)
    files = {str(p.relative_to(staging)): file_digest(p) for p in sorted(staging.rglob("*")) if p.is_file()}
    manifest = Manifest(
        model_id=embedder.model_id, dimension=embedder.dimension, embedding_backend=embedder.backend,
        chunk_tokens=settings.max_tokens,
        chunk_overlap_tokens=settings.overlap_tokens, embed_titles=embed_titles, articles=len(articles),
        chunks=len(chunks), built_at=built_at.isoformat(timespec="seconds"), build_id=build_id,
        sources=sources, faiss_index=faiss_kind, date_range=(days[0], days[-1]) if days else None,
        article_fingerprints={a.id: a.fingerprint() for a in articles}, files=files)
    (staging / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")


def _first_line(error: BaseException) -> str:
    """The part of a library's error a user can act on (FAISS prefixes the C++ check that failed)."""
    line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    _, found, rest = line.partition("write error in ")
    return f"write error in {rest}" if found else line


def _lexical_text(article: Article, chunk: Chunk, embed_titles: bool) -> str:
    return embedding_text(article, chunk, embed_titles)


class _PreviousBuild:
    """The current build, opened to lend chunks and vectors of unchanged articles to an update."""

    def __init__(self, build_dir: Path, manifest: Manifest) -> None:
        self.manifest = manifest
        self.metadata = MetadataDB(build_dir / METADATA_NAME)
        self.vectors = read_vectors(build_dir / VECTORS_NAME)
        self.rows: dict[str, list[tuple[int, str, int, int]]] = {}
        for vector_id, chunk_id, article_id, start, end in self.metadata.chunk_rows():
            self.rows.setdefault(article_id, []).append((vector_id, chunk_id, start, end))

    def reuse(self, article: Article) -> tuple[list[Chunk], list[np.ndarray]] | None:
        """The article's chunks and vectors if it is unchanged since the previous build."""
        if self.manifest.article_fingerprints.get(article.id) != article.fingerprint():
            return None
        rows = self.rows.get(article.id)
        if not rows:
            return None
        chunks = [Chunk(chunk_id, article.id, article.text[s:e], s, e) for _, chunk_id, s, e in rows]
        return chunks, [self.vectors.reconstruct(int(v)) for v, *_ in rows]

    def close(self) -> None:
        self.metadata.close()


def _previous_build(index_dir: Path, embedder: Embedder, settings: ChunkerSettings,
                    embed_titles: bool) -> _PreviousBuild | None:
    try:
        build_dir = resolve_build(index_dir)
        manifest = Manifest.read(build_dir)
    except IndexNotFound:
        logger.info("no current build at %s: the update embeds everything", index_dir)
        return None
    except AkhbarIndexError as error:
        logger.warning("current build unusable (%s): the update embeds everything", error)
        return None
    same = (manifest.model_id == embedder.model_id and manifest.dimension == embedder.dimension
            and manifest.embedding_backend == embedder.backend
            and manifest.chunk_tokens == settings.max_tokens
            and manifest.chunk_overlap_tokens == settings.overlap_tokens
            and manifest.embed_titles == embed_titles)
    if not same:
        logger.warning("model, embedding backend or chunker changed since the current build: "
                       "the update embeds everything")
        return None
    return _PreviousBuild(build_dir, manifest)
