"""Inline-button callback data and the server-side memory of asked questions.

Telegram limits callback data to 64 bytes, and anything a client sends can be forged, so buttons
carry only ids: ``m:<qid>:<offset>`` ("more": the page starting at ``offset``) and
``f:<qid>:<offset>:<1|0>`` (👍/👎 on the page starting at ``offset``). The question text and what
each page showed stay on the server, in :class:`QuestionStore`, a bounded LRU keyed by a short
random id. Data that does not parse, names an unknown (evicted, pre-restart) question or a page
that was never sent is rejected by :func:`parse_callback` / :meth:`QuestionStore.page`.
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field

from telegram.constants import InlineKeyboardButtonLimit

from index.search.plan import SearchPlan

MORE_PREFIX = "m"
FEEDBACK_PREFIX = "f"
#: Pages beyond this offset are never offered (the retriever returns at most 100 passages).
MAX_OFFSET = 100
_QID = r"[A-Za-z0-9_-]{8}"
_MORE = re.compile(rf"{MORE_PREFIX}:(?P<qid>{_QID}):(?P<offset>[0-9]{{1,3}})")
_FEEDBACK = re.compile(rf"{FEEDBACK_PREFIX}:(?P<qid>{_QID}):(?P<offset>[0-9]{{1,3}}):(?P<verdict>[01])")


@dataclass(frozen=True, slots=True)
class MoreRequest:
    """The reader asked for the page starting at ``offset``."""

    qid: str
    offset: int


@dataclass(frozen=True, slots=True)
class FeedbackRequest:
    """The reader rated the page starting at ``offset``."""

    qid: str
    offset: int
    good: bool


def more_data(qid: str, offset: int) -> str:
    """Callback data of the "more" button."""
    return _checked(f"{MORE_PREFIX}:{qid}:{offset}")


def feedback_data(qid: str, offset: int, good: bool) -> str:
    """Callback data of a 👍/👎 button."""
    return _checked(f"{FEEDBACK_PREFIX}:{qid}:{offset}:{int(good)}")


def _checked(data: str) -> str:
    if len(data.encode("utf-8")) > InlineKeyboardButtonLimit.MAX_CALLBACK_DATA:
        raise ValueError(f"callback data {data!r} exceeds {InlineKeyboardButtonLimit.MAX_CALLBACK_DATA} bytes")
    return data


def parse_callback(data: str | None) -> MoreRequest | FeedbackRequest | None:
    """Decode callback data; None for anything this bot never sends (forged or foreign)."""
    if not data:
        return None
    if match := _MORE.fullmatch(data):
        offset = int(match["offset"])
        return MoreRequest(match["qid"], offset) if offset <= MAX_OFFSET else None
    if match := _FEEDBACK.fullmatch(data):
        offset = int(match["offset"])
        return FeedbackRequest(match["qid"], offset, match["verdict"] == "1") if offset <= MAX_OFFSET else None
    return None


@dataclass(slots=True)
class Page:
    """What one answer page showed, kept so feedback records what the reader actually saw.

    Attributes:
        chunk_ids: Ids of the quoted chunks, in order.
        has_more: A "more" button was offered under it.
        more_sent: The next page was already sent (a second tap is ignored).
        rated_by: Users (salted hashes) who rated it; one vote each.
    """

    chunk_ids: tuple[str, ...]
    has_more: bool
    more_sent: bool = False
    rated_by: set[str] = field(default_factory=set)


@dataclass(slots=True)
class AskedQuestion:
    """A question (or a push alert), what was searched for it (so "more" searches the same) and the pages sent."""

    text: str
    chat_id: int
    pages: dict[int, Page] = field(default_factory=dict)
    plan: SearchPlan | None = None
    push: bool = False  # a push alert for a followed topic (its votes are counted as push votes)


class QuestionStore:
    """Bounded LRU of asked questions keyed by a random 8-character id.

    Args:
        capacity: Questions remembered; the least recently used is forgotten first, and its
            buttons then answer "expired".
    """

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity!r}")
        self.capacity = capacity
        self._items: OrderedDict[str, AskedQuestion] = OrderedDict()

    def add(self, text: str, chat_id: int, plan: SearchPlan | None = None) -> str:
        """Remember a question (and what was searched for it); returns its id."""
        qid = secrets.token_urlsafe(6)
        while qid in self._items:
            qid = secrets.token_urlsafe(6)
        self._items[qid] = AskedQuestion(text, chat_id, plan=plan)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return qid

    def get(self, qid: str) -> AskedQuestion | None:
        """The question with this id, if still remembered (marks it recently used)."""
        item = self._items.get(qid)
        if item is not None:
            self._items.move_to_end(qid)
        return item

    def page(self, qid: str, offset: int, chat_id: int) -> tuple[AskedQuestion, Page] | None:
        """The question and the page at ``offset``, only if that page was sent to ``chat_id``."""
        item = self.get(qid)
        if item is None or item.chat_id != chat_id or offset not in item.pages:
            return None
        return item, item.pages[offset]

    def __len__(self) -> int:
        return len(self._items)
