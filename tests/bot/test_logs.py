"""Log redaction: a secret never printed, in a message or a traceback, whoever configured logging first."""

from __future__ import annotations

import io
import logging

import pytest

from bot.logs import REDACTED, install_record_redaction, redact_secrets, uninstall_record_redaction


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


def test_handlers_added_after_redaction_never_see_a_secret(capsys: pytest.CaptureFixture[str]) -> None:
    """Review finding #16: any handler, on any logger, added at any time, prints records already redacted."""
    secret = "987654:AAH-SECRET-TOKEN-VALUE_xyz"
    parent, child = logging.getLogger("test-late"), logging.getLogger("test-late.child.grandchild")
    parent.propagate = False
    parent.setLevel(logging.DEBUG)
    stream = io.StringIO()
    install_record_redaction([secret, ""])
    handler = logging.StreamHandler(stream)  # added after the redaction was set up
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    parent.addHandler(handler)
    try:
        child.warning("HTTP Request: POST http://127.0.0.1:1/bot%s/getMe %s", secret, {"token": secret})
        try:
            raise ConnectionError(f"lost /bot{secret}/sendMessage")
        except ConnectionError:
            child.exception("calling failed")
        child.error("where: %s", secret, stack_info=True)
        child.info("not a format %s %s", secret)  # a broken %-format still never prints the secret
    finally:
        parent.removeHandler(handler)
        uninstall_record_redaction()
    printed = stream.getvalue()
    reported = capsys.readouterr().err  # logging's own report of the broken format
    assert "Logging error" in reported
    assert "SECRET-TOKEN" not in reported
    assert "SECRET-TOKEN" not in printed
    assert f"/bot{REDACTED}/getMe" in printed
    assert f"ConnectionError: lost /bot{REDACTED}/sendMessage" in printed
    assert "Stack (most recent call last)" in printed
    after = logging.getLogger("test-late").makeRecord("x", logging.INFO, __file__, 1, secret, None, None)
    assert after.getMessage() == secret, "uninstalled: the previous record factory is back"
