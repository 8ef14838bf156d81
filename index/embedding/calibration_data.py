"""The real Arabic texts shipped for measuring engines: engine calibration and NNCF's int8 statistics.

A leaf module of its own because both :mod:`index.embedding.calibration` (which loads engines) and
:mod:`index.embedding.openvino_int8` (an engine's one-time quantisation) read them.
"""

from __future__ import annotations

import json
from pathlib import Path

#: The shipped calibration chunks and queries. Found beside this module, not through
#: ``importlib.resources.files("index")``: run from a folder holding an ``index/`` directory (the
#: tests' INDEX_DIR), ``python -m index.cli`` makes ``index`` a namespace package of that folder.
CALIBRATION_FILE = Path(__file__).resolve().parent / "data" / "calibration_ar.json"


def calibration_texts() -> tuple[list[str], list[str]]:
    """The shipped ``(chunks, queries)``: headline + opening of real sample articles, and headlines."""
    data = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    return list(data["chunks"]), list(data["queries"])
