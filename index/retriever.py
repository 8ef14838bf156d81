"""The Python entry point: open an index, ask a question, get ranked, quotable passages.

    from index import Retriever
    retriever = Retriever.open("data/index")
    for passage in retriever.search("ماذا وعد كيم جونغ أون الجيش الروسي؟", k=5):
        print(passage.article.title, passage.quote.text)

Search runs dense (FAISS), lexical (BM25) or both fused (default). Filters (source, date range)
are applied *inside* each search — a FAISS id selector and a BM25 mask — so a filtered search
still returns k results whenever k matching chunks exist. Results are collapsed to one chunk
per article so the top k are k different articles.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

from corpus.arabic import normalise
from index.embedding import Embedder, load_embedder
from index.errors import BadQuery, IndexCorrupt, IndexMismatch
from index.fusion import FusionWeights, fuse
from index.lexical import LEXICAL_DIR, LexicalIndex
from index.manifest import FORMAT_VERSION, Manifest, verify_files
from index.metadata import METADATA_NAME, MetadataDB
from index.passage import Passage
from index.quotes import QuoteSelector
from index.settings import IndexSettings, SearchMode
from index.store import resolve_build
from index.vectors import VECTORS_NAME, read_vectors, search_vectors

if TYPE_CHECKING:
    from index.langchain import AkhbarLangChainRetriever

logger = logging.getLogger(__name__)

#: Longest question accepted, in characters (the model reads at most 512 tokens anyway).
MAX_QUESTION_CHARS = 2000
MAX_K = 100
#: Default fusion, chosen on all development sets together (see index/fusion.py).
DEFAULT_FUSION = FusionWeights()


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Optional restrictions; every field narrows the search, inside it."""

    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None

    def __bool__(self) -> bool:
        return bool(self.sources or self.since or self.until)


class Retriever:
    """Searches one index build; thread-safe for concurrent searches."""

    def __init__(self, build_dir: Path, manifest: Manifest, embedder: Embedder, vectors: faiss.Index,
                 metadata: MetadataDB, lexical: LexicalIndex, mode: SearchMode = "hybrid",
                 fusion: FusionWeights = DEFAULT_FUSION, semantic_quotes: bool = False) -> None:
        self.build_dir = build_dir
        self.manifest = manifest
        self.embedder = embedder
        self.vectors = vectors
        self.metadata = metadata
        self.lexical = lexical
        self.mode: SearchMode = mode
        self.fusion = fusion
        self.quotes = QuoteSelector(embedder if semantic_quotes else None)

    @classmethod
    def open(cls, path: str | Path, *, settings: IndexSettings | None = None, embedder: Embedder | None = None,
             mode: SearchMode | None = None, verify: bool = True) -> Retriever:
        """Open the index at ``path`` (an index directory or one build).

        Args:
            settings: Model, cache and mode; read from the environment when omitted.
            embedder: An already loaded model (shared between reloads); must match the index.
            verify: Check every file's checksum (detects truncated or altered files up front).

        Raises:
            IndexNotFound: nothing at ``path``.
            IndexMismatch: built with another model or format version; the message says what to run.
            IndexCorrupt: a file is missing, truncated or damaged.
        """
        settings = settings or IndexSettings()
        try:
            return cls._open(Path(path), settings, embedder, mode, verify)
        except IndexCorrupt as error:
            # Name the index the user gave (and can rebuild), not the build directory inside it.
            raise IndexCorrupt(str(path), error.reason) from None

    @classmethod
    def _open(cls, path: Path, settings: IndexSettings, embedder: Embedder | None, mode: SearchMode | None,
              verify: bool) -> Retriever:
        build_dir = resolve_build(path)
        manifest = Manifest.read(build_dir)
        where = str(path)
        if manifest.format_version != FORMAT_VERSION:
            raise IndexMismatch(where, "format version", manifest.format_version, FORMAT_VERSION)
        configured = embedder.model_id if embedder else _model_id(settings.embedding_model)
        if manifest.model_id != configured:
            raise IndexMismatch(where, "embedding model", manifest.model_id, configured)
        if verify:
            verify_files(build_dir, manifest)
        vectors = read_vectors(build_dir / VECTORS_NAME)
        metadata = MetadataDB(build_dir / METADATA_NAME)
        lexical = LexicalIndex.load(build_dir / LEXICAL_DIR)
        if not vectors.ntotal == metadata.count_chunks() == manifest.chunks == lexical.size:
            raise IndexCorrupt(where, f"{vectors.ntotal} vectors, {metadata.count_chunks()} chunk rows, "
                                      f"{lexical.size} lexical rows and {manifest.chunks} in the manifest differ")
        if embedder is None:
            embedder = load_embedder(settings.embedding_model, settings.cache_dir, backend=settings.embedding_backend)
        if embedder.dimension != manifest.dimension or vectors.d != manifest.dimension:
            raise IndexMismatch(where, "vector dimension", manifest.dimension, embedder.dimension)
        embedder.set_threads(settings.query_threads)
        return cls(build_dir, manifest, embedder, vectors, metadata, lexical, mode or settings.search_mode)

    def close(self) -> None:
        """Release the metadata connection."""
        self.metadata.close()

    def search(self, question: str, k: int = 5, *, mode: SearchMode | None = None,
               filters: SearchFilters | None = None, sources: list[str] | None = None,
               since: date | None = None, until: date | None = None) -> list[Passage]:
        """Return up to ``k`` passages from different articles, best first, each with its quote.

        Raises:
            BadQuery: empty or over-long question, or ``k`` outside 1..100.
        """
        question = _check_question(question)
        if not 1 <= k <= MAX_K:
            raise BadQuery(f"k must be between 1 and {MAX_K}, got {k}")
        filters = filters or SearchFilters(tuple(sources or ()), since, until)
        mode = mode or self.mode
        allowed = self._allowed_ids(filters)
        if allowed is not None and len(allowed) == 0:
            return []
        total = len(allowed) if allowed is not None else self.vectors.ntotal
        query_vector = self.embedder.embed_query(question)
        pool = min(total, max(50, 8 * k))
        while True:
            scored = self._ranked(question, query_vector, mode, pool, allowed)
            best = _best_per_article(scored, self.metadata, k)
            if len(best) >= k or pool >= total:
                break
            pool = min(total, pool * 4)
        return self._passages(question, best, query_vector)

    def ranked_chunk_ids(self, question: str, pool: int, mode: SearchMode | None = None) -> list[tuple[int, float]]:
        """Raw ranked ``(vector_id, score)`` before collapsing (for evaluation and diagnostics)."""
        question = _check_question(question)
        mode = mode or self.mode
        query_vector = self.embedder.embed_query(question) if mode != "lexical" else None
        return self._ranked(question, query_vector, mode, min(pool, self.vectors.ntotal), None)

    def as_langchain(self, k: int = 4) -> AkhbarLangChainRetriever:
        """This retriever as a LangChain ``BaseRetriever`` returning ``Document``s."""
        from index.langchain import AkhbarLangChainRetriever

        return AkhbarLangChainRetriever(retriever=self, k=k)

    # -- internals ---------------------------------------------------------------------------

    def _allowed_ids(self, filters: SearchFilters) -> np.ndarray | None:
        if not filters:
            return None
        return np.asarray(self.metadata.vector_ids_matching(filters.sources, filters.since, filters.until),
                          dtype=np.int64)

    def _ranked(self, question: str, query_vector: np.ndarray | None, mode: SearchMode, pool: int,
                allowed: np.ndarray | None) -> list[tuple[int, float]]:
        dense = self._dense(query_vector, pool, allowed) if mode != "lexical" else {}
        lexical = self._lexical(question, pool, allowed) if mode != "dense" else {}
        scores = dense if mode == "dense" else lexical if mode == "lexical" else fuse(dense, lexical, self.fusion)
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))

    def _dense(self, query_vector: np.ndarray | None, pool: int, allowed: np.ndarray | None) -> dict[int, float]:
        if query_vector is None or pool <= 0:
            return {}
        scores, ids = search_vectors(self.vectors, query_vector, pool, allowed)
        return {int(i): float(s) for i, s in zip(ids, scores, strict=True) if i >= 0}

    def _lexical(self, question: str, pool: int, allowed: np.ndarray | None) -> dict[int, float]:
        scores = self.lexical.scores(question)
        if allowed is not None:
            masked = np.full_like(scores, -1.0)
            masked[allowed] = scores[allowed]
            scores = masked
        if pool <= 0 or not len(scores):
            return {}
        top = np.argpartition(-scores, min(pool, len(scores)) - 1)[:pool]
        return {int(i): float(scores[i]) for i in top if scores[i] > 0}

    def _passages(self, question: str, best: list[_Pick], query_vector: np.ndarray) -> list[Passage]:
        chunks = self.metadata.chunks([pick.vector_id for pick in best])
        articles = self.metadata.articles([c.article_id for c in chunks.values()] +
                                          [a for pick in best for a in pick.duplicates])
        hits = [(articles[chunks[pick.vector_id].article_id], chunks[pick.vector_id]) for pick in best]
        quotes = self.quotes.select(question, hits, query_vector)
        return [Passage(chunk=chunk, article=article, score=pick.score, quote=quote,
                        relevance=float(self.vectors.reconstruct(pick.vector_id) @ query_vector),
                        duplicates=tuple(articles[a] for a in pick.duplicates))
                for (article, chunk), pick, quote in zip(hits, best, quotes, strict=True)]


#: Word-set Jaccard similarity above which two passages count as the same text.
DUPLICATE_JACCARD = 0.6


@dataclass(slots=True)
class _Pick:
    vector_id: int
    score: float
    terms: frozenset[str]
    duplicates: list[str]


def _best_per_article(scored: list[tuple[int, float]], metadata: MetadataDB, k: int) -> list[_Pick]:
    """Keep the best chunk of each article, in rank order, up to ``k``, folding near-duplicates.

    A chunk from another article whose words overlap a kept one by ``DUPLICATE_JACCARD`` or more
    (the same wire story in several outlets) is folded into it instead of taking a slot.
    """
    chunks = metadata.chunks([vector_id for vector_id, _ in scored])
    seen: set[str] = set()
    best: list[_Pick] = []
    for vector_id, score in scored:
        chunk = chunks[vector_id]
        if chunk.article_id in seen:
            continue
        seen.add(chunk.article_id)
        terms = frozenset(normalise(chunk.text).split())
        twin = next((pick for pick in best if _jaccard(pick.terms, terms) >= DUPLICATE_JACCARD), None)
        if twin is not None:
            twin.duplicates.append(chunk.article_id)
            continue
        best.append(_Pick(vector_id, score, terms, []))
        if len(best) == k:
            break
    return best


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _check_question(question: str) -> str:
    if not isinstance(question, str):
        raise BadQuery("the question must be text")
    question = question.strip()
    if not normalise(question):
        raise BadQuery("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise BadQuery(f"the question is too long ({len(question)} characters, at most {MAX_QUESTION_CHARS})")
    return question


def _model_id(configured: str) -> str:
    path = Path(configured).expanduser()
    return str(path.resolve()) if path.is_dir() else configured
