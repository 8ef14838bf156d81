"""Log redaction: a secret never printed, in a message or a traceback, whoever configured logging first."""

from __future__ import annotations

import io
import logging

from bot.logs import REDACTED, redact_secrets


def logged_with(secrets_per_call: list[list[str]], text: str) -> str:
    """What a handler prints for an error record quoting ``text`` (message and traceback) after each call."""
    stream = io.StringIO()
    logger = logging.getLogger(f"test-redaction-{len(secrets_per_call)}")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        for secrets in secrets_per_call:
            redact_secrets(secrets, logger)
        try:
            raise ConnectionError(f"lost {text}")
        except ConnectionError:
            logger.exception("calling %s failed", text)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_secrets_are_redacted_in_messages_and_tracebacks() -> None:
    printed = logged_with([["123:SECRET"]], "https://api.test/bot123:SECRET/getMe")
    assert "SECRET" not in printed
    assert printed.count(REDACTED) == 2
    assert "ConnectionError: lost https://api.test/bot[REDACTED]/getMe" in printed


def test_a_later_call_adds_its_secrets_to_handlers_already_wrapped() -> None:
    printed = logged_with([["first-secret", ""], ["second-secret"]], "first-secret second-secret")
    assert "secret" not in printed.replace(REDACTED, "")
