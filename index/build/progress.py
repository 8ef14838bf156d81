"""How long work reports progress without the library printing anything itself.

The builder calls a :class:`Progress`; the CLI passes a rich progress bar, tests and the bot
pass :class:`NullProgress` (or a recorder). Off a terminal (``nohup``, CI, systemd) a bar shows
nothing for the hour a full build takes, so :func:`with_heartbeat` adds :class:`LogProgress`
there: a plain line every 30 s with the stage, done/total, rate and ETA.
"""

from __future__ import annotations

import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Protocol, TextIO

#: Seconds between two progress lines off a terminal.
HEARTBEAT_SECONDS = 30.0


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


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


class LogProgress:
    """A :class:`Progress` writing one line per ``interval`` seconds while a stage runs.

    A timer thread writes the lines, so a stage that advances rarely (one slow batch, the writing
    of a large index) still shows it is alive. The thread holds only a weak reference, so an
    abandoned progress (a build that raised mid-stage) stops ticking.

    Args:
        stream: Where lines go (default ``sys.stderr``, which systemd and CI capture).
        interval: Seconds between lines.
        prefix: Starts every line (names the operation).
        clock: Monotonic seconds (tests).
    """

    def __init__(self, stream: TextIO | None = None, interval: float = HEARTBEAT_SECONDS, prefix: str = "akhbar",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.interval = interval
        self.prefix = prefix
        self._clock = clock
        self._lock = threading.Lock()
        self._stage: str | None = None
        self._total: int | None = None
        self._unit = ""
        self._done = 0
        self._started = 0.0
        self._stop = threading.Event()

    def start(self, stage: str, total: int | None, unit: str) -> None:
        """Begin a stage and its timer."""
        with self._lock:
            self._stage, self._total, self._unit, self._done = stage, total, unit, 0
            self._started = self._clock()
        self._stop.set()  # end the previous stage's timer, if any
        self._stop = threading.Event()
        thread = threading.Thread(target=_tick, args=(weakref.ref(self), self._stop, self.interval),
                                  name=f"progress-{stage}", daemon=True)
        thread.start()

    def advance(self, amount: int = 1) -> None:
        """Count ``amount`` more units done."""
        with self._lock:
            self._done += amount

    def finish(self) -> None:
        """Stop the timer; a stage that ran longer than one interval gets a closing line."""
        self._stop.set()
        with self._lock:
            long = self._stage is not None and self._clock() - self._started >= self.interval
        if long:
            self._write(self.line(final=True))
        with self._lock:
            self._stage = None

    def line(self, final: bool = False) -> str:
        """The current state: ``stage done/total unit (percent), rate unit/s, ETA`` (``done in`` when final)."""
        with self._lock:
            stage, total, unit, done = self._stage, self._total, self._unit, self._done
            elapsed = max(self._clock() - self._started, 1e-9)
        rate = done / elapsed
        count = f"{done:,}/{total:,} {unit} ({100 * done / total:.1f}%)" if total else f"{done:,} {unit}"
        text = f"{self.prefix}: {stage} {count}, {rate:,.1f} {unit}/s"
        if final:
            return f"{text}, done in {_duration(elapsed)}"
        if total and rate > 0:
            return f"{text}, ETA {_duration((total - done) / rate)} (elapsed {_duration(elapsed)})"
        return f"{text}, elapsed {_duration(elapsed)}"

    def _write(self, line: str) -> None:
        stream = self.stream or sys.stderr
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        stream.write(f"{stamp} {line}\n")
        stream.flush()


def _tick(progress_ref: weakref.ref[LogProgress], stop: threading.Event, interval: float) -> None:
    """Write a line every ``interval`` seconds until ``stop`` is set or the progress is gone."""
    while not stop.wait(interval):
        progress = progress_ref()
        if progress is None:
            return
        progress._write(progress.line())
        del progress


class TeeProgress:
    """Forwards every call to several :class:`Progress` (a bar and a log, say)."""

    def __init__(self, *targets: Progress) -> None:
        self.targets = targets

    def start(self, stage: str, total: int | None, unit: str) -> None:
        """Start the stage on every target."""
        for target in self.targets:
            target.start(stage, total, unit)

    def advance(self, amount: int = 1) -> None:
        """Advance every target."""
        for target in self.targets:
            target.advance(amount)

    def finish(self) -> None:
        """Finish the stage on every target."""
        for target in self.targets:
            target.finish()


def with_heartbeat(progress: Progress, stream: TextIO | None = None,
                   interval: float = HEARTBEAT_SECONDS) -> Progress:
    """``progress``, plus a :class:`LogProgress` line every ``interval`` s when ``stream`` is no terminal.

    Args:
        progress: What the caller shows (a bar on a terminal, nothing for the bot).
        stream: Where a terminal would be (default ``sys.stderr``).
        interval: Seconds between lines.
    """
    target = stream or sys.stderr
    try:
        interactive = target.isatty()
    except (AttributeError, ValueError):  # closed or odd streams: treat as no terminal
        interactive = False
    if interactive:
        return progress
    return TeeProgress(progress, LogProgress(stream, interval))
