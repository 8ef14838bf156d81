"""Stories: the articles of one event across outlets, grouped once, when the index is built.

Several outlets report one event, each in its own words (a wire copy is near-identical, a rewrite
shares little more than the names and numbers). A reader wants the event once, with its best
article and "also reported by"; the top 3 should hold three different stories. So every build
gives each article a **story id** (``chunks.sqlite``'s ``stories`` table) and the retriever folds
the copies of a story into one place.

How two articles are judged the same story:

1. **Candidates by meaning, within a date window.** Each article's signature is its first chunk's
   vector, which is the headline and the lead as embedded: the lead of a news article states the
   event. The :attr:`StoryRules.neighbours` nearest articles by that vector (exact inner product)
   among those published within :attr:`StoryRules.window_days` are the candidates; nothing else is
   compared. The window comes first: over the whole archive an article's nearest are mostly its
   topic in other weeks, and the copies of its own days would be missed. Articles without a date
   are never grouped (nothing tells a rerun from a new event).
2. **Meaning and words together.** Dense similarity alone lumps related stories of the same week
   (another statement by the same official, an earlier stage of a battle: they embed alike);
   shared words alone miss a rewrite. Two articles are the same story when the content words of
   their headline and lead (normalised, light-stemmed, stopwords out) overlap by
   :attr:`StoryRules.words_same` (Jaccard) and their signatures' cosine reaches
   :attr:`StoryRules.dense_floor`, or the cosine reaches :attr:`StoryRules.dense_same` and the
   words still overlap by :attr:`StoryRules.words_floor`. Some shared words are always asked:
   cosines are the model's own scale (the tiny test model puts every pair above 0.95), words are not.
3. **No chaining.** A story is seeded by its earliest article; articles are taken in date order
   and one joins a story only when it is the same story as that story's seed, not merely as
   some member (otherwise A~B~C~… strings a week of related news into one "story").

The story id is the seed's article id: adding later articles keeps it. NumPy over vectors the
build already holds, a block of articles against the few hundred of its days at a time; nothing
is embedded again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from corpus import Article, Chunk
from corpus.arabic import lexical_tokens
from index.search.retriever import word_overlap

logger = logging.getLogger(__name__)

#: Characters of the body read with the headline for the word overlap: about the lead paragraph.
LEAD_CHARS = 400


@dataclass(frozen=True, slots=True)
class StoryRules:
    """When two articles are one story (see the module docstring for why each rule is there).

    Attributes:
        neighbours: Nearest articles by signature compared with each article.
        window_days: Largest gap between their publication times, in days.
        dense_same: Signature cosine at which few shared words suffice (:attr:`words_floor`).
        dense_floor: Signature cosine below which two articles are never one story.
        words_same: Jaccard overlap of headline + lead content words needed above the floor.
        words_floor: The overlap needed at :attr:`dense_same`.

    Set from the reader set's 3,000-article pool (``bench/story_grouping.py``): the gold articles
    of one need have median cosine 0.915 and overlap 0.135, each gold article's nearest non-gold
    neighbours 0.855 and 0.065. Of 30 grouped pairs outside the gold lists, read one by one, 29
    were one event (the other: a Houthi missile and an army advance in Yemen the same day);
    looser rules (0.95 / 0.90 / 0.18) grouped 24% more gold pairs but 6 of 24 pairs read were
    different events.
    """

    neighbours: int = 20
    window_days: float = 2.0
    dense_same: float = 0.95
    dense_floor: float = 0.88
    words_same: float = 0.25
    words_floor: float = 0.1


def lead_words(article: Article) -> frozenset[str]:
    """The content words of an article's headline and lead, in matching form."""
    return frozenset(lexical_tokens(f"{article.title} {article.text[:LEAD_CHARS]}"))


def first_chunk_vectors(articles: Sequence[Article], chunks: Sequence[Chunk],
                        vectors: Sequence[np.ndarray | None]) -> tuple[list[int], np.ndarray]:
    """Each article's signature: the vector of its first chunk (articles without one are left out).

    Returns:
        The positions in ``articles`` that have a signature, and their vectors (one row each, float32).
    """
    first: dict[str, np.ndarray] = {}
    for chunk, vector in zip(chunks, vectors, strict=True):
        if vector is not None and chunk.article_id not in first:
            first[chunk.article_id] = vector
    positions = [n for n, article in enumerate(articles) if article.id in first]
    if not positions:
        return [], np.zeros((0, 0), dtype=np.float32)
    matrix = np.ascontiguousarray(np.stack([first[articles[n].id] for n in positions]), dtype=np.float32)
    return positions, matrix


def group_stories(articles: Sequence[Article], chunks: Sequence[Chunk], vectors: Sequence[np.ndarray | None],
                  rules: StoryRules | None = None) -> dict[str, str]:
    """Give every article its story id (the id of the story's earliest article).

    Args:
        articles: The build's articles.
        chunks: Its chunks, in vector order.
        vectors: One per chunk, normalised (None: not at hand, e.g. kept in place by a Milvus update).
        rules: When two articles are one story; the defaults are the measured ones.

    Returns:
        article id → story id, for every article (one that matches none is its own story).
    """
    rules = rules or StoryRules()
    story = {article.id: article.id for article in articles}
    positions, matrix = first_chunk_vectors(articles, chunks, vectors)
    if len(positions) < 2:
        return story
    dated = [n for n in range(len(positions)) if articles[positions[n]].date is not None]
    if len(dated) < 2:
        return story
    matrix = matrix[dated]
    members = [articles[positions[n]] for n in dated]
    times = np.array([_instant(a.date) for a in members])  # type: ignore[arg-type]
    neighbours, similarity = _nearest_in_window(matrix, times, rules.window_days * 86400, rules.neighbours + 1)
    words: dict[int, frozenset[str]] = {}

    def same(a: int, b: int, cosine: float) -> bool:
        if abs(times[a] - times[b]) > rules.window_days * 86400 or cosine < rules.dense_floor:
            return False
        for n in (a, b):
            if n not in words:
                words[n] = lead_words(members[n])
        overlap = word_overlap(words[a], words[b])
        return overlap >= rules.words_same or (cosine >= rules.dense_same and overlap >= rules.words_floor)

    seed_of: dict[int, int] = {}
    for a in np.argsort(times, kind="stable").tolist():
        for b, cosine in zip(neighbours[a].tolist(), similarity[a].tolist(), strict=True):
            if b == a or b < 0 or b not in seed_of or not same(a, b, cosine):
                continue
            seed = seed_of[b]
            if seed == b or same(a, seed, float(matrix[a] @ matrix[seed])):
                seed_of[a] = seed
                break
        seed_of.setdefault(a, a)
    for a, seed in seed_of.items():
        story[members[a].id] = members[seed].id
    grouped = sum(1 for a, seed in seed_of.items() if a != seed)
    logger.info("stories: %d of %d articles joined an earlier article's story", grouped, len(articles))
    return story


def _instant(stamp: datetime) -> float:
    """Seconds since the epoch (a time without offset counts as UTC, as everywhere in the index)."""
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def _nearest_in_window(matrix: np.ndarray, times: np.ndarray, window: float, k: int,
                       block: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` nearest rows by inner product among those within ``window`` seconds (itself included).

    Rows are taken in time order, a block at a time, against the rows of the block's time span
    widened by the window: a few hundred candidates each, instead of the whole archive. Nearest
    over the whole archive, the 20 neighbours of an article are mostly the same topic in other
    weeks, and the copies of its own days are missed. Missing neighbours are -1.

    Returns:
        Neighbour row ids and their cosines, ``(rows, k)`` each, best first.
    """
    count = len(times)
    neighbours = np.full((count, k), -1, dtype=np.int64)
    similarity = np.full((count, k), -np.inf, dtype=np.float32)
    order = np.argsort(times, kind="stable")
    ordered_times = times[order]
    for start in range(0, count, block):
        rows = order[start:start + block]
        low = int(np.searchsorted(ordered_times, ordered_times[start] - window, side="left"))
        high = int(np.searchsorted(ordered_times, ordered_times[min(start + block, count) - 1] + window,
                                   side="right"))
        candidates = order[low:high]
        scores = matrix[rows] @ matrix[candidates].T
        scores[np.abs(times[rows][:, None] - times[candidates][None, :]) > window] = -np.inf
        take = min(k, len(candidates))
        best = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        best_scores = np.take_along_axis(scores, best, axis=1)
        ranked = np.argsort(-best_scores, axis=1, kind="stable")
        best, best_scores = np.take_along_axis(best, ranked, axis=1), np.take_along_axis(best_scores, ranked, axis=1)
        found = np.isfinite(best_scores)
        neighbours[rows, :take] = np.where(found, candidates[best], -1)
        similarity[rows, :take] = best_scores
    return neighbours, similarity
