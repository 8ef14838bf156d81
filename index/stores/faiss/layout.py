"""The index directory on disk: layout, atomic switch, build lock, and the read-only open.

Layout of ``INDEX_DIR``::

    INDEX_DIR/
      current -> builds/<build_id>     symlink, swapped atomically by os.replace
      builds/<build_id>/               one complete build, never modified after the switch
        manifest.json  vectors.faiss  chunks.sqlite  lexical/
      .lock                            held (flock) by the one build or update running

A build is written into ``builds/.tmp-<id>``, fsynced, renamed to ``builds/<id>`` and only then
made ``current``: a reader opens whatever ``current`` names and never sees half a build; a crash
at any point leaves the previous build current. Nothing here unpickles: FAISS reads its own
binary format, metadata is SQLite, the manifest JSON.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from index.errors import IndexLocked, IndexNotFound
from index.stores.manifest import MANIFEST_NAME

logger = logging.getLogger(__name__)

CURRENT = "current"
BUILDS = "builds"
LOCK = ".lock"
#: In every build: readers hold a shared ``flock`` on it while they serve the build, so pruning
#: (which needs it exclusively) never deletes a build a running bot or search still reads.
READER_MARK = ".reader"
#: Builds kept besides the current one, so a bot that still reads an older build keeps working.
KEEP_PREVIOUS_BUILDS = 1


def resolve_build(index_dir: Path) -> Path:
    """The build directory a reader should open: ``index_dir`` itself or what ``current`` names.

    Raises:
        IndexNotFound: neither a build nor an index directory with a current build.
    """
    if (index_dir / MANIFEST_NAME).is_file():
        return index_dir
    current = index_dir / CURRENT
    if current.is_symlink() or current.is_dir():
        target = current.resolve()
        if (target / MANIFEST_NAME).is_file() or target.is_dir():
            return target
    raise IndexNotFound(str(index_dir))


def current_build_id(index_dir: Path) -> str | None:
    """Name of the current build (cheap: one readlink), to notice a switch made by another process."""
    try:
        return os.readlink(index_dir / CURRENT)
    except OSError:
        return None


def new_build_dir(index_dir: Path, build_id: str) -> Path:
    """Create the temporary directory a build writes into (invisible to readers).

    Only the holder of :func:`build_lock` calls this, so any other staging directory is what a
    killed build left behind: it is removed first, so its files never take the space this build
    needs (previously they stayed until the next build was published).
    """
    builds = index_dir / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    for leftover in builds.glob(".tmp-*"):
        logger.info("removing %s, left by an interrupted build", leftover)
        shutil.rmtree(leftover, ignore_errors=True)
    staging = builds / f".tmp-{build_id}"
    staging.mkdir()
    return staging


def publish_build(index_dir: Path, staging: Path, build_id: str) -> Path:
    """Make a finished build current, atomically, then prune old builds.

    Every file is fsynced before the rename, and the directory entries after it, so a power cut
    cannot leave ``current`` pointing at a build whose data never reached the disk.
    """
    (staging / READER_MARK).touch()
    for path in staging.rglob("*"):
        if path.is_file():
            _fsync_file(path)
    final = index_dir / BUILDS / build_id
    os.rename(staging, final)
    _fsync_dir(final.parent)
    link_tmp = index_dir / f".{CURRENT}.tmp"
    with contextlib.suppress(FileNotFoundError):
        link_tmp.unlink()
    os.symlink(Path(BUILDS) / build_id, link_tmp)
    os.replace(link_tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    logger.info("index %s now serves build %s", index_dir, build_id)
    prune_builds(index_dir)
    return final


def prune_builds(index_dir: Path) -> None:
    """Remove abandoned temporary builds and all but the newest previous builds, unless a reader holds them."""
    builds = index_dir / BUILDS
    if not builds.is_dir():
        return
    current = (index_dir / CURRENT).resolve()
    finished = sorted((p for p in builds.iterdir() if p.is_dir() and not p.name.startswith(".")),
                      key=lambda p: p.name)
    older = [p for p in finished if p.resolve() != current]
    for stale in older[:-KEEP_PREVIOUS_BUILDS] if KEEP_PREVIOUS_BUILDS else older:
        with _unless_read(stale) as free:
            if free:
                shutil.rmtree(stale, ignore_errors=True)
            else:
                logger.info("keeping build %s: a running reader still serves it", stale.name)
    for leftover in builds.glob(".tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)


@contextlib.contextmanager
def _unless_read(build_dir: Path) -> Iterator[bool]:
    """Yield True, holding the build's reader mark exclusively, when no reader holds it; else False."""
    try:
        fd = os.open(build_dir / READER_MARK, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        yield True  # a build of an older layout without the mark (or a damaged one): nothing to wait for
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def hold_build(build_dir: Path) -> int | None:
    """Take a shared hold on a build for as long as it is served; returns the fd to close, or None.

    Builds published before the mark existed have none: they are served unheld, as before.
    """
    try:
        fd = os.open(build_dir / READER_MARK, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


@contextlib.contextmanager
def build_lock(index_dir: Path, wait: bool = False) -> Iterator[None]:
    """Hold the index's exclusive build lock; a second builder waits or fails with the holder's pid.

    The lock is an ``flock`` on ``INDEX_DIR/.lock``: the kernel releases it if the holder dies,
    so a killed build never leaves the index locked.

    Raises:
        IndexLocked: the lock is held and ``wait`` is false.
    """
    with file_lock(index_dir, LOCK, wait=wait):
        yield


@contextlib.contextmanager
def file_lock(folder: Path, name: str, wait: bool = False) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder/name``, writing our pid into it for whoever waits.

    The file is opened with ``O_NOFOLLOW`` and created ``0600``: a ``.lock`` planted as a symlink
    by someone who can write the folder is refused, instead of being followed and truncated. A
    folder created here is ``0700``.

    Raises:
        IndexLocked: the lock is held and ``wait`` is false.
        OSError: the lock file cannot be opened (a symlink, a read-only folder).
    """
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / name
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as error:
        if path.is_symlink():
            raise OSError(error.errno, f"{path} is a symbolic link; remove it (a lock file must be a plain file)")\
                from None
        raise
    with os.fdopen(fd, "r+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read(200).strip() or "unknown process"
            raise IndexLocked(str(folder), holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
