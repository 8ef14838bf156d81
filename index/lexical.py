"""Transitional alias of :mod:`index.stores.lexical` (moved); removed once every importer uses the new path."""

import sys

import index.stores.lexical as _moved

sys.modules[__name__] = _moved
