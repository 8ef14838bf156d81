"""Transitional alias of :mod:`index.search.passage` (moved); removed once every importer uses the new path."""

import sys

import index.search.passage as _moved

sys.modules[__name__] = _moved
