"""Logging set-up for the bot's entry point: quiet libraries, and never a secret in a log line.

Only :mod:`bot.cli` calls :func:`configure_bot_logging` (libraries log, applications configure).
Bot API URLs contain the token, so the HTTP client's per-request lines are silenced, and secrets
are removed twice:

* from every record as it is created (:func:`install_record_redaction`, a log-record factory):
  message, arguments, traceback and stack text are rewritten before any handler sees the record,
  so a handler added later (a ``FileHandler`` an operator attaches, a library raising httpx to
  DEBUG) can never print the token. A filter on the ``httpx``/``telegram`` loggers would not do:
  logger filters skip records that propagate from child loggers (``telegram.ext.Updater``);
* by :class:`RedactingFormatter` on the handlers present at start-up, a second line of defence
  for records made by a custom ``makeRecord`` that bypasses the factory.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from index.runtime import configure_logging

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


RecordFactory = Callable[..., logging.LogRecord]


class _RecordRedactor:
    """A log-record factory: the previous factory's record, with every secret replaced in its text."""

    def __init__(self, inner: RecordFactory) -> None:
        self.inner = inner
        self.secrets: tuple[str, ...] = ()

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        if self.secrets:
            _redact_record(record, self.secrets)
        return record


def _redacted(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def _redact_record(record: logging.LogRecord, secrets: Sequence[str]) -> None:
    """Rewrite the record's message (arguments merged in) and traceback text without ``secrets``.

    Merging the arguments is what any formatter does first; done here, no handler can format
    them again with the secret. A message that cannot be formatted is left to the handler's
    own error reporting (which then shows the redacted template and arguments).
    """
    try:
        message = record.getMessage()
    except Exception:  # a broken %-format is the handler's to report, not ours
        record.msg = _redacted(str(record.msg), secrets)
        record.args = tuple(_redacted(repr(arg), secrets) for arg in record.args or ()) or None
    else:
        if any(secret in message for secret in secrets):
            message = _redacted(message, secrets)
        record.msg, record.args = message, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = _redacted(record.exc_text, secrets)
    if record.stack_info:
        record.stack_info = _redacted(record.stack_info, secrets)


_factory_lock = threading.Lock()


def install_record_redaction(secrets: Sequence[str]) -> None:
    """Redact ``secrets`` from every log record from now on, whichever logger and handler (idempotent).

    Calling again adds secrets; the factory installed before the first call keeps running inside.
    """
    wanted = [secret for secret in secrets if secret]
    if not wanted:
        return
    with _factory_lock:
        factory = logging.getLogRecordFactory()
        if not isinstance(factory, _RecordRedactor):
            factory = _RecordRedactor(factory)
            logging.setLogRecordFactory(factory)
        factory.secrets = tuple(dict.fromkeys([*factory.secrets, *wanted]))


def uninstall_record_redaction() -> None:
    """Put back the record factory that was there before :func:`install_record_redaction` (tests)."""
    with _factory_lock:
        factory = logging.getLogRecordFactory()
        if isinstance(factory, _RecordRedactor):
            logging.setLogRecordFactory(factory.inner)


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
    install_record_redaction(secrets)
    redact_secrets(secrets)
