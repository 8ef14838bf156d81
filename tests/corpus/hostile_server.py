"""A loopback HTTP server whose every answer is scripted by the test: bombs, trickles, redirects, odd charsets.

Each route is a callable that writes the whole raw response to the socket itself, so a test can
send headers a byte at a time, lie about encodings or stall. Serves on 127.0.0.1 only, one thread
per connection, and stops with the ``with`` block (every handler is bounded in time).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Route = Callable[[BaseHTTPRequestHandler], None]


def respond(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    """Send a complete response (with ``Content-Length``)."""
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        handler.wfile.write(body)


def trickle(handler: BaseHTTPRequestHandler, raw: bytes, every: float, give_up: float) -> None:
    """Write ``raw`` one byte at a time, a byte every ``every`` seconds, for at most ``give_up`` seconds."""
    ended = time.monotonic() + give_up
    with contextlib.suppress(BrokenPipeError, ConnectionResetError, OSError):
        for byte in raw:
            if time.monotonic() > ended:
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(every)


class ScriptedServer:
    """``with ScriptedServer({"/path": route}) as server:``; ``server.hits`` counts requests per path."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> ScriptedServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path = self.path.split("?")[0]
                with server._lock:
                    server.hits[path] = server.hits.get(path, 0) + 1
                route = server.routes.get(path)
                if route is None:
                    respond(self, 404, b"not found", {"Content-Type": "text/plain"})
                else:
                    route(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="scripted-server", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``, as named in ``FEED_ALLOWED_PRIVATE_HOSTS``."""
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        """``http://127.0.0.1:<port><path>``."""
        return f"http://{self.host}{path}"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
