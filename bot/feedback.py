"""Durable 👍/👎 feedback in SQLite, with user ids replaced by salted hashes.

One row per vote: the question, the chunk ids the reader saw, the page offset, the verdict, the
time, the index build, and ``sha256(salt + user_id)``; the raw user id is never stored, so the
file can be shared for evaluation. Each insert is committed at once (a crash loses no vote).
Calls block briefly on disk: the bot makes them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    question TEXT NOT NULL,
    chunk_ids TEXT NOT NULL,
    page_offset INTEGER NOT NULL,
    verdict INTEGER NOT NULL CHECK (verdict IN (0, 1)),
    user_hash TEXT NOT NULL,
    build_id TEXT NOT NULL
);
"""


def hash_user(user_id: int, salt: str) -> str:
    """``sha256(salt + user_id)`` as hex: stable per user, not reversible without the salt."""
    return hashlib.sha256(f"{salt}{user_id}".encode()).hexdigest()


class FeedbackStore:
    """Append-only feedback table; safe to share between threads.

    Args:
        path: SQLite file (created with its folder if missing).
        salt: Secret mixed into every user hash.
    """

    def __init__(self, path: Path, salt: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._salt = salt
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._lock, self._db:
            self._db.executescript(_SCHEMA)

    def user_hash(self, user_id: int) -> str:
        """Hash a user id with this store's salt."""
        return hash_user(user_id, self._salt)

    def record(self, *, question: str, chunk_ids: tuple[str, ...], page_offset: int, good: bool,
               user_id: int, build_id: str) -> None:
        """Store one vote (committed before returning)."""
        row = (datetime.now(UTC).isoformat(timespec="seconds"), question, json.dumps(list(chunk_ids)),
               page_offset, int(good), self.user_hash(user_id), build_id)
        with self._lock, self._db:
            self._db.execute("INSERT INTO feedback (at, question, chunk_ids, page_offset, verdict, user_hash, "
                             "build_id) VALUES (?, ?, ?, ?, ?, ?, ?)", row)

    def counts(self) -> tuple[int, int]:
        """Number of 👍 and 👎 votes stored."""
        with self._lock:
            good, bad = self._db.execute(
                "SELECT coalesce(sum(verdict), 0), coalesce(sum(1 - verdict), 0) FROM feedback").fetchone()
        return int(good), int(bad)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
