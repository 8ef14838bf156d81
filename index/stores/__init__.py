"""Vector stores behind one interface: the FAISS directory (default) or Milvus (``VECTOR_STORE``).

:func:`open_store` is the one place that reads which store is configured; everything else
(builder, retriever, CLI, bot) holds an :class:`IndexStore` or a :class:`StoreReader`.
"""

from __future__ import annotations

from pathlib import Path

from index.settings import IndexSettings
from index.stores.base import BuildContent, IndexStore, Metadata, PreviousBuild, Restriction, StoreReader
from index.stores.faiss.store import FaissStore


def open_store(settings: IndexSettings, index_dir: Path | None = None) -> IndexStore:
    """The store ``settings`` configure.

    Args:
        settings: ``VECTOR_STORE`` and the chosen store's settings.
        index_dir: The FAISS index directory (default ``settings.index_dir``); for Milvus only
            where the local build lock is kept (the index itself is ``MILVUS_COLLECTION``).

    Raises:
        StoreUnavailable: Milvus configured but its client is not installed.

    """
    folder = Path(index_dir) if index_dir is not None else settings.index_dir
    if settings.vector_store == "milvus":
        from index.stores.milvus.store import MilvusStore

        token = settings.milvus_token.get_secret_value() if settings.milvus_token else ""
        return MilvusStore(settings.milvus_uri, settings.milvus_collection, token=token, lock_dir=folder,
                           fusion=settings.milvus_fusion)
    return FaissStore(folder)


__all__ = ["BuildContent", "FaissStore", "IndexStore", "Metadata", "PreviousBuild", "Restriction", "StoreReader",
           "open_store"]
