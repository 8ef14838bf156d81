"""What to search for a question: its period, its follow-up context, and how to order the results.

:func:`make_plan` turns a question (and the turn it follows, if any) into a :class:`SearchPlan`;
:func:`rerank` orders what the retriever found as the plan asks. Both are pure: the answerer
runs the searches.

* **Time words** (:mod:`index.timeexpr`) are resolved against ``reference``, the day of the
  newest article in the index (not the machine's clock: an archive of 2018 still has a "last
  week"), become the plan's period and are cut from the text searched. Questions asking for the
  latest news (``latest``) show, among the passages within :data:`LATEST_MARGIN` of the best
  relevance, the newest first.
* **Follow-ups** (:mod:`bot.conversation`): a question that leans on the previous turn is searched
  with that turn's key words added, keeps its period unless it names one, and its quotes are
  chosen for its own words ("ومتى؟" → the sentence with the date). One that names its own
  subject (:data:`OWN_SUBJECT_WORDS` content words or more) may well be answered by another
  article: it is searched alone too, and the two rankings are fused (reciprocal rank). A
  question that stands on its own is searched exactly as asked.

The constants were set with ``bench/conversation_eval.py`` on ``tests/data/dialogues_ar.jsonl``
(85 follow-ups, 15 answered by another article than the turn before); ``--ablations`` there shows
each alternative. They were chosen on that set, with no held-out part: neighbouring values differ
by a turn or two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from bot.conversation import MAX_CONTEXT_WORDS, augment, content_words, context_words, followup_reason
from corpus.arabic import lexical_tokens, normalise
from index import Passage
from index.timeexpr import TimeQuery, TimeRange, parse_time

if TYPE_CHECKING:
    from bot.context import Turn

__all__ = ["SearchPlan", "fuse_rankings", "make_plan", "newest_first", "prefer_articles", "rerank", "search_pool"]

#: Results searched for a follow-up, whatever the page (so its pages follow each other).
RERANK_POOL = 10
#: A follow-up with at least this many content words of its own names its own subject
#: ("وماذا قال وزير الطاقة الإسرائيلي عنها؟"): it is also searched alone and both rankings are fused.
OWN_SUBJECT_WORDS = 3
#: Rank offset of that reciprocal-rank fusion.
FOLLOWUP_RRF_K = 5.0
#: A passage from the article the previous turn quoted first counts this much more, for follow-ups
#: that lean on the previous turn entirely ("ومتى؟"). Off: on the dialogue set the words added
#: already bring that article first, and 0.25 only cost two follow-ups answered by another article.
PREFER_BONUS = 0.0
#: Articles of the previous turn that get the bonus: the first one shown.
PREFERRED_ARTICLES = 1
#: Choose a follow-up's quotes for its own words rather than for the completed query.
QUOTE_OWN_WORDS = True
#: "Latest" questions: passages whose relevance is within this of the best are shown newest first.
LATEST_MARGIN = 0.02
#: "Latest" questions: results considered for ordering by date.
LATEST_POOL = 20


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """What is searched for one question, decided before searching and reused for its further pages.

    Attributes:
        question: The question as asked (stripped).
        query: The text given to the retriever: time words cut out, context words added.
        period: The period searched (named in the question, or kept from the turn it follows).
        latest: The question asks for the newest news: the newest first among the most relevant.
        followup: Why the question leans on the previous turn (see
            :func:`bot.conversation.followup_reason`), or None.
        context_words: Words added from the previous turn.
        prefer: Articles quoted by the previous turn that get :data:`PREFER_BONUS`.
        own_words: A follow-up's own words (time words and an opening و/ف removed), which its quotes
            are chosen for; "" when the quotes are chosen for ``query``.
        also_alone: Also search ``own_words`` alone and fuse the two rankings.
    """

    question: str
    query: str
    period: TimeRange | None = None
    latest: bool = False
    followup: str | None = None
    context_words: tuple[str, ...] = ()
    prefer: tuple[str, ...] = ()
    own_words: str = ""
    also_alone: bool = False


def make_plan(question: str, reference: date | None, previous: Turn | None = None) -> SearchPlan:
    """Decide what to search for ``question``.

    Args:
        question: The question as asked.
        reference: "Today" for time words: the newest article's day (None: no time filtering).
        previous: The turn the question follows (the conversation's last, or the answer it replies
            to); None for a question asked alone.
    """
    question = question.strip()
    timed = parse_time(question, reference) if reference else TimeQuery(question)
    # "ماذا حدث أمس؟" → "ماذا حدث؟"; a question left with no word to search keeps its time words.
    base = timed.question.strip() if lexical_tokens(timed.question) else question
    reason = followup_reason(question, timed.question) if previous is not None else None
    if previous is None or reason is None:
        return SearchPlan(question, base, timed.period, timed.latest)
    added = tuple(context_words(base, previous.query, MAX_CONTEXT_WORDS))
    own = own_words(base)
    named = len(content_words(own)) >= OWN_SUBJECT_WORDS
    period = timed.period or (None if timed.latest else previous.period)
    return SearchPlan(question, augment(base, added), period, timed.latest, reason, added,
                      prefer=() if named else previous.article_ids[:PREFERRED_ARTICLES],
                      own_words=own if QUOTE_OWN_WORDS or named else "", also_alone=named)


def search_pool(plan: SearchPlan, wanted: int) -> int:
    """How many results to search for a page needing ``wanted``: more when they will be re-ranked."""
    return max(wanted, RERANK_POOL if plan.followup else 0, LATEST_POOL if plan.latest else 0)


def rerank(plan: SearchPlan, found: list[Passage], alone: list[Passage]) -> list[Passage]:
    """Order the results as the plan asks.

    Args:
        plan: The plan searched.
        found: The results of ``plan.query``.
        alone: The results of ``plan.own_words`` alone (when ``plan.also_alone``).
    """
    if plan.also_alone:
        found = fuse_rankings(found, alone)
    if plan.prefer and PREFER_BONUS > 0:
        found = prefer_articles(found, plan.prefer, PREFER_BONUS)
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


def fuse_rankings(first: list[Passage], second: list[Passage], rrf_k: float = FOLLOWUP_RRF_K) -> list[Passage]:
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


def own_words(question: str) -> str:
    """A follow-up as its quotes should answer it: without an opening و/ف before a function word.

    >>> own_words("ومتى؟")
    'متى؟'
    """
    words = question.split(maxsplit=1)
    if words:
        head = words[0]
        if normalise(head)[:1] in ("و", "ف") and len(normalise(head)) > 2 and not lexical_tokens(head[1:]):
            words[0] = head[1:]
    return " ".join(words)
