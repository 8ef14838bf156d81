"""How long work reports progress without the library printing anything itself.

The builder calls a :class:`Progress`; the CLI passes a rich progress bar, tests and the bot
pass :class:`NullProgress` (or a recorder).
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives stage starts and advances from a long operation."""

    def start(self, stage: str, total: int | None, unit: str) -> None:
        """A new stage begins, with ``total`` units of work if known."""

    def advance(self, amount: int = 1) -> None:
        """``amount`` more units of the current stage are done."""

    def finish(self) -> None:
        """The current stage is done."""


class NullProgress:
    """A :class:`Progress` that reports nothing."""

    def start(self, stage: str, total: int | None, unit: str) -> None:
        """Ignore."""

    def advance(self, amount: int = 1) -> None:
        """Ignore."""

    def finish(self) -> None:
        """Ignore."""
