"""/follow, /following, /unfollow and the stop buttons, end to end over the fake Bot API."""

from __future__ import annotations

import pytest

from bot import messages
from bot.state import bot_state
from corpus.types import Article
from tests.bot.builders import callback_update
from tests.bot.fake_telegram import FakeTelegram
from tests.bot.helpers import ask, keyboard, text_of
from tests.bot.telegram_html import parse_telegram_html

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"),
]


def _plain(text: str) -> str:
    return text.replace("\u2068", "").replace("\u2069", "").replace("\u200f", "")


async def test_follow_list_stop_and_unfollow(start_bot, fake_telegram: FakeTelegram,
                                             known_articles: list[Article]) -> None:
    first, second, third = (a.title for a in known_articles[3:6])
    async with start_bot(follow_max_topics=2) as application:
        [usage] = await ask(fake_telegram, "/follow", chat_id=501)
        [saved, *shown] = await ask(fake_telegram, f"/follow {first}", chat_id=501, replies=2)
        [duplicate] = await ask(fake_telegram, f"/follow   {first} ", chat_id=501)
        await ask(fake_telegram, f"/follow {second}", chat_id=501, replies=2)
        [limit] = await ask(fake_telegram, f"/follow {third}", chat_id=501)
        [listed] = await ask(fake_telegram, "/following", chat_id=501)

        answered = len(fake_telegram.requests("answerCallbackQuery"))
        stop_first = keyboard(listed)[0]["callback_data"]
        fake_telegram.inject(callback_update(stop_first, chat_id=777, message_id=listed.message_id))  # another chat
        fake_telegram.inject(callback_update(stop_first, chat_id=501, message_id=listed.message_id))
        await fake_telegram.wait_for(lambda: len(fake_telegram.requests("answerCallbackQuery")) >= answered + 2)
        await fake_telegram.wait_for(lambda: bool(fake_telegram.requests("editMessageText")))
        [edited] = fake_telegram.requests("editMessageText")
        [unknown] = await ask(fake_telegram, "/unfollow ٥", chat_id=501)
        [stopped] = await ask(fake_telegram, "/unfollow ١", chat_id=501)
        [empty] = await ask(fake_telegram, "/following", chat_id=501)
        left = bot_state(application).follows.every_follow()

    assert _plain(text_of(usage)) == _plain(parse_telegram_html(messages.FOLLOW_USAGE).text)
    assert "تمّت المتابعة" in text_of(saved)
    assert messages.FOLLOW_NOW in text_of(saved)
    assert shown, "what the topic matches now is shown"
    assert parse_telegram_html(shown[0].params["text"]).headline_links[0] == known_articles[3].url
    assert "تتابع هذا الموضوع من قبل" in text_of(duplicate)
    assert "الحد الأقصى للمتابعات" in text_of(limit)
    assert len(keyboard(listed)) == 1
    assert len(listed.params["reply_markup"]["inline_keyboard"]) == 2, "one stop button per topic"
    pressed = fake_telegram.requests("answerCallbackQuery")[answered:]
    texts = sorted(_plain(str(p.params.get("text", ""))) for p in pressed[:2])  # the two presses race
    assert messages.STALE_BUTTON in texts, "a button pressed in another chat stops nothing"
    [done] = [t for t in texts if t != messages.STALE_BUTTON]
    assert done.startswith("أوقفتُ متابعة")
    assert first[:20] in done
    assert len(edited.params["reply_markup"]["inline_keyboard"]) == 1, "the list is redrawn without it"
    assert second in _plain(parse_telegram_html(edited.params["text"]).text)
    assert "لا يوجد موضوع بهذا الرقم" in text_of(unknown)
    assert second in _plain(text_of(stopped))
    assert "لا تتابع أي موضوع" in text_of(empty)
    assert left == []
