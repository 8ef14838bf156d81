"""The connection to Milvus: opened lazily, every call's failure turned into one line the user can act on.

Readers and the store share one :class:`MilvusConnection` and use only its public methods: batched
upserts, deletes and id queries, counts and iteration live here once, not in every class that reads.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from index.errors import AkhbarIndexError, StoreUnavailable

if TYPE_CHECKING:
    from pymilvus import MilvusClient

#: Rows per insert/upsert call, ids per query.
BATCH = 500


def is_local(uri: str) -> bool:
    """Whether ``uri`` is a Milvus Lite file (a path) rather than a server."""
    return "://" not in uri


def pymilvus() -> ModuleType:
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
        module = importlib.import_module("pymilvus")
    finally:
        if saved is None:
            os.environ.pop("MILVUS_URI", None)
        else:
            os.environ["MILVUS_URI"] = saved
    return module


def reason(error: BaseException) -> str:
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


class MilvusConnection:
    """One Milvus client for a URI, opened on first use.

    Args:
        uri: A local ``.db`` file (Milvus Lite, embedded) or a server URI (``http://host:19530``).
        token: Credentials for a server (``user:password`` or an API key); empty for none.
        timeout: Seconds to wait for the server on connect and per call.
    """

    def __init__(self, uri: str, token: str = "", timeout: float = 30.0) -> None:
        self.uri = str(Path(uri).expanduser()) if is_local(uri) else uri
        self.token = token
        self.timeout = timeout
        self._client: MilvusClient | None = None

    @property
    def client(self) -> MilvusClient:
        """The pymilvus client, connected on first use.

        Raises:
            StoreUnavailable: pymilvus (or milvus-lite) missing, or the server unreachable.
        """
        if self._client is None:
            try:
                milvus_client = pymilvus().MilvusClient
            except ImportError as error:
                raise StoreUnavailable(self.uri, f"the Milvus client is not installed ({error}); "
                                                 f"pip install pymilvus milvus-lite") from None
            if is_local(self.uri):
                if not self.uri.endswith(".db"):
                    raise StoreUnavailable(self.uri, "a local Milvus Lite file must end in .db")
                Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
            try:
                self._client = milvus_client(uri=self.uri, token=self.token, timeout=self.timeout)
            except Exception as error:  # pymilvus raises MilvusException, grpc or OS errors alike
                raise StoreUnavailable(self.uri, reason(error)) from None
        return self._client

    def close(self) -> None:
        """Close the connection (a new one is opened if it is used again)."""
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None

    @contextmanager
    def calls(self, what: str) -> Iterator[None]:
        """Turn a failed Milvus call into an error the CLI and the bot report in one line."""
        try:
            yield
        except AkhbarIndexError:
            raise
        except Exception as error:
            if type(error).__module__.startswith(("pymilvus", "grpc")):
                raise StoreUnavailable(self.uri, f"{what} failed: {reason(error)}") from None
            raise

    def count(self, name: str, expression: str = "") -> int:
        """Rows of collection ``name`` matching ``expression`` (all rows for ``""``)."""
        with self.calls("counting rows"):
            rows = self.client.query(name, filter=expression, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def iterate(self, name: str, fields: list[str], expression: str = "") -> Iterator[dict[str, Any]]:
        """Every row of ``name`` matching ``expression``, ``fields`` only, read in batches."""
        with self.calls("reading rows"):
            self.client.load_collection(name)
            iterator = self.client.query_iterator(name, batch_size=5000, filter=expression, output_fields=fields)
            try:
                while batch := iterator.next():
                    yield from batch
            finally:
                iterator.close()

    def by_ids(self, name: str, ids: Sequence[int] | Sequence[str], fields: list[str],
               what: str = "reading rows") -> Iterator[dict[str, Any]]:
        """The rows of ``name`` with these primary keys (missing ones are simply absent), in batches."""
        with self.calls(what):
            for start in range(0, len(ids), BATCH):
                yield from self.client.query(name, ids=list(ids[start:start + BATCH]), output_fields=fields)

    def upsert(self, name: str, rows: Iterable[dict[str, Any]], *, partial: bool = False) -> None:
        """Upsert ``rows`` in batches; ``partial`` updates only the fields each row carries."""
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                self.client.upsert(name, batch, partial_update=partial)
                batch = []
        if batch:
            self.client.upsert(name, batch, partial_update=partial)

    def delete(self, name: str, ids: Sequence[int] | Sequence[str]) -> None:
        """Delete rows of ``name`` by primary key, in batches."""
        for start in range(0, len(ids), BATCH):
            self.client.delete(name, ids=list(ids[start:start + BATCH]))
