"""Transitional alias of :mod:`index.build.feeds` (moved); removed once every importer uses the new path."""

import sys

import index.build.feeds as _moved

sys.modules[__name__] = _moved
