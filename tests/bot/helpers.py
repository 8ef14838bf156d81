"""Helpers of the bot tests: questions written from known articles, and asking the running bot."""

from __future__ import annotations

import re
from typing import Any

from corpus.types import Article
from tests.bot.builders import message_update
from tests.bot.fake_telegram import Call, FakeTelegram

#: An Arabic sentence of roughly 10-40 words: distinctive enough to find its article lexically.
_SENTENCE = re.compile(r"[^.!؟?\n]{60,220}[.!؟?]")


def question_from(article: Article) -> str:
    """An Arabic question built from one distinctive sentence of the article."""
    match = _SENTENCE.search(article.text)
    assert match, f"no sentence to ask about in {article.id}"
    return f"ماذا جاء في الخبر: {match.group(0).strip()}"


async def ask(server: FakeTelegram, text: str, *, chat_id: int = 501, user_id: int | None = None,
              replies: int = 1, timeout: float = 15.0, **kwargs: Any) -> list[Call]:
    """Inject a message and wait for ``replies`` more messages to that chat; returns the new ones."""
    before = len(server.sent(chat_id))
    server.inject(message_update(text, chat_id=chat_id, user_id=user_id, **kwargs))
    await server.wait_for(lambda: len(server.sent(chat_id)) >= before + replies, timeout)
    return server.sent(chat_id)[before:]
