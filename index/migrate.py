"""Transitional alias of :mod:`index.build.migrate` (moved); removed once every importer uses the new path."""

import sys

import index.build.migrate as _moved

sys.modules[__name__] = _moved
