"""End to end: the real application, polling a fake Bot API over HTTP, searching 60 real articles.

Every reply is checked as Telegram would check it (the fake server refuses invalid HTML with 400
and the tests assert no 400 happened), against the source articles (quotes verbatim, the right
article first), and for the behaviour around it: buttons, limits, allow-list, admin commands,
flood control, errors, concurrency. Telegram faults, odd questions and security checks have their
own files (``test_telegram_faults.py``, ``test_hostile_text.py``, ``test_security.py``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

import pytest

from bot import messages
from bot.answerer import Answerer
from bot.feedback import hash_user
from bot.rtl import strip_marks
from corpus.types import Article
from index import build_index
from tests.bot.builders import callback_update, message_update
from tests.bot.fake_telegram import BOT_USERNAME, FakeTelegram
from tests.bot.helpers import ask, check_answer, keyboard, question_from, text_of, ui
from tests.bot.telegram_html import parse_telegram_html
from tests.support.corpora import write_jsonl

pytestmark = [
    pytest.mark.e2e,
    # PTB's own AIORateLimiter reads RetryAfter.retry_after, which PTB 22.2+ flags for its next major version.
    pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"),
]

RTL_KEYBOARD = [messages.BUTTON_BAD, messages.BUTTON_GOOD, messages.BUTTON_MORE]


async def test_questions_are_answered_with_verbatim_quotes_from_the_right_article(
        start_bot, fake_telegram: FakeTelegram, known_articles: list[Article], by_url: dict[str, Article]) -> None:
    async with start_bot():
        for chat_id, article in zip((501, 502, 503), known_articles[10:13], strict=True):
            [reply] = await ask(fake_telegram, question_from(article), chat_id=chat_id)
            parsed = check_answer(reply, by_url)
            assert parsed.links[0] == article.url, "the article the question was written from comes first"
            assert [b["text"] for b in keyboard(reply)] == RTL_KEYBOARD
            actions = [c for c in fake_telegram.requests("sendChatAction") if c.params["chat_id"] == chat_id]
            assert all(a.params["action"] == "typing" and a.at <= reply.at for a in actions), \
                "typing is shown only for a slow answer, before it (tests/bot/test_typing.py)"
        await fake_telegram.settle()
    assert len(fake_telegram.sent()) == 3, "exactly one message per question"
    assert fake_telegram.requests("sendMessage", status=400) == []
    assert [c["command"] for c in fake_telegram.commands] == [name for name, _ in messages.COMMANDS]


async def test_more_and_feedback_buttons(start_bot, fake_telegram: FakeTelegram, known_articles: list[Article],
                                         by_url: dict[str, Article], tmp_path) -> None:
    chat = 601
    async with start_bot(results_per_answer=2):
        [first] = await ask(fake_telegram, question_from(known_articles[20]), chat_id=chat)
        bad, good, more = (b["callback_data"] for b in keyboard(first))
        shown = set(check_answer(first, by_url).links)

        fake_telegram.inject(callback_update(more, chat_id=chat, message_id=first.message_id))
        await fake_telegram.wait_for(lambda: len(fake_telegram.sent(chat)) == 2)
        second = fake_telegram.sent(chat)[1]
        assert shown.isdisjoint(check_answer(second, by_url).links), "'more' shows further articles"
        assert len(keyboard(second)) == 3
        [edit] = fake_telegram.requests("editMessageReplyMarkup")
        assert edit.params["message_id"] == first.message_id
        assert [b["text"] for b in edit.params["reply_markup"]["inline_keyboard"][0]] == RTL_KEYBOARD[:2]

        presses = [(more, None), (good, messages.FEEDBACK_THANKS), (good, messages.FEEDBACK_ALREADY),
                   (bad, messages.FEEDBACK_ALREADY), ("m:AAAAAAAA:0", messages.STALE_BUTTON),
                   (good.replace(":0:", ":8:"), messages.STALE_BUTTON), ("<script>", messages.STALE_BUTTON)]
        for data, notice in presses:
            before = len(fake_telegram.requests("answerCallbackQuery"))
            fake_telegram.inject(callback_update(data, chat_id=chat, message_id=first.message_id))
            await fake_telegram.wait_for(lambda b=before: len(fake_telegram.requests("answerCallbackQuery")) > b)
            assert fake_telegram.requests("answerCallbackQuery")[-1].params.get("text") == notice, data
        await fake_telegram.settle()
    assert len(fake_telegram.sent(chat)) == 2, "a second 'more' and forged presses send nothing"
    rows = sqlite3.connect(tmp_path / "feedback.sqlite").execute(
        "SELECT question, chunk_ids, verdict, user_hash FROM feedback").fetchall()
    assert len(rows) == 1
    question, chunk_ids, verdict, user_hash = rows[0]
    assert question == question_from(known_articles[20])
    assert verdict == 1
    assert user_hash == hash_user(chat, "pepper")
    assert str(chat) not in chunk_ids
    assert known_articles[20].id in chunk_ids


async def test_no_answer_below_the_threshold(start_bot, fake_telegram: FakeTelegram,
                                             known_articles: list[Article]) -> None:
    async with start_bot(no_answer_threshold=1.0):
        [reply] = await ask(fake_telegram, question_from(known_articles[0]))
        [off_topic] = await ask(fake_telegram, "كيف أحضّر الكبسة باللحم في البيت؟")
    for call in (reply, off_topic):
        assert text_of(call) == ui(messages.NO_ANSWER)
        assert "reply_markup" not in call.params


async def test_rate_limit_tells_once_then_stays_silent(start_bot, fake_telegram: FakeTelegram,
                                                       known_articles: list[Article]) -> None:
    async with start_bot(rate_limit_questions=2, rate_limit_seconds=60):
        for article in known_articles[:2]:
            [reply] = await ask(fake_telegram, question_from(article), chat_id=701)
            assert "<blockquote>" in reply.params["text"]
        [refusal] = await ask(fake_telegram, question_from(known_articles[2]), chat_id=701)
        fake_telegram.inject(message_update(question_from(known_articles[3]), chat_id=701))
        [other_user] = await ask(fake_telegram, question_from(known_articles[3]), chat_id=702)
        await fake_telegram.settle()
    assert "<blockquote>" in other_user.params["text"], "limits are per user"
    expected = ui(messages.RATE_LIMITED, limit="\u20682\u2069", seconds="\u206860\u2069", wait="x")
    assert text_of(refusal).split("\u2068")[0] == expected.split("\u2068")[0]
    assert len(fake_telegram.sent(701)) == 3, "the fourth question gets nothing"


async def test_chats_outside_the_allow_list_get_one_refusal(start_bot, fake_telegram: FakeTelegram,
                                                            known_articles: list[Article]) -> None:
    async with start_bot(allowed_chat_ids=frozenset({801})):
        [refusal] = await ask(fake_telegram, question_from(known_articles[1]), chat_id=802)
        for text in ("/start", question_from(known_articles[2])):
            fake_telegram.inject(message_update(text, chat_id=802))
        fake_telegram.inject(message_update("حديث جانبي لا يخص البوت", chat_id=-100802))
        [group_refusal] = await ask(fake_telegram, f"@{BOT_USERNAME} ما الأخبار؟", chat_id=-100802)
        fake_telegram.inject(message_update(f"@{BOT_USERNAME} سؤال ثان", chat_id=-100802))
        [answer] = await ask(fake_telegram, question_from(known_articles[1]), chat_id=801)
        await fake_telegram.settle()
    assert text_of(refusal) == text_of(group_refusal) == ui(messages.NOT_ALLOWED)
    assert len(fake_telegram.sent(802)) == 1
    assert len(fake_telegram.sent(-100802)) == 1
    assert not any(c.params.get("chat_id") in (802, -100802) for c in fake_telegram.requests("sendChatAction"))
    assert "<blockquote>" in answer.params["text"]


async def test_admin_commands_are_refused_to_others(start_bot, fake_telegram: FakeTelegram,
                                                    known_articles: list[Article]) -> None:
    async with start_bot(admin_ids=frozenset({42})):
        for command in ("/stats", "/reload"):
            [refusal] = await ask(fake_telegram, command, chat_id=43)
            assert text_of(refusal) == ui(messages.ADMIN_ONLY)
        await ask(fake_telegram, question_from(known_articles[4]), chat_id=42)
        [stats] = await ask(fake_telegram, "/stats", chat_id=42)
        [reload] = await ask(fake_telegram, "/reload", chat_id=42)
    shown = strip_marks(text_of(stats))
    assert "الأسئلة المجاب عنها: 1" in shown
    assert "👍 0 / 👎 0" in shown
    assert strip_marks(text_of(reload)).startswith("لا توجد نسخة أحدث")


async def test_reload_switches_to_a_new_build(start_bot, fake_telegram: FakeTelegram, tmp_path,
                                              tiny_embedder, news_records: list[dict]) -> None:
    index_dir = tmp_path / "index"
    build_index([write_jsonl(tmp_path / "old.jsonl", news_records[200:204])], index_dir, tiny_embedder)
    new_article = news_records[210]
    question = f"ماذا جاء في الخبر: {new_article['title']}"
    async with start_bot(index_dir=index_dir, admin_ids=frozenset({42})):
        [before] = await ask(fake_telegram, question, chat_id=42)
        build_index([write_jsonl(tmp_path / "new.jsonl", news_records[208:212])], index_dir, tiny_embedder)
        [reloaded] = await ask(fake_telegram, "/reload", chat_id=42)
        [after] = await ask(fake_telegram, question, chat_id=42)
    assert new_article["url"] not in parse_telegram_html(before.params["text"]).links
    assert strip_marks(text_of(reloaded)).startswith("تم تحميل نسخة الفهرس")
    assert parse_telegram_html(after.params["text"]).links[0] == new_article["url"]


async def test_flood_control_delays_but_loses_no_reply(start_bot, fake_telegram: FakeTelegram,
                                                       known_articles: list[Article]) -> None:
    async with start_bot():
        fake_telegram.fail_next_sends(2, retry_after=1)
        for chat_id, article in zip((901, 902, 903), known_articles[30:33], strict=True):
            fake_telegram.inject(message_update(question_from(article), chat_id=chat_id))
        await fake_telegram.wait_for(lambda: len(fake_telegram.sent()) == 3, timeout=20)
        await fake_telegram.settle(0.5)
    refused = fake_telegram.requests("sendMessage", status=429)
    assert len(refused) == 2
    assert [len(fake_telegram.sent(c)) for c in (901, 902, 903)] == [1, 1, 1], "one reply each, no duplicates"
    assert max(c.at for c in fake_telegram.sent()) - refused[0].at >= 1.0, "retry_after was honoured"


async def test_groups_answer_mentions_replies_and_ask(start_bot, fake_telegram: FakeTelegram,
                                                      known_articles: list[Article],
                                                      by_url: dict[str, Article]) -> None:
    group = -100500
    question = question_from(known_articles[7])
    async with start_bot():
        fake_telegram.inject(message_update(question, chat_id=group, user_id=11))
        for text, extra in ((f"@{BOT_USERNAME} {question}", {}), (question, {"reply_to_bot": True}),
                            (f"/ask {question}", {}), (f"/ask@{BOT_USERNAME} {question}", {})):
            [reply] = await ask(fake_telegram, text, chat_id=group, user_id=11, **extra)
            assert check_answer(reply, by_url).links[0] == known_articles[7].url, text
            assert reply.params["reply_parameters"]["message_id"] > 0
        [empty] = await ask(fake_telegram, "/ask", chat_id=group, user_id=11)
        await fake_telegram.settle()
    assert text_of(empty) == ui(messages.EMPTY_QUESTION)
    assert len(fake_telegram.sent(group)) == 5, "a message not addressed to the bot is ignored"


async def test_start_help_about(start_bot, fake_telegram: FakeTelegram, known_articles: list[Article],
                                news_records: list[dict]) -> None:
    async with start_bot():
        [start] = await ask(fake_telegram, "/start")
        [help_] = await ask(fake_telegram, "/help")
        [about] = await ask(fake_telegram, "/about")
    assert text_of(start) == ui(messages.START)
    assert text_of(help_) == ui(messages.HELP)
    shown = strip_marks(text_of(about))
    assert "عدد المقالات: 60" in shown
    days = sorted(r["date"][:10] for r in news_records[:60])
    assert f"المصادر: {known_articles[0].source} (60)" in shown
    assert f"الفترة: من {days[0]} إلى {days[-1]}" in shown
    assert "محرك التضمين: torch (set by EMBEDDING_BACKEND)" in shown, "/about names the engine answering"


async def test_errors_are_logged_and_reported(start_bot, fake_telegram: FakeTelegram,
                                              monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    def broken(self: Answerer, question: str, offset: int = 0, previous: Any = None) -> None:
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(Answerer, "answer", broken)
    async with start_bot():
        [reply] = await ask(fake_telegram, "ماذا حدث؟")
    assert text_of(reply) == ui(messages.ERROR)
    assert "the disk caught fire" in caplog.text
    assert "Traceback" in caplog.text


async def test_a_slow_search_does_not_block_other_chats(start_bot, fake_telegram: FakeTelegram,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        known_articles: list[Article]) -> None:
    original = Answerer.answer
    slow_question = question_from(known_articles[40])

    def slow(self: Answerer, question: str, offset: int = 0, previous: Any = None) -> Any:
        if question == slow_question:
            time.sleep(2.0)
        return original(self, question, offset, previous)

    monkeypatch.setattr(Answerer, "answer", slow)
    async with start_bot():
        fake_telegram.inject(message_update(slow_question, chat_id=1001))
        await asyncio.sleep(0.2)
        await ask(fake_telegram, question_from(known_articles[41]), chat_id=1002)
        await ask(fake_telegram, "/help", chat_id=1003)
        await fake_telegram.wait_for(lambda: len(fake_telegram.sent(1001)) == 1)
    slow_reply = fake_telegram.sent(1001)[0].at
    assert fake_telegram.sent(1002)[0].at < slow_reply, "a question waited behind another chat's slow search"
    assert fake_telegram.sent(1003)[0].at < slow_reply, "a command waited behind another chat's slow search"
