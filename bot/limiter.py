"""Per-user sliding-window rate limit for incoming questions.

Outgoing flood control is PTB's ``AIORateLimiter`` (it honours Telegram's ``retry_after``); this
module protects the CPU: each user may ask ``limit`` questions in any ``window`` seconds. A user
over the limit is told once per window (so a flood of questions is not answered with a flood of
refusals), then ignored until a slot frees up.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    """Outcome of :meth:`SlidingWindowLimiter.acquire`.

    Attributes:
        allowed: The request may proceed (and was counted).
        retry_after: Seconds until the next request would be allowed (0 when allowed).
        notify: Refused, and this is the first refusal since the user was last allowed: say so.
    """

    allowed: bool
    retry_after: float = 0.0
    notify: bool = False


class SlidingWindowLimiter:
    """Allow at most ``limit`` events per key in any ``window`` seconds.

    Args:
        limit: Events allowed per window.
        window: Window length in seconds.
        clock: Monotonic time source (injectable for tests).
        max_keys: Tracked keys above which idle ones are pruned (bounds memory over many users).
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"limit must be >= 1 and window > 0, got limit={limit!r}, window={window!r}")
        self.limit = limit
        self.window = window
        self._clock = clock
        self.max_keys = max_keys
        self._events: dict[Hashable, deque[float]] = {}
        self._notified: set[Hashable] = set()

    def acquire(self, key: Hashable) -> Decision:
        """Count one event for ``key`` if the window has room, else refuse it."""
        if len(self._events) > self.max_keys:
            self.prune()
        now = self._clock()
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) < self.limit:
            events.append(now)
            self._notified.discard(key)
            return Decision(allowed=True)
        notify = key not in self._notified
        self._notified.add(key)
        return Decision(allowed=False, retry_after=events[0] + self.window - now, notify=notify)

    def prune(self) -> None:
        """Forget keys whose events have all left the window."""
        cutoff = self._clock() - self.window
        for key in [key for key, events in self._events.items() if not events or events[-1] <= cutoff]:
            del self._events[key]
            self._notified.discard(key)

    def __len__(self) -> int:
        return len(self._events)
