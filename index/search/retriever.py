"""The Python entry point: open an index, ask a question, get ranked, quotable passages.

    from index import Retriever
    retriever = Retriever.open("data/index")
    for passage in retriever.search("ماذا وعد كيم جونغ أون الجيش الروسي؟", k=5):
        print(passage.article.title, passage.quote.text)

Search runs dense, lexical (BM25) or both fused (default). Filters (source, date range) are
applied *inside* each search — with FAISS an id selector and a BM25 mask, with Milvus a filter
expression — so a filtered search still returns k results whenever k matching chunks exist.
Results are collapsed to one chunk per article so the top k are k different articles. Which
store serves the index (``VECTOR_STORE``) is :mod:`index.stores`'s business, not this module's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np

from corpus import Chunk
from corpus.arabic import normalise
from index.embedding import query_embedder
from index.embedding.base import Embedder
from index.embedding.calibration import check_query_engine
from index.errors import BadQuery, IndexCorrupt, IndexMismatch
from index.search.filters import SearchFilters
from index.search.fusion import FusionWeights, fuse
from index.search.passage import Passage
from index.search.plan import PlannedResults, plan_question, reference_day, run_plan
from index.search.quotes import QuoteSelector
from index.settings import DEFAULT_NO_ANSWER_THRESHOLD, MAX_K, IndexSettings, SearchMode
from index.stores import IndexStore, Metadata, Restriction, StoreReader, open_store
from index.stores.manifest import Manifest

logger = logging.getLogger(__name__)

#: Longest question accepted, in characters (the model reads at most 512 tokens anyway).
MAX_QUESTION_CHARS = 2000
#: Default fusion, chosen on all development sets together (see index/fusion.py).
DEFAULT_FUSION = FusionWeights()


class Retriever:
    """Searches one index build; thread-safe for concurrent searches."""

    def __init__(self, store: StoreReader, embedder: Embedder, mode: SearchMode = "hybrid",
                 fusion: FusionWeights = DEFAULT_FUSION, semantic_quotes: bool = False,
                 no_answer_threshold: float | None = None, dialect_rewrite: bool = True) -> None:
        self.store = store
        self.embedder = embedder
        self.mode: SearchMode = mode
        #: Below this cosine of question and best passage, :meth:`ask` says it found no answer.
        self.no_answer_threshold = DEFAULT_NO_ANSWER_THRESHOLD if no_answer_threshold is None \
            else no_answer_threshold
        #: :meth:`ask` searches dialect words as their MSA equivalents (``DIALECT_REWRITE``).
        self.dialect_rewrite = dialect_rewrite
        self.fusion = fusion
        self.quotes = QuoteSelector(embedder if semantic_quotes else None)

    @property
    def build_id(self) -> str:
        """Names the build serving: a build directory's name, or ``<collection>@<build id>`` for Milvus."""
        return self.store.build_id

    @property
    def build_dir(self) -> Path:
        """The FAISS build directory serving (for Milvus, a path made of :attr:`build_id`: prefer that)."""
        directory = getattr(self.store, "build_dir", None)
        return directory if isinstance(directory, Path) else Path(self.build_id)

    @property
    def manifest(self) -> Manifest:
        """What the index was built with, and its counts."""
        return self.store.manifest

    @property
    def metadata(self) -> Metadata:
        """Articles and chunks (sources, date range, chunk rows) of the serving build."""
        return self.store.metadata

    @classmethod
    def open(cls, path: str | Path, *, settings: IndexSettings | None = None, embedder: Embedder | None = None,
             mode: SearchMode | None = None, verify: bool = True) -> Retriever:
        """Open the index at ``path`` (an index directory or one build), or the configured Milvus collection.

        Args:
            path: The FAISS index directory (with ``VECTOR_STORE=milvus``, where the build lock is kept).
            settings: Store, model, cache and mode; read from the environment when omitted.
            embedder: An already loaded model (shared between reloads); must match the index.
            mode: dense, lexical or hybrid (default: the settings' ``SEARCH_MODE``).
            verify: Check every file's checksum (detects truncated or altered files up front).

        Raises:
            IndexNotFound: nothing at ``path``.
            IndexMismatch: built with another model or format version; the message says what to run.
            IndexCorrupt: a file is missing, truncated or damaged.
        """
        settings = settings or IndexSettings()
        store = open_store(settings, Path(path))
        try:
            return cls._open(store, settings, embedder, mode, verify)
        except IndexCorrupt as error:
            # Name the index the user gave (and can rebuild), not the build directory inside it.
            raise IndexCorrupt(store.description, error.reason, command=store.rebuild_command) from None

    @classmethod
    def _open(cls, store: IndexStore, settings: IndexSettings, embedder: Embedder | None, mode: SearchMode | None,
              verify: bool) -> Retriever:
        reader = store.open(verify)
        try:
            manifest = reader.manifest
            where, command = store.description, store.rebuild_command
            configured = embedder.model_id if embedder else _model_id(settings.embedding_model)
            if manifest.model_id != configured:
                raise IndexMismatch(where, "embedding model", manifest.model_id, configured, command=command)
            if embedder is None:
                # Under auto, queries use the engine the index was built with (when it loads here).
                embedder = query_embedder(settings.embedding_model, settings.cache_dir, manifest.embedding_backend,
                                          settings.embedding_backend)
            if embedder.dimension != manifest.dimension:
                raise IndexMismatch(where, "vector dimension", manifest.dimension, embedder.dimension, command=command)
            check_query_engine(manifest.embedding_backend, embedder, settings.cache_dir, where, command)
        except BaseException:
            reader.close()
            raise
        embedder.set_threads(settings.query_threads)
        return cls(reader, embedder, mode or settings.search_mode, no_answer_threshold=settings.no_answer_threshold,
                   dialect_rewrite=settings.dialect_rewrite)

    def close(self) -> None:
        """Release the store's files and connections."""
        self.store.close()

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
        allowed = self.store.restrict(filters)
        if allowed.count == 0:
            return []
        total = allowed.count
        query_vector = self.embedder.embed_query(question)
        pool = min(total, max(50, 8 * k))
        while True:
            scored = self._ranked(question, query_vector, mode, pool, allowed)
            best = _best_per_story(scored, self.metadata, k)
            if len(best) >= k or pool >= total:
                break
            pool = min(total, pool * 4)
        return self._passages(question, best, query_vector)

    def ask(self, question: str, k: int = 5, *, offset: int = 0, sources: list[str] | None = None,
            now: datetime | None = None, dialect_rewrite: bool | None = None) -> PlannedResults:
        """Answer ``question`` as a reader would be answered: the whole query path of :mod:`index.search.plan`.

        Unlike :meth:`search`, time words become a period ("الأسبوع الماضي" searches last week of the
        archive), "latest" questions show the newest first among the most relevant, and the result
        says whether the best passage clears the calibrated no-answer threshold.

        Args:
            question: The question as asked.
            k: Passages wanted (from rank ``offset``).
            offset: Rank of the first passage returned (further pages).
            sources: Only these outlets.
            now: The real "today" (default: the clock), which the archive's "today" never passes.
            dialect_rewrite: Search dialect words as MSA (default: this retriever's ``DIALECT_REWRITE``).

        Raises:
            BadQuery: empty or over-long question, or ``k`` outside 1..100.
        """
        _check_question(question)
        if not 1 <= k <= MAX_K:
            raise BadQuery(f"k must be between 1 and {MAX_K}, got {k}")
        rewrite = self.dialect_rewrite if dialect_rewrite is None else dialect_rewrite
        plan = plan_question(question, reference_day(self.metadata, now), dialect_rewrite=rewrite)
        return run_plan(self, plan, k, offset, threshold=self.no_answer_threshold, sources=sources or ())

    # -- internals ---------------------------------------------------------------------------

    def _ranked(self, question: str, query_vector: np.ndarray | None, mode: SearchMode, pool: int,
                allowed: Restriction) -> list[tuple[int, float]]:
        if mode == "hybrid" and query_vector is not None:
            own = self.store.hybrid(question, query_vector, pool, allowed)
            if own is not None:  # the store ranks by its own fusion (Milvus's RRFRanker, when configured)
                return sorted(own.items(), key=lambda item: (-item[1], item[0]))
        dense = self._dense(query_vector, pool, allowed) if mode != "lexical" else {}
        lexical = self.store.lexical(question, pool, allowed) if mode != "dense" else {}
        scores = dense if mode == "dense" else lexical if mode == "lexical" else fuse(dense, lexical, self.fusion)
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))

    def _dense(self, query_vector: np.ndarray | None, pool: int, allowed: Restriction) -> dict[int, float]:
        if query_vector is None or pool <= 0:
            return {}
        return self.store.dense(query_vector, pool, allowed)

    def _passages(self, question: str, best: list[_Pick], query_vector: np.ndarray) -> list[Passage]:
        # The chunks were read while collapsing (one metadata read per search, not two: a round trip with Milvus).
        chunks = {pick.vector_id: pick.chunk for pick in best}
        articles = self.metadata.articles([c.article_id for c in chunks.values()] +
                                          [a for pick in best for a in pick.duplicates])
        # A chunk whose article is not (yet, or no longer) there: a Milvus update in place writes
        # chunks before articles. Such a pick is left out, never a KeyError in a reader's face.
        best = [pick for pick in best if chunks[pick.vector_id].article_id in articles]
        for pick in best:
            pick.duplicates = [a for a in pick.duplicates if a in articles]
        hits = [(articles[chunks[pick.vector_id].article_id], chunks[pick.vector_id]) for pick in best]
        quotes = self.quotes.select(question, hits, query_vector)
        stored = self.store.vectors([pick.vector_id for pick in best])
        return [Passage(chunk=chunk, article=article, score=pick.score, quote=quote,
                        relevance=float(stored[pick.vector_id] @ query_vector),
                        duplicates=tuple(articles[a] for a in pick.duplicates))
                for (article, chunk), pick, quote in zip(hits, best, quotes, strict=True)]


#: Word-set Jaccard similarity above which two passages count as the same text.
DUPLICATE_JACCARD = 0.6
#: Ranked chunks read at first when collapsing to stories (at least twice the page asked for).
FIRST_PAGE = 16


@dataclass(slots=True)
class _Pick:
    vector_id: int
    score: float
    terms: frozenset[str]
    duplicates: list[str]
    chunk: Chunk
    story: str


def _best_per_story(scored: list[tuple[int, float]], metadata: Metadata, k: int) -> list[_Pick]:
    """Keep the best chunk of each story, in rank order, up to ``k``; fold the story's other articles into it.

    Two articles are one story when the build grouped them (:mod:`index.build.stories`: the same
    event from another outlet, even in other words), or when their chunks' words overlap by
    ``DUPLICATE_JACCARD`` or more (a wire copy; also what folds copies in a build without stories).
    The first article met of a story is the one shown, the others are its "also reported by".

    The chunks are read a page at a time, from the top, until ``k`` stories are found: the pool
    holds 50 or more, five stories rarely need 20, and reading every chunk with its whole article
    (from SQLite, or a Milvus round trip) took 2 of a lone question's 30 ms on AVX2 (README).
    Pages double, so a pool of copies still costs a handful of reads.
    """
    seen: set[str] = set()
    best: list[_Pick] = []
    begin, page = 0, max(FIRST_PAGE, 2 * k)
    while begin < len(scored) and len(best) < k:
        part = scored[begin:begin + page]
        begin, page = begin + page, 2 * page
        chunks = metadata.chunks([vector_id for vector_id, _ in part])
        story_of = metadata.stories({chunk.article_id for chunk in chunks.values()})
        for vector_id, score in part:
            chunk = chunks.get(vector_id)
            if chunk is None or chunk.article_id in seen:  # None: deleted since it was ranked (Milvus)
                continue
            seen.add(chunk.article_id)
            terms = frozenset(normalise(chunk.text).split())
            story = story_of.get(chunk.article_id, chunk.article_id)
            twin = next((pick for pick in best if pick.story == story
                         or word_overlap(pick.terms, terms) >= DUPLICATE_JACCARD), None)
            if twin is not None:
                twin.duplicates.append(chunk.article_id)
                continue
            best.append(_Pick(vector_id, score, terms, [], chunk, story))
            if len(best) == k:
                break
    return best


def word_overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard overlap of two word sets (0 when either is empty): copies here, stories at build time."""
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
