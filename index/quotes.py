"""Transitional alias of :mod:`index.search.quotes` (moved); removed once every importer uses the new path."""

import sys

import index.search.quotes as _moved

sys.modules[__name__] = _moved
