"""Where the feed fetcher may connect: public addresses only, checked on the address actually used.

A feed item's link, a page's redirect, or a feed listed by mistake can name any host. Fetching
``http://127.0.0.1:8080/admin`` or ``http://169.254.169.254/`` (cloud metadata) from the bot's
machine and indexing the answer would publish internal pages to every reader (server-side request
forgery). So every connection the fetcher opens goes through :class:`GuardedBackend`, an httpcore
network backend that resolves the host itself, refuses every address that is not globally routable
(loopback, private, link-local, carrier-grade NAT, multicast, reserved, unspecified; IPv4 and IPv6,
IPv4-mapped IPv6 included) and then connects to the very address it checked. Checking a name and
letting the HTTP library resolve it again would leave a DNS-rebinding gap: the second answer may
differ from the first.

Intranet feeds are allowed by name in ``FEED_ALLOWED_PRIVATE_HOSTS`` (``host`` or ``host:port``); a
``host:port`` entry allows that port only. The backend also enforces the request's overall deadline
(:func:`deadline`): every read and write waits at most for what is left of it, so a server that
trickles a byte at a time is cut off when the deadline passes, not after a per-read timeout each.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpcore

#: An httpcore socket option: ``(level, option, value)`` (or a 4-tuple with a buffer length).
SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


class BlockedAddress(Exception):
    """A host whose address the fetcher must not connect to; the message is the one-line reason."""


def _address_kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why ``address`` is not a public internet address (``"loopback"``, ``"private"``…), or None if it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _address_kind(address.ipv4_mapped)
    for kind in ("loopback", "unspecified", "link_local", "multicast", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    if not address.is_global:  # e.g. 100.64.0.0/10 (carrier-grade NAT), 192.0.0.0/24
        return "non-global"
    return None


def parse_allowed_hosts(value: str | Iterable[str]) -> frozenset[str]:
    """``FEED_ALLOWED_PRIVATE_HOSTS`` as a set of lower-cased ``host`` and ``host:port`` entries.

    Accepts a comma-separated string or an iterable of entries; ``[::1]:8080`` keeps its brackets
    off so that entries compare with what the URL's host is.
    """
    entries = value.split(",") if isinstance(value, str) else value
    allowed: set[str] = set()
    for entry in entries:
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry.startswith("["):  # [v6]:port or [v6]
            host, _, rest = entry[1:].partition("]")
            entry = f"{host}{rest}" if rest.startswith(":") else host
        allowed.add(entry)
    return frozenset(allowed)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which private hosts are allowed; every public address is.

    Attributes:
        allowed_private_hosts: Lower-cased ``host`` (any port) or ``host:port`` entries, matched
            against the URL's host name and against the resolved address.

    """

    allowed_private_hosts: frozenset[str] = frozenset()

    def allows_private(self, host: str, port: int, address: str) -> bool:
        """Whether a private ``address`` of ``host:port`` was allowed by name or by address."""
        names = {host.lower().strip("[]"), address.lower()}
        return any(name in self.allowed_private_hosts or f"{name}:{port}" in self.allowed_private_hosts
                   for name in names)

    def check(self, host: str, port: int, address: str) -> None:
        """Refuse ``address`` (resolved from ``host``) unless public or allowed.

        Raises:
            BlockedAddress: the address is private and neither the host nor the address is allowed.

        """
        kind = _address_kind(ipaddress.ip_address(address.split("%", 1)[0]))
        if kind is None or self.allows_private(host, port, address):
            return
        shown = host if host.strip("[]") == address else f"{host} ({address})"
        raise BlockedAddress(f"refused {shown}:{port}: a {kind} address (name it in FEED_ALLOWED_PRIVATE_HOSTS "
                             f"to allow an intranet feed)")

    def check_literal(self, host: str, port: int) -> None:
        """Refuse a URL whose host is an IP literal that is not allowed, before any connection is tried.

        Names are checked when they are resolved (:class:`GuardedBackend`); this early check also covers
        fetchers given another transport (tests) and gives the reason before any request is made.
        """
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return
        self.check(host, port, str(address))


_deadline = threading.local()


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Let every socket operation of this thread's fetcher finish within ``seconds`` from now, in all."""
    previous = getattr(_deadline, "at", None)
    _deadline.at = time.monotonic() + seconds
    try:
        yield
    finally:
        _deadline.at = previous


def _time_left(timeout: float | None) -> float | None:
    """The timeout to give one socket operation: the smaller of its own and what the deadline leaves."""
    at: float | None = getattr(_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the request's overall deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose reads and writes never wait past the request's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _time_left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _time_left(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _time_left(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to addresses the :class:`AddressPolicy` allows.

    The host is resolved here, every address checked, and the connection opened to the first
    allowed one: the address checked is the address used.
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[SocketOption] | None = None) -> httpcore.NetworkStream:
        """Resolve ``host``, refuse what the policy refuses, connect to the first allowed address."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from None
        refusals: list[BlockedAddress] = []
        for *_, sockaddr in infos:
            address = str(sockaddr[0])
            try:
                self.policy.check(host, port, address)
            except BlockedAddress as refusal:
                refusals.append(refusal)
                continue
            # Connect to the checked address itself (a literal: nothing is resolved again).
            stream = super().connect_tcp(address, port, _time_left(timeout), local_address, socket_options)
            return _DeadlineStream(stream)
        raise refusals[0] if refusals else httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[SocketOption] | None = None) -> httpcore.NetworkStream:
        """Refuse: a feed URL never names a local socket."""
        raise BlockedAddress("refused: feeds are fetched over TCP only")
