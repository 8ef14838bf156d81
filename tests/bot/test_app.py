"""The application factory: Bot API URLs, flood control, handler wiring, polling vs. webhook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr
from telegram.ext import AIORateLimiter, CallbackQueryHandler, CommandHandler, InlineQueryHandler, TypeHandler

from bot.app import ALLOWED_UPDATES, MissingToken, build_application, file_url, run
from bot.delivery import RetryingRequest
from bot.settings import BotSettings


@pytest.mark.parametrize(("base", "expected"), [
    ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot"),
    ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
    ("http://localhost:8081/", "http://localhost:8081/file/bot"),
], ids=["telegram", "local-bot-api", "no-bot-suffix"])
def test_file_url_follows_the_base_url(base: str, expected: str) -> None:
    assert file_url(base) == expected


def test_the_application_is_wired_once(make_settings: Callable[..., BotSettings]) -> None:
    application = build_application(make_settings(telegram_base_url="http://127.0.0.1:9/bot"))
    assert application.bot.base_url == "http://127.0.0.1:9/bot123456:TEST-TOKEN"
    assert isinstance(application.bot.rate_limiter, AIORateLimiter)
    request = application.bot.request
    assert isinstance(request, RetryingRequest), "sends that provably did nothing are sent again"
    assert (request.retries, request.backoff, request.read_timeout) == (3, 0.5, 5.0)
    assert application.concurrent_updates > 1
    gate = application.handlers[-1]
    assert len(gate) == 1
    assert isinstance(gate[0], TypeHandler), "the allow-list gate runs before everything"
    commands = {name for h in application.handlers[0] if isinstance(h, CommandHandler) for name in h.commands}
    assert commands == {"start", "help", "about", "ask", "new", "stats", "reload", "follow", "following", "unfollow"}
    buttons = [h for h in application.handlers[0] if isinstance(h, CallbackQueryHandler)]
    assert len(buttons) == 4
    assert any(isinstance(h, InlineQueryHandler) for h in application.handlers[0]), "inline mode is wired"
    assert buttons[-1].pattern is None, "unknown button data is caught last"
    assert application.error_handlers


def test_a_missing_token_is_refused(make_settings: Callable[..., BotSettings]) -> None:
    with pytest.raises(MissingToken):
        build_application(make_settings(telegram_bot_token=None))


@pytest.mark.parametrize("webhook", [None, "https://bot.example.test/akhbar/hook"], ids=["polling", "webhook"])
def test_polling_unless_a_webhook_url_is_set(make_settings: Callable[..., BotSettings],
                                             monkeypatch: pytest.MonkeyPatch, webhook: str | None) -> None:
    settings = make_settings(webhook_url=webhook, webhook_secret_token=SecretStr("s3cret"), webhook_port=8444)
    application = build_application(settings)
    calls: dict[str, dict[str, Any]] = {}
    monkeypatch.setattr(type(application), "run_polling", lambda self, **kw: calls.setdefault("polling", kw))
    monkeypatch.setattr(type(application), "run_webhook", lambda self, **kw: calls.setdefault("webhook", kw))
    run(application, settings)
    if webhook is None:
        assert calls == {"polling": {"allowed_updates": ALLOWED_UPDATES}}
    else:
        assert calls["webhook"]["url_path"] == "akhbar/hook"
        assert calls["webhook"]["webhook_url"] == webhook
        assert calls["webhook"]["secret_token"] == "s3cret"
        assert calls["webhook"]["port"] == 8444
