"""Serving figures for ``/stats``: questions answered, no-answer rate, reply latency percentiles.

Kept in memory since start-up (the bot is one process); latencies are a bounded window of the
most recent replies so memory stays flat however long the bot runs.
"""

from __future__ import annotations

import math
from collections import deque


class ServingStats:
    """Counters and a latency window.

    Args:
        window: Latencies kept for the percentiles.
    """

    def __init__(self, window: int = 10_000) -> None:
        self.served = 0
        self.no_answer = 0
        self._latencies: deque[float] = deque(maxlen=window)

    def record(self, seconds: float, answered: bool) -> None:
        """Count one replied question and how long the reply took."""
        self.served += 1
        self.no_answer += not answered
        self._latencies.append(seconds)

    @property
    def no_answer_rate(self) -> float:
        """Share of questions answered with "nothing found" (0 before any question)."""
        return self.no_answer / self.served if self.served else 0.0

    def percentile(self, q: float) -> float | None:
        """The ``q``-th percentile latency in seconds (nearest rank), None before any question."""
        if not self._latencies:
            return None
        ordered = sorted(self._latencies)
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        return ordered[rank - 1]
