"""Sending a Bot API request again when it provably did not take effect, and never otherwise.

The Bot API has no idempotency key: a message sent twice is shown twice. So a failed request is
sent again (a bounded number of times, with doubling waits) only when it certainly did nothing:

* the connection could not be made (refused, connect or pool timeout): nothing was sent;
* the request could not be written completely (write error or timeout): nothing to carry out;
* Telegram answered 5xx: it says the request failed;
* the connection closed without any answer: Telegram answers every request it carries out, and
  the usual cause is a keep-alive connection the server or a proxy had already closed.

(A 429 is handled above this layer by PTB's ``AIORateLimiter``, which waits ``retry_after``.)

A **read timeout** is the one ambiguous case: Telegram holds the whole request and has not
answered yet; a slow Telegram usually does deliver. We choose *at most once*: the request is not
sent again, and :func:`outcome_unknown` lets the sender log a warning and carry on as if it had
been delivered (no duplicate answer, and no "something went wrong" message under a delivered
answer). If Telegram in fact lost it, that one reply is lost; the reader can ask again.
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Any

import httpx
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest, RequestData

logger = logging.getLogger(__name__)

#: httpx errors raised before the whole request reached the server.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError, httpx.WriteTimeout)
#: httpx errors of a connection closed without an answer.
UNANSWERED = (httpx.RemoteProtocolError, httpx.ReadError)


def failed_without_effect(error: BaseException) -> bool:
    """Whether PTB's ``error`` proves the request did nothing, so sending it again is safe."""
    return isinstance(error, NetworkError) and isinstance(error.__cause__, NOT_SENT + UNANSWERED)


def outcome_unknown(error: BaseException) -> bool:
    """Whether ``error`` is a read timeout: the request arrived, and Telegram may have carried it out."""
    return isinstance(error, TimedOut) and isinstance(error.__cause__, httpx.ReadTimeout)


class RetryingRequest(HTTPXRequest):
    """PTB's HTTP client, sending a request again while it provably did not take effect.

    Args:
        retries: Times one request may be sent again (0: never).
        backoff: Seconds before the first resend; doubled before each further one.
        **kwargs: :class:`telegram.request.HTTPXRequest`'s (pool size, timeouts).
    """

    def __init__(self, *, retries: int, backoff: float, **kwargs: Any) -> None:
        if retries < 0 or backoff < 0:
            raise ValueError(f"retries and backoff must be >= 0, got retries={retries!r}, backoff={backoff!r}")
        super().__init__(**kwargs)
        self.retries = retries
        self.backoff = backoff

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send the request; on a failure without effect wait and send it again, up to ``retries`` times.

        Returns:
            The last attempt's status code and body (a 5xx once the retries are spent).

        Raises:
            telegram.error.NetworkError: The last attempt failed, or a failure that may have had effect.
        """
        endpoint = url.rsplit("/", 1)[-1]  # the URL carries the token: only the method name is ever logged
        attempt = 0
        while True:
            try:
                code, payload = await super().do_request(url, method, request_data, read_timeout, write_timeout,
                                                         connect_timeout, pool_timeout)
            except NetworkError as error:
                if attempt == self.retries or not failed_without_effect(error):
                    raise
                reason = type(error.__cause__).__name__
            else:
                if code < HTTPStatus.INTERNAL_SERVER_ERROR or attempt == self.retries:
                    return code, payload
                reason = f"HTTP {code}"
            delay = self.backoff * 2**attempt
            attempt += 1
            logger.warning("%s did not reach Telegram (%s); sending it again in %.2f s (retry %d of %d)",
                           endpoint, reason, delay, attempt, self.retries)
            await asyncio.sleep(delay)
