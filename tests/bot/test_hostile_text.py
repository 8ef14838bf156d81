"""Odd and hostile text end to end: bad questions, and article text full of markup.

Every question of the matrix gets exactly one sensible Arabic reply (an answer quoting the
archive, the no-answer message, or a specific refusal) and nothing crashes: the error handler
never runs, and every reply is Telegram HTML the fake server accepted. Article text is quoted
literally, markup and all.
"""

from __future__ import annotations

import logging
from enum import Enum
from pathlib import Path

import pytest

from bot import messages
from bot.rtl import strip_marks
from corpus.types import Article
from index import build_index
from index.search.retriever import MAX_QUESTION_CHARS
from tests.bot.fake_telegram import FakeTelegram
from tests.bot.helpers import ask, check_answer, text_of, ui
from tests.support.corpora import write_jsonl

pytestmark = [pytest.mark.e2e]


class Reply(Enum):
    """The kind of reply a question must get."""

    ANSWER = "quotes from the archive"
    SEARCHED = "quotes, or the no-answer message"
    EMPTY = "no question found"
    TOO_LONG = "too long"


TEN_THOUSAND = "سؤال " * 2000
BAD_QUESTIONS = [
    ("empty", "/ask", Reply.EMPTY),
    ("whitespace", " \t\n  \n", Reply.EMPTY),
    ("invisible-marks", "\u200f\u200b\u200c\u2060", Reply.EMPTY),
    ("punctuation", "؟؟؟ !!!", Reply.EMPTY),
    ("emoji", "😀🔥👍🏽🇸🇦", Reply.EMPTY),
    ("10000-chars", TEN_THOUSAND, Reply.TOO_LONG),
    ("latin", "What did the minister say about oil prices?", Reply.SEARCHED),
    ("mixed-scripts", "ماذا قال Trump عن إيران في ٢٠١٨ و2018؟", Reply.ANSWER),
    ("control-chars", "\x00\x07ماذا\x1b[31m حدث في سوريا؟\x7f\x08", Reply.ANSWER),
    ("bidi-overrides", "\u202eسوريا\u202c \u2066الأخبار\u2069 \u202dاليوم\u202c \u200eنعم", Reply.ANSWER),
    ("html", "<b>سوريا</b> &amp; <script>alert(1)</script> الأخبار", Reply.ANSWER),
    ("sql", "'; DROP TABLE chunks; --", Reply.SEARCHED),
    ("path", "../../etc/passwd", Reply.SEARCHED),
]


@pytest.mark.parametrize(("question", "expected"), [case[1:] for case in BAD_QUESTIONS],
                         ids=[case[0] for case in BAD_QUESTIONS])
async def test_bad_questions_get_one_sensible_reply(start_bot, fake_telegram: FakeTelegram,
                                                    by_url: dict[str, Article], caplog: pytest.LogCaptureFixture,
                                                    question: str, expected: Reply) -> None:
    caplog.set_level(logging.INFO)
    async with start_bot():
        [reply] = await ask(fake_telegram, question)
        await fake_telegram.settle()
    assert len(fake_telegram.sent()) == 1, "exactly one reply"
    assert fake_telegram.requests("sendMessage", status=400) == [], "Telegram would refuse the HTML"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [], "the error handler ran"
    shown = text_of(reply)
    if expected is Reply.EMPTY:
        assert shown == ui(messages.EMPTY_QUESTION)
    elif expected is Reply.TOO_LONG:
        length, limit = str(len(question.strip())), str(MAX_QUESTION_CHARS)
        assert strip_marks(shown) == strip_marks(ui(messages.TOO_LONG, length=length, limit=limit))
    elif expected is Reply.ANSWER or shown != ui(messages.NO_ANSWER):
        check_answer(reply, by_url)


async def test_markup_in_article_text_is_quoted_literally(start_bot, fake_telegram: FakeTelegram, tmp_path: Path,
                                                          tiny_embedder, news_records: list[dict]) -> None:
    hostile = {"id": "markup-1", "title": "عنوان <i>مائل</i> & رمز", "source": "BBC", "date": "2018-05-01",
               "url": "https://example.test/news?id=1&lang=<ar>",
               "text": "أعلنت الوزارة أن عدد الزوار <b>ارتفع</b> حين كان 5 < 7 & 8 > 3 في المعرض الدولي. "
                       "وكتب المبرمج <script>alert('x')</script> و&amp; في صفحة المعرض الدولي للكتاب."}
    records = [hostile, *news_records[100:103]]
    index_dir = tmp_path / "index"
    build_index([write_jsonl(tmp_path / "news.jsonl", records)], index_dir, tiny_embedder)
    async with start_bot(index_dir=index_dir):
        [reply] = await ask(fake_telegram, "ماذا كتب المبرمج في صفحة المعرض الدولي للكتاب؟")
    by_url = {r["url"]: Article(id=r["id"], title=r["title"], text=r["text"], url=r["url"]) for r in records}
    parsed = check_answer(reply, by_url)  # parsed as Telegram would, every quote verbatim
    assert parsed.links[0] == hostile["url"]
    shown = strip_marks(parsed.text)
    assert hostile["title"] in shown
    assert "<script>alert('x')</script> و&amp;" in shown
    assert "<script>" not in reply.params["text"]
    assert "&lt;script&gt;" in reply.params["text"]
