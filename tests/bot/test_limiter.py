"""The per-user sliding-window rate limit."""

from __future__ import annotations

import pytest

from bot.limiter import SlidingWindowLimiter


class FakeClock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_allows_the_limit_then_refuses_with_the_wait(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(3, 60, clock=clock)
    for step in range(3):
        clock.now += 5
        assert limiter.acquire("u").allowed, step
    refused = limiter.acquire("u")
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(50.0)  # the first event (at +5 s) leaves the window at +65 s


def test_the_window_slides(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(2, 10, clock=clock)
    assert limiter.acquire("u").allowed
    clock.now += 6
    assert limiter.acquire("u").allowed
    clock.now += 3
    assert not limiter.acquire("u").allowed
    clock.now += 1.5  # the first event is now 10.5 s old
    assert limiter.acquire("u").allowed
    assert not limiter.acquire("u").allowed


def test_users_are_counted_separately(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(1, 60, clock=clock)
    assert limiter.acquire(1).allowed
    assert limiter.acquire(2).allowed
    assert not limiter.acquire(1).allowed


def test_a_refused_user_is_told_once_per_burst(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(1, 60, clock=clock)
    limiter.acquire("u")
    assert [limiter.acquire("u").notify for _ in range(3)] == [True, False, False]
    clock.now += 61
    assert limiter.acquire("u").allowed
    assert limiter.acquire("u").notify


def test_idle_users_are_pruned(clock: FakeClock) -> None:
    limiter = SlidingWindowLimiter(1, 10, clock=clock, max_keys=5)
    for user in range(6):
        limiter.acquire(user)
    clock.now += 11
    limiter.acquire("late")
    assert len(limiter) == 1


@pytest.mark.parametrize(("limit", "window"), [(0, 60), (3, 0), (3, -1)], ids=["no-questions", "zero-window",
                                                                              "negative-window"])
def test_rejects_meaningless_limits(limit: int, window: float) -> None:
    with pytest.raises(ValueError, match="limit"):
        SlidingWindowLimiter(limit, window)
