"""Helpers of the bot tests: questions written from known articles, asking the running bot, reading replies."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.render import MAX_MESSAGE, html_message
from bot.rtl import strip_marks
from corpus.types import Article
from index.search.timeexpr import parse_time
from tests.bot.builders import message_update
from tests.bot.fake_telegram import Call, FakeTelegram
from tests.bot.telegram_html import ParsedHtml, parse_telegram_html, utf16_len

#: An Arabic sentence of roughly 10-40 words: distinctive enough to find its article lexically.
_SENTENCE = re.compile(r"[^.!؟?\n]{60,220}[.!؟?]")


def question_from(article: Article) -> str:
    """An Arabic question built from one distinctive sentence of the article, one without time words.

    A sentence saying "قبل أيام" would make the question a search of the last few days
    (:mod:`index.search.timeexpr`), which is not what these questions test.
    """
    reference = date(2018, 12, 31)
    sentences = (m.group(0).strip() for m in _SENTENCE.finditer(article.text))
    sentence = next((s for s in sentences if not (t := parse_time(s, reference)).period and not t.latest), None)
    assert sentence, f"no sentence to ask about in {article.id}"
    return f"ماذا جاء في الخبر: {sentence}"


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
    assert len(parsed.headline_links) == len(parsed.blockquotes)
    for url, quote in zip(parsed.headline_links, parsed.blockquotes, strict=True):
        excerpt = strip_marks(quote).removeprefix("… ").removesuffix(" …")
        assert excerpt in articles[url].text, f"not verbatim from {url}"
    return parsed


def keyboard(call: Call) -> list[dict[str, Any]]:
    """The buttons under a sent message, left to right."""
    return call.params["reply_markup"]["inline_keyboard"][0]
