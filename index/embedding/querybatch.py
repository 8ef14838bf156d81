"""Micro-batching of concurrent query embeddings: many readers, one forward pass.

Fifty single-question runs at once on two cores thrash the caches and the scheduler; a few batches
of up to 8, one per core, embed ~35% more questions per second (and reuse each weight matrix for
8 questions), so questions that arrive together are embedded together — without making a lone
reader wait. The queueing itself is :class:`index._groupcommit.GroupCommit`'s.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from index._groupcommit import GroupCommit


class QueryBatcher(GroupCommit[str, np.ndarray]):
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
        def rows(texts: list[str]) -> list[np.ndarray]:
            # Each caller owns its row: a copy, so no caller keeps the whole batch's matrix alive.
            return [np.array(vector, dtype=np.float32) for vector in encode(texts)]

        super().__init__(rows, max_batch, window, max_in_flight)

    def embed(self, text: str) -> np.ndarray:
        """The vector of ``text``, embedded alone or with the questions asked at the same moment."""
        return self.submit(text)
