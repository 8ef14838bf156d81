"""The bot keeps its archive current from feeds while it serves, without a restart.

The real application polls the fake Bot API; a local news site (127.0.0.1) serves an RSS feed of
real archive articles as web pages. An article that enters the feed after the bot started is not
answerable at first, and is quoted verbatim after the next refresh; ``/about`` then names the
newest article's date.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from bot.rtl import strip_marks
from bot.state import bot_state
from corpus.types import Article, stable_article_id
from index import build_index
from tests.bot.fake_telegram import FakeTelegram
from tests.bot.helpers import ask, check_answer, question_from, text_of
from tests.bot.telegram_html import parse_telegram_html
from tests.corpus.news_site import NewsSite, PageSpec
from tests.corpus.test_feeds import _paragraphs
from tests.support.corpora import write_jsonl

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"),
]


async def _wait(condition, timeout: float = 60.0) -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.2)


async def test_an_article_published_after_start_is_answered_after_the_next_refresh(
        start_bot, fake_telegram: FakeTelegram, tmp_path, tiny_embedder, news_records: list[dict],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.refresh")
    index_dir = tmp_path / "index"
    build_index([write_jsonl(tmp_path / "archive.jsonl", news_records[200:204])], index_dir, tiny_embedder)
    first, late = (PageSpec(r, slug) for r, slug in zip(news_records[240:242], ("first", "late"), strict=True))
    site = NewsSite([first, late], {"/rss.xml": [("/news/first.html", first.record)]})
    feeds = tmp_path / "feeds.txt"
    with site:
        feeds.write_text(site.url("/rss.xml") + "\n", encoding="utf-8")
        late_url = site.page_url("late")
        late_article = Article(stable_article_id(None, late_url, "", ""), late.record["title"],
                               _paragraphs(late.record["text"]), url=late_url)
        question = question_from(late_article)
        async with start_bot(index_dir=index_dir, feeds_file=feeds, refresh_minutes=0.05,
                             feed_delay_seconds=0.01, admin_ids=frozenset({42}),
                             feed_allowed_private_hosts=site.base.removeprefix("http://")) as application:
            state = bot_state(application)
            # The first refresh runs right after start and adds the article already in the feed.
            await _wait(lambda: state.answerer.retriever.manifest.articles == 5)
            [before] = await ask(fake_telegram, question, chat_id=42)
            assert late_url not in parse_telegram_html(before.params["text"]).links

            site.feeds["/rss.xml"].insert(0, ("/news/late.html", late.record))  # published now
            await _wait(lambda: late_article.id in state.answerer.retriever.manifest.article_fingerprints)
            [after] = await ask(fake_telegram, question, chat_id=42)
            [about] = await ask(fake_telegram, "/about", chat_id=42)
    served = {r["url"]: Article(r["id"], r["title"], r["text"]) for r in news_records[200:204]}
    served[site.page_url("first")] = Article("", first.record["title"], _paragraphs(first.record["text"]))
    parsed = check_answer(after, {**served, late_url: late_article})
    assert parsed.links[0] == late_url, "the new article is quoted first, verbatim"
    dates = [datetime.fromisoformat(r["date"]) for r in [*news_records[200:204], first.record, late.record]]
    newest = max(dates, key=lambda d: d.astimezone(UTC))
    shown = strip_marks(text_of(about))
    assert f"أحدث خبر: {newest.strftime('%Y-%m-%d %H:%M')}" in shown
    assert "عدد المقالات: 6" in shown
    assert site.paths().count("/news/late.html") == 1, "each page is fetched once"
    assert site.paths().count("/news/first.html") == 1
    assert "1 added" in caplog.text
    assert f"added {late.record['title']}" in caplog.text
