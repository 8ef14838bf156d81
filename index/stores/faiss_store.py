"""Transitional alias of :mod:`index.stores.faiss.store` (moved); removed once every importer uses the new path."""

import sys

import index.stores.faiss.store as _moved

sys.modules[__name__] = _moved
