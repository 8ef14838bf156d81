"""Transitional alias of :mod:`index.stores.faiss.metadata` (moved); removed once every importer uses the new path."""

import sys

import index.stores.faiss.metadata as _moved

sys.modules[__name__] = _moved
