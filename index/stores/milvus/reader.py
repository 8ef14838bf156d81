"""Reading one Milvus build: the previous build an update starts from, and a build opened for searching.

Every filter runs inside Milvus (the expression of :func:`~index.stores.milvus.schema.filter_expression`);
the dense and BM25 pools are fused by :mod:`index.search.fusion` as for FAISS, unless
``MILVUS_FUSION=rrf`` asks Milvus's own ``hybrid_search``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np

from corpus import Article, Chunk
from index.search.filters import SearchFilters
from index.search.fusion import FusionWeights
from index.settings import HNSW_EF_SEARCH
from index.stores.base import Restriction
from index.stores.manifest import Manifest
from index.stores.milvus.client import MilvusConnection, pymilvus
from index.stores.milvus.schema import (
    ARTICLE_FIELDS,
    CHUNK_FIELDS,
    MAX_TOPK,
    article_from_row,
    articles_name,
    build_name,
    filter_expression,
)
from index.stores.sparse_bm25 import query_terms


class MilvusPrevious:
    """The current build, read so an update writes only what changed (vectors stay in Milvus)."""

    def __init__(self, connection: MilvusConnection, collection: str, manifest: Manifest) -> None:
        self.collection = collection
        self.manifest = manifest
        self.fingerprints = {row["id"]: row["fingerprint"]
                             for row in connection.iterate(articles_name(collection), ["id", "fingerprint"])}
        self.rows: dict[str, list[tuple[str, int, int]]] = {}
        for row in connection.iterate(collection, ["chunk_id", "article_id", "start", "end"]):
            self.rows.setdefault(row["article_id"], []).append((row["chunk_id"], int(row["start"]), int(row["end"])))
        for rows in self.rows.values():
            rows.sort(key=lambda row: (row[1], row[2]))

    def reuse(self, article: Article) -> tuple[list[Chunk], list[np.ndarray | None]] | None:
        """The article's chunks, their vectors left in place (None), if it is unchanged."""
        if self.fingerprints.get(article.id) != article.fingerprint():
            return None
        rows = self.rows.get(article.id)
        if not rows:
            return None
        return [Chunk(chunk_id, article.id, article.text[s:e], s, e) for chunk_id, s, e in rows], [None] * len(rows)

    def close(self) -> None:
        """Nothing to release (the rows were read up front)."""


class MilvusReader:
    """One build in Milvus, opened for searching; every filter runs inside Milvus.

    Args:
        connection: The store's connection (closed with the reader).
        collection: The build's chunk collection.
        manifest: Its manifest.
        facts: Source counts and newest date recorded with the manifest.
        fusion: ``akhbar`` (our fusion of the two pools) or ``rrf`` (Milvus's ``hybrid_search``).
    """

    def __init__(self, connection: MilvusConnection, collection: str, manifest: Manifest, facts: dict[str, Any],
                 fusion: str = "akhbar") -> None:
        self.connection = connection
        self.collection = collection
        self.build_id = build_name(collection, manifest)
        self.manifest = manifest
        self.metadata = MilvusMetadata(connection, collection, manifest, facts)
        self.fusion = fusion
        self._hnsw = manifest.vector_index.endswith("HNSW")

    @property
    def size(self) -> int:
        """Number of chunks, as of the last build or update."""
        return self.manifest.chunks

    def restrict(self, filters: SearchFilters) -> Restriction:
        """The filter expression, and how many chunks pass it (one count query)."""
        expression = filter_expression(filters)
        if not expression:
            return Restriction(self.size, None)
        return Restriction(self.connection.count(self.collection, expression), expression)

    def _search(self, data: list[Any], field: str, pool: int, restriction: Restriction,
                params: dict[str, Any]) -> list[Any]:
        with self.connection.calls("searching"):
            hits = self.connection.client.search(self.collection, data=data, anns_field=field,
                                                 limit=min(pool, MAX_TOPK), filter=_expression(restriction),
                                                 search_params=params)
        return list(hits[0]) if hits else []

    def _dense_params(self, pool: int) -> dict[str, Any]:
        return {"metric_type": "IP", "params": {"ef": max(HNSW_EF_SEARCH, pool)} if self._hnsw else {}}

    def dense(self, query_vector: np.ndarray, pool: int, restriction: Restriction) -> dict[int, float]:
        """Inner product search in Milvus, the filter inside it."""
        if pool <= 0:
            return {}
        vector = np.asarray(query_vector, dtype=np.float32).tolist()
        return {int(hit.id): float(hit.distance)
                for hit in self._search([vector], "dense", pool, restriction, self._dense_params(pool))}

    def lexical(self, question: str, pool: int, restriction: Restriction) -> dict[int, float]:
        """BM25 scores: the question's term counts against each chunk's BM25 weights (inner product)."""
        terms = query_terms(question)
        if pool <= 0 or not terms:
            return {}
        hits = self._search([terms], "sparse", pool, restriction, {"metric_type": "IP"})
        return {int(hit.id): float(hit.distance) for hit in hits if hit.distance > 0}

    def hybrid(self, question: str, query_vector: np.ndarray, pool: int,
               restriction: Restriction) -> dict[int, float] | None:
        """With ``MILVUS_FUSION=rrf``, Milvus's ``hybrid_search`` and ``RRFRanker``; else None (our fusion)."""
        if self.fusion != "rrf":
            return None
        milvus = pymilvus()
        terms = query_terms(question)
        expression = _expression(restriction)
        limit = min(pool, MAX_TOPK)
        vector = np.asarray(query_vector, dtype=np.float32).tolist()
        requests = [milvus.AnnSearchRequest(data=[vector], anns_field="dense", param=self._dense_params(pool),
                                            limit=limit, expr=expression)]
        if terms:  # the filter goes into each request: a top-level filter is not applied by hybrid_search
            requests.append(milvus.AnnSearchRequest(data=[terms], anns_field="sparse", param={"metric_type": "IP"},
                                                    limit=limit, expr=expression))
        ranker = milvus.RRFRanker(int(FusionWeights().rrf_k))
        with self.connection.calls("searching"):
            hits = self.connection.client.hybrid_search(self.collection, requests, ranker, limit=limit)
        return {int(hit.id): float(hit.distance) for hit in (hits[0] if hits else [])}

    def vectors(self, keys: Sequence[int]) -> dict[int, np.ndarray]:
        """Stored dense vectors by key."""
        wanted = [int(k) for k in dict.fromkeys(keys)]
        return {int(row["key"]): np.asarray(row["dense"], dtype=np.float32)
                for row in self.connection.by_ids(self.collection, wanted, ["dense"], "reading vectors")}

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def _expression(restriction: Restriction) -> str:
    """The Milvus filter a restriction carries ('' = none)."""
    return restriction.handle if isinstance(restriction.handle, str) else ""


class MilvusMetadata:
    """Chunks, articles, sources and dates of a Milvus build (the interface of ``chunks.sqlite``)."""

    def __init__(self, connection: MilvusConnection, collection: str, manifest: Manifest,
                 facts: dict[str, Any]) -> None:
        self._connection = connection
        self._chunks = collection
        self._articles = articles_name(collection)
        self._manifest = manifest
        self._source_counts: list[tuple[str, int]] = facts["source_counts"]
        self._newest: datetime | None = facts["newest_date"]

    def close(self) -> None:
        """Nothing to release here; the reader owns the connection."""

    def chunks(self, keys: Sequence[int]) -> dict[int, Chunk]:
        """Chunks by key, with their verbatim text."""
        wanted = [int(k) for k in dict.fromkeys(keys)]
        return {int(row["key"]): Chunk(row["chunk_id"], row["article_id"], row["text"], int(row["start"]),
                                       int(row["end"]))
                for row in self._connection.by_ids(self._chunks, wanted, CHUNK_FIELDS, "reading chunks")}

    def articles(self, ids: Iterable[str]) -> dict[str, Article]:
        """Articles by id (absent ones left out)."""
        wanted = list(dict.fromkeys(ids))
        found = {row["id"]: article_from_row(row)
                 for row in self._connection.by_ids(self._articles, wanted, ARTICLE_FIELDS, "reading articles")}
        return {i: found[i] for i in wanted if i in found}

    def all_articles(self) -> list[Article]:
        """Every article (order: Milvus's)."""
        return [article_from_row(row) for row in self._connection.iterate(self._articles, ARTICLE_FIELDS)]

    def stories(self, ids: Iterable[str]) -> dict[str, str]:
        """None: a Milvus build keeps no story ids, so each article is its own story (copies fold by words)."""
        return {}

    def count_chunks(self) -> int:
        """Number of chunk rows (one count query)."""
        return self._connection.count(self._chunks)

    def chunk_rows(self) -> list[tuple[int, str, str, int, int]]:
        """All ``(key, chunk_id, article_id, start, end)`` rows, by article and offset."""
        rows = [(int(r["key"]), r["chunk_id"], r["article_id"], int(r["start"]), int(r["end"]))
                for r in self._connection.iterate(self._chunks, ["key", "chunk_id", "article_id", "start", "end"])]
        return sorted(rows, key=lambda row: (row[2], row[3], row[1]))

    def vector_ids_matching(self, sources: Sequence[str] | None, since: date | None,
                            until: date | None) -> list[int]:
        """Keys of chunks whose article matches (the expression runs in Milvus)."""
        expression = filter_expression(SearchFilters(tuple(sources or ()), since, until))
        return [int(row["key"]) for row in self._connection.iterate(self._chunks, ["key"], expression)]

    def sources(self) -> list[tuple[str, int]]:
        """Each source with its article count, largest first (recorded at the last build or update)."""
        return list(self._source_counts)

    def date_range(self) -> tuple[str, str] | None:
        """Oldest and newest article day (recorded at the last build or update)."""
        return self._manifest.date_range

    def newest_date(self) -> datetime | None:
        """Publication time of the newest article (recorded at the last build or update)."""
        return self._newest
