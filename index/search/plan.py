"""One question's path through the search, the same for every front-end (bot, CLI, Python, LangChain).

A question is first *planned*, then *run*:

* **Plan** (:func:`plan_question`): dialect question and function words and verb prefixes are
  rewritten to MSA *for matching only* (:mod:`corpus.dialect`: «وش صار» searches «ماذا حدث»; the
  quotes stay the article's words), and the question type (what, when, how much…) recorded;
  time words (:mod:`index.search.timeexpr`) are resolved
  against the archive's "today" — the day of its newest article, never later than the real
  today (:func:`reference_day`: an archive of 2018 still has a "last week", and one mis-dated
  future article cannot move it) — become the plan's period and are cut from the text searched.
  Questions asking for the latest news (``latest``) are marked. A conversation (the bot's
  follow-ups, :mod:`bot.followup`) may then complete the plan with context words and an
  alternative query; this module knows nothing of conversations.
* **Run** (:func:`run_plan`): the period is a date filter inside the search; a period holding no
  article at all is searched without it, and the result says so. A plan with an alternative query
  is searched both ways and the rankings fused (reciprocal rank). "Latest" questions show, among
  the passages within :data:`LATEST_MARGIN` of the best relevance, the newest first. The page is
  an *answer* when its best passage's cosine relevance reaches the calibrated no-answer threshold
  (``NO_ANSWER_THRESHOLD``, ``bench/calibrate_no_answer.py``), else the front-end says it found
  nothing rather than quote noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from corpus.arabic import lexical_tokens
from corpus.dialect import QuestionType, rewrite_question
from index.search.passage import Passage
from index.search.timeexpr import TimeQuery, TimeRange, parse_time
from index.settings import DEFAULT_NO_ANSWER_THRESHOLD, MAX_K

if TYPE_CHECKING:
    from index.search.quotes import QuoteSelector
    from index.stores import Metadata


class Searcher(Protocol):
    """What running a plan needs of :class:`index.search.retriever.Retriever` (which satisfies it)."""

    @property
    def metadata(self) -> Metadata:
        """The serving build's articles and dates."""

    @property
    def quotes(self) -> QuoteSelector:
        """The quote selector (a follow-up's quotes are chosen for its own words)."""

    def search(self, question: str, k: int = 5, *, sources: list[str] | None = None, since: date | None = None,
               until: date | None = None) -> list[Passage]:
        """The ranked passages of one question."""

#: Results searched when they will be re-ranked (a fused or "latest" question), whatever the page.
RERANK_POOL = 10
#: Rank offset of the reciprocal-rank fusion of a plan's two queries.
RRF_K = 5.0
#: "Latest" questions: passages whose relevance is within this of the best are shown newest first.
LATEST_MARGIN = 0.02
#: "Latest" questions: results considered for ordering by date.
LATEST_POOL = 20


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """What is searched for one question, decided before searching and reused for its further pages.

    Attributes:
        question: The question as asked (stripped).
        query: The text given to the retriever: time words cut out (context words added by a
            conversation).
        period: The period searched, if any.
        latest: The question asks for the newest news: the newest first among the most relevant.
        followup: Why a conversation completed this question from a previous turn, or None.
        context_words: Words a conversation added from the previous turn.
        prefer: Articles that get ``prefer_bonus`` when re-ranking (a conversation's previous answer).
        prefer_bonus: Score factor ``1 + prefer_bonus`` for passages of ``prefer`` articles.
        own_words: The words quotes are chosen for when they differ from ``query`` ("" = ``query``).
        also_alone: Also search ``own_words`` alone and fuse the two rankings.
        question_type: What the question asks for (what, why, where, when, how_much, who, how, yes_no).
        dialect: The dialect its words suggest (``msa`` when none was seen).
    """

    question: str
    query: str
    period: TimeRange | None = None
    latest: bool = False
    followup: str | None = None
    context_words: tuple[str, ...] = ()
    prefer: tuple[str, ...] = ()
    prefer_bonus: float = 0.0
    own_words: str = ""
    also_alone: bool = False
    question_type: QuestionType = "what"
    dialect: str = "msa"


@dataclass(frozen=True, slots=True)
class PlannedResults:
    """What running a plan found.

    Attributes:
        plan: The plan run.
        passages: The ranked passages, from rank ``offset`` (at most the page asked for).
        offset: Rank of the first passage.
        answered: The best passage of the page is relevant enough to quote.
        has_more: Results exist beyond the page.
        period_empty: The plan's period holds no article at all: the passages come from all periods.
    """

    plan: SearchPlan
    passages: tuple[Passage, ...]
    offset: int
    answered: bool
    has_more: bool
    period_empty: bool = False


def reference_day(metadata: Metadata, now: datetime | None = None) -> date | None:
    """The archive's "today" for time words: its newest article's day, but never after the real today.

    Articles dated after tomorrow are refused when read (:func:`corpus.readers.base.cap_article`);
    this also covers indexes built before that check.
    """
    newest = metadata.newest_date()
    if newest is None:
        days = metadata.date_range()
        return date.fromisoformat(days[1][:10]) if days else None
    today = (now or datetime.now(UTC)).date() + timedelta(days=1)
    if newest.date() <= today:
        return newest.date()
    days = metadata.date_range()
    oldest = date.fromisoformat(days[0][:10]) if days else today
    return max(oldest, min(today, newest.date()))


def plan_question(question: str, reference: date | None, *, dialect_rewrite: bool = True) -> SearchPlan:
    """Plan one question on its own: its period and "latest" wish, its time words cut from the query.

    Args:
        question: The question as asked.
        reference: "Today" for time words (:func:`reference_day`); None: no time filtering.
        dialect_rewrite: Search dialect words as their MSA equivalents (``DIALECT_REWRITE``).
    """
    question = question.strip()
    timed = parse_time(question, reference) if reference else TimeQuery(question)
    # "ماذا حدث أمس؟" → "ماذا حدث؟"; a question left with no word to search keeps its time words.
    base = timed.question.strip() if lexical_tokens(timed.question) else question
    rewritten = rewrite_question(base)
    query = rewritten.text if dialect_rewrite and lexical_tokens(rewritten.text) else base
    return SearchPlan(question, query, timed.period, timed.latest, question_type=rewritten.question_type,
                      dialect=rewritten.dialect)


def search_pool(plan: SearchPlan, wanted: int) -> int:
    """How many results to search for a page needing ``wanted``: more when they will be re-ranked."""
    reranked = plan.followup is not None or plan.also_alone or bool(plan.prefer)
    return max(wanted, RERANK_POOL if reranked else 0, LATEST_POOL if plan.latest else 0)


def rerank(plan: SearchPlan, found: list[Passage], alone: list[Passage]) -> list[Passage]:
    """Order the results as the plan asks (fused with ``alone``, preferred articles, newest first)."""
    if plan.also_alone:
        found = fuse_rankings(found, alone)
    if plan.prefer and plan.prefer_bonus > 0:
        found = prefer_articles(found, plan.prefer, plan.prefer_bonus)
    if plan.latest:
        found = newest_first(found, LATEST_MARGIN)
    return found


def prefer_articles(found: list[Passage], prefer: Sequence[str], bonus: float, pool: int = RERANK_POOL
                    ) -> list[Passage]:
    """Re-rank the top ``pool`` passages, the ``prefer`` articles' scores multiplied by ``1 + bonus``.

    A passage counts as preferred when its article, or one folded into it as a duplicate, is one
    of them. The order beyond ``pool`` is left as it was.
    """
    wanted = set(prefer)
    if not wanted or not found:
        return found

    def boosted(passage: Passage) -> float:
        ids = {passage.article.id} | {a.id for a in passage.duplicates}
        return passage.score * (1.0 + bonus) if ids & wanted and passage.score > 0 else passage.score

    return sorted(found[:pool], key=boosted, reverse=True) + found[pool:]


def fuse_rankings(first: list[Passage], second: list[Passage], rrf_k: float = RRF_K) -> list[Passage]:
    """Reciprocal-rank fusion of two rankings, one passage per article.

    An article in both keeps the passage of ``first``; each passage's score becomes its fused score.
    """
    fused: dict[str, float] = {}
    chosen: dict[str, Passage] = {}
    for ranking in (first, second):
        for rank, passage in enumerate(ranking, start=1):
            fused[passage.article.id] = fused.get(passage.article.id, 0.0) + 1.0 / (rrf_k + rank)
            chosen.setdefault(passage.article.id, passage)
    ordered = sorted(chosen, key=lambda article_id: -fused[article_id])
    return [replace(chosen[article_id], score=fused[article_id]) for article_id in ordered]


def newest_first(found: list[Passage], margin: float = LATEST_MARGIN, pool: int = LATEST_POOL) -> list[Passage]:
    """Among the top ``pool``, the passages within ``margin`` of the best relevance first, newest first.

    The others follow in their order; undated articles count as the oldest.
    """
    if not found:
        return found
    head = found[:pool]
    best = max(p.relevance for p in head)
    close = [p for p in head if p.relevance >= best - margin]
    rest = [p for p in head if p.relevance < best - margin]
    close.sort(key=lambda p: p.article.date.timestamp() if p.article.date else float("-inf"), reverse=True)
    return close + rest + found[pool:]


def top_relevance(passages: Sequence[Passage]) -> float:
    """Cosine of the question and the best-ranked passage; -1 when nothing was found.

    A page is an answer when this is at least ``NO_ANSWER_THRESHOLD``.
    """
    return passages[0].relevance if passages else -1.0


def run_plan(retriever: Searcher, plan: SearchPlan, size: int, offset: int = 0, *,
             threshold: float = DEFAULT_NO_ANSWER_THRESHOLD, sources: Sequence[str] = ()) -> PlannedResults:
    """Search ``plan`` and return ``size`` results from rank ``offset``, with the no-answer decision.

    Raises:
        BadQuery: empty or over-long query.
    """
    wanted = min(offset + size + 1, MAX_K)  # one extra to know whether a further page exists
    found: list[Passage] = []
    period_empty = False
    if offset < MAX_K:
        pool = search_pool(plan, wanted)
        found, period_empty = _found(retriever, plan.query, plan.period, pool, sources)
        alone = _found(retriever, plan.own_words, plan.period, pool, sources)[0] if plan.also_alone else []
        found = rerank(plan, found, alone)
    page = tuple(found[offset:offset + size])
    if plan.own_words and page:  # quotes answer the question's own words ("ومتى؟": the date)
        quotes = retriever.quotes.select(plan.own_words, [(p.article, p.chunk) for p in page])
        page = tuple(replace(p, quote=q) for p, q in zip(page, quotes, strict=True))
    answered = bool(page) and top_relevance(page) >= threshold
    return PlannedResults(plan, page, offset, answered,
                          has_more=len(found) > offset + size and offset + size < MAX_K,
                          period_empty=period_empty)


def _found(retriever: Searcher, query: str, period: TimeRange | None, k: int,
           sources: Sequence[str]) -> tuple[list[Passage], bool]:
    """Search ``period``; when it holds no article at all, search every period instead (and say so)."""
    chosen = list(sources)
    if period is None:
        return retriever.search(query, k=k, sources=chosen), False
    found = retriever.search(query, k=k, sources=chosen, since=period.since, until=period.until)
    if found or retriever.metadata.vector_ids_matching(chosen or None, period.since, period.until):
        return found, False
    return retriever.search(query, k=k, sources=chosen), True
