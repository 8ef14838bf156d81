"""Bot settings: environment and .env parsing, comma-separated id lists, secrets kept out of reprs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import DEFAULT_NO_ANSWER_THRESHOLD, BotSettings


def test_defaults_need_no_token() -> None:
    settings = BotSettings(_env_file=None)
    assert settings.token is None
    assert settings.allowed_chat_ids == frozenset()
    assert settings.results_per_answer == 3
    assert settings.telegram_base_url == "https://api.telegram.org/bot"
    assert settings.webhook_url is None
    assert settings.no_answer_threshold == DEFAULT_NO_ANSWER_THRESHOLD
    assert settings.feedback_db == Path("data/feedback.sqlite")
    assert (settings.context_turns, settings.context_minutes, settings.context_db) == (3, 30.0, None)


@pytest.mark.parametrize(("raw", "expected"), [("", None), ("  ", None), ("data/context.sqlite",
                                                                            Path("data/context.sqlite"))],
                         ids=["empty", "blank", "path"])
def test_an_empty_context_db_means_memory_only(monkeypatch: pytest.MonkeyPatch, raw: str,
                                                expected: Path | None) -> None:
    monkeypatch.setenv("CONTEXT_DB", raw)
    monkeypatch.setenv("CONTEXT_TURNS", "5")
    settings = BotSettings(_env_file=None)
    assert settings.context_db == expected
    assert settings.context_turns == 5


@pytest.mark.parametrize(("raw", "expected"), [
    ("", frozenset()), ("42", {42}), ("1,2, 3", {1, 2, 3}), (" -1001234567890 , 5,", {-1001234567890, 5}),
], ids=["empty", "one", "spaces", "group-and-trailing-comma"])
def test_id_lists_are_comma_separated(monkeypatch: pytest.MonkeyPatch, raw: str, expected: set[int]) -> None:
    monkeypatch.setenv("ALLOWED_CHAT_IDS", raw)
    monkeypatch.setenv("ADMIN_IDS", raw)
    settings = BotSettings(_env_file=None)
    assert settings.allowed_chat_ids == expected
    assert settings.admin_ids == expected


@pytest.mark.parametrize("raw", ["abc", "1;2", "1,,x", "[1, 2]"], ids=["word", "semicolon", "junk", "json"])
def test_bad_id_lists_are_refused_with_the_value(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("ADMIN_IDS", raw)
    with pytest.raises(ValidationError, match="comma-separated integers"):
        BotSettings(_env_file=None)


def test_env_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / ".env"
    env.write_text("TELEGRAM_BOT_TOKEN=123:SECRET-FROM-FILE\nRATE_LIMIT_QUESTIONS=7\nWEBHOOK_URL=https://x.test/hook\n"
                   "INDEX_DIR=/srv/akhbar/index\nNO_ANSWER_THRESHOLD=0.5\n", encoding="utf-8")
    monkeypatch.setenv("RATE_LIMIT_SECONDS", "30")
    settings = BotSettings(_env_file=env)
    assert settings.token == "123:SECRET-FROM-FILE"
    assert settings.rate_limit_questions == 7
    assert settings.rate_limit_seconds == 30
    assert settings.webhook_url == "https://x.test/hook"
    assert settings.index_dir == Path("/srv/akhbar/index")
    assert settings.no_answer_threshold == 0.5
    assert "SECRET-FROM-FILE" not in repr(settings)
    assert "SECRET-FROM-FILE" not in str(settings.model_dump())


@pytest.mark.parametrize(("name", "value"), [("RESULTS_PER_ANSWER", "0"), ("RATE_LIMIT_SECONDS", "0"),
                                             ("NO_ANSWER_THRESHOLD", "2"), ("WEBHOOK_PORT", "70000"),
                                             ("TELEGRAM_TIMEOUT", "0"), ("TELEGRAM_RETRIES", "-1"),
                                             ("CONTEXT_TURNS", "-1"), ("CONTEXT_MINUTES", "0")])
def test_out_of_range_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        BotSettings(_env_file=None)
