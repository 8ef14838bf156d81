"""Transitional alias of :mod:`index.search.filters` (moved); removed once every importer uses the new path."""

import sys

import index.search.filters as _moved

sys.modules[__name__] = _moved
