"""Helpers of the bot tests: questions written from known articles, asking the running bot, reading replies."""

from __future__ import annotations

import re
from typing import Any

from bot.render import MAX_MESSAGE, html_message
from bot.rtl import strip_marks
from corpus.types import Article
from tests.bot.builders import message_update
from tests.bot.fake_telegram import Call, FakeTelegram
from tests.bot.telegram_html import ParsedHtml, parse_telegram_html, utf16_len

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


def text_of(call: Call) -> str:
    """What the reader sees of a sent message (tags parsed, entities decoded)."""
    return parse_telegram_html(call.params["text"]).text


def ui(message: str, **values: str) -> str:
    """A UI string as the reader sees it."""
    return parse_telegram_html(html_message(message, **values)).text


def check_answer(call: Call, articles: dict[str, Article]) -> ParsedHtml:
    """Valid Telegram HTML within the limit; each quote verbatim from the article its link names."""
    assert call.params["parse_mode"] == "HTML"
    assert call.params["link_preview_options"] == {"is_disabled": True}
    assert utf16_len(call.params["text"]) <= MAX_MESSAGE
    parsed = parse_telegram_html(call.params["text"])
    assert parsed.blockquotes
    assert len(parsed.links) == len(parsed.blockquotes)
    for url, quote in zip(parsed.links, parsed.blockquotes, strict=True):
        excerpt = strip_marks(quote).removeprefix("… ").removesuffix(" …")
        assert excerpt in articles[url].text, f"not verbatim from {url}"
    return parsed


def keyboard(call: Call) -> list[dict[str, Any]]:
    """The buttons under a sent message, left to right."""
    return call.params["reply_markup"]["inline_keyboard"][0]
