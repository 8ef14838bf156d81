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
closed, because such a question may still be reading it. A build that fails to open is logged
and remembered, and the old one keeps serving.

The no-answer rule lives here too (:func:`top_relevance`), so the bot, the console and
``bench/calibrate_no_answer.py`` apply exactly the same one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot import messages
from bot.rtl import isolate
from bot.settings import BotSettings
from index import AkhbarIndexError, Embedder, Passage, Retriever
from index.retriever import MAX_K, MAX_QUESTION_CHARS
from index.store import current_build_id

logger = logging.getLogger(__name__)


def top_relevance(passages: Sequence[Passage]) -> float:
    """Cosine of the question and the best-ranked passage; -1 when nothing was found.

    A page is an answer when this is at least ``NO_ANSWER_THRESHOLD``.
    """
    return passages[0].relevance if passages else -1.0


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
        question: The question as searched (stripped).
        passages: The page's passages, best first (empty when nothing was found).
        offset: Rank of the page's first passage (0 for the first page).
        answered: The page's best passage is relevant enough to quote.
        has_more: A further page exists.
        build_id: The index build that answered (recorded with feedback).
    """

    question: str
    passages: tuple[Passage, ...]
    offset: int
    answered: bool
    has_more: bool
    build_id: str

    @property
    def next_offset(self) -> int:
        """Offset of the following page."""
        return self.offset + len(self.passages)


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
        self.build_id = retriever.build_dir.name
        self._reload_lock = threading.Lock()
        self._last_check = time.monotonic()
        self._failed_build: str | None = None

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

    def answer(self, question: str, offset: int = 0) -> Answer:
        """Search and return the page of results starting at rank ``offset``.

        Raises:
            BadQuery: empty or over-long question.
        """
        retriever = self._retriever  # one reference for the whole question, even if a reload swaps it
        size = self.settings.results_per_answer
        wanted = min(offset + size + 1, MAX_K)  # one extra to know whether a further page exists
        found = retriever.search(question, k=wanted) if offset < MAX_K else []
        page = tuple(found[offset:offset + size])
        return Answer(question=question.strip(), passages=page, offset=offset,
                      answered=bool(page) and top_relevance(page) >= self.settings.no_answer_threshold,
                      has_more=len(found) > offset + size and offset + size < MAX_K,
                      build_id=retriever.build_dir.name)

    def reload_due(self) -> bool:
        """Whether ``current`` names another build than the one serving (checked at most every interval)."""
        now = time.monotonic()
        if now - self._last_check < self.settings.reload_check_seconds:
            return False
        self._last_check = now
        current = self._current_build()
        return current is not None and current not in (self.build_id, self._failed_build)

    def _current_build(self) -> str | None:
        """Name of the build ``INDEX_DIR/current`` points at (one readlink)."""
        link = current_build_id(self.settings.index_dir)
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
        if target is not None and target == self.build_id:
            return ReloadResult(target, swapped=False)
        try:
            fresh = Retriever.open(self.settings.index_dir, settings=self.settings,
                                   embedder=self._retriever.embedder)
        except AkhbarIndexError as error:
            self._failed_build = target
            logger.error("keeping build %s: the new build %s cannot be opened: %s", self.build_id, target, error)
            return ReloadResult(self.build_id, swapped=False, error=str(error))
        self._retriever = fresh
        self.build_id = fresh.build_dir.name
        self._failed_build = None
        logger.info("now serving index build %s", self.build_id)
        return ReloadResult(self.build_id, swapped=True)
