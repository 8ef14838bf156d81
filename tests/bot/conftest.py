"""Bot fixtures: settings over the small real-article index, the fake Bot API, a running bot.

The index fixtures live in ``tests/index/conftest.py`` and are only visible under that folder;
they are re-exported here so the bot tests search the same 60 real articles, built once per
session with the tiny model. Hypothesis profiles ("default", "ci-slow") are loaded for every
folder by ``tests/conftest.py`` (``tests/hypothesis_profiles.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import build_application
from bot.settings import BotSettings
from corpus.types import Article
from tests.bot.fake_telegram import TOKEN, FakeTelegram
from tests.bot.polling import polling


@pytest.fixture(autouse=True)
def _no_bot_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer variable (or .env in the working directory) may leak into a test's settings."""
    for name in BotSettings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def make_settings(small_index: Path, tiny_model_dir: Path, tmp_path: Path) -> Callable[..., BotSettings]:  # noqa: F811
    """Settings over the small index and tiny model; lexical search, so tiny-model questions are meaningful."""

    def make(**overrides: Any) -> BotSettings:
        values: dict[str, Any] = {
            "index_dir": small_index, "embedding_model": str(tiny_model_dir), "cache_dir": tmp_path / "cache",
            "search_mode": "lexical", "telegram_bot_token": SecretStr(TOKEN), "no_answer_threshold": -1.0,
            "feedback_db": tmp_path / "feedback.sqlite", "feedback_salt": SecretStr("pepper"),
            "rate_limit_questions": 50, "reload_check_seconds": 3600}
        values.update(overrides)
        return BotSettings(_env_file=None, **values)

    return make


@pytest.fixture
def known_articles(news_records: list[dict]) -> list[Article]:
    """The first 60 real articles (those in the small index), as the reader types them."""
    return [Article(id=r["id"], title=r["title"], text=r["text"], source=r.get("source", ""), url=r.get("url", ""))
            for r in news_records[:60]]


@pytest.fixture
def by_url(known_articles: list[Article]) -> dict[str, Article]:
    """The known articles by URL (the link an answer names)."""
    return {a.url: a for a in known_articles}


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API, listening on 127.0.0.1 for the test's duration."""
    server = FakeTelegram()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def start_bot(fake_telegram: FakeTelegram, make_settings: Callable[..., BotSettings], tiny_embedder: Any
              ) -> Callable[..., contextlib.AbstractAsyncContextManager[Any]]:
    """``async with start_bot(**settings) as app``: the real application polling the fake server.

    ``embedder`` replaces the tiny model (its index must then be given as ``index_dir``).
    """

    @contextlib.asynccontextmanager
    async def start(embedder: Any = None, **overrides: Any) -> AsyncIterator[Any]:
        settings = make_settings(telegram_base_url=fake_telegram.base_url, **overrides)
        application = build_application(settings, embedder=embedder or tiny_embedder)
        async with polling(application, fake_telegram):
            yield application

    return start


@pytest.fixture
def capture_answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Record every Answer the bot computes (to know which passages a reply was made from)."""
    from bot.answerer import Answerer

    seen: list[Any] = []
    original = Answerer.answer

    def recording(self: Answerer, question: str, offset: int = 0, previous: Any = None) -> Any:
        answer = original(self, question, offset, previous)
        seen.append(answer)
        return answer

    monkeypatch.setattr(Answerer, "answer", recording)
    return seen

