"""When a Bot API request is sent again: only when it provably did nothing, a bounded number of times."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from telegram.error import BadRequest, NetworkError, TelegramError, TimedOut

from bot import delivery
from bot.delivery import RetryingRequest, failed_without_effect, outcome_unknown
from tests.bot.fake_telegram import TOKEN

URL = f"http://127.0.0.1:9/bot{TOKEN}/sendMessage"


def caused(error: TelegramError, cause: Exception | None) -> TelegramError:
    """``error`` raised ``from cause``, as PTB's HTTPXRequest raises it."""
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(("error", "without_effect", "unknown"), [
    (caused(NetworkError("refused"), httpx.ConnectError("refused")), True, False),
    (caused(TimedOut(), httpx.ConnectTimeout("slow connect")), True, False),
    (caused(TimedOut("Pool timeout"), httpx.PoolTimeout("no free connection")), True, False),
    (caused(TimedOut(), httpx.WriteTimeout("slow write")), True, False),
    (caused(NetworkError("dropped"), httpx.RemoteProtocolError("Server disconnected")), True, False),
    (caused(NetworkError("reset"), httpx.ReadError("Connection reset by peer")), True, False),
    (caused(TimedOut(), httpx.ReadTimeout("no answer yet")), False, True),
    (BadRequest("can't parse entities"), False, False),
    (NetworkError("Internal Server Error"), False, False),  # a 5xx is resent by status code, inside the request
], ids=["refused", "connect-timeout", "pool-timeout", "write-timeout", "dropped", "reset", "read-timeout",
        "bad-request", "5xx-raised"])
def test_which_failures_are_safe_to_send_again(error: TelegramError, without_effect: bool, unknown: bool) -> None:
    assert failed_without_effect(error) is without_effect
    assert outcome_unknown(error) is unknown


class Script:
    """Stands in for HTTPXRequest.do_request: each call takes the next outcome (a status or an error)."""

    def __init__(self, *outcomes: int | Exception) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome, b"{}"


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff sleeps, recorded instead of slept."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(delivery.asyncio, "sleep", sleep)
    return slept


def dropped() -> NetworkError:
    return caused(NetworkError("dropped"), httpx.RemoteProtocolError("Server disconnected"))


@pytest.mark.parametrize(("outcomes", "result", "calls"), [
    ((500, 502, 200), 200, 3),
    ((dropped(), 200), 200, 2),
    ((500, 500, 500, 503), 503, 4),
    ((400,), 400, 1),
    ((429,), 429, 1),
], ids=["5xx-then-ok", "dropped-then-ok", "5xx-until-retries-spent", "4xx-not-resent", "429-left-to-the-limiter"])
async def test_resends_are_bounded_and_back_off(monkeypatch: pytest.MonkeyPatch, waits: list[float],
                                                caplog: pytest.LogCaptureFixture,
                                                outcomes: tuple[int | Exception, ...], result: int, calls: int) -> None:
    script = Script(*outcomes)
    monkeypatch.setattr(delivery.HTTPXRequest, "do_request", script)
    request = RetryingRequest(retries=3, backoff=0.5)
    code, _ = await request.do_request(URL, "POST")
    assert (code, script.calls) == (result, calls)
    assert waits == [0.5, 1.0, 2.0][:calls - 1], "doubling waits"
    assert TOKEN not in caplog.text
    if calls > 1:
        assert "sendMessage did not reach Telegram" in caplog.text


@pytest.mark.parametrize("error", [caused(TimedOut(), httpx.ReadTimeout("late")), BadRequest("bad"), dropped()],
                         ids=["read-timeout", "bad-request", "dropped-until-retries-spent"])
async def test_other_failures_are_raised(monkeypatch: pytest.MonkeyPatch, waits: list[float],
                                         error: TelegramError) -> None:
    script = Script(*[error] * 3)
    monkeypatch.setattr(delivery.HTTPXRequest, "do_request", script)
    with pytest.raises(type(error)):
        await RetryingRequest(retries=2, backoff=0.1).do_request(URL, "POST")
    assert script.calls == (3 if failed_without_effect(error) else 1)


def test_negative_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="retries=-1"):
        RetryingRequest(retries=-1, backoff=0.5)

