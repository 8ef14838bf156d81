"""The Milvus store: the same index in Milvus, for archives and replicas past one machine's FAISS.

Why Milvus holds everything — vectors, BM25 terms, chunk text and articles — rather than only the
vectors beside a local ``chunks.sqlite``: several bot replicas and one writer then share one source
of truth, an ``update`` (upsert and delete by article id) is seen by every replica at once, and
nothing has to be copied between machines. A quote needs the chunk's text (stored with the chunk)
and its article's title, date, source and url (a second collection). The layout is
:mod:`index.stores.milvus.schema`'s; the connection :mod:`~index.stores.milvus.client`'s; searching
:mod:`~index.stores.milvus.reader`'s.

``build`` fills new collections, then switches the alias (atomic, like the FAISS ``current``
symlink) and keeps the previous build for readers still on it. Ranking: the sparse vectors are our
own BM25 weights over our Arabic-normalised tokens, so a sparse inner-product search in Milvus
returns exactly the BM25 scores of the FAISS store (why not Milvus's BM25 function: see
:mod:`index.stores.sparse_bm25`).

An ``update`` with the same model and chunker is applied in place: rows of new and changed
articles are upserted, rows of changed and removed ones deleted by key, articles upserted and
deleted by id, and — because idf and the mean chunk length changed — every other row's
``sparse`` field rewritten by a partial upsert (no vectors are sent). Readers see the update as it
is applied, not at one instant as with a new build; a chunk whose article row is not written yet
is left out of their results (:mod:`index.search.retriever`).

Milvus Lite (``MILVUS_URI`` a local ``.db`` file) runs embedded, in one process at a time: fine for
development, CI and one bot; several replicas need a Milvus server or cluster (``http://host:19530``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus import Article, ChunkerSettings
from index.embedding.base import Embedder
from index.errors import AkhbarIndexError, IndexCorrupt, IndexMismatch, IndexNotFound, StoreUnavailable
from index.settings import chosen_kind
from index.stores.base import BuildContent, reusable
from index.stores.faiss.layout import build_lock
from index.stores.manifest import Manifest
from index.stores.milvus.client import BATCH, MilvusConnection, reason
from index.stores.milvus.reader import MilvusPrevious, MilvusReader
from index.stores.milvus.schema import (
    ARTICLE_FIELDS,
    KEEP_PREVIOUS_BUILDS,
    MANIFEST_PROPERTY,
    MILVUS_FORMAT_VERSION,
    article_from_row,
    article_row,
    articles_name,
    build_name,
    chunk_key,
    chunk_rows,
    create_articles,
    create_chunks,
    recently_replaced,
)

if TYPE_CHECKING:
    from pymilvus import MilvusClient

logger = logging.getLogger(__name__)


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
        self.connection = MilvusConnection(uri, token, timeout)
        self.uri = self.connection.uri
        self.alias = collection
        self.lock_dir = Path(lock_dir) if lock_dir is not None else Path(self.uri).parent
        self.fusion = fusion
        self.description = f"Milvus collection {collection!r} at {self.uri}"
        self.rebuild_command = (f"VECTOR_STORE=milvus MILVUS_URI={self.uri} MILVUS_COLLECTION={collection} "
                                f"akhbar-index build SOURCE... (or: akhbar-index migrate --to milvus)")

    @property
    def client(self) -> MilvusClient:
        """The pymilvus client (see :attr:`MilvusConnection.client`)."""
        return self.connection.client

    def close(self) -> None:
        """Close the connection (a new one is opened if the store is used again)."""
        self.connection.close()

    def current_collection(self) -> str | None:
        """The chunk collection the alias names, or None when nothing was built yet."""
        with self.connection.calls("reading the alias"):
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
        """``<collection>@<build id>``, which changes with a new build and with an in-place update.

        So a bot replica reloads its manifest (counts, sources, dates) after either (two cheap calls).
        """
        try:
            current = self.current_collection()
            return None if current is None else build_name(current, self._read_manifest(current)[0])
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
        return MilvusPrevious(self.connection, current, manifest)

    def current_articles(self) -> list[Article]:
        """Every article of the current build."""
        current = self.current_collection()
        if current is None:
            return []
        return [article_from_row(row) for row in self.connection.iterate(articles_name(current), ARTICLE_FIELDS)]

    def write(self, content: BuildContent, previous: object | None = None) -> Path:
        """Update the current build in place when ``previous`` is it, else write a new build and switch.

        Raises:
            OSError: Milvus refused the write; the previous build stays current (a new build's
                collections are dropped, an in-place update is completed by the next update).

        """
        try:
            with self.connection.calls("writing"):
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
        with self.connection.calls("dropping the index"):
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
        with self.connection.calls("opening the collections"):
            for name in (current, articles_name(current)):
                self.client.load_collection(name)
            if verify:
                rows = self.connection.count(current)
                if rows != manifest.chunks:
                    raise IndexCorrupt(self.description, f"{rows} chunk rows, {manifest.chunks} in the manifest",
                                       command=self.rebuild_command)
        return MilvusReader(self.connection, current, manifest, facts, self.fusion)

    # -- writing -----------------------------------------------------------------------------

    def _write_new(self, content: BuildContent) -> Path:
        if any(vector is None for vector in content.vectors):
            raise ValueError("a new Milvus build needs every chunk's vector")
        built_at = datetime.now(UTC)
        build_id = built_at.strftime("%Y%m%dT%H%M%S%fZ")
        chunks_name, article_collection = f"{self.alias}_c_{build_id}", f"{self.alias}_a_{build_id}"
        kind = chosen_kind(content.vector_index, len(content.chunks))
        try:
            create_chunks(self.connection, chunks_name, content.manifest.dimension, kind)
            create_articles(self.connection, article_collection)
            self.connection.upsert(article_collection, [article_row(a) for a in content.articles])
            self.connection.upsert(chunks_name, (row for row, full in chunk_rows(content) if full))
            for name in (chunks_name, article_collection):
                self.client.flush(name)
            self._write_manifest(chunks_name, content, built_at, build_id, f"Milvus {kind.upper()}")
            if self.current_collection() is None:
                self.client.create_alias(chunks_name, self.alias)
            else:
                self.client.alter_alias(chunks_name, self.alias)
        except BaseException:
            for name in (chunks_name, article_collection):
                try:
                    self.client.drop_collection(name)
                except Exception:  # noqa: BLE001 - best effort; the build's own error is what matters
                    logger.warning("could not drop %s after a failed build", name)
            raise
        logger.info("%s now serves build %s", self.description, chunks_name)
        self._prune(chunks_name)
        return Path(build_name(chunks_name, self._read_manifest(chunks_name)[0]))

    def _update_in_place(self, content: BuildContent, previous: MilvusPrevious) -> Path:
        current = previous.collection
        article_collection = articles_name(current)
        kept = {c.article_id for c, v in zip(content.chunks, content.vectors, strict=True) if v is None}
        fresh = [i for i, v in enumerate(content.vectors) if v is not None]
        # New and changed chunks first (an upsert replaces a row with the same key), and every
        # other row's BM25 weights (idf and mean length moved) ...
        partial: list[dict[str, Any]] = []
        full: list[dict[str, Any]] = []
        for row, whole in chunk_rows(content):
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
        self.connection.delete(current, stale)
        # ... then the articles: their fingerprints say what the next update must redo if this one stops here.
        self.connection.upsert(article_collection, [article_row(a) for a in content.articles if a.id not in kept])
        gone = [article_id for article_id in previous.fingerprints if article_id not in wanted]
        self.connection.delete(article_collection, gone)
        for name in (current, article_collection):
            self.client.flush(name)
        built_at = datetime.now(UTC)
        self._write_manifest(current, content, built_at, built_at.strftime("%Y%m%dT%H%M%S%fZ"),
                             previous.manifest.vector_index)
        logger.info("updated %s in place: %d chunks written, %d removed, %d articles removed", current,
                    len(fresh), len(stale), len(gone))
        return Path(build_name(current, self._read_manifest(current)[0]))

    def _write_manifest(self, name: str, content: BuildContent, built_at: datetime, build_id: str,
                        index_kind: str) -> None:
        manifest = asdict(content.manifest)
        manifest.update(article_fingerprints={}, files={}, built_at=built_at.isoformat(timespec="seconds"),
                        build_id=build_id, vector_index=index_kind)
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
        with self.connection.calls("reading the manifest"):
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
            manifest = Manifest.from_fields(value["manifest"])
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
            keep |= recently_replaced(complete, current, datetime.now(UTC))
            for name in names:
                if name not in keep:
                    for dropped in (name, articles_name(name)):
                        if self.client.has_collection(dropped):
                            self.client.drop_collection(dropped)
        except Exception as error:  # noqa: BLE001 - pruning never fails a finished build
            logger.warning("could not prune old builds of %s: %s", self.description, reason(error))
