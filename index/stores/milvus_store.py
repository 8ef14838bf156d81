"""The Milvus store: the same index in Milvus, for archives and replicas past one machine's FAISS.

Why Milvus holds everything — vectors, BM25 terms, chunk text and articles — rather than only the
vectors beside a local ``chunks.sqlite``: several bot replicas and one writer then share one source
of truth, an ``update`` (upsert and delete by article id) is seen by every replica at once, and
nothing has to be copied between machines. A quote needs the chunk's text (stored with the chunk)
and its article's title, date, source and url (a second collection).

Layout, for ``MILVUS_COLLECTION=akhbar``:

* ``akhbar_c_<build>`` — one row per chunk: ``key`` (INT64 primary key, a stable 63-bit hash of the
  chunk id), ``chunk_id``, ``article_id``, ``start``, ``end``, ``text`` (verbatim), ``source``
  (lower-cased) and ``day`` (``YYYYMMDD``, 0 without a date) for filter expressions, ``sparse``
  (the chunk's BM25 term weights, :mod:`index.stores.sparse_bm25`) and ``dense`` (FLOAT_VECTOR;
  both searched by inner product). The manifest (layout version, model, dimension, backend,
  chunker, counts, sources, date range) is the collection property ``akhbar.manifest``, checked on
  open like ``manifest.json``: a mismatch is the same :class:`~index.errors.IndexMismatch`.
* ``akhbar_a_<build>`` — one row per article (id, title, text, date, source, url, category,
  fingerprint) and a 2-d placeholder vector: Milvus wants a vector field in every collection.
* alias ``akhbar`` → the current ``akhbar_c_<build>``. ``build`` fills new collections, then
  switches the alias (atomic, like the FAISS ``current`` symlink) and keeps one previous build
  for readers still on it; ``update`` with the same model and chunker upserts and deletes in place.

Ranking: the sparse vectors are our own BM25 weights over our Arabic-normalised tokens, so a
sparse inner-product search in Milvus returns exactly the BM25 scores of the FAISS store (why not
Milvus's BM25 function: see :mod:`index.stores.sparse_bm25`). The dense and BM25 pools are each
searched with the filter expression inside Milvus and fused by :mod:`index.fusion` exactly as for
FAISS (``MILVUS_FUSION=akhbar``, default); ``MILVUS_FUSION=rrf`` ranks with Milvus's own
``hybrid_search`` and ``RRFRanker`` instead (one round trip, plain RRF).

An ``update`` with the same model and chunker is applied in place: rows of new and changed
articles are upserted, rows of changed and removed ones deleted by key, articles upserted and
deleted by id, and — because idf and the mean chunk length changed — every other row's
``sparse`` field rewritten by a partial upsert (no vectors are sent). Readers see the update as it
is applied, not at one instant as with a new build.

Milvus Lite (``MILVUS_URI`` a local ``.db`` file) runs embedded, in one process at a time: fine for
development, CI and one bot; several replicas need a Milvus server or cluster (``http://host:19530``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from corpus import Article, Chunk, ChunkerSettings
from index.embedding import Embedder
from index.errors import AkhbarIndexError, IndexCorrupt, IndexMismatch, IndexNotFound, StoreUnavailable
from index.filters import SearchFilters
from index.fusion import FusionWeights
from index.manifest import Manifest
from index.store import build_lock
from index.stores.base import BuildContent, Restriction, reusable
from index.stores.sparse_bm25 import document_vectors, query_terms
from index.vectors import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M, chosen_kind

if TYPE_CHECKING:
    from pymilvus import MilvusClient

logger = logging.getLogger(__name__)

#: Bump when the collections' layout changes; older collections must then be rebuilt.
MILVUS_FORMAT_VERSION = 1
MANIFEST_PROPERTY = "akhbar.manifest"
#: Longest chunk text and article text in bytes (Milvus VARCHAR limits; chunks are ~1-3 KB).
CHUNK_TEXT_BYTES = 65_535
ARTICLE_TEXT_BYTES = 1_048_576
#: Rows per insert/upsert call, ids per query.
BATCH = 500
#: Milvus's largest ``limit`` of one search.
MAX_TOPK = 16_384
#: Builds kept besides the current one, for readers still on it (as for FAISS).
KEEP_PREVIOUS_BUILDS = 1
#: Seconds a replaced build is kept whatever KEEP_PREVIOUS_BUILDS says: replicas notice a new build
#: within RELOAD_CHECK_SECONDS (30) of their next question, so this leaves them ten such windows.
#: (Milvus has no reader locks across machines; a replica idle for longer reloads when its
#: collection is gone, see the bot's answerer.)
PRUNE_GRACE_SECONDS = 300
_CHUNK_FIELDS = ["chunk_id", "article_id", "start", "end", "text"]
_ARTICLE_FIELDS = ["id", "title", "text", "date", "source", "url", "category", "fingerprint"]


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
        clauses.append(f"day >= {_day_number(filters.since)}")
    if filters.until:
        clauses.append(f"day > 0 and day <= {_day_number(filters.until)}")
    return " and ".join(clauses)


def _day_number(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def _is_local(uri: str) -> bool:
    return "://" not in uri


def _pymilvus() -> ModuleType:
    """Import pymilvus without it tripping over our own ``MILVUS_URI``.

    On import, pymilvus loads ``.env`` into the environment and parses ``MILVUS_URI`` as its
    default server, refusing a Milvus Lite file path; ours is read by :mod:`index.settings` and
    passed explicitly, so the variable is hidden while pymilvus imports.

    Raises:
        ImportError: pymilvus is not installed.

    """
    saved = os.environ.get("MILVUS_URI")
    os.environ["MILVUS_URI"] = ""
    try:
        import pymilvus
    finally:
        if saved is None:
            os.environ.pop("MILVUS_URI", None)
        else:
            os.environ["MILVUS_URI"] = saved
    return pymilvus


class MilvusStore:
    """An index in Milvus: the alias ``collection`` names the current build's chunk collection.

    Args:
        uri: A local ``.db`` file (Milvus Lite, embedded) or a server URI (``http://host:19530``).
        collection: The index's name (letters, digits, underscores).
        token: Credentials for a server (``user:password`` or an API key); empty for none.
        lock_dir: Where the local build lock is kept (one writer at a time on this machine).
        fusion: ``akhbar`` (our fusion of Milvus's two pools) or ``rrf`` (Milvus's RRFRanker).
        timeout: Seconds to wait for the server on connect and per call.

    """

    def __init__(self, uri: str, collection: str, *, token: str = "", lock_dir: Path | None = None,
                 fusion: str = "akhbar", timeout: float = 30.0) -> None:
        self.uri = str(Path(uri).expanduser()) if _is_local(uri) else uri
        self.alias = collection
        self.token = token
        self.lock_dir = Path(lock_dir) if lock_dir is not None else Path(self.uri).parent
        self.fusion = fusion
        self.timeout = timeout
        self.description = f"Milvus collection {collection!r} at {self.uri}"
        self.rebuild_command = (f"VECTOR_STORE=milvus MILVUS_URI={self.uri} MILVUS_COLLECTION={collection} "
                                f"akhbar-index build SOURCE... (or: akhbar-index migrate --to milvus)")
        self._client: MilvusClient | None = None

    # -- connection ---------------------------------------------------------------------------

    @property
    def client(self) -> MilvusClient:
        """The connection, opened on first use.

        Raises:
            StoreUnavailable: pymilvus (or milvus-lite) missing, or the server unreachable.

        """
        if self._client is None:
            try:
                milvus_client = _pymilvus().MilvusClient
            except ImportError as error:
                raise StoreUnavailable(self.uri, f"the Milvus client is not installed ({error}); "
                                                 f"pip install pymilvus milvus-lite") from None
            if _is_local(self.uri):
                if not self.uri.endswith(".db"):
                    raise StoreUnavailable(self.uri, "a local Milvus Lite file must end in .db")
                Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
            try:
                self._client = milvus_client(uri=self.uri, token=self.token, timeout=self.timeout)
            except Exception as error:  # pymilvus raises MilvusException, grpc or OS errors alike
                raise StoreUnavailable(self.uri, _reason(error)) from None
        return self._client

    def close(self) -> None:
        """Close the connection (a new one is opened if the store is used again)."""
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None

    @contextmanager
    def _calls(self, what: str) -> Iterator[None]:
        """Turn a failed Milvus call into an error the CLI and the bot report in one line."""
        try:
            yield
        except AkhbarIndexError:
            raise
        except Exception as error:
            if type(error).__module__.startswith(("pymilvus", "grpc")):
                raise StoreUnavailable(self.uri, f"{what} failed: {_reason(error)}") from None
            raise

    def current_collection(self) -> str | None:
        """The chunk collection the alias names, or None when nothing was built yet."""
        with self._calls("reading the alias"):
            if self.alias not in self.client.list_aliases().get("aliases", []):
                return None
            return str(self.client.describe_alias(self.alias)["collection_name"])

    # -- IndexStore --------------------------------------------------------------------------

    @contextmanager
    def lock(self, wait: bool = False) -> Iterator[None]:
        """A local ``flock`` in ``lock_dir``: run one writer at a time (one machine writes)."""
        with build_lock(self.lock_dir, wait=wait):
            yield

    def current_build_id(self) -> str | None:
        """``<collection>@<build id>``: changes with a new build and with an in-place update, so a
        bot replica reloads its manifest (counts, sources, dates) after either (two cheap calls).
        """
        try:
            current = self.current_collection()
            return None if current is None else _build_name(current, self._read_manifest(current)[0])
        except AkhbarIndexError:
            return None

    def previous(self, embedder: Embedder, settings: ChunkerSettings, embed_titles: bool) -> MilvusPrevious | None:
        """The current build, to be updated in place if model, backend and chunker are unchanged."""
        current = self.current_collection()
        if current is None:
            logger.info("no current build in %s: the update builds everything", self.description)
            return None
        try:
            manifest, _ = self._read_manifest(current)
        except AkhbarIndexError as error:
            logger.warning("current build unusable (%s): the update builds everything", error)
            return None
        if not reusable(manifest, embedder, settings, embed_titles):
            logger.warning("model, embedding backend or chunker changed since the current build: "
                           "the update embeds everything into a new build")
            return None
        return MilvusPrevious(self, current, manifest)

    def current_articles(self) -> list[Article]:
        """Every article of the current build."""
        current = self.current_collection()
        if current is None:
            return []
        return [_article(row) for row in self._iterate(_articles_name(current), _ARTICLE_FIELDS)]

    def write(self, content: BuildContent, previous: object | None = None) -> Path:
        """Update the current build in place when ``previous`` is it, else write a new build and switch.

        Raises:
            OSError: Milvus refused the write; the previous build stays current (a new build's
                collections are dropped, an in-place update is completed by the next update).

        """
        try:
            with self._calls("writing"):
                if isinstance(previous, MilvusPrevious):
                    return self._update_in_place(content, previous)
                return self._write_new(content)
        except StoreUnavailable as error:
            raise OSError(str(error)) from None

    def exists(self) -> bool:
        """Whether the alias names a build."""
        return self.current_collection() is not None

    def drop(self) -> None:
        """Drop the alias and every build's collections."""
        with self._calls("dropping the index"):
            if self.alias in self.client.list_aliases().get("aliases", []):
                self.client.drop_alias(self.alias)
            for name in self.client.list_collections():
                if name.startswith((f"{self.alias}_c_", f"{self.alias}_a_")):
                    self.client.drop_collection(name)

    def open(self, verify: bool = True) -> MilvusReader:
        """Open the current build, checking its layout version and counts.

        Raises:
            IndexNotFound: nothing built under this name.
            IndexMismatch: another layout version.
            IndexCorrupt: the manifest property is missing or unreadable, or counts disagree.

        """
        current = self.current_collection()
        if current is None:
            raise IndexNotFound(self.description, command=self.rebuild_command)
        manifest, facts = self._read_manifest(current)
        with self._calls("opening the collections"):
            for name in (current, _articles_name(current)):
                self.client.load_collection(name)
            if verify:
                rows = self._count(current, "")
                if rows != manifest.chunks:
                    raise IndexCorrupt(self.description, f"{rows} chunk rows, {manifest.chunks} in the manifest",
                                       command=self.rebuild_command)
        return MilvusReader(self, current, manifest, facts)

    # -- writing -----------------------------------------------------------------------------

    def _write_new(self, content: BuildContent) -> Path:
        if any(vector is None for vector in content.vectors):
            raise ValueError("a new Milvus build needs every chunk's vector")
        built_at = datetime.now(UTC)
        build_id = built_at.strftime("%Y%m%dT%H%M%S%fZ")
        chunks_name, articles_name = f"{self.alias}_c_{build_id}", f"{self.alias}_a_{build_id}"
        kind = chosen_kind(content.vector_index, len(content.chunks))
        try:
            self._create_chunks(chunks_name, content.manifest.dimension, kind)
            self._create_articles(articles_name)
            self._upsert(articles_name, [_article_row(a) for a in content.articles])
            self._upsert(chunks_name, (row for row, full in _chunk_rows(content) if full))
            for name in (chunks_name, articles_name):
                self.client.flush(name)
            self._write_manifest(chunks_name, content, built_at, build_id, f"Milvus {kind.upper()}")
            if self.current_collection() is None:
                self.client.create_alias(chunks_name, self.alias)
            else:
                self.client.alter_alias(chunks_name, self.alias)
        except BaseException:
            for name in (chunks_name, articles_name):
                try:
                    self.client.drop_collection(name)
                except Exception:  # noqa: BLE001 - best effort; the build's own error is what matters
                    logger.warning("could not drop %s after a failed build", name)
            raise
        logger.info("%s now serves build %s", self.description, chunks_name)
        self._prune(chunks_name)
        return Path(_build_name(chunks_name, self._read_manifest(chunks_name)[0]))

    def _update_in_place(self, content: BuildContent, previous: MilvusPrevious) -> Path:
        current = previous.collection
        articles_name = _articles_name(current)
        kept = {c.article_id for c, v in zip(content.chunks, content.vectors, strict=True) if v is None}
        fresh = [i for i, v in enumerate(content.vectors) if v is not None]
        # New and changed chunks first (an upsert replaces a row with the same key), and every
        # other row's BM25 weights (idf and mean length moved) ...
        partial: list[dict[str, Any]] = []
        full: list[dict[str, Any]] = []
        for row, whole in _chunk_rows(content):
            (full if whole else partial).append(row)
            if len(full) == BATCH:
                self.client.upsert(current, full)
                full = []
            if len(partial) == BATCH:
                self.client.upsert(current, partial, partial_update=True)
                partial = []
        if full:
            self.client.upsert(current, full)
        if partial:
            self.client.upsert(current, partial, partial_update=True)
        new_keys = {chunk_key(content.chunks[i].id) for i in fresh}
        wanted = {a.id for a in content.articles}
        stale = [chunk_key(chunk_id) for article_id, rows in previous.rows.items() if article_id not in kept
                 for chunk_id, _, _ in rows if chunk_key(chunk_id) not in new_keys]
        # ... then the chunks of changed and removed articles that no longer exist ...
        for start in range(0, len(stale), BATCH):
            self.client.delete(current, ids=stale[start:start + BATCH])
        # ... then the articles: their fingerprints say what the next update must redo if this one stops here.
        self._upsert(articles_name, [_article_row(a) for a in content.articles if a.id not in kept])
        gone = [article_id for article_id in previous.fingerprints if article_id not in wanted]
        for start in range(0, len(gone), BATCH):
            self.client.delete(articles_name, ids=gone[start:start + BATCH])
        for name in (current, articles_name):
            self.client.flush(name)
        built_at = datetime.now(UTC)
        self._write_manifest(current, content, built_at, built_at.strftime("%Y%m%dT%H%M%S%fZ"),
                             previous.manifest.faiss_index)
        logger.info("updated %s in place: %d chunks written, %d removed, %d articles removed", current,
                    len(fresh), len(stale), len(gone))
        return Path(_build_name(current, self._read_manifest(current)[0]))

    def _create_chunks(self, name: str, dimension: int, kind: str) -> None:
        data_type = _pymilvus().DataType
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
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
        index = self.client.prepare_index_params()
        if kind == "hnsw":
            index.add_index("dense", index_type="HNSW", metric_type="IP",
                            params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION})
        else:
            index.add_index("dense", index_type="FLAT", metric_type="IP")
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        index.add_index("source", index_type="INVERTED")
        index.add_index("article_id", index_type="INVERTED")
        self.client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")

    def _create_articles(self, name: str) -> None:
        data_type = _pymilvus().DataType
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", data_type.VARCHAR, is_primary=True, max_length=512)
        schema.add_field("title", data_type.VARCHAR, max_length=8192)
        schema.add_field("text", data_type.VARCHAR, max_length=ARTICLE_TEXT_BYTES)
        schema.add_field("date", data_type.VARCHAR, max_length=64)
        schema.add_field("source", data_type.VARCHAR, max_length=512)
        schema.add_field("url", data_type.VARCHAR, max_length=8192)
        schema.add_field("category", data_type.VARCHAR, max_length=512)
        schema.add_field("fingerprint", data_type.VARCHAR, max_length=64)
        schema.add_field("placeholder", data_type.FLOAT_VECTOR, dim=2)
        index = self.client.prepare_index_params()
        index.add_index("placeholder", index_type="FLAT", metric_type="L2")
        self.client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")

    def _upsert(self, name: str, rows: Iterable[dict[str, Any]]) -> None:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                self.client.upsert(name, batch)
                batch = []
        if batch:
            self.client.upsert(name, batch)

    def _write_manifest(self, name: str, content: BuildContent, built_at: datetime, build_id: str,
                        index_kind: str) -> None:
        manifest = asdict(content.manifest)
        manifest.update(article_fingerprints={}, files={}, built_at=built_at.isoformat(timespec="seconds"),
                        build_id=build_id, faiss_index=index_kind)
        counts: dict[str, int] = {}
        for article in content.articles:
            counts[article.source] = counts.get(article.source, 0) + 1
        dated = [a.date for a in content.articles if a.date]
        newest = max(dated, key=lambda d: d if d.tzinfo else d.replace(tzinfo=UTC), default=None)
        value = {"store": "milvus", "format_version": MILVUS_FORMAT_VERSION, "manifest": manifest,
                 "source_counts": sorted(counts.items(), key=lambda item: (-item[1], item[0])),
                 "newest_date": newest.isoformat() if newest else None}
        self.client.alter_collection_properties(name, properties={MANIFEST_PROPERTY: json.dumps(value,
                                                                                                 ensure_ascii=False)})

    def _read_manifest(self, name: str) -> tuple[Manifest, dict[str, Any]]:
        with self._calls("reading the manifest"):
            properties = self.client.describe_collection(name).get("properties") or {}
        raw = properties.get(MANIFEST_PROPERTY)
        if raw is None:
            raise IndexCorrupt(self.description, f"{name} has no {MANIFEST_PROPERTY} property (an interrupted "
                                                 f"build?)", command=self.rebuild_command)
        try:
            value = json.loads(raw)
            version = value.get("format_version")
            if value.get("store") != "milvus" or version != MILVUS_FORMAT_VERSION:
                raise IndexMismatch(self.description, "Milvus layout version", version, MILVUS_FORMAT_VERSION,
                                    command=self.rebuild_command)
            fields = set(Manifest.__dataclass_fields__)
            manifest = Manifest(**{k: v for k, v in value["manifest"].items() if k in fields})
            if manifest.date_range is not None:
                manifest.date_range = (manifest.date_range[0], manifest.date_range[1])
            newest = value.get("newest_date")
            facts = {"source_counts": [(str(source), int(count)) for source, count in value.get("source_counts", [])],
                     "newest_date": datetime.fromisoformat(newest) if newest else None}
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise IndexCorrupt(self.description, f"{MANIFEST_PROPERTY} is unreadable: {error}",
                               command=self.rebuild_command) from None
        return manifest, facts

    def _prune(self, current: str) -> None:
        """Drop old builds and leftovers of killed builds, but not those a replica may still search.

        Kept: the current build, the newest previous complete one, and every build replaced less
        than :data:`PRUNE_GRACE_SECONDS` ago.
        """
        prefix = f"{self.alias}_c_"
        try:
            names = sorted(n for n in self.client.list_collections() if n.startswith(prefix) and n != current)
            complete = [n for n in names
                        if MANIFEST_PROPERTY in (self.client.describe_collection(n).get("properties") or {})]
            keep = set(complete[-KEEP_PREVIOUS_BUILDS:]) if KEEP_PREVIOUS_BUILDS else set()
            keep |= _recently_replaced(complete, current, datetime.now(UTC))
            for name in names:
                if name not in keep:
                    for dropped in (name, _articles_name(name)):
                        if self.client.has_collection(dropped):
                            self.client.drop_collection(dropped)
        except Exception as error:  # noqa: BLE001 - pruning never fails a finished build
            logger.warning("could not prune old builds of %s: %s", self.description, _reason(error))

    # -- reading helpers ---------------------------------------------------------------------

    def _count(self, name: str, expression: str) -> int:
        rows = self.client.query(name, filter=expression, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def _iterate(self, name: str, fields: list[str], expression: str = "") -> Iterator[dict[str, Any]]:
        with self._calls("reading rows"):
            self.client.load_collection(name)
            iterator = self.client.query_iterator(name, batch_size=5000, filter=expression, output_fields=fields)
            try:
                while batch := iterator.next():
                    yield from batch
            finally:
                iterator.close()


def _build_name(collection: str, manifest: Manifest) -> str:
    """What names a build to readers: its collection and the id of its last write (build or update)."""
    return f"{collection}@{manifest.build_id}"


def _build_time(collection: str) -> datetime | None:
    """When a build collection was created, from its name (``<alias>_c_<%Y%m%dT%H%M%S%fZ>``)."""
    try:
        return datetime.strptime(collection.rpartition("_c_")[2], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _recently_replaced(complete: list[str], current: str, now: datetime) -> set[str]:
    """Builds whose successor (the next newer build) was made less than the grace period before ``now``."""
    ordered = sorted([*complete, current])
    kept = set()
    for older, newer in zip(ordered, ordered[1:], strict=False):
        replaced = _build_time(newer)
        if older != current and (replaced is None or (now - replaced).total_seconds() < PRUNE_GRACE_SECONDS):
            kept.add(older)
    return kept


def _articles_name(chunks_name: str) -> str:
    head, _, build = chunks_name.rpartition("_c_")
    return f"{head}_a_{build}"


def _article_row(article: Article) -> dict[str, Any]:
    if len(article.text.encode("utf-8")) > ARTICLE_TEXT_BYTES:
        raise AkhbarIndexError(f"article {article.id!r} is longer than the {ARTICLE_TEXT_BYTES} bytes Milvus keeps "
                               f"per text; shorten or split it, or use VECTOR_STORE=faiss")
    return {"id": article.id, "title": article.title, "text": article.text,
            "date": article.date.isoformat() if article.date else "", "source": article.source, "url": article.url,
            "category": article.category, "fingerprint": article.fingerprint(), "placeholder": [0.0, 0.0]}


def _chunk_rows(content: BuildContent) -> Iterator[tuple[dict[str, Any], bool]]:
    """Every chunk's row, in order: whole (with its vector) or, for a chunk kept in place, key and weights only."""
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
               "day": _day_number(article.date.date()) if article.date else 0, "sparse": sparse,
               "dense": np.asarray(vector, dtype=np.float32).tolist()}, True


def _article(row: dict[str, Any]) -> Article:
    return Article(id=row["id"], title=row["title"], text=row["text"],
                   date=datetime.fromisoformat(row["date"]) if row["date"] else None, source=row["source"],
                   url=row["url"], category=row["category"])


def _reason(error: BaseException) -> str:
    """The first message found along the exception chain (pymilvus often wraps an empty one)."""
    seen: BaseException | None = error
    while seen is not None:
        message = str(getattr(seen, "message", None) or seen).strip()
        if message and message != "None":
            if "holds the lock" in message:
                message += " (Milvus Lite serves one process at a time: stop the other, or use a Milvus server)"
            return message.splitlines()[0]
        seen = seen.__cause__ or seen.__context__
    return type(error).__name__


class MilvusPrevious:
    """The current build, read so an update writes only what changed (vectors stay in Milvus)."""

    def __init__(self, store: MilvusStore, collection: str, manifest: Manifest) -> None:
        self.collection = collection
        self.manifest = manifest
        self.fingerprints = {row["id"]: row["fingerprint"]
                             for row in store._iterate(_articles_name(collection), ["id", "fingerprint"])}
        self.rows: dict[str, list[tuple[str, int, int]]] = {}
        for row in store._iterate(collection, ["chunk_id", "article_id", "start", "end"]):
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
    """One build in Milvus, opened for searching; every filter runs inside Milvus."""

    def __init__(self, store: MilvusStore, collection: str, manifest: Manifest, facts: dict[str, Any]) -> None:
        self.store = store
        self.collection = collection
        self.location = Path(_build_name(collection, manifest))
        self.manifest = manifest
        self.metadata = MilvusMetadata(store, collection, manifest, facts)
        self._hnsw = manifest.faiss_index.endswith("HNSW")

    @property
    def size(self) -> int:
        """Number of chunks, as of the last build or update."""
        return self.manifest.chunks

    def restrict(self, filters: SearchFilters) -> Restriction:
        """The filter expression, and how many chunks pass it (one count query)."""
        expression = filter_expression(filters)
        if not expression:
            return Restriction(self.size, "")
        with self.store._calls("counting matches"):
            return Restriction(self.store._count(self.collection, expression), expression)

    def _search(self, data: list[Any], field: str, pool: int, restriction: Restriction,
                params: dict[str, Any]) -> list[Any]:
        with self.store._calls("searching"):
            hits = self.store.client.search(self.collection, data=data, anns_field=field, limit=min(pool, MAX_TOPK),
                                            filter=str(restriction.handle or ""), search_params=params)
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
        if self.store.fusion != "rrf":
            return None
        milvus = _pymilvus()
        terms = query_terms(question)
        expression = str(restriction.handle or "")
        limit = min(pool, MAX_TOPK)
        vector = np.asarray(query_vector, dtype=np.float32).tolist()
        requests = [milvus.AnnSearchRequest(data=[vector], anns_field="dense", param=self._dense_params(pool),
                                            limit=limit, expr=expression)]
        if terms:  # the filter goes into each request: a top-level filter is not applied by hybrid_search
            requests.append(milvus.AnnSearchRequest(data=[terms], anns_field="sparse", param={"metric_type": "IP"},
                                                    limit=limit, expr=expression))
        ranker = milvus.RRFRanker(int(FusionWeights().rrf_k))
        with self.store._calls("searching"):
            hits = self.store.client.hybrid_search(self.collection, requests, ranker, limit=limit)
        return {int(hit.id): float(hit.distance) for hit in (hits[0] if hits else [])}

    def vectors(self, keys: Sequence[int]) -> dict[int, np.ndarray]:
        """Stored dense vectors by key."""
        found: dict[int, np.ndarray] = {}
        keys = [int(k) for k in dict.fromkeys(keys)]
        with self.store._calls("reading vectors"):
            for start in range(0, len(keys), BATCH):
                for row in self.store.client.query(self.collection, ids=keys[start:start + BATCH],
                                                   output_fields=["dense"]):
                    found[int(row["key"])] = np.asarray(row["dense"], dtype=np.float32)
        return found

    def close(self) -> None:
        """Close the connection."""
        self.store.close()


class MilvusMetadata:
    """Chunks, articles, sources and dates of a Milvus build (the interface of ``chunks.sqlite``)."""

    def __init__(self, store: MilvusStore, collection: str, manifest: Manifest, facts: dict[str, Any]) -> None:
        self._store = store
        self._chunks = collection
        self._articles = _articles_name(collection)
        self._manifest = manifest
        self._source_counts: list[tuple[str, int]] = facts["source_counts"]
        self._newest: datetime | None = facts["newest_date"]

    def close(self) -> None:
        """Nothing to release here; the reader owns the connection."""

    def chunks(self, keys: Sequence[int]) -> dict[int, Chunk]:
        """Chunks by key, with their verbatim text."""
        found: dict[int, Chunk] = {}
        keys = [int(k) for k in dict.fromkeys(keys)]
        with self._store._calls("reading chunks"):
            for start in range(0, len(keys), BATCH):
                for row in self._store.client.query(self._chunks, ids=keys[start:start + BATCH],
                                                    output_fields=_CHUNK_FIELDS):
                    found[int(row["key"])] = Chunk(row["chunk_id"], row["article_id"], row["text"], int(row["start"]),
                                                   int(row["end"]))
        return found

    def articles(self, ids: Iterable[str]) -> dict[str, Article]:
        """Articles by id."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Article] = {}
        with self._store._calls("reading articles"):
            for start in range(0, len(wanted), BATCH):
                for row in self._store.client.query(self._articles, ids=wanted[start:start + BATCH],
                                                    output_fields=_ARTICLE_FIELDS):
                    found[row["id"]] = _article(row)
        return {i: found[i] for i in wanted if i in found}

    def all_articles(self) -> list[Article]:
        """Every article (order: Milvus's)."""
        return [_article(row) for row in self._store._iterate(self._articles, _ARTICLE_FIELDS)]

    def count_chunks(self) -> int:
        """Number of chunk rows (one count query)."""
        with self._store._calls("counting chunks"):
            return self._store._count(self._chunks, "")

    def chunk_rows(self) -> list[tuple[int, str, str, int, int]]:
        """All ``(key, chunk_id, article_id, start, end)`` rows, by article and offset."""
        rows = [(int(r["key"]), r["chunk_id"], r["article_id"], int(r["start"]), int(r["end"]))
                for r in self._store._iterate(self._chunks, ["key", "chunk_id", "article_id", "start", "end"])]
        return sorted(rows, key=lambda row: (row[2], row[3], row[1]))

    def vector_ids_matching(self, sources: Sequence[str] | None, since: date | None,
                            until: date | None) -> list[int]:
        """Keys of chunks whose article matches (the expression runs in Milvus)."""
        expression = filter_expression(SearchFilters(tuple(sources or ()), since, until))
        return [int(row["key"]) for row in self._store._iterate(self._chunks, ["key"], expression)]

    def sources(self) -> list[tuple[str, int]]:
        """Each source with its article count, largest first (recorded at the last build or update)."""
        return list(self._source_counts)

    def date_range(self) -> tuple[str, str] | None:
        """Oldest and newest article day (recorded at the last build or update)."""
        return self._manifest.date_range

    def newest_date(self) -> datetime | None:
        """Publication time of the newest article (recorded at the last build or update)."""
        return self._newest
