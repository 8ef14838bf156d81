""""typing…" only for slow answers: a fast one costs one Bot API call, not two (issue #15).

Outgoing calls share PTB's flood budget (30/s), so a typing action before every answer halved
the answers per second. Each test sets ``TYPING_DELAY`` well away from how long its answer
takes, so the outcome does not depend on the machine's load.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot import handlers
from bot.answerer import Answerer
from corpus.types import Article
from tests.bot.fake_telegram import FakeTelegram
from tests.bot.helpers import ask, question_from

pytestmark = [pytest.mark.e2e]


def actions_to(server: FakeTelegram, chat_id: int) -> list[Any]:
    return [c for c in server.requests("sendChatAction") if c.params["chat_id"] == chat_id]


async def test_a_fast_answer_sends_no_typing_action(start_bot, fake_telegram: FakeTelegram,
                                                    known_articles: list[Article],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handlers, "TYPING_DELAY", 5.0)  # the tiny model answers in well under a second
    async with start_bot():
        for chat_id, article in zip((901, 902), known_articles[3:5], strict=True):
            [reply] = await ask(fake_telegram, question_from(article), chat_id=chat_id)
            assert "<blockquote>" in reply.params["text"]
        await fake_telegram.settle()
    assert fake_telegram.requests("sendChatAction", status=None) == [], "one call per answer: the message"


async def test_a_slow_answer_shows_typing_before_it_and_renews_it(start_bot, fake_telegram: FakeTelegram,
                                                                 known_articles: list[Article],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handlers, "TYPING_DELAY", 0.2)
    monkeypatch.setattr(handlers, "TYPING_RENEW", 0.4)
    original = Answerer.answer

    def slow(self: Answerer, question: str, offset: int = 0, previous: Any = None) -> Any:
        time.sleep(1.3)  # in the worker thread, as a slow search would be
        return original(self, question, offset, previous)

    monkeypatch.setattr(Answerer, "answer", slow)
    async with start_bot():
        [reply] = await ask(fake_telegram, question_from(known_articles[6]), chat_id=903)
        await fake_telegram.settle(0.6)  # longer than TYPING_RENEW: a renewal left running would show now
    actions = actions_to(fake_telegram, 903)
    assert len(actions) >= 2, "shown after TYPING_DELAY, renewed every TYPING_RENEW"
    assert all(a.params["action"] == "typing" for a in actions)
    assert all(a.at <= reply.at for a in actions), "no typing after the answer: the timer stops with it"
    assert "<blockquote>" in reply.params["text"]
