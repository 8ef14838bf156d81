"""Standing questions ("follows") and the pushes sent for them, behind one small storage interface.

A chat follows a topic with ``/follow``; after each feed refresh :mod:`bot.alerts` runs every
topic against the articles that refresh added and pushes what clears the bar. What must survive a
restart lives here: the topics of each chat, which stories each chat was already sent (so a story
is pushed once per follower, whichever outlet reports it next), how many pushes each chat got per
day (the daily cap) and the 👍/👎 given to pushes (for ``/stats``).

:class:`FollowStore` is the interface the bot uses; :class:`SqliteFollowStore` keeps it in one
SQLite file beside the feedback store, every write one transaction (a crash never leaves a push
counted without its stories, or the reverse). A shared database for several bot replicas
serving one archive only has to implement the same few methods.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Follow:
    """One standing question.

    Attributes:
        id: Stable id (in the stop buttons of ``/following``).
        chat_id: Where its pushes go (the group, for a follow made in a group).
        topic: The question or topic as the reader typed it.
        created_at: When it was saved (UTC, ISO 8601).
    """

    id: int
    chat_id: int
    topic: str
    created_at: str


@dataclass(frozen=True, slots=True)
class FollowCounts:
    """What ``/stats`` shows about follows.

    Attributes:
        follows: Standing questions saved.
        chats: Chats with at least one.
        pushes: Push messages sent (ever).
        good: 👍 on pushes.
        bad: 👎 on pushes.
    """

    follows: int
    chats: int
    pushes: int
    good: int
    bad: int


class FollowStore(Protocol):
    """Follows, pushed stories, daily push counts and push votes; every method may block on I/O."""

    def add(self, chat_id: int, topic: str, max_topics: int) -> Follow | None:
        """Save a topic for ``chat_id``; None when the chat already has ``max_topics``."""
        ...

    def follows(self, chat_id: int) -> list[Follow]:
        """The chat's follows, oldest first (their 1-based position is what ``/unfollow N`` takes)."""
        ...

    def every_follow(self) -> list[Follow]:
        """Every follow of every chat (run after each refresh)."""
        ...

    def remove(self, chat_id: int, follow_id: int) -> Follow | None:
        """Stop one follow of ``chat_id``; None if it is not that chat's (a forged or stale button)."""
        ...

    def drop_chat(self, chat_id: int) -> int:
        """Forget every follow of a chat that blocked the bot or no longer exists; returns how many."""
        ...

    def seen(self, chat_id: int, story_keys: Iterable[str]) -> bool:
        """Whether any of these keys of one story was already pushed to ``chat_id``."""
        ...

    def record_push(self, chat_id: int, story_keys: Iterable[str], day: date) -> None:
        """Count one push to ``chat_id`` on ``day`` and remember the keys of the stories it carried."""
        ...

    def pushes_on(self, chat_id: int, day: date) -> int:
        """Pushes sent to ``chat_id`` on ``day`` (UTC)."""
        ...

    def record_vote(self, good: bool) -> None:
        """Count a 👍 (``good``) or 👎 pressed under a push."""
        ...

    def counts(self) -> FollowCounts:
        """Totals for ``/stats``."""
        ...

    def close(self) -> None:
        """Release the storage."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS follows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id INTEGER NOT NULL,
    topic TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS follows_chat ON follows(chat_id);
CREATE TABLE IF NOT EXISTS pushed_stories (
    chat_id INTEGER NOT NULL,
    story_key TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (chat_id, story_key)
);
CREATE TABLE IF NOT EXISTS pushes (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pushes_chat_day ON pushes(chat_id, day);
CREATE TABLE IF NOT EXISTS push_votes (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    verdict INTEGER NOT NULL CHECK (verdict IN (0, 1))
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SqliteFollowStore:
    """:class:`FollowStore` in one SQLite file; safe to share between threads.

    WAL journal and one transaction per write, so a crash mid-write loses at most that write and
    readers never see half of one.

    Args:
        path: SQLite file (created with its folder if missing).
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)

    def add(self, chat_id: int, topic: str, max_topics: int) -> Follow | None:
        """See :meth:`FollowStore.add`; the count and the insert are one transaction."""
        created = _now()
        with self._lock, self._db:
            (count,) = self._db.execute("SELECT count(*) FROM follows WHERE chat_id = ?", (chat_id,)).fetchone()
            if count >= max_topics:
                return None
            cursor = self._db.execute("INSERT INTO follows (chat_id, topic, created_at) VALUES (?, ?, ?)",
                                      (chat_id, topic, created))
        assert cursor.lastrowid is not None
        return Follow(int(cursor.lastrowid), chat_id, topic, created)

    def follows(self, chat_id: int) -> list[Follow]:
        """See :meth:`FollowStore.follows`."""
        return self._select("WHERE chat_id = ? ORDER BY id", (chat_id,))

    def every_follow(self) -> list[Follow]:
        """See :meth:`FollowStore.every_follow`."""
        return self._select("ORDER BY chat_id, id", ())

    def _select(self, clause: str, parameters: Sequence[object]) -> list[Follow]:
        with self._lock:
            rows = self._db.execute(f"SELECT id, chat_id, topic, created_at FROM follows {clause}",
                                    parameters).fetchall()
        return [Follow(int(r[0]), int(r[1]), str(r[2]), str(r[3])) for r in rows]

    def remove(self, chat_id: int, follow_id: int) -> Follow | None:
        """See :meth:`FollowStore.remove`."""
        with self._lock, self._db:
            row = self._db.execute("SELECT id, chat_id, topic, created_at FROM follows WHERE id = ? AND chat_id = ?",
                                   (follow_id, chat_id)).fetchone()
            if row is None:
                return None
            self._db.execute("DELETE FROM follows WHERE id = ?", (follow_id,))
        return Follow(int(row[0]), int(row[1]), str(row[2]), str(row[3]))

    def drop_chat(self, chat_id: int) -> int:
        """See :meth:`FollowStore.drop_chat`; the chat's sent stories go too (nothing will be sent there)."""
        with self._lock, self._db:
            dropped = self._db.execute("DELETE FROM follows WHERE chat_id = ?", (chat_id,)).rowcount
            self._db.execute("DELETE FROM pushed_stories WHERE chat_id = ?", (chat_id,))
        return int(dropped)

    def seen(self, chat_id: int, story_keys: Iterable[str]) -> bool:
        """See :meth:`FollowStore.seen`."""
        keys = list(dict.fromkeys(story_keys))
        if not keys:
            return False
        with self._lock:
            row = self._db.execute(f"SELECT 1 FROM pushed_stories WHERE chat_id = ? AND story_key IN "
                                   f"({','.join('?' * len(keys))}) LIMIT 1", (chat_id, *keys)).fetchone()
        return row is not None

    def record_push(self, chat_id: int, story_keys: Iterable[str], day: date) -> None:
        """See :meth:`FollowStore.record_push`: the push and its stories in one transaction."""
        at = _now()
        with self._lock, self._db:
            self._db.execute("INSERT INTO pushes (chat_id, day, at) VALUES (?, ?, ?)", (chat_id, day.isoformat(), at))
            self._db.executemany("INSERT OR IGNORE INTO pushed_stories (chat_id, story_key, at) VALUES (?, ?, ?)",
                                 [(chat_id, key, at) for key in dict.fromkeys(story_keys)])

    def pushes_on(self, chat_id: int, day: date) -> int:
        """See :meth:`FollowStore.pushes_on`."""
        with self._lock:
            (count,) = self._db.execute("SELECT count(*) FROM pushes WHERE chat_id = ? AND day = ?",
                                        (chat_id, day.isoformat())).fetchone()
        return int(count)

    def record_vote(self, good: bool) -> None:
        """See :meth:`FollowStore.record_vote`."""
        with self._lock, self._db:
            self._db.execute("INSERT INTO push_votes (at, verdict) VALUES (?, ?)", (_now(), int(good)))

    def counts(self) -> FollowCounts:
        """See :meth:`FollowStore.counts`."""
        with self._lock:
            follows, chats = self._db.execute("SELECT count(*), count(DISTINCT chat_id) FROM follows").fetchone()
            (pushes,) = self._db.execute("SELECT count(*) FROM pushes").fetchone()
            good, bad = self._db.execute("SELECT coalesce(sum(verdict), 0), coalesce(sum(1 - verdict), 0) "
                                         "FROM push_votes").fetchone()
        return FollowCounts(int(follows), int(chats), int(pushes), int(good), int(bad))

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
