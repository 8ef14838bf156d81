"""The search side shared by Telegram and the console: one retriever, pages of answers, hot reload.

:class:`Answerer` holds the :class:`index.Retriever` of the current build and answers a question
one page at a time. Its methods block (embedding is CPU work): the bot calls them through
``asyncio.to_thread`` so one slow question never stalls other chats; the console calls them
directly.

Hot reload: another process (``akhbar-index build``/``update``) switches ``INDEX_DIR/current``
atomically. :meth:`Answerer.reload_due` notices the switch with one ``readlink`` (at most every
``RELOAD_CHECK_SECONDS``); :meth:`Answerer.reload` opens the new build with the already loaded
model and swaps one reference. A question in flight took its own reference to the old retriever,
so it finishes on the old build; the old retriever is left to the garbage collector rather than
closed, because such a question may still be reading it. A build that fails to open while
``current`` still names it is logged as damaged and remembered, and the old one keeps serving;
one that ``current`` stopped naming meanwhile (replaced, then pruned by later publishes) was not
damaged, just gone, so the reload goes on with the build that replaced it.

The no-answer rule is :func:`index.search.plan.top_relevance` (re-exported here), so the bot, the
console, every other front-end and ``bench/calibrate_no_answer.py`` apply exactly the same one.

What is searched is decided first, in a :class:`index.search.plan.SearchPlan` (time words turned
into a period against the archive's "today", as for every front-end; follow-ups completed from the
turn they follow by :mod:`bot.followup`); :meth:`Answerer.search` then runs it with
:func:`index.search.plan.run_plan`, the query path the CLI, ``Retriever.ask`` and LangChain share.

``bench/conversation_eval.py`` measures the follow-up rules on ``tests/data/dialogues_ar.jsonl``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot import messages
from bot.followup import make_plan
from bot.memory import Turn
from bot.rtl import isolate
from bot.settings import BotSettings
from index import (
    MAX_QUESTION_CHARS,
    AkhbarIndexError,
    Embedder,
    Passage,
    Retriever,
    SearchPlan,
    StoreUnavailable,
    TimeRange,
    open_store,
    reference_day,
    run_plan,
    top_relevance,
)

__all__ = ["Answer", "Answerer", "ReloadResult", "question_refusal", "top_relevance"]

logger = logging.getLogger(__name__)

#: Builds tried by one reload: the one ``current`` names, then (if it was replaced meanwhile,
#: e.g. pruned by two quick publishes) the ones that replaced it.
RELOAD_ATTEMPTS = 3


def question_refusal(question: str, empty: str = messages.EMPTY_QUESTION) -> tuple[str, dict[str, str]] | None:
    """Why a question will not be searched, as a :mod:`bot.messages` template and its values, else None.

    Checked before searching so the reader gets a specific reason (empty vs. too long) and an
    over-long question costs no embedding; both front ends use it.
    """
    question = question.strip()
    if not question:
        return empty, {}
    if len(question) > MAX_QUESTION_CHARS:
        return messages.TOO_LONG, {"length": isolate(str(len(question))), "limit": isolate(str(MAX_QUESTION_CHARS))}
    return None


@dataclass(frozen=True, slots=True)
class Answer:
    """One page of results for a question.

    Attributes:
        question: The question as asked (stripped).
        passages: The page's passages, best first (empty when nothing was found).
        offset: Rank of the page's first passage (0 for the first page).
        answered: The page's best passage is relevant enough to quote.
        has_more: A further page exists.
        build_id: The index build that answered (recorded with feedback).
        plan: What was searched (query, period, context).
        period_empty: The plan's period holds no article at all: the passages come from all periods.
    """

    question: str
    passages: tuple[Passage, ...]
    offset: int
    answered: bool
    has_more: bool
    build_id: str
    plan: SearchPlan | None = None
    period_empty: bool = False

    @property
    def next_offset(self) -> int:
        """Offset of the following page."""
        return self.offset + len(self.passages)

    @property
    def query(self) -> str:
        """The text searched."""
        return self.plan.query if self.plan else self.question

    @property
    def period(self) -> TimeRange | None:
        """The period searched, if any."""
        return self.plan.period if self.plan else None

    @property
    def article_ids(self) -> tuple[str, ...]:
        """The page's articles, in order."""
        return tuple(p.article.id for p in self.passages)


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """What a reload attempt did, for the log and the ``/reload`` reply."""

    build_id: str | None
    swapped: bool
    error: str | None = None


class Answerer:
    """Answers questions from the current index build; safe to call from many threads at once.

    Args:
        retriever: The opened current build.
        settings: Index location, page size, no-answer threshold, reload interval.
    """

    def __init__(self, retriever: Retriever, settings: BotSettings) -> None:
        self._retriever = retriever
        self.settings = settings
        self.build_id = retriever.build_id
        self._store = open_store(settings)  # asked which build is current (FAISS or Milvus alike)
        self._reload_lock = threading.Lock()
        self._last_check = time.monotonic()
        self._failed_build: str | None = None
        self._reference: tuple[Retriever, date | None] | None = None

    @classmethod
    def open(cls, settings: BotSettings, embedder: Embedder | None = None) -> Answerer:
        """Open the current build of ``settings.index_dir`` (loads the model unless given one).

        Raises:
            AkhbarIndexError: no index, a mismatching model, or a damaged build.
        """
        return cls(Retriever.open(settings.index_dir, settings=settings, embedder=embedder), settings)

    @property
    def retriever(self) -> Retriever:
        """The retriever serving new questions."""
        return self._retriever

    def answer(self, question: str, offset: int = 0, previous: Turn | None = None) -> Answer:
        """Plan and search a question; return the page of results starting at rank ``offset``.

        Args:
            question: The question as asked.
            offset: Rank of the page's first passage.
            previous: The turn the question follows (the conversation's last one, or the answer it
                replies to); None searches the question alone.

        Raises:
            BadQuery: empty or over-long question.
        """
        return self.search(self.plan(question, previous), offset)

    def plan(self, question: str, previous: Turn | None = None) -> SearchPlan:
        """Decide what to search (see :func:`bot.followup.make_plan`), with the archive's today for time words."""
        return make_plan(question, self.reference_day(), previous, dialect_rewrite=self.settings.dialect_rewrite)

    def search(self, plan: SearchPlan, offset: int = 0) -> Answer:
        """The page of results of ``plan`` starting at rank ``offset``.

        A Milvus build pruned under this replica (it had not noticed the new one) is reloaded and
        the question asked again, once: the reader gets the new build's answer, not an error.

        Raises:
            BadQuery: empty or over-long query.
        """
        retriever = self._retriever  # one reference for the whole question, even if a reload swaps it
        try:
            results = run_plan(retriever, plan, self.settings.results_per_answer, offset,
                               threshold=self.settings.no_answer_threshold)
        except StoreUnavailable as error:
            if "does not exist" not in str(error) or not self.reload().swapped:
                raise
            logger.info("the build being searched was removed; asked again on %s", self.build_id)
            retriever = self._retriever
            results = run_plan(retriever, plan, self.settings.results_per_answer, offset,
                               threshold=self.settings.no_answer_threshold)
        return Answer(question=plan.question, passages=results.passages, offset=offset, answered=results.answered,
                      has_more=results.has_more, build_id=retriever.build_id, plan=plan,
                      period_empty=results.period_empty)

    def reference_day(self) -> date | None:
        """The archive's "today" for time words (:func:`index.search.plan.reference_day`; None: no dates)."""
        retriever = self._retriever
        cached = self._reference
        if cached is None or cached[0] is not retriever:
            cached = self._reference = (retriever, reference_day(retriever.metadata))
        return cached[1]

    def reload_due(self) -> bool:
        """Whether ``current`` names another build than the one serving (checked at most every interval)."""
        now = time.monotonic()
        if now - self._last_check < self.settings.reload_check_seconds:
            return False
        self._last_check = now
        current = self._current_build()
        return current is not None and current not in (self.build_id, self._failed_build)

    def _current_build(self) -> str | None:
        """Name of the build serving now: what ``INDEX_DIR/current`` or the Milvus alias names (one lookup)."""
        link = self._store.current_build_id()
        return Path(link).name if link else None

    def reload(self) -> ReloadResult:
        """Open the build ``current`` names and swap it in, keeping the loaded model.

        Never raises for a bad build: the error is logged and returned, and the old build serves on.
        A reload already running makes this call return at once without swapping.
        """
        if not self._reload_lock.acquire(blocking=False):
            return ReloadResult(self.build_id, swapped=False, error="a reload is already running")
        try:
            return self._reload()
        finally:
            self._reload_lock.release()

    def _reload(self) -> ReloadResult:
        target = self._current_build()
        for attempt in range(1, RELOAD_ATTEMPTS + 1):
            if target is not None and target == self.build_id:
                return ReloadResult(target, swapped=False)
            try:
                fresh = Retriever.open(self.settings.index_dir, settings=self.settings,
                                       embedder=self._retriever.embedder)
            except AkhbarIndexError as error:
                now = self._current_build()
                if now != target and attempt < RELOAD_ATTEMPTS:
                    # Replaced (and maybe pruned) while it was being opened: not damaged, just gone.
                    logger.info("build %s was replaced by %s while it was being opened; opening that one",
                                target, now)
                    target = now
                    continue
                return self._reload_failed(target, now, error)
            self._retriever = fresh
            self.build_id = fresh.build_id
            self._failed_build = None
            logger.info("now serving index build %s", self.build_id)
            return ReloadResult(self.build_id, swapped=True)
        raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover

    def _reload_failed(self, target: str | None, now: str | None, error: AkhbarIndexError) -> ReloadResult:
        """Keep the serving build: call the new one damaged only if it stayed current while failing."""
        if now != target:
            logger.warning("keeping build %s: the index kept switching builds while reloading (last %s): %s",
                           self.build_id, now, error)
        else:
            self._failed_build = target
            logger.error("keeping build %s: the new build %s cannot be opened: %s", self.build_id, target, error)
        return ReloadResult(self.build_id, swapped=False, error=str(error))
