"""What the bot remembers of a conversation, so a follow-up question can lean on the turn before it.

One :class:`Turn` per question answered: what was searched (the question as the retriever got it,
time words removed, context words added), the period searched, the articles quoted, the ids of
the bot's messages carrying the answer, and when. Nothing else: no user id, no name, no chat
title. A conversation is one private chat, or one user inside a group, and is keyed by
:func:`conversation_key`, a salted SHA-256 (as :mod:`bot.feedback` does for votes); answers are
also found by the chat's own key and a message id, so that replying to an answer in a group ties
the follow-up to it whoever asked first.

Two stores with one interface:

* :class:`MemoryContext` (default): a bounded LRU of conversations, each its last ``turns``
  turns; turns older than ``minutes`` are forgotten, and so is a conversation unused the longest
  once ``capacity`` is reached. Lost on restart.
* :class:`SqliteContext` (``CONTEXT_DB``): the same rules in a SQLite file, so conversations
  survive a restart; each write commits at once and prunes what has expired.

Both are safe to call from several threads (the bot calls them through ``asyncio.to_thread``).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from index.search.timeexpr import TimeRange

__all__ = ["ContextStore", "MemoryContext", "SqliteContext", "Turn", "chat_key", "conversation_key",
           "open_context"]

#: Conversations kept in memory at most; the least recently used is forgotten first.
MAX_CONVERSATIONS = 10_000

Clock = Callable[[], float]


def conversation_key(salt: str, chat_id: int, user_id: int | None = None) -> str:
    """Key of one conversation: a private chat, or one user (``user_id``) inside a group chat."""
    who = "" if user_id is None else str(user_id)
    return hashlib.sha256(f"{salt}conversation:{chat_id}:{who}".encode()).hexdigest()


def chat_key(salt: str, chat_id: int) -> str:
    """Key of a chat, under which replies to the bot's answers are looked up."""
    return hashlib.sha256(f"{salt}chat:{chat_id}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Turn:
    """One answered question, as much as a follow-up needs of it.

    Attributes:
        query: The text searched (time words removed, context words added).
        article_ids: The articles quoted, in the order shown.
        period: The period searched, if the question named one.
        message_ids: The bot's messages carrying the answer (a reply to any of them ties to this turn).
        at: When it was answered (seconds since the epoch).
    """

    query: str
    article_ids: tuple[str, ...] = ()
    period: TimeRange | None = None
    message_ids: tuple[int, ...] = ()
    at: float = field(default_factory=time.time)


class ContextStore(Protocol):
    """What the bot asks of a context store."""

    def previous(self, conversation: str, chat: str, reply_to: int | None = None) -> Turn | None:
        """The turn a new question follows: the answer it replies to, else the conversation's last turn.

        A reply to a message that is no remembered answer gives None (the reader pointed at
        something else than the last turn, so the last turn is not assumed).
        """
        ...

    def add(self, conversation: str, chat: str, turn: Turn) -> None:
        """Remember a turn (the oldest beyond ``turns`` is forgotten)."""
        ...

    def clear(self, conversation: str) -> None:
        """Forget every turn of a conversation (``/new``)."""
        ...

    def close(self) -> None:
        """Release the store's resources."""
        ...


def _check(turns: int, minutes: float) -> None:
    if turns < 0:
        raise ValueError(f"turns must be >= 0, got {turns!r}")
    if minutes <= 0:
        raise ValueError(f"minutes must be > 0, got {minutes!r}")


@dataclass(slots=True)
class _Conversation:
    chat: str
    turns: deque[Turn]


class MemoryContext:
    """Turns in memory: a bounded LRU of conversations with expiry.

    Args:
        turns: Turns kept per conversation (0 remembers nothing).
        minutes: A turn older than this is forgotten.
        capacity: Conversations kept; the least recently used goes first.
        clock: Time source (seconds since the epoch), for tests.
    """

    def __init__(self, turns: int = 3, minutes: float = 30.0, capacity: int = MAX_CONVERSATIONS,
                 clock: Clock = time.time) -> None:
        _check(turns, minutes)
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity!r}")
        self.turns, self.ttl, self.capacity, self._clock = turns, minutes * 60.0, capacity, clock
        self._lock = threading.Lock()
        self._conversations: OrderedDict[str, _Conversation] = OrderedDict()

    def previous(self, conversation: str, chat: str, reply_to: int | None = None) -> Turn | None:
        """See :meth:`ContextStore.previous`."""
        oldest = self._clock() - self.ttl
        with self._lock:
            if reply_to is not None:
                return self._replied(chat, reply_to, oldest)
            found = self._conversations.get(conversation)
            if found is None:
                return None
            self._conversations.move_to_end(conversation)
            while found.turns and found.turns[0].at < oldest:
                found.turns.popleft()
            return found.turns[-1] if found.turns else None

    def _replied(self, chat: str, message_id: int, oldest: float) -> Turn | None:
        for found in self._conversations.values():
            if found.chat == chat:
                for turn in found.turns:
                    if message_id in turn.message_ids and turn.at >= oldest:
                        return turn
        return None

    def add(self, conversation: str, chat: str, turn: Turn) -> None:
        """See :meth:`ContextStore.add`."""
        if self.turns == 0:
            return
        with self._lock:
            found = self._conversations.get(conversation)
            if found is None:
                found = self._conversations[conversation] = _Conversation(chat, deque(maxlen=self.turns))
            found.turns.append(turn)
            self._conversations.move_to_end(conversation)
            while len(self._conversations) > self.capacity:
                self._conversations.popitem(last=False)

    def clear(self, conversation: str) -> None:
        """See :meth:`ContextStore.clear`."""
        with self._lock:
            self._conversations.pop(conversation, None)

    def close(self) -> None:
        """Nothing to release."""

    def __len__(self) -> int:
        return len(self._conversations)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY,
    conversation TEXT NOT NULL,
    chat TEXT NOT NULL,
    at REAL NOT NULL,
    query TEXT NOT NULL,
    article_ids TEXT NOT NULL,
    message_ids TEXT NOT NULL,
    since TEXT,
    until TEXT,
    label TEXT
);
CREATE INDEX IF NOT EXISTS turns_conversation ON turns(conversation, at);
CREATE INDEX IF NOT EXISTS turns_chat ON turns(chat, at);
"""
_COLUMNS = "query, article_ids, message_ids, since, until, label, at"


class SqliteContext:
    """Turns in a SQLite file (``CONTEXT_DB``), with the rules of :class:`MemoryContext`.

    Args:
        path: The file (created with its folder if missing).
        turns: Turns kept per conversation (0 remembers nothing).
        minutes: A turn older than this is forgotten (and deleted at the next write).
        clock: Time source (seconds since the epoch), for tests.
    """

    def __init__(self, path: Path, turns: int = 3, minutes: float = 30.0, clock: Clock = time.time) -> None:
        _check(turns, minutes)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.turns, self.ttl, self._clock = path, turns, minutes * 60.0, clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._lock, self._db:
            self._db.executescript(_SCHEMA)

    def previous(self, conversation: str, chat: str, reply_to: int | None = None) -> Turn | None:
        """See :meth:`ContextStore.previous`."""
        oldest = self._clock() - self.ttl
        with self._lock:
            if reply_to is None:
                row = self._db.execute(f"SELECT {_COLUMNS} FROM turns WHERE conversation = ? AND at >= ? "
                                       "ORDER BY at DESC, id DESC LIMIT 1", (conversation, oldest)).fetchone()
                return _turn(row) if row else None
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM turns WHERE chat = ? AND at >= ? ORDER BY id DESC",
                                    (chat, oldest)).fetchall()
        return next((turn for turn in map(_turn, rows) if reply_to in turn.message_ids), None)

    def add(self, conversation: str, chat: str, turn: Turn) -> None:
        """See :meth:`ContextStore.add`; also deletes expired turns and those beyond ``turns``."""
        if self.turns == 0:
            return
        period = turn.period
        row = (conversation, chat, turn.at, turn.query, json.dumps(list(turn.article_ids)),
               json.dumps(list(turn.message_ids)), period.since.isoformat() if period else None,
               period.until.isoformat() if period else None, period.label if period else None)
        with self._lock, self._db:
            self._db.execute("INSERT INTO turns (conversation, chat, at, query, article_ids, message_ids, since, "
                             "until, label) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            self._db.execute("DELETE FROM turns WHERE conversation = ? AND id NOT IN (SELECT id FROM turns "
                             "WHERE conversation = ? ORDER BY at DESC, id DESC LIMIT ?)",
                             (conversation, conversation, self.turns))
            self._db.execute("DELETE FROM turns WHERE at < ?", (self._clock() - self.ttl,))

    def clear(self, conversation: str) -> None:
        """See :meth:`ContextStore.clear`."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM turns WHERE conversation = ?", (conversation,))

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


def _turn(row: tuple[Any, ...]) -> Turn:
    query, article_ids, message_ids, since, until, label, at = row
    period = TimeRange(date.fromisoformat(since), date.fromisoformat(until), label or "") if since and until else None
    return Turn(query=query, article_ids=tuple(json.loads(article_ids)), period=period,
                message_ids=tuple(int(m) for m in json.loads(message_ids)), at=float(at))


def open_context(path: Path | None, turns: int, minutes: float) -> ContextStore:
    """The store the settings ask for: SQLite at ``path``, or memory when ``path`` is None."""
    return SqliteContext(path, turns, minutes) if path else MemoryContext(turns, minutes)
