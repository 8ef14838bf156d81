"""Inline mode end to end: ``@bot question`` over the fake Bot API answers with article cards.

The real application polls the fake server on 127.0.0.1; inline-query updates are injected and the
``answerInlineQuery`` call is read back: cards one per article, the headline's article first, the
message valid Telegram HTML with a verbatim quote; short queries get a hint card, a query below
the no-answer threshold a "no answer" card; the allow-list and the per-user rate limit apply.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot import messages
from bot.inline import CACHE_SECONDS, MAX_CARDS
from bot.rtl import strip_marks
from corpus.types import Article
from tests.bot.builders import inline_update
from tests.bot.fake_telegram import FakeTelegram
from tests.bot.helpers import ask
from tests.bot.telegram_html import parse_telegram_html

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"),
]


async def inline(server: FakeTelegram, query: str, user_id: int = 501) -> dict[str, Any]:
    """Inject an inline query and return the parameters of its ``answerInlineQuery``."""
    update = inline_update(query, user_id=user_id)
    query_id = update["inline_query"]["id"]
    server.inject(update)
    await server.wait_for(lambda: query_id in server.inline_answers, 15.0)
    return server.inline_answers[query_id].params


def _message(card: dict[str, Any]) -> str:
    return str(card["input_message_content"]["message_text"])


async def test_a_headline_query_returns_its_article_first_as_valid_html(
        start_bot, fake_telegram: FakeTelegram, known_articles: list[Article]) -> None:
    chosen = [known_articles[n] for n in (3, 17, 42)]
    async with start_bot():
        answers = [await inline(fake_telegram, article.title) for article in chosen]
    for article, answer in zip(chosen, answers, strict=True):
        cards = answer["results"]
        assert 1 <= len(cards) <= MAX_CARDS
        assert answer["cache_time"] == CACHE_SECONDS
        assert answer.get("is_personal") in (False, None), "no conversation context: the cards are shared"
        first = cards[0]
        assert strip_marks(first["title"]) == article.title
        assert article.source in strip_marks(first["description"])
        parsed = parse_telegram_html(_message(first))  # raises on HTML Telegram refuses
        assert parsed.headline_links[0] == article.url
        [quote, *_] = parsed.blockquotes
        assert strip_marks(quote).removeprefix("… ").removesuffix(" …") in article.text, "the quote is verbatim"
        assert first["input_message_content"]["parse_mode"] == "HTML"
        assert len({card["id"] for card in cards}) == len(cards)
        urls = [parse_telegram_html(_message(card)).headline_links[0] for card in cards]
        assert len(set(urls)) == len(urls), "one card per article"


async def test_short_queries_get_a_hint_and_nothing_found_a_no_answer_card(
        start_bot, fake_telegram: FakeTelegram) -> None:
    async with start_bot():
        short = await inline(fake_telegram, "  ب ")
        nothing = await inline(fake_telegram, "زخزخة قرقشة طنطنة")  # no word of the archive: nothing found
    [hint] = short["results"]
    assert hint["title"] == messages.INLINE_HINT_TITLE
    assert parse_telegram_html(_message(hint)).text.strip()
    [none] = nothing["results"]
    assert none["title"] == messages.INLINE_NO_ANSWER_TITLE
    assert parse_telegram_html(_message(none)).text == messages.NO_ANSWER


async def test_the_allow_list_and_the_rate_limit_apply_to_inline_queries(
        start_bot, fake_telegram: FakeTelegram, known_articles: list[Article]) -> None:
    title = known_articles[3].title
    async with start_bot(allowed_chat_ids=frozenset({501}), rate_limit_questions=2):
        refused = await inline(fake_telegram, title, user_id=777)
        served = [await inline(fake_telegram, title, user_id=501) for _ in range(3)]
    [card] = refused["results"]
    assert card["title"] == messages.INLINE_NOT_ALLOWED_TITLE
    assert served[0]["results"][0]["title"] == title
    assert served[1]["results"][0]["title"] == title
    [limited] = served[2]["results"]
    assert limited["title"] == messages.INLINE_RATE_LIMITED_TITLE


async def test_a_follow_up_completed_from_the_private_chat_is_personal(
        start_bot, fake_telegram: FakeTelegram, known_articles: list[Article]) -> None:
    article = known_articles[3]
    async with start_bot():
        await ask(fake_telegram, article.title, chat_id=501)
        answer = await inline(fake_telegram, "ومتى حدث ذلك؟", user_id=501)
    assert answer["is_personal"] is True
    assert answer["results"]


async def test_the_no_answer_threshold_of_chats_applies_to_inline_queries(
        start_bot, fake_telegram: FakeTelegram, known_articles: list[Article]) -> None:
    title = known_articles[3].title
    async with start_bot(no_answer_threshold=1.0):  # no passage's cosine reaches 1: nothing is an answer
        answer = await inline(fake_telegram, title)
        [chat_reply] = await ask(fake_telegram, title, chat_id=501)
    [card] = answer["results"]
    assert card["title"] == messages.INLINE_NO_ANSWER_TITLE
    assert parse_telegram_html(chat_reply.params["text"]).text == messages.NO_ANSWER, "the chat agrees"
