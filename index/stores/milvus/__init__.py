"""The Milvus store (``VECTOR_STORE=milvus``): client, schema, store and reader, one job each."""

from index.stores.milvus.store import MilvusStore

__all__ = ["MilvusStore"]
