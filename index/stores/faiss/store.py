"""The default store: one directory per index, FAISS vectors beside SQLite metadata and bm25s files.

Everything runs in the serving process (no server), which is right up to a few million chunks
on one machine. Layout, atomic switch and lock are :mod:`index.stores.faiss.layout`'s; the files
are ``vectors.faiss`` (:mod:`index.stores.faiss.vectors`), ``chunks.sqlite``
(:mod:`index.stores.faiss.metadata`), ``lexical/`` (:mod:`index.stores.lexical`) and
``manifest.json`` (:mod:`index.stores.manifest`). A build is always written whole into a new
directory; an update lends it the unchanged chunks' vectors of the current one; serving is
:mod:`index.stores.faiss.reader`'s.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from corpus import Article, ChunkerSettings
from index.embedding.base import Embedder
from index.errors import AkhbarIndexError, IndexNotFound, rebuild_command
from index.stores.base import BuildContent, reusable
from index.stores.faiss.layout import build_lock, current_build_id, new_build_dir, publish_build, resolve_build
from index.stores.faiss.metadata import METADATA_NAME, MetadataDB, write_metadata
from index.stores.faiss.reader import FaissPrevious, FaissReader
from index.stores.faiss.vectors import VECTORS_NAME, write_vectors
from index.stores.lexical import LEXICAL_DIR, LexicalIndex
from index.stores.manifest import MANIFEST_NAME, Manifest, file_digest

logger = logging.getLogger(__name__)


class FaissStore:
    """An index directory (``INDEX_DIR``): ``current -> builds/<id>``, switched atomically."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self.description = str(index_dir)
        self.rebuild_command = rebuild_command(self.description)

    @contextmanager
    def lock(self, wait: bool = False) -> Iterator[None]:
        """The directory's ``flock`` (see :func:`index.stores.faiss.layout.build_lock`)."""
        with build_lock(self.index_dir, wait=wait):
            yield

    def previous(self, embedder: Embedder, settings: ChunkerSettings, embed_titles: bool) -> FaissPrevious | None:
        """The current build, opened to lend vectors of unchanged articles (None: embed everything)."""
        try:
            build_dir = resolve_build(self.index_dir)
            manifest = Manifest.read(build_dir)
        except IndexNotFound:
            logger.info("no current build at %s: the update embeds everything", self.index_dir)
            return None
        except AkhbarIndexError as error:
            logger.warning("current build unusable (%s): the update embeds everything", error)
            return None
        if not reusable(manifest, embedder, settings, embed_titles):
            logger.warning("model, embedding backend or chunker changed since the current build: "
                           "the update embeds everything")
            return None
        return FaissPrevious(build_dir, manifest)

    def write(self, content: BuildContent, previous: object | None = None) -> Path:
        """Write a whole new build into a staging directory and publish it.

        A failed write (a full disk, above all) must not leave its partial files taking the space
        the next attempt needs, so the staging directory is removed; the previous build stays current.

        Raises:
            OSError: a file could not be written, whichever library wrote it.

        """
        built_at = datetime.now(UTC)
        build_id = built_at.strftime("%Y%m%dT%H%M%S%fZ")
        staging = new_build_dir(self.index_dir, build_id)
        try:
            _write_files(staging, content, built_at, build_id)
            return publish_build(self.index_dir, staging, build_id)
        except BaseException:
            if staging.exists():  # not yet renamed into place by publish_build
                shutil.rmtree(staging, ignore_errors=True)
            raise

    def current_articles(self) -> list[Article]:
        """Every article of the current build, in build order (none when there is no usable build)."""
        try:
            build_dir = resolve_build(self.index_dir)
            metadata = MetadataDB(build_dir / METADATA_NAME)
        except AkhbarIndexError as error:
            logger.info("no current build to add to at %s (%s)", self.index_dir, error)
            return []
        try:
            return metadata.all_articles()
        finally:
            metadata.close()

    def current_build_id(self) -> str | None:
        """What ``current`` points at (one readlink)."""
        return current_build_id(self.index_dir)

    def exists(self) -> bool:
        """Whether ``index_dir`` is a build or has a current one."""
        try:
            resolve_build(self.index_dir)
        except IndexNotFound:
            return False
        return True

    def close(self) -> None:
        """Nothing to release: every reader opens its own files."""

    def drop(self) -> None:
        """Remove the index directory."""
        shutil.rmtree(self.index_dir, ignore_errors=True)

    def open(self, verify: bool = True) -> FaissReader:
        """Open the current build (or ``index_dir`` itself when it is one build)."""
        return FaissReader.open(self.index_dir, verify)


def _write_files(staging: Path, content: BuildContent, built_at: datetime, build_id: str) -> None:
    """Write vectors, metadata, lexical index and manifest into ``staging``.

    FAISS reports a failed write as ``RuntimeError`` and SQLite as ``sqlite3.OperationalError``
    ("database or disk is full"); both become ``OSError`` so callers handle one kind of failure.
    """
    manifest = content.manifest
    if any(vector is None for vector in content.vectors):
        raise ValueError("the FAISS store writes whole builds: every chunk needs its vector")
    try:
        manifest.vector_index = write_vectors(staging / VECTORS_NAME, content.vectors,  # type: ignore[arg-type]
                                              content.vector_index, manifest.dimension)
    except RuntimeError as error:
        raise OSError(f"cannot write {VECTORS_NAME}: {_first_line(error)}") from error
    try:
        write_metadata(staging / METADATA_NAME, content.articles, content.chunks, content.stories)
    except sqlite3.Error as error:
        raise OSError(f"cannot write {METADATA_NAME}: {_first_line(error)}") from error
    LexicalIndex.build(content.lexical_texts).save(staging / LEXICAL_DIR)
    manifest.built_at = built_at.isoformat(timespec="seconds")
    manifest.build_id = build_id
    manifest.files = {str(p.relative_to(staging)): file_digest(p) for p in sorted(staging.rglob("*")) if p.is_file()}
    (staging / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")


def _first_line(error: BaseException) -> str:
    """The part of a library's error a user can act on (FAISS prefixes the C++ check that failed)."""
    line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    _, found, rest = line.partition("write error in ")
    return f"write error in {rest}" if found else line
