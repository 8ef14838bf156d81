"""/follow end to end: standing questions pushed after feed refreshes, over the fake Bot API.

The real application polls the fake Bot API on 127.0.0.1 and refreshes every 3 s from a local
news site (127.0.0.1, named in ``FEED_ALLOWED_PRIVATE_HOSTS``) serving real archive articles.
Readers follow topics; articles then enter the feed; after the next refresh only the reader whose
topic the new article answers gets one push, with the verbatim quote; later refreshes send no
duplicate; the daily cap holds; merged matches come as one message; a blocked chat loses its
follows; a restart keeps them.

The tiny test model's cosines mean nothing, so these tests search lexically with the push bar at
-1: what decides a match is that the search runs over the new articles only. The unrelated topic
is built from an archive headline keeping only words that share no BM25 token with the new
article, so it matches old articles and never the new one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.state import bot_state
from corpus.arabic import lexical_tokens
from corpus.types import Article, stable_article_id
from index import build_index
from tests.bot.builders import callback_update
from tests.bot.fake_telegram import FakeTelegram, Fault
from tests.bot.helpers import ask, check_answer, keyboard, question_from, text_of
from tests.bot.telegram_html import parse_telegram_html
from tests.corpus.news_site import NewsSite, PageSpec
from tests.corpus.test_feeds import _paragraphs
from tests.support.corpora import write_jsonl

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"),
]

READER, OTHER_GROUP, BLOCKED = 42, -100500, 41


async def _wait(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.2)


def _article(site: NewsSite, spec: PageSpec) -> Article:
    """The article as the feed run reads it from the site (id from its URL)."""
    url = site.page_url(spec.slug)
    return Article(stable_article_id(None, url, "", ""), spec.record["title"], _paragraphs(spec.record["text"]),
                   url=url)


def _unrelated_topic(records: list[dict[str, Any]], new: Article) -> str:
    """Archive headline words that share no lexical token with ``new`` (they match old articles only)."""
    banned = set(lexical_tokens(new.title + " " + new.text))
    for record in records:
        words = [w for w in record["title"].split() if (t := lexical_tokens(w)) and not set(t) & banned]
        if len(words) >= 2:
            return " ".join(words)
    raise AssertionError("no archive headline yields an unrelated topic")


def _opening(article: Article, words: int = 8) -> str:
    return " ".join(article.text.split()[:words])


async def _refreshes(site: NewsSite, count: int) -> None:
    """Wait until the feed was read ``count`` more times (each refresh reads it once)."""
    start = site.paths().count("/rss.xml")
    await _wait(lambda: site.paths().count("/rss.xml") >= start + count)


@pytest.fixture
def archive(tmp_path: Path, tiny_embedder: Any, news_records: list[dict[str, Any]]) -> Path:
    index_dir = tmp_path / "index"
    build_index([write_jsonl(tmp_path / "archive.jsonl", news_records[200:204])], index_dir, tiny_embedder)
    return index_dir


def _settings(site: NewsSite, feeds: Path, index_dir: Path, **overrides: Any) -> dict[str, Any]:
    feeds.write_text(site.url("/rss.xml") + "\n", encoding="utf-8")
    return {"index_dir": index_dir, "feeds_file": feeds, "refresh_minutes": 0.05, "feed_delay_seconds": 0.01,
            "feed_allowed_private_hosts": site.base.removeprefix("http://"), "follow_threshold": -1.0,
            "admin_ids": frozenset({READER}), **overrides}


async def test_a_new_article_is_pushed_once_to_its_follower_only_and_follows_survive_a_restart(
        start_bot, fake_telegram: FakeTelegram, tmp_path: Path, archive: Path,
        news_records: list[dict[str, Any]]) -> None:
    first, late = (PageSpec(r, slug) for r, slug in zip(news_records[240:242], ("first", "late"), strict=True))
    # The same story from two more outlets: one in the same refresh, one in a later one.
    copy, later = (PageSpec({**late.record, "source": f"وكالة {n}",
                             "text": late.record["text"] + f"\nوأضاف مراسل {n} أن التفاصيل ستعلن."}, slug)
                   for n, slug in ((1, "copy"), (2, "later")))
    site = NewsSite([first, late, copy, later], {"/rss.xml": [("/news/first.html", first.record)]})
    with site:
        late_article, copy_article, later_article = (_article(site, s) for s in (late, copy, later))
        topic = question_from(late_article)
        unrelated = _unrelated_topic(news_records[200:204], late_article)
        settings = _settings(site, tmp_path / "feeds.txt", archive)
        async with start_bot(**settings) as application:
            state = bot_state(application)
            await _wait(lambda: state.answerer.retriever.manifest.articles == 5)  # "first" is in, before follows
            [saved, *now] = await ask(fake_telegram, f"/follow {topic}", chat_id=READER)
            await ask(fake_telegram, f"/follow {unrelated}", chat_id=OTHER_GROUP, user_id=7)
            await fake_telegram.settle()
            reader_before, group_before = len(fake_telegram.sent(READER)), len(fake_telegram.sent(OTHER_GROUP))

            site.feeds["/rss.xml"][:0] = [("/news/late.html", late.record), ("/news/copy.html", copy.record)]
            await fake_telegram.wait_for(lambda: len(fake_telegram.sent(READER)) > reader_before, 60.0)
            await _refreshes(site, 2)  # two more refreshes: nothing new, nothing sent again
            site.feeds["/rss.xml"].insert(0, ("/news/later.html", later.record))  # the story again, elsewhere
            await _wait(lambda: later_article.id in state.answerer.retriever.manifest.article_fingerprints)
            await _refreshes(site, 1)
            await fake_telegram.settle()
            pushes = fake_telegram.sent(READER)[reader_before:]
            group_pushes = fake_telegram.sent(OTHER_GROUP)[group_before:]
            answered = len(fake_telegram.requests("answerCallbackQuery"))
            good = keyboard(pushes[-1])[1]["callback_data"]  # 👍 under the push
            fake_telegram.inject(callback_update(good, chat_id=READER, message_id=pushes[-1].message_id))
            await fake_telegram.wait_for(lambda: len(fake_telegram.requests("answerCallbackQuery")) > answered)
            [stats] = await ask(fake_telegram, "/stats", chat_id=READER)

        assert "تمّت المتابعة" in text_of(saved)
        assert len(pushes) == 1, "one push, and no duplicate on the next refreshes"
        [push] = pushes
        story = {a.url: a for a in (late_article, copy_article)}
        parsed = check_answer(push, story)  # valid HTML, verbatim quote
        [headline] = parsed.headline_links
        assert headline in story
        assert (set(story) - {headline}) <= set(parsed.links), "the other outlet is named: also reported by"
        assert "ورد الخبر نفسه أيضاً في" in parsed.text
        assert messages.PUSH_TOPIC.split("«")[0] in parsed.text
        assert topic[:30] in parsed.text.replace("\u2068", "").replace("\u2069", ""), "names the followed topic"
        assert [b["text"] for b in keyboard(push)] == [messages.BUTTON_BAD, messages.BUTTON_GOOD]
        assert group_pushes == [], "a topic the new article does not answer gets nothing"
        shown = parse_telegram_html(stats.params["text"]).text
        assert "التنبيهات المرسلة: \u20681\u2069" in shown
        assert "تقييم التنبيهات: 👍 \u20681\u2069 / 👎 \u20680\u2069" in shown, "the 👍 counts as a push vote"

        async with start_bot(**settings) as application:  # a restart: the same files
            [listed] = await ask(fake_telegram, "/following", chat_id=READER)
            [group_listed] = await ask(fake_telegram, "/following", chat_id=OTHER_GROUP, user_id=7)
            counts = bot_state(application).follows.counts()
    assert topic[:30] in text_of(listed).replace("\u2068", "").replace("\u2069", "")
    assert len(keyboard(listed)) == 1, "one stop button per topic"
    assert keyboard(listed)[0]["callback_data"].startswith("u:")
    assert unrelated.split()[0] in text_of(group_listed)
    assert (counts.follows, counts.chats, counts.pushes, counts.good, counts.bad) == (2, 2, 1, 1, 0)


async def test_matches_merge_the_daily_cap_holds_and_a_blocked_chat_loses_its_follows(
        start_bot, fake_telegram: FakeTelegram, tmp_path: Path, archive: Path,
        news_records: list[dict[str, Any]]) -> None:
    specs = [PageSpec(r, slug) for r, slug in zip(news_records[243:246], ("a", "b", "c"), strict=True)]
    site = NewsSite(specs, {"/rss.xml": []})
    with site:
        a, b, c = (_article(site, spec) for spec in specs)
        topic = " ".join(_opening(x) for x in (a, b, c))
        async with start_bot(**_settings(site, tmp_path / "feeds.txt", archive,
                                         follow_max_pushes_per_day=1)) as application:
            state = bot_state(application)
            await _refreshes(site, 1)
            await ask(fake_telegram, f"/follow {topic}", chat_id=BLOCKED)
            await ask(fake_telegram, f"/follow {topic}", chat_id=READER)
            await fake_telegram.settle()
            before = len(fake_telegram.sent(READER))
            # The blocked chat comes first (follows are pushed in chat order): Telegram refuses it.
            blocked = Fault(status=403, description="Forbidden: bot was blocked by the user")
            fake_telegram.fail_next("sendMessage", blocked)
            site.feeds["/rss.xml"][:0] = [("/news/a.html", specs[0].record), ("/news/b.html", specs[1].record)]
            await fake_telegram.wait_for(lambda: len(fake_telegram.sent(READER)) > before, 60.0)
            site.feeds["/rss.xml"].insert(0, ("/news/c.html", specs[2].record))
            await _wait(lambda: c.id in state.answerer.retriever.manifest.article_fingerprints)
            await _refreshes(site, 1)
            await fake_telegram.settle()
            pushes = fake_telegram.sent(READER)[before:]
            blocked_follows = state.follows.follows(BLOCKED)
            reader_follows = state.follows.follows(READER)
    assert fake_telegram.pending_faults("sendMessage") == 0, "the push to the blocked chat was tried"
    assert len(pushes) == 1, "two matches of one refresh are one message; the day's cap (1) stops the third"
    parsed = check_answer(pushes[0], {a.url: a, b.url: b})
    assert sorted(parsed.headline_links) == sorted([a.url, b.url])
    assert blocked_follows == [], "a chat that blocked the bot has its follows dropped"
    assert len(reader_follows) == 1
