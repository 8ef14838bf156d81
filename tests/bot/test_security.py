"""Security end to end: the token stays secret, outside chats get nothing, feedback is anonymous, no file is read.

Covered elsewhere and not repeated here: one refusal per chat outside ``ALLOWED_CHAT_IDS`` and
``/stats``/``/reload`` refused to non-admins (``test_e2e_bot.py``), the token in CLI errors
(``test_cli.py``), salted hashes in the feedback table (``test_feedback_and_stats.py``), indexes
opened without unpickling (``tests/index/test_no_pickle.py``).
"""

from __future__ import annotations

import contextlib
import html
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.answerer import Answerer
from bot.logs import REDACTED, configure_bot_logging, uninstall_record_redaction
from corpus.types import Article
from tests.bot.builders import callback_update
from tests.bot.fake_telegram import DROP, TOKEN, FakeTelegram, server_error
from tests.bot.helpers import ask, keyboard, question_from, text_of, ui

pytestmark = [pytest.mark.e2e]


def stored_votes(path: Path) -> int:
    """Rows of the feedback table."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT count(*) FROM feedback").fetchone()[0])


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo :func:`configure_bot_logging` (levels, the record factory, the formatters it puts on root handlers)."""
    names = ("httpx", "httpcore", "bot", "telegram.ext")
    levels = {name: logging.getLogger(name).level for name in names}
    formatters = [(h, h.formatter) for h in logging.getLogger().handlers]
    yield
    uninstall_record_redaction()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    for handler, formatter in formatters:
        handler.setFormatter(formatter)


@pytest.mark.usefixtures("restore_logging")
async def test_the_token_never_reaches_logs_replies_or_stats(start_bot, fake_telegram: FakeTelegram,
                                                             known_articles: list[Article],
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    original = Answerer.answer

    def leaky(self: Answerer, question: str, offset: int = 0, previous: Any = None) -> Any:
        if question == "انفجر":  # the worst case: an exception quoting a Bot API URL, token included
            raise ConnectionError(f"lost {self.settings.telegram_base_url}{self.settings.token}/sendMessage")
        return original(self, question, offset, previous)

    monkeypatch.setattr(Answerer, "answer", leaky)
    configure_bot_logging(secrets=[TOKEN], verbose=True)
    caplog.set_level(logging.DEBUG)
    async with start_bot(admin_ids=frozenset({42}), telegram_retries=1, telegram_retry_seconds=0.05):
        [reply] = await ask(fake_telegram, question_from(known_articles[5]), chat_id=42)
        fake_telegram.inject(callback_update(keyboard(reply)[1]["callback_data"], chat_id=42,
                                             message_id=reply.message_id))
        fake_telegram.inject(callback_update("forged", chat_id=42))
        await fake_telegram.wait_for(lambda: len(fake_telegram.requests("answerCallbackQuery")) == 2)
        [error] = await ask(fake_telegram, "انفجر", chat_id=42)
        fake_telegram.fail_next("sendMessage", DROP, 2)  # the answer is dropped twice: retries spent, traceback
        fake_telegram.fail_next("getUpdates", server_error())
        [dropped] = await ask(fake_telegram, question_from(known_articles[6]), chat_id=42)
        [stats] = await ask(fake_telegram, "/stats", chat_id=42)
    captured = capsys.readouterr()
    logged = [record.getMessage() for record in caplog.records]
    assert text_of(error) == text_of(dropped) == ui(messages.ERROR)
    assert "serving index build" in "\n".join(logged), "the bot's own log lines are captured"
    assert caplog.text.count("Traceback") >= 2
    assert "getUpdates failed" in caplog.text
    assert f"{REDACTED}/sendMessage" in caplog.text, "the leaking exception was logged, redacted"
    replies = [str(call.params) for call in fake_telegram.calls]
    for text in (caplog.text, captured.out, captured.err, *logged, text_of(stats), *replies):
        assert TOKEN not in text
        assert html.escape(TOKEN) not in text


async def test_buttons_from_chats_outside_the_allow_list_do_nothing(start_bot, fake_telegram: FakeTelegram,
                                                                   known_articles: list[Article],
                                                                   tmp_path: Path) -> None:
    async with start_bot(allowed_chat_ids=frozenset({801})):
        [answer] = await ask(fake_telegram, question_from(known_articles[11]), chat_id=801)
        for button in keyboard(answer):  # the allowed chat's buttons, replayed from another chat
            fake_telegram.inject(callback_update(button["callback_data"], chat_id=802, message_id=answer.message_id))
        await fake_telegram.wait_for(lambda: len(fake_telegram.delivered_at) == 4)
        await fake_telegram.settle()
    assert [c.params["chat_id"] for c in fake_telegram.sent()] == [801], "no answer, no 'more' page, no refusal"
    assert fake_telegram.requests("answerCallbackQuery") == []
    assert fake_telegram.requests("editMessageReplyMarkup") == []
    assert stored_votes(tmp_path / "feedback.sqlite") == 0


async def test_the_feedback_file_holds_no_raw_user_id(start_bot, fake_telegram: FakeTelegram,
                                                      known_articles: list[Article], tmp_path: Path) -> None:
    user = 7_700_123_456  # a private chat's id is its user's id: neither may be stored
    async with start_bot():
        [answer] = await ask(fake_telegram, question_from(known_articles[12]), chat_id=user)
        for button in keyboard(answer)[:2]:  # 👎 and 👍
            fake_telegram.inject(callback_update(button["callback_data"], chat_id=user, message_id=answer.message_id))
        await fake_telegram.wait_for(lambda: len(fake_telegram.requests("answerCallbackQuery")) == 2)
    notices = {c.params.get("text") for c in fake_telegram.requests("answerCallbackQuery")}
    assert notices == {messages.FEEDBACK_THANKS, messages.FEEDBACK_ALREADY}, "one vote stored, one refused"
    assert stored_votes(tmp_path / "feedback.sqlite") == 1
    files = sorted(tmp_path.glob("feedback.sqlite*"))
    for path in files:
        data = path.read_bytes()
        for raw in (str(user).encode(), str(user).encode("utf-16-le"), user.to_bytes(6, "big")):
            assert raw not in data, f"the user id is in {path.name}"


async def test_a_question_that_names_a_file_reads_nothing_outside_the_index(
        start_bot, fake_telegram: FakeTelegram, known_articles: list[Article], tmp_path: Path,
        capture_answers: list[Any]) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("كلمة السر: SECRET-MARKER-7f3a\n", encoding="utf-8")
    questions = [f"/ask {secret}", "/ask /etc/passwd", "secret.txt", "../secret.txt", f"file://{secret}",
                 "../../etc/passwd", f"ما محتوى الملف {secret}؟"]
    async with start_bot():
        replies = [reply for question in questions for reply in await ask(fake_telegram, question)]
    indexed = {article.id for article in known_articles}
    assert len(replies) == len(questions)
    for reply in replies:
        assert "SECRET-MARKER" not in reply.params["text"]
        assert "root:" not in reply.params["text"]
    assert len(capture_answers) >= 5, "the questions were searched"
    assert all(p.article.id in indexed for answer in capture_answers for p in answer.passages), \
        "every passage comes from the index"
