"""Group commit: many threads asking at once, one batched call for all of them.

Why: under load the bot answers dozens of questions at once, each from its own worker thread, and
two steps of an answer cost nearly the same for a batch as for one item — a forward pass of the
embedding model (the weights are read once for the batch) and an exact search over the archive's
vectors (the matrix of ~90k × 384 floats is streamed through memory once for the batch). Fifty
single runs at once on two cores thrash the caches and the memory bus instead.

How: an item joins a queue. If fewer than ``max_in_flight`` batches are running, its thread becomes
a leader at once and runs everything queued (up to ``max_batch``); otherwise it waits, and the items
that arrived meanwhile go in the next batch, led by whichever waiting thread finds a free slot. A
lone item therefore starts immediately; only when other items arrived within the last ``window``
seconds does a leader first wait up to ``window`` for stragglers (a few ms, bounded). Every caller
gets exactly the result its own item produced, or the batch's exception.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

#: Batch sizes remembered for tests and benchmarks (bounded, so a long-running bot does not grow).
_MAX_RECORDED = 10_000


@dataclass(slots=True, eq=False)
class _Request(Generic[Item, Result]):
    item: Item
    result: Result | None = None
    error: BaseException | None = None
    done: bool = False


class GroupCommit(Generic[Item, Result]):
    """Runs concurrent single-item requests in shared batches.

    Args:
        run: Maps a list of items to their results, in order (thread-safe for ``max_in_flight``
            callers at once).
        max_batch: Most items per call.
        window: Seconds a leader waits for more items, only while others arrived that recently.
        max_in_flight: Batches running at the same time (default: the cores, so both stay busy).
    """

    def __init__(self, run: Callable[[list[Item]], Sequence[Result]], max_batch: int = 8,
                 window: float = 0.002, max_in_flight: int | None = None) -> None:
        self._run = run
        self.max_batch = max_batch
        self.window = window
        self.max_in_flight = max_in_flight or os.cpu_count() or 1
        self._condition = threading.Condition()
        self._pending: list[_Request[Item, Result]] = []
        self._in_flight = 0
        self._last_arrival = float("-inf")
        #: Sizes of the batches run so far (for tests and benchmarks; bounded).
        self.batch_sizes: list[int] = []

    def submit(self, item: Item) -> Result:
        """The result of ``item``, run alone or with the items submitted at the same moment."""
        request: _Request[Item, Result] = _Request(item)
        with self._condition:
            now = time.monotonic()
            busy = now - self._last_arrival < self.window or self._in_flight > 0
            self._last_arrival = now
            self._pending.append(request)
            while not request.done:
                if self._in_flight < self.max_in_flight and self._pending:
                    self._lead(busy)
                    busy = False
                else:
                    self._condition.wait()
        if request.error is not None:
            raise request.error
        return request.result  # type: ignore[return-value]  # set whenever error is not

    def _lead(self, wait_for_more: bool) -> None:
        """Run the queued requests as one batch (called holding the condition's lock)."""
        self._in_flight += 1
        if wait_for_more and len(self._pending) < self.max_batch:
            # Others are asking right now: give stragglers a few ms to join this call.
            self._condition.wait(self.window)
        batch = self._pending[:self.max_batch]
        del self._pending[:len(batch)]
        if not batch:  # another leader took them while this one waited
            self._in_flight -= 1
            return
        self._condition.release()
        try:
            try:
                results = self._run([request.item for request in batch])
                for request, result in zip(batch, results, strict=True):
                    request.result = result
            except BaseException as error:  # noqa: BLE001 - handed to every caller of the batch
                for request in batch:
                    request.error = error
        finally:
            self._condition.acquire()
            for request in batch:
                request.done = True
            self._in_flight -= 1
            if len(self.batch_sizes) < _MAX_RECORDED:
                self.batch_sizes.append(len(batch))
            self._condition.notify_all()
