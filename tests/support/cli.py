"""Real ``akhbar-index`` processes for end-to-end tests: how they are started, and the environment they get.

Every process gets the tiny test model with the torch engine (no engine calibration and no ONNX
export per process: those have tests of their own), one build thread (two torch threads on two
shared cores run a tiny model ten times slower), no no-answer threshold (it is calibrated for the
default model, not the tiny one), and no network. ``-P``: the working directory is not put on
``sys.path``, as for the installed ``akhbar-index`` script (a test's ``index/`` folder would
otherwise shadow the ``index`` package).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def tiny_cli_env(tmp_path: Path, model_dir: Path, index_dir: Path | None = None) -> dict[str, str]:
    """The variables of a real CLI process over the tiny model (merged over ``os.environ`` by :func:`run_cli`)."""
    return {"INDEX_DIR": str(index_dir or tmp_path / "index"), "EMBEDDING_MODEL": str(model_dir),
            "EMBEDDING_BACKEND": "torch", "CACHE_DIR": str(tmp_path / "cache"), "BUILD_THREADS": "1",
            "NO_ANSWER_THRESHOLD": "-1", "HF_HUB_OFFLINE": "1"}


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m index.cli ARGS`` (what ``akhbar-index`` runs) to completion, output captured."""
    return subprocess.run([sys.executable, "-P", "-m", "index.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, cwd=cwd)


def start_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """Start ``python -m index.cli ARGS`` in the background, output captured."""
    return subprocess.Popen([sys.executable, "-P", "-m", "index.cli", *args], env={**os.environ, **env}, cwd=cwd,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
