"""Transitional alias of :mod:`index.stores.faiss.vectors` (moved); removed once every importer uses the new path."""

import sys

import index.stores.faiss.vectors as _moved

sys.modules[__name__] = _moved
