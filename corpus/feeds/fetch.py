"""A polite HTTP client for feeds and article pages (httpx, already installed with python-telegram-bot).

Politeness and safety, each a setting (:class:`FetchSettings`):

* one request at a time, and at least ``delay`` seconds between two requests to the same host;
* a ``timeout`` on connecting and on every read, so a stalled site costs seconds, not the run;
* at most ``max_bytes`` per response, read as a stream and abandoned beyond it;
* an honest ``User-Agent``;
* conditional requests: the caller passes the ``ETag`` / ``Last-Modified`` it stored, and a
  ``304 Not Modified`` comes back as such, with no body to parse.

Every failure (DNS, refused connection, timeout, an HTTP error status, an oversized body) is a
:class:`FetchFailed` whose message is one line for the run's report.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import httpx

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "Akhbar/0.1 (Arabic news archive bot)"


def public_url(url: str) -> str:
    """A URL fit for logs: no user name or password, no query (feeds may carry an API key there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "…" if parts.query else "", ""))


class FetchFailed(Exception):
    """A request that gave no usable answer; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How politely and how patiently to fetch (see the module docstring).

    Attributes:
        timeout: Seconds to connect, and to wait for each read.
        delay: Least seconds between two requests to the same host.
        max_bytes: Largest response body read.
        user_agent: The ``User-Agent`` header.
    """

    timeout: float = 20.0
    delay: float = 1.0
    max_bytes: int = 5 * 1024 * 1024
    user_agent: str = DEFAULT_USER_AGENT

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, got `{self.timeout}`")
        if self.delay < 0:
            raise ValueError(f"delay must not be negative, got `{self.delay}`")
        if self.max_bytes < 1024:
            raise ValueError(f"max_bytes must be at least 1024, got `{self.max_bytes}`")


@dataclass(frozen=True, slots=True)
class Fetched:
    """One answer: its final URL (after redirects), status, body and the headers the caller needs.

    Attributes:
        url: Where the body came from, after redirects.
        status: 200 (or another 2xx), or 304 when the conditional request matched.
        content: The body (empty for 304).
        content_type: The ``Content-Type`` header.
        etag: The ``ETag`` header, to send back as ``If-None-Match``.
        last_modified: The ``Last-Modified`` header, to send back as ``If-Modified-Since``.
    """

    url: str
    status: int
    content: bytes
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        """The server said nothing changed since the validators we sent."""
        return self.status == 304


class Fetcher:
    """Fetches URLs one at a time, with a per-host delay; use as a context manager (closes connections).

    Args:
        settings: Timeouts, delay, size cap, User-Agent.
        transport: An httpx transport to use instead of the network (tests of odd answers).
    """

    def __init__(self, settings: FetchSettings | None = None, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings or FetchSettings()
        self._client = httpx.Client(timeout=httpx.Timeout(self.settings.timeout), follow_redirects=True,
                                    max_redirects=5, headers={"User-Agent": self.settings.user_agent},
                                    transport=transport)
        self._last_request: dict[str, float] = {}

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """GET ``url``, conditionally when validators are given.

        Raises:
            FetchFailed: not an http(s) URL, a network error or timeout, an error status, or a body
                larger than ``max_bytes``.
        """
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise FetchFailed(f"not an http(s) URL: {url[:120]!r}")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        self._wait_for(parts.hostname)
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304:
                    return Fetched(str(response.url), 304, b"", response.headers.get("content-type", ""),
                                   response.headers.get("etag") or etag,
                                   response.headers.get("last-modified") or last_modified)
                if response.status_code >= 400:
                    raise FetchFailed(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
                content = self._read_capped(response)
                return Fetched(str(response.url), response.status_code, content,
                               response.headers.get("content-type", ""), response.headers.get("etag"),
                               response.headers.get("last-modified"))
        except httpx.TimeoutException:
            raise FetchFailed(f"no answer within {self.settings.timeout:g} s") from None
        except httpx.TooManyRedirects:
            raise FetchFailed("too many redirects") from None
        except httpx.HTTPError as error:
            raise FetchFailed(f"{type(error).__name__}: {error}".rstrip(": ")) from None
        finally:
            self._last_request[parts.hostname] = time.monotonic()

    def _wait_for(self, host: str) -> None:
        """Sleep until ``delay`` seconds have passed since the last request to ``host``."""
        last = self._last_request.get(host)
        if last is not None:
            wait = self.settings.delay - (time.monotonic() - last)
            if wait > 0:
                time.sleep(wait)

    def _read_capped(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.settings.max_bytes:
            raise FetchFailed(f"body of {int(declared):,} bytes exceeds the {self.settings.max_bytes:,}-byte limit")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.settings.max_bytes:
                raise FetchFailed(f"body exceeds the {self.settings.max_bytes:,}-byte limit")
            chunks.append(chunk)
        return b"".join(chunks)
