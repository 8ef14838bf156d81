"""Webhook mode (review finding #5): never without a secret, and forged updates are refused.

A real webhook server (PTB's, started with the options :func:`bot.app.webhook_options` builds
for ``run_webhook``) listens on 127.0.0.1; the outgoing side is the fake Bot API. Every request
has a timeout, and the server is stopped at the end of each test.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from bot.app import App, MissingWebhookSecret, build_application, run, webhook_options
from bot.cli import app as cli
from bot.settings import BotSettings
from tests.bot.builders import message_update
from tests.bot.fake_telegram import FakeTelegram

pytestmark = [pytest.mark.e2e]

SECRET = "webhook-secret_0123456789"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
_update_ids = itertools.count(1)


def free_port() -> int:
    """A port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def serving_webhook(application: App, settings: BotSettings) -> AsyncIterator[None]:
    """What ``run_webhook`` does, around a ``yield``: init, post_init, start, the webhook server; then stop."""
    async with application:
        await application.post_init(application)
        await application.start()
        assert application.updater is not None
        await application.updater.start_webhook(**webhook_options(settings), bootstrap_retries=0)
        try:
            yield
        finally:
            await application.updater.stop()
            await application.stop()
            await application.post_shutdown(application)


def forged_stats(chat_id: int, user_id: int) -> dict[str, Any]:
    """A hand-written ``/stats`` update, as an attacker who found the URL would POST it."""
    return {"update_id": next(_update_ids), **message_update("/stats", chat_id=chat_id, user_id=user_id)}


async def test_updates_without_the_secret_header_are_refused(fake_telegram: FakeTelegram,
                                                           make_settings: Callable[..., BotSettings],
                                                           tiny_embedder: Any) -> None:
    port = free_port()
    settings = make_settings(telegram_base_url=fake_telegram.base_url, webhook_url=f"http://127.0.0.1:{port}/hook",
                             webhook_listen="127.0.0.1", webhook_port=port, webhook_secret_token=SecretStr(SECRET),
                             admin_ids=frozenset({999}), allowed_chat_ids=frozenset({111}))
    application = build_application(settings, embedder=tiny_embedder)
    url = f"http://127.0.0.1:{port}/hook"
    async with serving_webhook(application, settings), httpx.AsyncClient(timeout=10) as client:
        assert fake_telegram.webhook["url"] == url
        assert fake_telegram.webhook["secret_token"] == SECRET, "Telegram is told the secret to send"
        without = await client.post(url, json=forged_stats(111, 999))
        wrong = await client.post(url, json=forged_stats(111, 999), headers={HEADER: SECRET[:-1] + "x"})
        empty = await client.post(url, json=forged_stats(111, 999), headers={HEADER: ""})
        await fake_telegram.settle()
        assert fake_telegram.sent() == [], "no forged update was handled"
        genuine = await client.post(url, json=forged_stats(111, 999), headers={HEADER: SECRET})
        await fake_telegram.wait_for(lambda: len(fake_telegram.sent(111)) == 1)
    assert (without.status_code, wrong.status_code, empty.status_code) == (403, 403, 403)
    assert genuine.status_code == 200
    assert "إحصاءات" in fake_telegram.sent(111)[0].params["text"], "the same update with the secret is served"


@pytest.mark.parametrize("secret", [None, "", "   "], ids=["unset", "empty", "blank"])
def test_run_refuses_a_webhook_without_a_secret(make_settings: Callable[..., BotSettings], tiny_embedder: Any,
                                                secret: str | None) -> None:
    settings = make_settings(webhook_url="https://bot.example.test/hook",
                             webhook_secret_token=None if secret is None else SecretStr(secret))
    application = build_application(settings, embedder=tiny_embedder)
    with pytest.raises(MissingWebhookSecret, match="WEBHOOK_SECRET_TOKEN"):
        run(application, settings)  # raises before any server or Bot API call


@pytest.mark.parametrize("secret", [None, "", "  ", "has spaces and ü"], ids=["unset", "empty", "blank", "invalid"])
def test_the_cli_refuses_webhook_mode_without_a_usable_secret(small_index: Path, secret: str | None) -> None:
    token = "424242:NEVER-PRINT-ME"
    env = {"TELEGRAM_BOT_TOKEN": token, "WEBHOOK_URL": "https://bot.example.test/hook", "INDEX_DIR": str(small_index)}
    if secret is not None:
        env["WEBHOOK_SECRET_TOKEN"] = secret
    result = CliRunner().invoke(cli, [], env=env)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "WEBHOOK_SECRET_TOKEN" in lines[0]
    assert token not in result.output
    assert "Traceback" not in result.output


def test_the_real_entry_point_refuses_webhook_mode_without_a_secret(small_index: Path, tmp_path: Path) -> None:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": "424242:NEVER-PRINT-ME", "WEBHOOK_URL": "https://bot.example.test/h",
           "WEBHOOK_SECRET_TOKEN": "", "INDEX_DIR": str(small_index)}
    done = subprocess.run([sys.executable, "-m", "bot"], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: WEBHOOK_SECRET_TOKEN is not set")
    assert "NEVER-PRINT-ME" not in done.stdout + done.stderr
