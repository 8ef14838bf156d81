"""A persistent cache of document vectors, so the same text is never embedded twice.

Embedding is the cost of a build (minutes to hours on a CPU); reading and chunking are seconds.
An ``update`` already reuses the vectors of unchanged *articles*; this cache goes further: any
chunk text embedded before by the same model and backend — in an earlier build, in a rebuild
after a change that leaves most chunks as they were, or as a repeated passage of another
article — is read back instead of embedded.

One SQLite file per model and backend under ``CACHE_DIR/embeddings``; the key is a SHA-256 of the
exact text given to the model (prompt excluded: it is the model's, fixed), the value the raw
float32 bytes of the unit vector. Loading never runs code (no pickle), a row of the wrong size is
treated as missing, and a damaged file is set aside and started afresh, never failing a build.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from index.embedding.base import Embedder
from index.settings import IndexSettings

logger = logging.getLogger(__name__)

#: Keys looked up per SQL statement (SQLite's parameter limit is 32766).
_LOOKUP_BATCH = 900


def _key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    """Vectors by text for one model and backend.

    Args:
        folder: ``CACHE_DIR/embeddings``.
        model_id: The model's manifest id.
        backend: How vectors are computed; int8 and fp32 vectors differ, so each has its own file.
        dimension: Vector size; rows of another size are ignored.
    """

    def __init__(self, folder: Path, model_id: str, backend: str, dimension: int) -> None:
        self.dimension = dimension
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{model_id}-{backend}").strip("_")[:120]
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{safe}.sqlite"
        self._connection = self._connect()

    def _connect(self) -> sqlite3.Connection:
        try:
            return self._open()
        except sqlite3.DatabaseError as error:
            damaged = self.path.with_suffix(".damaged")
            logger.warning("embedding cache %s is unreadable (%s); set aside as %s, starting afresh",
                           self.path, error, damaged.name)
            self.path.replace(damaged)
            return self._open()

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=60)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
        connection.execute("SELECT count(*) FROM vectors").fetchone()
        return connection

    def close(self) -> None:
        """Release the file."""
        self._connection.close()

    def __len__(self) -> int:
        return int(self._connection.execute("SELECT count(*) FROM vectors").fetchone()[0])

    def lookup(self, texts: Sequence[str]) -> dict[int, np.ndarray]:
        """Vectors already known, by position in ``texts``."""
        positions: dict[bytes, list[int]] = {}
        for position, text in enumerate(texts):
            positions.setdefault(_key(text), []).append(position)
        keys = list(positions)
        found: dict[int, np.ndarray] = {}
        for begin in range(0, len(keys), _LOOKUP_BATCH):
            part = keys[begin:begin + _LOOKUP_BATCH]
            rows = self._connection.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})", part).fetchall()
            for key, blob in rows:
                if len(blob) != 4 * self.dimension:
                    continue
                vector = np.frombuffer(blob, dtype=np.float32)
                for position in positions[key]:
                    found[position] = vector
        return found

    def store(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Remember ``vectors[i]`` as the vector of ``texts[i]``."""
        rows = [(_key(text), np.ascontiguousarray(vector, dtype=np.float32).tobytes())
                for text, vector in zip(texts, vectors, strict=True)]
        with self._connection:
            self._connection.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)", rows)


def open_cache(settings: IndexSettings, embedder: Embedder) -> EmbeddingCache | None:
    """The cache for ``embedder`` under ``CACHE_DIR/embeddings``, or None when ``EMBEDDING_CACHE`` is off."""
    if not settings.embedding_cache:
        return None
    return EmbeddingCache(settings.cache_dir / "embeddings", embedder.model_id, embedder.backend, embedder.dimension)


def embed_with_cache(texts: Sequence[str], embed: Callable[[Sequence[str]], np.ndarray], dimension: int,
                     cache: EmbeddingCache | None,
                     on_known: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Vectors of ``texts``: from ``cache`` where known, else from ``embed`` (then cached).

    Identical texts are embedded once even without a cache. ``on_known(n)`` reports the ``n``
    texts that needed no model (for a progress bar).

    Returns:
        ``(vectors, rows, embedded)``: one vector per *distinct* text, the row of ``vectors``
        holding each text's (``vectors[rows[i]]`` is the vector of ``texts[i]``), and how many
        texts the model embedded. Distinct rows, not one row per text: when nothing came from the
        cache the model's own matrix is returned as it is, where a per-text copy held a second
        133 MB matrix at the end of the whole archive's embedding.
    """
    distinct: dict[str, int] = {}
    rows = np.fromiter((distinct.setdefault(text, len(distinct)) for text in texts), dtype=np.int64,
                       count=len(texts))
    keys = list(distinct)
    known = cache.lookup(keys) if cache is not None else {}
    missing = [row for row in range(len(keys)) if row not in known]
    if on_known is not None and len(texts) > len(missing):
        on_known(len(texts) - len(missing))
    if not known:
        vectors = embed(keys) if keys else np.zeros((0, dimension), dtype=np.float32)
        fresh = vectors
    else:
        vectors = np.empty((len(keys), dimension), dtype=np.float32)
        for row, vector in known.items():
            vectors[row] = vector
        fresh = embed([keys[row] for row in missing]) if missing else np.zeros((0, dimension), np.float32)
        vectors[missing] = fresh
    if cache is not None and missing:
        cache.store([keys[row] for row in missing], fresh)
    return vectors, rows, len(missing)
