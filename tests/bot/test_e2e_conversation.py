"""End to end over the fake Bot API: follow-ups, replies to answers, /new, and questions naming a period.

The tiny test model cannot judge meaning, so these tests check what was *searched* (the
:class:`bot.followup.SearchPlan` each answer records: context words, period) and that the reply is
built from it: the right article first (lexical search finds it by the words added), the period
named in the reply, every passage inside it. ``test_conversation_quality.py`` measures ranking
quality with the real model.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.render import html_message
from bot.rtl import strip_marks
from corpus.types import Article
from index import build_index
from tests.bot.fake_telegram import BOT_USERNAME, FakeTelegram
from tests.bot.helpers import ask, check_answer, question_from, text_of, ui
from tests.bot.telegram_html import parse_telegram_html
from tests.support.corpora import write_jsonl

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"),
]

FOLLOW_UP = "ومن قال ذلك؟"
WHEN = "ومتى؟"


def asked_plainly(article: Article) -> str:
    """A question made of one distinctive sentence of the article, as a reader might paste it."""
    return question_from(article).removeprefix("ماذا جاء في الخبر: ")


async def test_a_follow_up_is_answered_from_the_previous_question(
        start_bot, fake_telegram: FakeTelegram, known_articles: list[Article], by_url: dict[str, Article],
        capture_answers: list[Any]) -> None:
    article = known_articles[12]
    question = asked_plainly(article)
    async with start_bot():
        [first] = await ask(fake_telegram, question, chat_id=1101)
        [follow] = await ask(fake_telegram, FOLLOW_UP, chat_id=1101)
        [other_chat] = await ask(fake_telegram, FOLLOW_UP, chat_id=1102)
    assert check_answer(first, by_url).links[0] == article.url
    plan = capture_answers[1].plan
    assert plan.followup == "conjunction"
    assert plan.context_words, "the previous question's key words were added"
    assert all(word in question for word in plan.context_words)
    assert plan.query.startswith(FOLLOW_UP)
    assert check_answer(follow, by_url).links[0] == article.url, "answered from the same article"
    assert capture_answers[2].plan.followup is None, "another chat has its own conversation"
    assert text_of(other_chat) == ui(messages.NO_ANSWER)


async def test_a_reply_ties_the_follow_up_to_that_answer(
        start_bot, fake_telegram: FakeTelegram, known_articles: list[Article], by_url: dict[str, Article],
        capture_answers: list[Any]) -> None:
    first_article, second_article = known_articles[14], known_articles[25]
    chat = 1201
    async with start_bot():
        [first] = await ask(fake_telegram, asked_plainly(first_article), chat_id=chat)
        [second] = await ask(fake_telegram, asked_plainly(second_article), chat_id=chat)
        [latest] = await ask(fake_telegram, WHEN, chat_id=chat)
        [replied] = await ask(fake_telegram, WHEN, chat_id=chat, reply_to=first.message_id)
    assert check_answer(latest, by_url).links[0] == second_article.url, "without a reply: the last question"
    plan = capture_answers[3].plan
    assert plan.followup == "conjunction"
    assert all(word in asked_plainly(first_article) for word in plan.context_words)
    assert check_answer(replied, by_url).links[0] == first_article.url, "a reply: the answer replied to"


async def test_in_groups_each_member_has_a_context_and_replies_reach_any_answer(
        start_bot, fake_telegram: FakeTelegram, known_articles: list[Article], by_url: dict[str, Article],
        capture_answers: list[Any]) -> None:
    group, article = -100700, known_articles[33]
    async with start_bot():
        [answer] = await ask(fake_telegram, f"@{BOT_USERNAME} {asked_plainly(article)}", chat_id=group, user_id=11)
        await ask(fake_telegram, f"@{BOT_USERNAME} {FOLLOW_UP}", chat_id=group, user_id=12)
        [replied] = await ask(fake_telegram, FOLLOW_UP, chat_id=group, user_id=12, reply_to=answer.message_id)
    assert capture_answers[1].plan.followup is None, "another member's question is not their context"
    assert capture_answers[2].plan.context_words
    assert check_answer(replied, by_url).links[0] == article.url


async def test_new_forgets_the_conversation(
        start_bot, fake_telegram: FakeTelegram, known_articles: list[Article], by_url: dict[str, Article],
        capture_answers: list[Any], tmp_path: Path) -> None:
    article, chat = known_articles[20], 1301
    store = tmp_path / "context.sqlite"
    async with start_bot(context_db=store):
        await ask(fake_telegram, asked_plainly(article), chat_id=chat)
        [kept] = await ask(fake_telegram, FOLLOW_UP, chat_id=chat)
        [new] = await ask(fake_telegram, "/new", chat_id=chat)
        [forgotten] = await ask(fake_telegram, FOLLOW_UP, chat_id=chat)
    assert check_answer(kept, by_url).links[0] == article.url
    assert text_of(new) == ui(messages.NEW_CONVERSATION)
    plan = capture_answers[-1].plan
    assert plan.followup is None, "after /new the same follow-up is not augmented"
    assert plan.query == FOLLOW_UP
    assert text_of(forgotten) == ui(messages.NO_ANSWER)
    raw = store.read_bytes()
    assert str(chat).encode() not in raw, "conversations are keyed by a salted hash"
    assert sqlite3.connect(store).execute("SELECT count(*) FROM turns").fetchone()[0] == 1, \
        "/new deleted the earlier turns; the question after it is kept"


LAST_WEEK = (date(2018, 10, 6), date(2018, 10, 12))
#: The week before the newest article of the sample (18 October 2018), as the reply names it.
LAST_WEEK_LABEL = "الأسبوع الماضي (٦–١٢ أكتوبر ٢٠١٨)"
KHASHOGGI = "ماذا قالت السعودية عن اختفاء الصحفي جمال خاشقجي"


@pytest.fixture
def october_index(tmp_path: Path, tiny_embedder, news_records: list[dict]) -> tuple[Path, dict[str, dict]]:  # noqa: ANN001
    """The sample's articles from 6 October 2018 on (five fall in "last week"), and ten older ones."""
    records = [r for r in news_records if r["date"][:10] >= "2018-10-06"] + news_records[:10]
    index_dir = tmp_path / "october-index"
    build_index([write_jsonl(tmp_path / "october.jsonl", records)], index_dir, tiny_embedder)
    return index_dir, {r["url"]: r for r in records}


async def test_a_last_week_question_searches_last_week_and_says_so(
        start_bot, fake_telegram: FakeTelegram, october_index: tuple[Path, dict[str, dict]],
        capture_answers: list[Any]) -> None:
    index_dir, by_link = october_index
    async with start_bot(index_dir=index_dir):
        [anytime] = await ask(fake_telegram, f"{KHASHOGGI}؟", chat_id=1401)
        [last_week] = await ask(fake_telegram, f"{KHASHOGGI} الأسبوع الماضي؟", chat_id=1402)
        [follow] = await ask(fake_telegram, FOLLOW_UP, chat_id=1402)
    newest_first = parse_telegram_html(anytime.params["text"]).headline_links[0]
    assert "خاشقجي" in by_link[newest_first]["text"], "without the time words: the Khashoggi story"
    assert not LAST_WEEK[0].isoformat() <= by_link[newest_first]["date"][:10] <= LAST_WEEK[1].isoformat()

    shown = strip_marks(text_of(last_week))
    assert shown.startswith(f"بحثتُ في أخبار {LAST_WEEK_LABEL}.\n")
    plan = capture_answers[1].plan
    assert (plan.period.since, plan.period.until) == LAST_WEEK
    assert plan.query == f"{KHASHOGGI}؟", "the time words are not searched for"
    links = parse_telegram_html(last_week.params["text"]).headline_links
    assert len(links) == 3
    for link in links:
        assert LAST_WEEK[0].isoformat() <= by_link[link]["date"][:10] <= LAST_WEEK[1].isoformat()
    assert all(LAST_WEEK[0] <= p.article.date.date() <= LAST_WEEK[1] for p in capture_answers[1].passages)
    assert html_message(messages.PERIOD_SEARCHED, period=LAST_WEEK_LABEL) in last_week.params["text"]

    assert capture_answers[2].plan.period == plan.period, "a follow-up searches the same week"
    assert strip_marks(text_of(follow)).startswith(f"بحثتُ في أخبار {LAST_WEEK_LABEL}.")


async def test_a_period_without_articles_is_said_so(start_bot, fake_telegram: FakeTelegram,
                                                    known_articles: list[Article], by_url: dict[str, Article],
                                                    capture_answers: list[Any]) -> None:
    async with start_bot():  # the small index ends on 18 July 2018, and nothing is dated 7-13 July
        [reply] = await ask(fake_telegram, f"{asked_plainly(known_articles[5])} الأسبوع الماضي", chat_id=1501)
    answer = capture_answers[0]
    assert answer.period_empty
    shown = strip_marks(text_of(reply))
    assert re.match(r"لا توجد في الأرشيف أخبار من الأسبوع الماضي \(.+\)؛ إليك أقرب النتائج من كل الفترات\.\n",
                    shown), shown[:120]
    assert check_answer(reply, by_url).links[0] == known_articles[5].url, "the best results of all periods"
