"""Transitional alias of :mod:`index.stores.milvus.store` (moved); removed once every importer uses the new path."""

import sys

import index.stores.milvus.store as _moved

sys.modules[__name__] = _moved
