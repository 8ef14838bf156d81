"""Review findings about the running bot: replies past the rate limit (#18), anonymous admins' bucket,
the token in a log handler added after start-up (#16), bidi controls from a question (#21).

Each runs the real application against the fake Bot API on 127.0.0.1.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.logs import REDACTED, configure_bot_logging, uninstall_record_redaction
from bot.rtl import BIDI_CONTROLS
from corpus.types import Article
from index import build_index
from tests.bot.builders import message_update
from tests.bot.fake_telegram import TOKEN, FakeTelegram, chat
from tests.bot.helpers import ask, question_from, text_of, ui
from tests.support.corpora import write_jsonl

pytestmark = [pytest.mark.e2e]

#: The user every anonymous group admin appears as.
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
LIMITED = messages.RATE_LIMITED.split("{")[0]


def limited(call: Any) -> bool:
    return text_of(call).startswith(LIMITED)


async def test_refusals_and_commands_count_against_the_rate_limit(start_bot, fake_telegram: FakeTelegram) -> None:
    chat_id = 333
    too_long = "س" * 2001
    async with start_bot(rate_limit_questions=2, rate_limit_seconds=60):
        [first] = await ask(fake_telegram, too_long, chat_id=chat_id)
        [second] = await ask(fake_telegram, "/help", chat_id=chat_id)
        [notice] = await ask(fake_telegram, too_long, chat_id=chat_id)
        for text in ("/help", "/start", "/about", "/new", "/ask", too_long, "/stats", "/reload", "؟؟؟"):
            fake_telegram.inject(message_update(text, chat_id=chat_id))
        await fake_telegram.wait_for(lambda: len(fake_telegram.delivered_at) == 12)
        await fake_telegram.settle()
        [other] = await ask(fake_telegram, "/help", chat_id=334)
    assert text_of(first).startswith(messages.TOO_LONG.split("(")[0])
    assert text_of(second) == ui(messages.HELP)
    assert limited(notice), "the third reply of the window is the notice"
    assert len(fake_telegram.sent(chat_id)) == 3, "then nothing: no refusal, help, welcome or about"
    assert text_of(other) == ui(messages.HELP), "another user is not affected"


def anonymous_admin_update(text: str, group: int) -> dict[str, Any]:
    """A message an anonymous admin writes in ``group``: from GroupAnonymousBot, as the group itself."""
    update = message_update(text, chat_id=group)
    update["message"]["from"] = ANONYMOUS_ADMIN
    update["message"]["sender_chat"] = chat(group)
    return update


async def test_anonymous_admins_of_different_groups_have_their_own_buckets(
        start_bot, fake_telegram: FakeTelegram, known_articles: list[Article]) -> None:
    first_group, second_group = -100701, -100702
    async with start_bot(rate_limit_questions=1, rate_limit_seconds=60):
        replies = []
        for group, article in ((first_group, known_articles[1]), (second_group, known_articles[2]),
                               (first_group, known_articles[3])):
            before = len(fake_telegram.sent(group))
            fake_telegram.inject(anonymous_admin_update(f"/ask {question_from(article)}", group))
            await fake_telegram.wait_for(lambda g=group, n=before: len(fake_telegram.sent(g)) > n)
            replies.append(fake_telegram.sent(group)[-1])
    first, second, again = replies
    assert "<blockquote>" in first.params["text"]
    assert "<blockquote>" in second.params["text"], "another group's anonymous admin is not limited by the first"
    assert limited(again), "one group's anonymous admins share that group's bucket"


@pytest.fixture
def restore_logging() -> Iterator[list[logging.Handler]]:
    """Undo :func:`configure_bot_logging`: levels, the record factory, formatters, handlers added by the test."""
    names = ("httpx", "httpcore", "bot", "telegram", "telegram.ext")
    levels = {name: logging.getLogger(name).level for name in names}
    formatters = [(h, h.formatter) for h in logging.getLogger().handlers]
    added: list[logging.Handler] = []
    yield added
    uninstall_record_redaction()
    for handler in added:
        for name in ("", "httpx"):
            logging.getLogger(name).removeHandler(handler)
        handler.close()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    for handler, formatter in formatters:
        handler.setFormatter(formatter)


async def test_a_log_handler_added_after_start_up_never_sees_the_token(
        start_bot, fake_telegram: FakeTelegram, known_articles: list[Article], tmp_path: Path,
        restore_logging: list[logging.Handler]) -> None:
    configure_bot_logging(secrets=[TOKEN], verbose=True)
    later_file = logging.FileHandler(tmp_path / "later.log", encoding="utf-8")  # what an operator adds later
    stream = io.StringIO()
    on_httpx = logging.StreamHandler(stream)  # right on the HTTP client's logger, bypassing the root
    restore_logging.extend([later_file, on_httpx])
    logging.getLogger().addHandler(later_file)
    logging.getLogger("httpx").addHandler(on_httpx)
    for name in ("httpx", "httpcore", "telegram"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    async with start_bot():
        await ask(fake_telegram, question_from(known_articles[4]), chat_id=42)
    try:
        raise ConnectionError(f"lost {fake_telegram.base_url}{TOKEN}/sendMessage")
    except ConnectionError:
        logging.getLogger("telegram.ext.Updater").exception("failed with %s", f"bot{TOKEN}")
    later_file.flush()
    written = (tmp_path / "later.log").read_text(encoding="utf-8")
    for text in (written, stream.getvalue()):
        assert "HTTP Request: POST" in text, "the Bot API request lines were logged"
        assert f"/bot{REDACTED}/sendMessage" in text
        assert TOKEN not in text
        assert TOKEN.split(":")[1] not in text
    assert f"lost {fake_telegram.base_url}{REDACTED}/sendMessage" in written, "tracebacks are redacted too"


async def test_bidi_controls_of_a_question_never_reach_the_bot_s_lines(
        start_bot, fake_telegram: FakeTelegram, tmp_path: Path, tiny_embedder: Any, news_records: list[dict]) -> None:
    dated = [{**record, "date": f"2018-06-0{n + 1}"} for n, record in enumerate(news_records[120:124])]
    index_dir = tmp_path / "index"
    build_index([write_jsonl(tmp_path / "dated.jsonl", dated)], index_dir, tiny_embedder)
    questions = ["ماذا حدث في الأسبوع\u202e الماضي؟", "ماذا حدث \u2067الأسبوع الماضي\u2069؟",
                 "ماذا قيل في \u202bالشهر\u202c الماضي عن \u202dالحكومة\u202c؟"]
    async with start_bot(index_dir=index_dir):
        replies = [reply for n, q in enumerate(questions) for reply in await ask(fake_telegram, q, chat_id=1001 + n)]
    assert len(replies) == len(questions)
    for reply in replies:
        shown = text_of(reply)
        note = shown.split("\n")[0]
        assert "الماضي" in note, "the period is named first, in the user's words"
        assert not (BIDI_CONTROLS - {"\u2068", "\u2069"}).intersection(shown), "no control from the question"
        assert shown.count("\u2068") == shown.count("\u2069"), "every isolate the bot opens is closed"
