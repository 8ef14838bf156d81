"""Logging set-up for the bot's entry point: quiet libraries, and never a secret in a log line.

Only :mod:`bot.cli` calls :func:`configure_bot_logging` (libraries log, applications configure).
Bot API URLs contain the token, so the HTTP client's per-request lines are silenced, and every
handler's output is passed through :class:`RedactingFormatter` as a second line of defence
(an exception message or traceback could still quote a URL).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from index.cli import configure_logging

REDACTED = "[REDACTED]"


class RedactingFormatter(logging.Formatter):
    """Formats with the wrapped formatter, then replaces each secret (tracebacks included)."""

    def __init__(self, inner: logging.Formatter | None, secrets: Sequence[str]) -> None:
        super().__init__()
        self._inner = inner or logging.Formatter()
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Sequence[str]) -> None:
        """Redact ``secrets`` too (empty strings are ignored)."""
        self._secrets.extend(secret for secret in secrets if secret and secret not in self._secrets)

    def format(self, record: logging.LogRecord) -> str:
        """The inner formatter's text with every secret replaced."""
        text = self._inner.format(record)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def redact_secrets(secrets: Sequence[str], logger: logging.Logger | None = None) -> None:
    """Wrap the formatter of every handler of ``logger`` (default: root) so ``secrets`` never print.

    A handler wrapped by an earlier call gets these secrets added: skipping it would leave them in
    clear text there.
    """
    for handler in (logger or logging.getLogger()).handlers:
        if isinstance(handler.formatter, RedactingFormatter):
            handler.formatter.add(secrets)
        else:
            handler.setFormatter(RedactingFormatter(handler.formatter, secrets))


def configure_bot_logging(secrets: Sequence[str] = (), verbose: bool = False) -> None:
    """The index CLI's quiet set-up, the HTTP client at WARNING or above, the bot's lifecycle at INFO.

    Args:
        secrets: Strings to redact from every log line (the bot token).
        verbose: Log the bot's own lifecycle (start-up, reloads, refusals) at INFO.
    """
    configure_logging()
    for name in ("httpx", "httpcore"):
        http_logger = logging.getLogger(name)
        http_logger.setLevel(max(http_logger.level, logging.WARNING))
    if verbose:
        logging.getLogger("bot").setLevel(logging.INFO)
        logging.getLogger("telegram.ext").setLevel(logging.INFO)
    redact_secrets(secrets)
