"""Build and update an index: read → chunk → embed (only what changed) → group stories → write → switch.

``update`` is the same pipeline as ``build`` with reuse: an article whose fingerprint, the model
and the chunker settings are unchanged keeps its chunks and vectors from the current build, so
only new or edited articles are embedded, removed ones disappear, and the result is the build a
full rebuild would write (same order, same ids, same vectors).

Where the build goes is the store's business (:mod:`index.stores`): the FAISS directory store
writes a whole new build and switches to it; the Milvus store writes a new collection, or applies
an update in place (upsert and delete by article id).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

import numpy as np

from corpus import Article, Chunk, Chunker, ChunkerSettings, read_corpus
from corpus.types import RepairedInput, SkippedInput
from index.build.progress import NullProgress, Progress, with_heartbeat
from index.build.stories import group_stories
from index.embedding.base import Embedder
from index.embedding.cache import EmbeddingCache, embed_with_cache
from index.errors import EmptyCorpus
from index.stores import IndexStore, PreviousBuild
from index.stores.base import BuildContent
from index.stores.faiss.store import FaissStore
from index.stores.faiss.vectors import VectorIndexKind
from index.stores.manifest import Manifest

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


class ChunkTexts(Sequence[str]):
    """Each chunk's :func:`embedding_text`, made when read: the lexical index reads every one once.

    As a list they were ~170 MB over the whole archive (86k headline + chunk strings), held
    through the whole write stage beside the vectors and the BM25 arrays.
    """

    def __init__(self, chunks: Sequence[Chunk], articles: dict[str, Article], embed_titles: bool) -> None:
        self._chunks = chunks
        self._articles = articles
        self._embed_titles = embed_titles

    def __len__(self) -> int:
        return len(self._chunks)

    @overload
    def __getitem__(self, position: int) -> str: ...
    @overload
    def __getitem__(self, position: slice) -> list[str]: ...
    def __getitem__(self, position: int | slice) -> str | list[str]:
        if isinstance(position, slice):
            return [self._text(chunk) for chunk in self._chunks[position]]
        return self._text(self._chunks[position])

    def _text(self, chunk: Chunk) -> str:
        return embedding_text(self._articles[chunk.article_id], chunk, self._embed_titles)


def build_index(sources: Sequence[Path | str], index_dir: Path, embedder: Embedder,
                chunker_settings: ChunkerSettings | None = None, *, incremental: bool = False,
                embed_titles: bool = True, progress: Progress | None = None, wait: bool = False,
                build_threads: int = 0, cache: EmbeddingCache | None = None,
                vector_index: VectorIndexKind = "auto", add_only: bool = False,
                store: IndexStore | None = None, release_model: bool = False) -> BuildReport:
    """Index every article under ``sources`` into ``index_dir`` and make it current.

    Args:
        sources: Files and folders in any supported corpus format.
        index_dir: The index directory (created if needed); ignored when ``store`` is given.
        embedder: The model; its id is recorded in the manifest.
        chunker_settings: Chunk size and overlap in model tokens.
        incremental: Reuse chunks and vectors of unchanged articles from the current build.
        embed_titles: Prefix each chunk with its headline when embedding (not in what is quoted).
        progress: Receives the stages; off a terminal a line every 30 s is added (:mod:`index.build.progress`).
        wait: Queue behind a running build instead of failing.
        build_threads: Embedding threads (0 = all cores).
        cache: Vectors of texts embedded before by this model and backend; new ones are added.
        vector_index: Exact search, an HNSW graph, or ``auto`` (by size, see :mod:`index.stores.faiss.vectors`).
        add_only: Keep every article of the current build and add (or replace, by id) those of
            ``sources``; implies ``incremental``. A plain update takes ``sources`` as the whole
            corpus and drops what they lack, which is right for files but would wipe the archive
            when ``sources`` are only the articles new feeds brought (``index.build.feeds``).
        store: Where the index lives (:func:`index.stores.open_store`); default the FAISS
            directory ``index_dir``.
        release_model: The caller searches with nothing this build loaded: free the engine's
            working memory once the embedding is done (:meth:`Embedder.release_memory`), before
            the write stage adds its own.

    Raises:
        EmptyCorpus: nothing readable in ``sources``.
        IndexLocked: another build is running and ``wait`` is false.
    """
    # Off a terminal (nohup, CI, systemd) also a progress line every 30 s: a bar shows nothing there.
    progress = with_heartbeat(progress or NullProgress())
    settings = chunker_settings or ChunkerSettings()
    store = store or FaissStore(index_dir)
    seconds: dict[str, float] = {}
    with store.lock(wait=wait):
        clock = time.perf_counter()
        progress.start("reading", None, "articles")
        corpus = read_corpus(sources, on_article=lambda _: progress.advance())
        progress.finish()
        if add_only:
            incremental = True
            added = {a.id for a in corpus.articles}
            corpus.articles[:0] = [a for a in store.current_articles() if a.id not in added]
        seconds["read"] = time.perf_counter() - clock
        if not corpus.articles:
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in corpus.skipped[:5]) or "no files found"
            raise EmptyCorpus(f"no article could be read from {', '.join(map(str, sources))} ({reasons})")

        previous = store.previous(embedder, settings, embed_titles) if incremental else None
        try:
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
            fresh, rows, embedded = embed_with_cache(
                [text for _, text in to_embed],
                lambda texts: embedder.embed_documents(texts, on_batch=progress.advance),
                embedder.dimension, cache, on_known=progress.advance)
            progress.finish()
            for (position, _), row in zip(to_embed, rows, strict=True):
                vectors[position] = fresh[row]  # a view: the vectors stay in the one matrix
            planned = len(to_embed)
            del to_embed  # the texts embedded: ~200 MB over the whole archive, not needed to write
            if release_model:
                embedder.release_memory()
            seconds["embed"] = time.perf_counter() - clock

            clock = time.perf_counter()
            progress.start("writing", None, "files")
            content = _content(corpus.articles, chunks, vectors, embedder, settings, embed_titles,
                               _recorded_sources(sources, previous if add_only else None), vector_index)
            build_dir = store.write(content, previous)
            progress.finish()
            seconds["write"] = time.perf_counter() - clock
        finally:
            if previous:
                previous.close()
    logger.info("built %s: %d articles, %d chunks (%d embedded, %d from the cache, %d reused)", build_dir,
                len(corpus.articles), len(chunks), embedded, planned - embedded, reused)
    return BuildReport(build_dir, len(corpus.articles), len(chunks), embedded, reused,
                       corpus.skipped, corpus.repaired, seconds, cached_chunks=planned - embedded)


def _content(articles: list[Article], chunks: list[Chunk], vectors: list[np.ndarray | None], embedder: Embedder,
             settings: ChunkerSettings, embed_titles: bool, sources: list[str],
             vector_index: VectorIndexKind) -> BuildContent:
    """What the store writes: corpus, chunks, vectors, lexical texts, stories, manifest (time, files: the store's)."""
    by_id = {a.id: a for a in articles}
    days = sorted(a.date.date().isoformat() for a in articles if a.date)
    manifest = Manifest(
        model_id=embedder.model_id, dimension=embedder.dimension, embedding_backend=embedder.backend,
        chunk_tokens=settings.max_tokens, chunk_overlap_tokens=settings.overlap_tokens, embed_titles=embed_titles,
        articles=len(articles), chunks=len(chunks), built_at="", build_id="", sources=sources,
        date_range=(days[0], days[-1]) if days else None,
        article_fingerprints={a.id: a.fingerprint() for a in articles})
    return BuildContent(articles, chunks, vectors, ChunkTexts(chunks, by_id, embed_titles), manifest, vector_index,
                        stories=group_stories(articles, chunks, vectors))


def _recorded_sources(sources: Sequence[Path | str], kept: PreviousBuild | None) -> list[str]:
    """The manifest's ``sources``: those given, after the kept build's own when adding to it."""
    return list(dict.fromkeys([*(kept.manifest.sources if kept else []), *(str(s) for s in sources)]))
