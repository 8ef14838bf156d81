"""Errors a user can act on: each message says what is wrong and what to run.

The CLI prints ``str(error)`` as its one-line reason and exits 1; the bot logs it and, where it
matters to the reader, answers in Arabic.
"""

from __future__ import annotations


class AkhbarIndexError(Exception):
    """Base of every index error; the CLI turns it into a one-line message and exit code 1."""


class IndexNotFound(AkhbarIndexError):
    """No index at the given path."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no index at {path}; build one with: akhbar-index build SOURCE... --index {path}")
        self.path = path


class IndexMismatch(AkhbarIndexError):
    """The index was built with another model, format version or chunker than configured."""

    def __init__(self, path: str, what: str, index_value: object, configured_value: object) -> None:
        super().__init__(
            f"index at {path} was built with {what} {index_value!r} but {configured_value!r} is configured; "
            f"rebuild it with: akhbar-index build SOURCE... --index {path}"
        )
        self.path = path


class IndexCorrupt(AkhbarIndexError):
    """A file of the index is missing, truncated or altered since it was written."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"index at {path} is damaged ({reason}); rebuild it with: "
                         f"akhbar-index build SOURCE... --index {path}")
        self.path = path
        self.reason = reason


class IndexLocked(AkhbarIndexError):
    """Another build or update holds the index's lock."""

    def __init__(self, path: str, holder: str) -> None:
        super().__init__(f"another build is writing the index at {path} ({holder}); "
                         f"wait for it to finish, or pass --wait to queue behind it")
        self.path = path


class ModelUnavailable(AkhbarIndexError):
    """The configured embedding model cannot be loaded (missing folder, not a model, no network)."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(f"cannot load embedding model {model!r}: {reason}. Set EMBEDDING_MODEL to a local "
                         f"SentenceTransformer folder, or unset it to use the bundled default")


class EmptyCorpus(AkhbarIndexError):
    """Nothing to index: every source was skipped or empty."""


class BadQuery(ValueError):
    """A question or search parameter that cannot be searched (empty, too long, bad ``k``)."""
