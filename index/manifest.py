"""Transitional alias of :mod:`index.stores.manifest` (moved); removed once every importer uses the new path."""

import sys

import index.stores.manifest as _moved

sys.modules[__name__] = _moved
