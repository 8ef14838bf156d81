"""Settings of the Telegram bot and the console, read once from the environment and ``.env``.

:class:`BotSettings` extends :class:`index.IndexSettings` (index directory, model, search mode)
with what only the bot needs. The entry point (:mod:`bot.cli`) builds one instance and passes it
down; no other module reads the environment. Comma-separated id lists (``ALLOWED_CHAT_IDS=1,-100``)
are parsed here, because pydantic-settings would otherwise expect JSON for list fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

import index.settings
from index import IndexSettings

DEFAULT_NO_ANSWER_THRESHOLD = index.settings.DEFAULT_NO_ANSWER_THRESHOLD  # calibrated: see index.settings

IdSet = Annotated[frozenset[int], NoDecode]


class BotSettings(IndexSettings):
    """Every setting of the bot; ``.env.example`` documents each variable with its default."""

    telegram_bot_token: SecretStr | None = Field(
        None, description="Bot API token from @BotFather (TELEGRAM_BOT_TOKEN); not needed in console mode.")
    telegram_base_url: str = Field(
        "https://api.telegram.org/bot", description="Bot API base URL; the token is appended (TELEGRAM_BASE_URL).")
    telegram_timeout: float = Field(
        5.0, gt=0, description="Seconds to wait for the Bot API to connect, take a request and answer it "
                               "(a long poll waits this much longer than its own timeout).")
    telegram_retries: int = Field(
        3, ge=0, le=10, description="Times a request that provably did not take effect (connection refused or "
                                    "dropped without an answer, HTTP 5xx) is sent again.")
    telegram_retry_seconds: float = Field(
        0.5, ge=0, le=30,
        description="Seconds before the first resend of a failed request; doubled before each further one.")
    allowed_chat_ids: IdSet = Field(
        frozenset(), description="Comma-separated chat ids the bot serves; empty serves everyone.")
    admin_ids: IdSet = Field(frozenset(), description="Comma-separated user ids allowed /stats and /reload.")
    results_per_answer: int = Field(3, ge=1, le=10, description="Passages quoted per answer (and per 'more').")
    rate_limit_questions: int = Field(5, ge=1, description="Questions one user may ask per window.")
    rate_limit_seconds: float = Field(60.0, gt=0, description="Length of the per-user rate-limit window.")
    webhook_url: str | None = Field(None, description="Public HTTPS URL for webhooks; unset = long polling.")
    webhook_listen: str = Field("127.0.0.1", description="Address the webhook server binds to.")
    webhook_port: int = Field(8443, ge=1, le=65535, description="Port the webhook server binds to.")
    webhook_secret_token: SecretStr | None = Field(
        None, description="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token with each webhook call; "
                          "required when WEBHOOK_URL is set (1-256 of A-Z a-z 0-9 _ -), else the bot refuses to start.")
    feedback_db: Path = Field(Path("data/feedback.sqlite"), description="SQLite file for 👍/👎 feedback.")
    feedback_salt: SecretStr = Field(
        SecretStr(""), description="Salt of the sha256 that replaces user ids in the feedback table.")
    reload_check_seconds: float = Field(
        30.0, ge=0, description="How often, at most, to check whether INDEX_DIR/current switched builds.")
    context_turns: int = Field(
        3, ge=0, le=20, description="Answered questions remembered per conversation for follow-ups (0 = none).")
    context_minutes: float = Field(
        30.0, gt=0, description="Minutes after which a remembered question no longer completes a follow-up.")
    context_db: Path | None = Field(
        None, description="SQLite file keeping conversations across restarts; empty = memory only.")
    feeds_file: Path | None = Field(
        None, description="File of RSS/Atom feed URLs (one a line, # comments) the bot fetches every REFRESH_MINUTES, "
                          "adding their new articles to the index it serves; empty = no refresh. Re-read each time.")
    refresh_minutes: float = Field(
        15.0, gt=0, description="Minutes between two feed refreshes (the first runs right after start).")

    follow_threshold: float = Field(
        0.88, description="Relevance (question-passage cosine) a newly added article must reach to be pushed to a "
                          "chat following a topic; never below NO_ANSWER_THRESHOLD (a wrong alert costs more "
                          "than a late one). Calibrated with bench/follow_precision.py.")
    follow_max_topics: int = Field(10, ge=1, le=100, description="Topics one chat may follow at once.")
    follow_max_pushes_per_day: int = Field(
        10, ge=1, le=1000, description="Push messages one chat receives per UTC day at most.")
    follow_db: Path | None = Field(
        None, description="SQLite file of follows and pushes; empty = follows.sqlite beside FEEDBACK_DB.")

    @field_validator("feeds_file", mode="before")
    @classmethod
    def _empty_feeds_is_none(cls, value: object) -> object:
        """``FEEDS_FILE=`` (empty) means no refresh, not the current directory."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("context_db", "follow_db", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        """``CONTEXT_DB=`` (empty) means memory only, not the current directory."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("allowed_chat_ids", "admin_ids", mode="before")
    @classmethod
    def _parse_id_list(cls, value: object) -> object:
        """Accept ``"1, -100200"`` (what an env file holds) besides real sequences."""
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",")]
            try:
                return frozenset(int(part) for part in parts if part)
            except ValueError:
                raise ValueError(f"expected comma-separated integers, got {value!r}") from None
        if isinstance(value, int):
            return frozenset({value})
        return value

    @property
    def push_threshold(self) -> float:
        """The bar a new article must clear to be pushed: ``FOLLOW_THRESHOLD``, and never below the no-answer one."""
        return max(self.follow_threshold, self.no_answer_threshold)

    @property
    def follow_path(self) -> Path:
        """Where follows are kept: ``FOLLOW_DB``, else ``follows.sqlite`` beside the feedback store."""
        return self.follow_db if self.follow_db is not None else self.feedback_db.with_name("follows.sqlite")

    @property
    def token(self) -> str | None:
        """The bot token as plain text (only for the Application builder; never log it)."""
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None
