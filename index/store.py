"""Transitional alias of :mod:`index.stores.faiss.layout` (moved); removed once every importer uses the new path."""

import sys

import index.stores.faiss.layout as _moved

sys.modules[__name__] = _moved
