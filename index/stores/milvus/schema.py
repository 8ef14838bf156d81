"""What Akhbar keeps in Milvus: collection names and fields, row conversion, filter expressions.

Layout, for ``MILVUS_COLLECTION=akhbar``:

* ``akhbar_c_<build>`` — one row per chunk: ``key`` (INT64 primary key, a stable 63-bit hash of the
  chunk id), ``chunk_id``, ``article_id``, ``start``, ``end``, ``text`` (verbatim), ``source``
  (lower-cased) and ``day`` (``YYYYMMDD``, 0 without a date) for filter expressions, ``sparse``
  (the chunk's BM25 term weights, :mod:`index.stores.sparse_bm25`) and ``dense`` (FLOAT_VECTOR;
  both searched by inner product). The manifest is the collection property ``akhbar.manifest``.
* ``akhbar_a_<build>`` — one row per article (id, title, text, date, source, url, category,
  fingerprint) and a 2-d placeholder vector: Milvus wants a vector field in every collection.
* alias ``akhbar`` → the current ``akhbar_c_<build>``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from corpus import Article
from index.errors import AkhbarIndexError
from index.search.filters import SearchFilters
from index.settings import HNSW_EF_CONSTRUCTION, HNSW_M
from index.stores.base import BuildContent
from index.stores.manifest import Manifest
from index.stores.milvus.client import MilvusConnection, pymilvus
from index.stores.sparse_bm25 import document_vectors

#: Bump when the collections' layout changes; older collections must then be rebuilt.
MILVUS_FORMAT_VERSION = 1
MANIFEST_PROPERTY = "akhbar.manifest"
#: Longest chunk text and article text in bytes (Milvus VARCHAR limits; chunks are ~1-3 KB).
CHUNK_TEXT_BYTES = 65_535
ARTICLE_TEXT_BYTES = 1_048_576
#: Milvus's largest ``limit`` of one search.
MAX_TOPK = 16_384
#: Builds kept besides the current one, for readers still on it (as for FAISS).
KEEP_PREVIOUS_BUILDS = 1
#: Seconds a replaced build is kept whatever KEEP_PREVIOUS_BUILDS says: replicas notice a new build
#: within RELOAD_CHECK_SECONDS (30) of their next question, so this leaves them ten such windows.
#: (Milvus has no reader locks across machines; a replica idle for longer reloads when its
#: collection is gone, see the bot's answerer.)
PRUNE_GRACE_SECONDS = 300
CHUNK_FIELDS = ["chunk_id", "article_id", "start", "end", "text"]
ARTICLE_FIELDS = ["id", "title", "text", "date", "source", "url", "category", "fingerprint"]


def chunk_key(chunk_id: str) -> int:
    """The chunk's primary key: a stable 63-bit hash of its id (same key in every build)."""
    return int.from_bytes(hashlib.blake2b(chunk_id.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def filter_expression(filters: SearchFilters) -> str:
    """``filters`` as a Milvus boolean expression over the chunk rows ('' = everything)."""
    clauses = []
    if filters.sources:
        names = ", ".join(json.dumps(s.lower(), ensure_ascii=False) for s in filters.sources)
        clauses.append(f"source in [{names}]")
    if filters.since:
        clauses.append(f"day >= {day_number(filters.since)}")
    if filters.until:
        clauses.append(f"day > 0 and day <= {day_number(filters.until)}")
    return " and ".join(clauses)


def day_number(day: date) -> int:
    """A day as the integer ``YYYYMMDD`` that filter expressions compare."""
    return day.year * 10_000 + day.month * 100 + day.day


def build_name(collection: str, manifest: Manifest) -> str:
    """What names a build to readers: its collection and the id of its last write (build or update)."""
    return f"{collection}@{manifest.build_id}"


def build_time(collection: str) -> datetime | None:
    """When a build collection was created, from its name (``<alias>_c_<%Y%m%dT%H%M%S%fZ>``)."""
    try:
        return datetime.strptime(collection.rpartition("_c_")[2], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def recently_replaced(complete: list[str], current: str, now: datetime) -> set[str]:
    """Builds whose successor (the next newer build) was made less than the grace period before ``now``."""
    ordered = sorted([*complete, current])
    kept = set()
    for older, newer in zip(ordered, ordered[1:], strict=False):
        replaced = build_time(newer)
        if older != current and (replaced is None or (now - replaced).total_seconds() < PRUNE_GRACE_SECONDS):
            kept.add(older)
    return kept


def articles_name(chunks_name: str) -> str:
    """The article collection beside a chunk collection (``…_c_<build>`` → ``…_a_<build>``)."""
    head, _, build = chunks_name.rpartition("_c_")
    return f"{head}_a_{build}"


def create_chunks(connection: MilvusConnection, name: str, dimension: int, kind: str) -> None:
    """Create a chunk collection with its indexes (dense FLAT or HNSW, sparse, source, article id)."""
    data_type = pymilvus().DataType
    client = connection.client
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", data_type.INT64, is_primary=True)
    schema.add_field("chunk_id", data_type.VARCHAR, max_length=1024)
    schema.add_field("article_id", data_type.VARCHAR, max_length=512)
    schema.add_field("start", data_type.INT64)
    schema.add_field("end", data_type.INT64)
    schema.add_field("text", data_type.VARCHAR, max_length=CHUNK_TEXT_BYTES)
    schema.add_field("source", data_type.VARCHAR, max_length=512)
    schema.add_field("day", data_type.INT64)
    schema.add_field("sparse", data_type.SPARSE_FLOAT_VECTOR)
    schema.add_field("dense", data_type.FLOAT_VECTOR, dim=dimension)
    index = client.prepare_index_params()
    if kind == "hnsw":
        index.add_index("dense", index_type="HNSW", metric_type="IP",
                        params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION})
    else:
        index.add_index("dense", index_type="FLAT", metric_type="IP")
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    index.add_index("source", index_type="INVERTED")
    index.add_index("article_id", index_type="INVERTED")
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")


def create_articles(connection: MilvusConnection, name: str) -> None:
    """Create an article collection (a placeholder vector: Milvus wants one in every collection)."""
    data_type = pymilvus().DataType
    client = connection.client
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", data_type.VARCHAR, is_primary=True, max_length=512)
    schema.add_field("title", data_type.VARCHAR, max_length=8192)
    schema.add_field("text", data_type.VARCHAR, max_length=ARTICLE_TEXT_BYTES)
    schema.add_field("date", data_type.VARCHAR, max_length=64)
    schema.add_field("source", data_type.VARCHAR, max_length=512)
    schema.add_field("url", data_type.VARCHAR, max_length=8192)
    schema.add_field("category", data_type.VARCHAR, max_length=512)
    schema.add_field("fingerprint", data_type.VARCHAR, max_length=64)
    schema.add_field("placeholder", data_type.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index("placeholder", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")


def article_row(article: Article) -> dict[str, Any]:
    """An article as a row of the article collection.

    Raises:
        AkhbarIndexError: the text is longer than Milvus keeps in one field.
    """
    if len(article.text.encode("utf-8")) > ARTICLE_TEXT_BYTES:
        raise AkhbarIndexError(f"article {article.id!r} is longer than the {ARTICLE_TEXT_BYTES} bytes Milvus keeps "
                               f"per text; shorten or split it, or use VECTOR_STORE=faiss")
    return {"id": article.id, "title": article.title, "text": article.text,
            "date": article.date.isoformat() if article.date else "", "source": article.source, "url": article.url,
            "category": article.category, "fingerprint": article.fingerprint(), "placeholder": [0.0, 0.0]}


def chunk_rows(content: BuildContent) -> Iterator[tuple[dict[str, Any], bool]]:
    """Every chunk's row, in order: whole (with its vector) or, for a chunk kept in place, key and weights only.

    Raises:
        AkhbarIndexError: a chunk text is longer than Milvus keeps in one field.
    """
    by_id = {a.id: a for a in content.articles}
    weights = document_vectors(content.lexical_texts)
    for chunk, vector, sparse in zip(content.chunks, content.vectors, weights, strict=True):
        if vector is None:
            yield {"key": chunk_key(chunk.id), "sparse": sparse}, False
            continue
        if len(chunk.text.encode("utf-8")) > CHUNK_TEXT_BYTES:
            raise AkhbarIndexError(f"chunk {chunk.id!r} is longer than the {CHUNK_TEXT_BYTES} bytes Milvus keeps per "
                                   f"chunk text; lower CHUNK_TOKENS")
        article = by_id[chunk.article_id]
        yield {"key": chunk_key(chunk.id), "chunk_id": chunk.id, "article_id": chunk.article_id,
               "start": chunk.start, "end": chunk.end, "text": chunk.text, "source": article.source.lower(),
               "day": day_number(article.date.date()) if article.date else 0, "sparse": sparse,
               "dense": np.asarray(vector, dtype=np.float32).tolist()}, True


def article_from_row(row: dict[str, Any]) -> Article:
    """An article read back from its row."""
    return Article(id=row["id"], title=row["title"], text=row["text"],
                   date=datetime.fromisoformat(row["date"]) if row["date"] else None, source=row["source"],
                   url=row["url"], category=row["category"])
