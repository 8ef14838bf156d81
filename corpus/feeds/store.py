"""What feed ingestion remembers between runs, beside the index: ``feeds.sqlite`` and ``feeds/*.jsonl``.

``INDEX_DIR/feeds.sqlite`` (SQLite: plain data, nothing executable; no pickle) holds

* per feed, the ``ETag`` and ``Last-Modified`` of its last answer, sent back so an unchanged feed
  costs a ``304 Not Modified`` and no parsing;
* per item, its normalised URL and its content fingerprint, so an item is fetched once and the
  same story published under a second URL is added once.

``INDEX_DIR/feeds/<run>.jsonl`` holds the articles each run fetched, in the archive's JSONL shape.
They are the feed corpus: ``akhbar-index update --feeds`` adds that folder to the index, and a
full rebuild (``akhbar-index build SOURCES INDEX_DIR/feeds``) keeps them. Each file is written
to a temporary name, synced and renamed, before the items are recorded as seen: a crash leaves
either both or an article file whose items are fetched again (and then found as duplicates by
their article id), never items marked seen whose text was lost.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from corpus.types import Article

logger = logging.getLogger(__name__)

STORE_NAME = "feeds.sqlite"
ARTICLES_DIR = "feeds"

#: Query parameters that only track a click, never select a page.
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|at_\w+|ref|cmpid)$", re.IGNORECASE)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, checked_at TEXT NOT NULL, status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    url TEXT PRIMARY KEY, fingerprint TEXT, article_id TEXT, added_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_fingerprint ON items(fingerprint);
"""


def url_key(url: str) -> str:
    """Return the form of a URL used to recognise an item (never shown or fetched).

    Case-folded scheme and host, no default port, no fragment, no tracking parameters, sorted
    query, no trailing slash: the same page linked two ways is one item.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not (scheme == "http" and port == 80) and not (scheme == "https" and port == 443):
        host = f"{host}:{port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not _TRACKING.match(k)))
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((scheme, host, path, query, ""))


def content_fingerprint(article: Article) -> str:
    """A hash of the body with white space collapsed: the same story at two URLs has the same one."""
    return hashlib.sha256(" ".join(article.text.split()).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class FeedState:
    """What one run learnt about a feed, stored at the end of the run.

    Attributes:
        url: The feed's URL as listed.
        etag: Validator to send next time (None: the server gave none, or it must not be used).
        last_modified: Validator to send next time.
        status: One word for the record: ``ok``, ``not-modified``, ``partial`` or ``failed``.
    """

    url: str
    etag: str | None
    last_modified: str | None
    status: str


@dataclass(frozen=True, slots=True)
class SeenItem:
    """An item not to fetch again: its URL key, and the fingerprint and id of its article (if added)."""

    url: str
    fingerprint: str | None
    article_id: str | None


class FeedStore:
    """``feeds.sqlite`` and the ``feeds/`` article folder of one index directory.

    Args:
        folder: The index directory (``INDEX_DIR``); created if needed.
    """

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.articles_dir = folder / ARTICLES_DIR
        self._remove_stale_staging()
        self._db = sqlite3.connect(folder / STORE_NAME)
        self._db.executescript(_SCHEMA)

    def _remove_stale_staging(self) -> None:
        """Delete ``.<run>.jsonl.tmp`` files a crashed or killed run left behind (they are never read)."""
        if not self.articles_dir.is_dir():
            return
        for stale in self.articles_dir.glob(".*.jsonl.tmp"):
            try:
                stale.unlink()
                logger.info("removed %s, left by an interrupted feed run", stale.name)
            except OSError as error:
                logger.warning("cannot remove %s: %s", stale, error)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def validators(self, feed_url: str) -> tuple[str | None, str | None]:
        """The ``(ETag, Last-Modified)`` stored for a feed, to make the next request conditional."""
        row = self._db.execute("SELECT etag, last_modified FROM feeds WHERE url = ?", (feed_url,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def has_url(self, key: str) -> bool:
        """Whether an item with this URL key was fetched before."""
        return self._db.execute("SELECT 1 FROM items WHERE url = ?", (key,)).fetchone() is not None

    def has_fingerprint(self, fingerprint: str) -> bool:
        """Whether an article with this content fingerprint was added before."""
        return self._db.execute("SELECT 1 FROM items WHERE fingerprint = ?", (fingerprint,)).fetchone() is not None

    def save_run(self, articles: Sequence[Article], items: Iterable[SeenItem], feeds: Iterable[FeedState],
                 run_id: str | None = None) -> Path | None:
        """Write the run's articles file, then record its items and feed validators in one transaction.

        Returns:
            The articles file written, or None when the run added no article.
        """
        written = self._write_articles(articles, run_id) if articles else None
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?)",
                                 ((i.url, i.fingerprint, i.article_id, now) for i in items))
            self._db.executemany("INSERT OR REPLACE INTO feeds VALUES (?, ?, ?, ?, ?)",
                                 ((f.url, f.etag, f.last_modified, now, f.status) for f in feeds))
        return written

    def _write_articles(self, articles: Sequence[Article], run_id: str | None) -> Path:
        """Write ``feeds/<run_id>.jsonl`` atomically (temporary name, fsync, rename)."""
        self.articles_dir.mkdir(parents=True, exist_ok=True)
        run_id = run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        final = self.articles_dir / f"{run_id}.jsonl"
        staging = self.articles_dir / f".{run_id}.jsonl.tmp"
        try:
            with staging.open("w", encoding="utf-8") as handle:
                for article in articles:
                    handle.write(json.dumps(article_record(article), ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(staging, final)
        except BaseException:  # a full disk, a read-only mount, an interrupt: leave nothing half-written
            staging.unlink(missing_ok=True)
            raise
        directory = os.open(self.articles_dir, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return final


def article_record(article: Article) -> dict[str, str | None]:
    """An article as one line of the archive's JSONL (what :func:`corpus.readers.jsonl.read_jsonl` reads)."""
    return {"id": article.id, "title": article.title, "text": article.text,
            "date": article.date.isoformat() if article.date else None, "source": article.source,
            "url": article.url, "category": article.category}
