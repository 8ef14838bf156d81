"""Micro-batching of concurrent query embeddings: many readers, one forward pass.

Why: under load the bot embeds dozens of questions at once, each from its own worker thread. Fifty
single-question runs at once on two cores thrash the caches and the scheduler; a few batches of up
to 8, one per core, embed ~35% more questions per second here (and reuse each weight matrix for
8 questions), so questions that arrive together are embedded together — without making a lone
reader wait.

How (group commit): a question joins a queue. If fewer than ``max_in_flight`` batches are being
embedded, its thread becomes a leader at once and embeds everything queued (up to ``max_batch``);
otherwise it waits, and the questions that arrived meanwhile go in the next batch, led by whichever
waiting thread finds a free slot. A lone question therefore starts immediately; only when other
questions arrived within the last ``window`` seconds does a leader first wait up to ``window`` for
stragglers (a few ms, bounded). Every caller gets exactly the row its own text produced.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(slots=True, eq=False)
class _Request:
    text: str
    vector: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = False


class QueryBatcher:
    """Embeds concurrent single-text requests in shared batches.

    Args:
        encode: Embeds a list of texts as rows (thread-safe for ``max_in_flight`` callers at once).
        max_batch: Most texts per forward pass. 8: on e5-small (AVX2, 2 cores, onnx-int8) 50 readers
            got ~185 questions/s with batches of ≤ 8, ~157 with ≤ 32, 95-137 one by one
            (``bench/engines.py --query-load``); a forward pass of 20-token questions is already
            compute-bound, so the gain is fewer concurrent runs thrashing the caches, not bigger GEMMs.
        window: Seconds a leader waits for more questions, only while others arrived that recently.
        max_in_flight: Batches embedded at the same time (default: the cores, so both stay busy).
    """

    def __init__(self, encode: Callable[[list[str]], np.ndarray], max_batch: int = 8,
                 window: float = 0.002, max_in_flight: int | None = None) -> None:
        self._encode = encode
        self.max_batch = max_batch
        self.window = window
        self.max_in_flight = max_in_flight or os.cpu_count() or 1
        self._condition = threading.Condition()
        self._pending: list[_Request] = []
        self._in_flight = 0
        self._last_arrival = float("-inf")
        #: Sizes of the batches embedded so far (for tests and benchmarks; bounded).
        self.batch_sizes: list[int] = []

    def embed(self, text: str) -> np.ndarray:
        """The vector of ``text``, embedded alone or with the questions asked at the same moment."""
        request = _Request(text)
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
        assert request.vector is not None
        return request.vector

    def _lead(self, wait_for_more: bool) -> None:
        """Embed the queued requests as one batch (called holding the condition's lock)."""
        self._in_flight += 1
        if wait_for_more and len(self._pending) < self.max_batch:
            # Others are asking right now: give stragglers a few ms to join this pass.
            self._condition.wait(self.window)
        batch = self._pending[:self.max_batch]
        del self._pending[:len(batch)]
        if not batch:  # another leader took them while this one waited
            self._in_flight -= 1
            return
        self._condition.release()
        try:
            try:
                vectors = self._encode([request.text for request in batch])
                for request, vector in zip(batch, vectors, strict=True):
                    request.vector = np.array(vector, dtype=np.float32)
            except BaseException as error:  # noqa: BLE001 - handed to every caller of the batch
                for request in batch:
                    request.error = error
        finally:
            self._condition.acquire()
            for request in batch:
                request.done = True
            self._in_flight -= 1
            if len(self.batch_sizes) < 10_000:
                self.batch_sizes.append(len(batch))
            self._condition.notify_all()
