"""Transitional alias of :mod:`index.search.fusion` (moved); removed once every importer uses the new path."""

import sys

import index.search.fusion as _moved

sys.modules[__name__] = _moved
