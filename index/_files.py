"""File-system helpers shared across rooms: a cross-process lock, a build-once folder, a file digest.

``build_once`` is how a converted model and an ONNX export appear in ``CACHE_DIR``: built in a
scratch sibling under a lock and renamed into place, so no process ever loads half a folder, and
two processes starting together build once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path`` (created if needed) while the block runs; waits for it."""
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def marker_matches(target: Path, marker_name: str, expected: dict[str, object], required: Iterable[str]) -> bool:
    """Whether ``target`` is a complete build: its marker file holds ``expected`` and the ``required`` files exist.

    The marker is written last by whoever builds ``target``, so its presence with the expected
    values (source, version) means everything before it reached the disk.
    """
    try:
        marker = json.loads((target / marker_name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(marker, dict) or any(marker.get(key) != value for key, value in expected.items()):
        return False
    return all((target / name).is_file() for name in required)


def write_marker(path: Path, data: dict[str, object]) -> None:
    """Write a build's marker file and force it to disk: written last, its presence means the build is complete."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())


def remove_stale(parent: Path, name: str) -> None:
    """Delete leftovers of interrupted builds of ``parent / name`` (call with the lock held)."""
    for pattern in (f".{name}.tmp-*", f".{name}.old-*"):
        for stale in parent.glob(pattern):
            logger.info("removing leftover %s", stale)
            shutil.rmtree(stale, ignore_errors=True)


def build_once(target: Path, is_complete: Callable[[], bool], build: Callable[[Path], None], what: str) -> Path:
    """Make ``target`` once across processes, atomically: nobody ever sees a half-built folder.

    Under a lock beside ``target``, unless another process finished meanwhile, ``build(stage)``
    writes the complete result into ``stage / "model"`` (``stage`` is scratch), which then
    replaces ``target``; leftovers of interrupted attempts are removed. Shared by the model
    conversion and the ONNX export.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with locked(target.parent / f".{target.name}.lock"):
        if is_complete():  # another process finished meanwhile
            return target
        remove_stale(target.parent, target.name)
        token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        stage = target.parent / f".{target.name}.tmp-{token}"
        stage.mkdir()
        try:
            logger.info("%s -> %s", what, target)
            build(stage)
            if target.exists() or target.is_symlink():
                old = target.parent / f".{target.name}.old-{token}"
                os.replace(target, old)
                logger.info("replacing outdated or incomplete %s", target)
            os.replace(stage / "model", target)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
            remove_stale(target.parent, target.name)
    return target
