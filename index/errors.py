"""Errors a user can act on: each message says what is wrong and what to run.

The CLI prints ``str(error)`` as its one-line reason and exits 1; the bot logs it and, where it
matters to the reader, answers in Arabic.
"""

from __future__ import annotations


class AkhbarIndexError(Exception):
    """Base of every index error; the CLI turns it into a one-line message and exit code 1."""


def rebuild_command(path: str) -> str:
    """The command that (re)builds the FAISS index directory ``path``."""
    return f"akhbar-index build SOURCE... --index {path}"


class IndexNotFound(AkhbarIndexError):
    """No index at the given path (a directory, or a Milvus URI and collection)."""

    def __init__(self, path: str, *, command: str | None = None) -> None:
        self.command = command or rebuild_command(path)
        super().__init__(f"no index at {path}; build one with: {self.command}")
        self.path = path


class IndexMismatch(AkhbarIndexError):
    """The index was built with another model, format version or chunker than configured."""

    def __init__(self, path: str, what: str, index_value: object, configured_value: object, *,
                 command: str | None = None) -> None:
        self.command = command or rebuild_command(path)
        super().__init__(
            f"index at {path} was built with {what} {index_value!r} but {configured_value!r} is configured; "
            f"rebuild it with: {self.command}"
        )
        self.path = path


class IndexCorrupt(AkhbarIndexError):
    """A file of the index is missing, truncated or altered since it was written."""

    def __init__(self, path: str, reason: str, *, command: str | None = None) -> None:
        self.command = command or rebuild_command(path)
        super().__init__(f"index at {path} is damaged ({reason}); rebuild it with: {self.command}")
        self.path = path
        self.reason = reason


class IndexLocked(AkhbarIndexError):
    """Another build or update holds the index's lock."""

    def __init__(self, path: str, holder: str) -> None:
        super().__init__(f"another build is writing the index at {path} ({holder}); "
                         f"wait for it to finish, or pass --wait to queue behind it")
        self.path = path
        #: Who holds the lock, as it wrote itself into the lock file ("pid 1234").
        self.holder = holder


class FeedsBusy(AkhbarIndexError):
    """Another feed run is fetching into the same index (two runs would fetch and add the same items)."""

    def __init__(self, path: str, holder: str) -> None:
        super().__init__(f"another feed run is fetching into {path} ({holder}); its articles will be indexed, "
                         f"try again when it has finished")
        self.path = path


class ModelUnavailable(AkhbarIndexError):
    """The configured embedding model cannot be loaded (missing folder, not a model, no network)."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(f"cannot load embedding model {model!r}: {reason}. Set EMBEDDING_MODEL to a local "
                         f"SentenceTransformer folder, or unset it to use the bundled default")


class StoreUnavailable(AkhbarIndexError):
    """The configured vector store cannot be reached or used (Milvus down, wrong URI or token)."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"cannot use the vector store at {where}: {reason}. Check VECTOR_STORE, MILVUS_URI and "
                         f"MILVUS_TOKEN (a local file path runs Milvus Lite; http://host:19530 needs a running server)")
        self.where = where


class EmptyCorpus(AkhbarIndexError):
    """Nothing to index: every source was skipped or empty."""


class BadQuery(ValueError):
    """A question or search parameter that cannot be searched (empty, too long, bad ``k``)."""
