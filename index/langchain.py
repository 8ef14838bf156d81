"""Transitional alias of :mod:`index.search.langchain` (moved); removed once every importer uses the new path."""

import sys

import index.search.langchain as _moved

sys.modules[__name__] = _moved
