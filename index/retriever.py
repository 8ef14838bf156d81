"""Transitional alias of :mod:`index.search.retriever` (moved); removed once every importer uses the new path."""

import sys

import index.search.retriever as _moved

sys.modules[__name__] = _moved
