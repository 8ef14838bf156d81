"""A polite HTTP client for feeds and article pages (httpx, already installed with python-telegram-bot).

Politeness and safety, each a setting (:class:`FetchSettings`):

* one request at a time, and at least ``delay`` seconds between two requests to the same host;
* public addresses only, checked on the address connected to, on every redirect hop
  (:mod:`corpus.feeds.guard`); private hosts only when named in ``allowed_private_hosts``;
* a ``timeout`` for the whole request (connecting, headers, body), so a server trickling a byte at
  a time costs ``timeout`` seconds, not the run;
* at most ``max_bytes`` per response, counted after decoding (gzip, deflate, zstd, Brotli) and
  abandoned as soon as it is crossed (:mod:`corpus.feeds.bounded`): a decompression bomb costs
  no more than the cap;
* an honest ``User-Agent``;
* conditional requests: the caller passes the ``ETag`` / ``Last-Modified`` it stored, and a
  ``304 Not Modified`` comes back as such, with no body to parse.

Every failure (DNS, refused connection, timeout, an HTTP error status, an oversized body) is a
:class:`FetchFailed` whose message is one line for the run's report.
"""

from __future__ import annotations

import logging
import ssl
import time
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urljoin, urlsplit, urlunsplit

import certifi
import httpcore
import httpx

from corpus.feeds.bounded import ACCEPT_ENCODING, BodyRefused, read_capped
from corpus.feeds.guard import AddressPolicy, BlockedAddress, GuardedBackend, deadline

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "Akhbar/0.1 (Arabic news archive bot)"
#: Redirect hops followed per request (each one checked like the first URL).
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


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
        timeout: Seconds for a whole request: connecting, redirects, headers and body.
        delay: Least seconds between two requests to the same host.
        max_bytes: Largest response body read, in decoded bytes.
        user_agent: The ``User-Agent`` header.
        allowed_private_hosts: ``host`` or ``host:port`` entries (lower case) that may resolve to
            private addresses (intranet feeds, the tests' servers on 127.0.0.1); see
            :func:`corpus.feeds.guard.parse_allowed_hosts`.
        run_seconds: Time budget of one feed run: once spent, the remaining pages wait for the next
            run, so slow sites cannot hold a run (and the bot's next refresh) for an hour.
    """

    timeout: float = 20.0
    delay: float = 1.0
    max_bytes: int = 2 * 1024 * 1024
    user_agent: str = DEFAULT_USER_AGENT
    allowed_private_hosts: frozenset[str] = field(default_factory=frozenset)
    run_seconds: float = 600.0

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, got `{self.timeout}`")
        if self.delay < 0:
            raise ValueError(f"delay must not be negative, got `{self.delay}`")
        if self.run_seconds <= 0:
            raise ValueError(f"run_seconds must be positive, got `{self.run_seconds}`")
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


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over :class:`~corpus.feeds.guard.GuardedBackend`: every connection checked.

    Environment proxies are ignored (``trust_env=False``): through a proxy, the address checked
    would be the proxy's, not the site's.
    """

    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(ssl_context=ssl.create_default_context(cafile=certifi.where()),
                                             max_connections=10, max_keepalive_connections=5,
                                             keepalive_expiry=5.0, network_backend=GuardedBackend(policy))


class Fetcher:
    """Fetches URLs one at a time, with a per-host delay; use as a context manager (closes connections).

    Args:
        settings: Timeouts, delay, size cap, User-Agent, allowed private hosts.
        transport: An httpx transport to use instead of the network (tests of odd answers). IP
            literals are still checked against the policy; names are checked only by the default
            transport, which resolves them.
    """

    def __init__(self, settings: FetchSettings | None = None, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings or FetchSettings()
        self._policy = AddressPolicy(self.settings.allowed_private_hosts)
        self._client = httpx.Client(timeout=httpx.Timeout(self.settings.timeout), follow_redirects=False,
                                    headers={"User-Agent": self.settings.user_agent,
                                             "Accept-Encoding": ACCEPT_ENCODING},
                                    transport=transport or GuardedTransport(self._policy), trust_env=False)
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
        """GET ``url``, conditionally when validators are given, following up to 5 checked redirects.

        Raises:
            FetchFailed: not an http(s) URL, a refused address, a network error, no complete answer
                within ``timeout``, an error status, or a body larger than ``max_bytes``.
        """
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            with deadline(self.settings.timeout):
                return self._follow(url, headers)
        except httpx.TimeoutException:
            raise FetchFailed(f"no complete answer within {self.settings.timeout:g} s") from None
        except (BlockedAddress, BodyRefused) as error:
            raise FetchFailed(str(error)) from None
        except httpx.HTTPError as error:
            raise FetchFailed(f"{type(error).__name__}: {error}".rstrip(": ")) from None

    def _follow(self, url: str, headers: dict[str, str]) -> Fetched:
        """Request ``url`` and each redirect target in turn, every hop checked before it is requested."""
        for _ in range(MAX_REDIRECTS + 1):
            host = self._checked(url)
            self._wait_for(host)
            try:
                with self._client.stream("GET", url, headers=headers) as response:
                    location = response.headers.get("location", "").strip()
                    if response.status_code in _REDIRECTS and location:
                        url = urljoin(url, location)
                        continue
                    return self._answer(url, response, headers)
            finally:
                self._last_request[host] = time.monotonic()
        raise FetchFailed("too many redirects")

    def _checked(self, url: str) -> str:
        """The host of ``url``, after checking its scheme and, for an IP literal, its address."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise FetchFailed(f"not an http(s) URL: {public_url(url)[:120]!r}")
        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except ValueError:
            raise FetchFailed(f"invalid port in {public_url(url)[:120]!r}") from None
        self._policy.check_literal(parts.hostname, port)
        return parts.hostname

    def _answer(self, url: str, response: httpx.Response, sent: dict[str, str]) -> Fetched:
        """The :class:`Fetched` of a final (non-redirect) response, its body read within the cap."""
        content_type = response.headers.get("content-type", "")
        if response.status_code == 304:
            return Fetched(url, 304, b"", content_type, response.headers.get("etag") or sent.get("If-None-Match"),
                           response.headers.get("last-modified") or sent.get("If-Modified-Since"))
        if response.status_code >= 400:
            raise FetchFailed(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.settings.max_bytes:
            raise FetchFailed(f"body of {int(declared):,} bytes exceeds the {self.settings.max_bytes:,}-byte limit")
        content = read_capped(response.iter_raw(), response.headers.get("content-encoding", ""),
                              self.settings.max_bytes)
        return Fetched(url, response.status_code, content, content_type, response.headers.get("etag"),
                       response.headers.get("last-modified"))

    def _wait_for(self, host: str) -> None:
        """Sleep until ``delay`` seconds have passed since the last request to ``host``."""
        last = self._last_request.get(host)
        if last is not None:
            wait = self.settings.delay - (time.monotonic() - last)
            if wait > 0:
                time.sleep(wait)
