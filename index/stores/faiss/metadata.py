"""``chunks.sqlite``: articles and chunk offsets, the metadata every quote is cut from.

Chunk text is not stored twice: a chunk row keeps ``(article_id, start, end)`` and its text is
sliced from the article body on read, so a quote is the article's text by construction. Row
``vector_id`` is the chunk's row in ``vectors.faiss``. Opened read-only and immutable, so many
bot threads can read at once and nothing can write to a published build.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from corpus.types import Article, Chunk
from index.errors import IndexCorrupt

METADATA_NAME = "chunks.sqlite"
#: Articles kept in memory by a reader (~30 MB of archive articles): a search's pool touches ~50.
CACHED_ARTICLES = 4096

_SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, date TEXT, day TEXT,
    source TEXT NOT NULL, url TEXT NOT NULL, category TEXT NOT NULL, fingerprint TEXT NOT NULL
);
CREATE TABLE chunks (
    vector_id INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, article_id TEXT NOT NULL REFERENCES articles(id),
    start INTEGER NOT NULL, "end" INTEGER NOT NULL
);
CREATE TABLE stories (article_id TEXT PRIMARY KEY REFERENCES articles(id), story TEXT NOT NULL);
CREATE INDEX chunks_article ON chunks(article_id);
CREATE INDEX articles_source ON articles(source);
CREATE INDEX articles_day ON articles(day);
"""


def write_metadata(path: Path, articles: Iterable[Article], chunks: Sequence[Chunk],
                   stories: Mapping[str, str] | None = None) -> None:
    """Write articles, chunks (in vector order) and story ids into a new SQLite file.

    Only articles that joined another's story get a ``stories`` row (story id = the seed's article
    id): one without a row is its story's seed or alone, and so is every article of a build older
    than the table.
    """
    connection = sqlite3.connect(path)
    try:
        connection.executescript(_SCHEMA)
        connection.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((a.id, a.title, a.text, a.date.isoformat() if a.date else None,
              a.date.date().isoformat() if a.date else None, a.source, a.url, a.category, a.fingerprint())
             for a in articles),
        )
        connection.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?)",
                               ((n, c.id, c.article_id, c.start, c.end) for n, c in enumerate(chunks)))
        connection.executemany("INSERT INTO stories VALUES (?, ?)",
                               ((a, story) for a, story in (stories or {}).items() if story != a))
        connection.commit()
    finally:
        connection.close()


def _unicode_lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


class MetadataDB:
    """Read-only access to a published ``chunks.sqlite``; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            # SQLite's lower() folds ASCII only ("ÉCO" stays "Éco"); the source filter folds with Python's,
            # as the Milvus store does, so "éco news" finds "ÉCO News" in both stores.
            self._db.create_function("unicode_lower", 1, _unicode_lower, deterministic=True)
            self._db.execute("SELECT count(*) FROM chunks").fetchone()
        except sqlite3.DatabaseError as error:
            raise IndexCorrupt(str(path.parent), f"{METADATA_NAME} cannot be read: {error}") from None
        self._articles: OrderedDict[str, Article] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._newest: tuple[datetime | None] | None = None
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        self._has_stories = "stories" in tables

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def _query(self, sql: str, parameters: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def count_chunks(self) -> int:
        """Number of chunk rows (must equal the number of vectors)."""
        return int(self._query("SELECT count(*) FROM chunks")[0][0])

    def articles(self, ids: Iterable[str]) -> dict[str, Article]:
        """Articles by id; the most recently read are cached (an article is immutable within a build).

        The cache is bounded (:data:`CACHED_ARTICLES`): unbounded, a bot serving the whole archive
        grew by 300-550 MB over 1,000 questions, keeping every article any search had touched.
        """
        ids = list(dict.fromkeys(ids))
        found: dict[str, Article] = {}
        with self._cache_lock:
            for article_id in ids:
                if (cached := self._articles.get(article_id)) is not None:
                    self._articles.move_to_end(article_id)
                    found[article_id] = cached
        wanted = [i for i in ids if i not in found]
        read: list[Article] = []
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            rows = self._query(f"SELECT id, title, text, date, source, url, category FROM articles "
                               f"WHERE id IN ({','.join('?' * len(part))})", part)
            read.extend(Article(id=row[0], title=row[1], text=row[2],
                                date=datetime.fromisoformat(row[3]) if row[3] else None,
                                source=row[4], url=row[5], category=row[6]) for row in rows)
        with self._cache_lock:
            for article in read:
                found[article.id] = self._articles[article.id] = article
            while len(self._articles) > CACHED_ARTICLES:
                self._articles.popitem(last=False)
        return {i: found[i] for i in ids if i in found}

    def stories(self, ids: Iterable[str]) -> dict[str, str]:
        """Story id of each of these articles that joined an earlier article's story (:mod:`index.build.stories`).

        A story's id is its seed's article id, so an article left out has its own id as story id:
        the seed of a story, or alone. A build written before stories were grouped has no rows.
        """
        wanted = list(dict.fromkeys(ids))
        if not self._has_stories or not wanted:
            return {}
        found: dict[str, str] = {}
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            found.update(self._query(f"SELECT article_id, story FROM stories "
                                     f"WHERE article_id IN ({','.join('?' * len(part))})", part))
        return found

    def all_articles(self) -> list[Article]:
        """Every article, in build order (used by updates and exports)."""
        ids = [row[0] for row in self._query("SELECT id FROM articles ORDER BY rowid")]
        found = self.articles(ids)
        return [found[i] for i in ids]

    def chunks(self, vector_ids: Sequence[int]) -> dict[int, Chunk]:
        """Chunks by vector id, their text sliced from the article."""
        result: dict[int, Chunk] = {}
        ids = [int(v) for v in vector_ids]
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            rows = self._query(f'SELECT vector_id, id, article_id, start, "end" FROM chunks '
                               f"WHERE vector_id IN ({','.join('?' * len(part))})", part)
            articles = self.articles(row[2] for row in rows)
            for vector_id, chunk_id, article_id, begin, end in rows:
                text = articles[article_id].text[begin:end]
                result[vector_id] = Chunk(chunk_id, article_id, text, begin, end)
        return result

    def chunk_rows(self) -> list[tuple[int, str, str, int, int]]:
        """All ``(vector_id, chunk_id, article_id, start, end)`` rows in vector order."""
        return self._query('SELECT vector_id, id, article_id, start, "end" FROM chunks ORDER BY vector_id')

    def vector_ids_matching(self, sources: Sequence[str] | None, since: date | None,
                            until: date | None) -> list[int]:
        """Vector ids of chunks whose article matches the filters (sources: any of; dates inclusive)."""
        clauses: list[str] = []
        parameters: list[object] = []
        if sources:
            clauses.append(f"unicode_lower(a.source) IN ({','.join('?' * len(sources))})")
            parameters.extend(s.lower() for s in sources)
        if since:
            clauses.append("a.day >= ?")
            parameters.append(since.isoformat())
        if until:
            clauses.append("a.day <= ?")
            parameters.append(until.isoformat())
        where = " AND ".join(clauses) or "1"
        rows = self._query(f"SELECT c.vector_id FROM chunks c JOIN articles a ON a.id = c.article_id "
                           f"WHERE {where}", parameters)
        return [row[0] for row in rows]

    def sources(self) -> list[tuple[str, int]]:
        """Each source with its article count, largest first (for /about and ``info``)."""
        return [(row[0], row[1]) for row in
                self._query("SELECT source, count(*) FROM articles GROUP BY source ORDER BY 2 DESC")]

    def newest_date(self) -> datetime | None:
        """Publication time of the newest article (by instant; a date without offset counts as UTC), or None.

        Read once: a published build never changes, and every question with a time word asks (a scan of
        30k dates cost ~80 ms a question).
        """
        if self._newest is None:
            self._newest = (self._scan_newest_date(),)
        return self._newest[0]

    def _scan_newest_date(self) -> datetime | None:
        newest: tuple[datetime, datetime] | None = None
        for (value,) in self._query("SELECT date FROM articles WHERE date IS NOT NULL"):
            stamp = datetime.fromisoformat(value)
            instant = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
            if newest is None or instant > newest[0]:
                newest = (instant, stamp)
        return newest[1] if newest else None

    def date_range(self) -> tuple[str, str] | None:
        """Oldest and newest article day, or None when no article has a date."""
        row = self._query("SELECT min(day), max(day) FROM articles WHERE day IS NOT NULL")[0]
        return (row[0], row[1]) if row[0] else None
