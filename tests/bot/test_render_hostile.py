"""Hostile article metadata in the renderer (review findings #8, #9, #21): sizes, link schemes, bidi controls.

Feeds and saved pages choose an article's title, outlet name and URL. Whatever the readers in
``corpus/`` cap, the renderer must keep every message valid and within Telegram's limit, link
only to http(s), and never let an invisible control reverse the bot's own lines.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.render import (
    ELLIPSIS,
    MAX_MESSAGE,
    MAX_SOURCE,
    MAX_URL,
    about_values,
    guard,
    html_message,
    render_html,
    render_plain,
    safe_url,
    utf16_len,
)
from bot.rtl import BIDI_CONTROLS, strip_marks
from index import build_index
from tests.bot.fake_telegram import FakeTelegram
from tests.bot.helpers import ask
from tests.bot.telegram_html import parse_telegram_html
from tests.bot.test_render import make_passage
from tests.support.corpora import write_jsonl

TEXT = "أعلنت الوزارة اليوم أن المعرض الدولي للكتاب سيفتتح أبوابه الأسبوع المقبل بمشاركة واسعة."
QUOTE = (20, 60)


def rendered(**article: Any) -> tuple[str, Any]:
    """The one message of a passage over TEXT with the given metadata, checked, and what it shows."""
    [message] = render_html([make_passage(TEXT, (0, len(TEXT)), QUOTE, **article)])
    assert utf16_len(message) <= MAX_MESSAGE
    parsed = parse_telegram_html(message)
    assert utf16_len(parsed.text) <= MAX_MESSAGE
    return message, parsed


@pytest.mark.parametrize("size", [5_000, 100_000])
def test_an_oversized_source_name_is_cut_and_the_quote_still_shown(size: int) -> None:
    _, parsed = rendered(source="س" * size)
    line = strip_marks(parsed.text).split("\n")[1]
    shown_source = line.removeprefix("المصدر: ").split(" · ")[0]
    assert shown_source.endswith(ELLIPSIS)
    assert len(shown_source) <= MAX_SOURCE
    assert TEXT[QUOTE[0]:QUOTE[1]] in strip_marks(parsed.blockquotes[0])


def test_an_oversized_url_is_not_linked() -> None:
    url = "https://example.test/" + "a" * 6_000
    message, parsed = rendered(url=url)
    assert parsed.links == []
    assert utf16_len(message) < 1_000, "the headline is shown without the 6,000-character link"
    assert safe_url("https://example.test/" + "a" * (MAX_URL - 30)), "a long but sane URL is still a link"
    assert safe_url("https://example.test/?" + "&" * 1_000) == "", "escaped, it would take 5,000 units"


@pytest.mark.parametrize("url", [
    "javascript:alert(document.cookie)//", "JavaScript:alert(1)", " javascript:alert(1)", "tg://resolve?domain=evil",
    "data:text/html,<script>alert(1)</script>", "file:///etc/passwd", "vbscript:msgbox(1)", "//evil.test/x",
    "https:///no-host", "http://exa mple.test/", "https://example.test/\u202egnp.exe", "http://[::1/",
])
def test_only_http_and_https_urls_become_links(url: str) -> None:
    message, parsed = rendered(url=url)
    assert parsed.links == []
    assert "href" not in message
    assert "عنوان الخبر" in parsed.text, "the title is shown without a link"


def test_http_and_https_links_are_kept() -> None:
    for url in ("https://example.test/news?id=1&lang=ar", "HTTP://EXAMPLE.TEST/a", 'https://f24.test/"1"&<2>'):
        assert rendered(url=url)[1].links == [url]


def test_many_long_outlets_are_listed_within_the_line() -> None:
    base = make_passage(TEXT, (0, len(TEXT)), QUOTE)
    twins = tuple(replace(base.article, id=f"t{n}", source=f"مصدر {n} " + "ن" * 3_000,
                          url="https://example.test/" + "&" * 1_500 + str(n)) for n in range(40))
    [message] = render_html([replace(base, duplicates=twins)])
    parsed = parse_telegram_html(message)
    assert utf16_len(message) <= MAX_MESSAGE
    meta = strip_marks(parsed.text).split("\n")[2]
    assert meta.startswith("ورد الخبر نفسه أيضاً في: مصدر 0")
    assert meta.endswith(")"), "the rest is counted, not listed"
    assert "ومصادر أخرى" in meta
    plain = strip_marks(render_plain([replace(base, duplicates=twins)])).split("\n")
    assert any(line.startswith(meta) for line in plain), "the console names the same outlets"
    assert TEXT[QUOTE[0]:QUOTE[1]] in strip_marks(parsed.blockquotes[0])


def test_a_passage_too_big_for_any_shape_is_still_sent_within_the_limit() -> None:
    title = "&" * 300  # 1,500 units escaped
    source = "'" * 100  # 600 units escaped
    quote = '"' * 3_000  # 18,000 units escaped: the quote itself must be cut
    passage = make_passage(quote, (0, len(quote)), (0, len(quote)), title=title, source=source)
    base = passage.article
    twins = tuple(replace(base, id=f"t{n}", source="<" * 100 + str(n), url="https://x.test/" + "&" * 300)
                  for n in range(10))
    for limit in (MAX_MESSAGE, 3_000):
        for message in render_html([replace(passage, duplicates=twins)] * 2, limit=limit,
                                   note="&" * 2_000):
            assert utf16_len(message) <= limit
            parse_telegram_html(message)


def test_guard_cuts_any_oversized_html_to_valid_text() -> None:
    message = "<b>" + "&amp;" * 2_000 + "😀" * 1_000 + "</b>"
    cut = guard(message)
    assert utf16_len(cut) <= MAX_MESSAGE
    parsed = parse_telegram_html(cut)
    assert parsed.text.endswith(ELLIPSIS)
    assert guard("<b>short</b>") == "<b>short</b>"


def test_bidi_controls_in_title_source_and_quote_are_dropped() -> None:
    text = "قال المتحدث \u202eإن الاجتماع\u202c انتهى \u2067دون\u2069 اتفاق."
    passage = make_passage(text, (0, len(text)), (0, len(text)), title="\u202eعنوان\u202d مقلوب",
                           source="\u202eBBC\u202b عربي")
    twin = replace(passage.article, id="t1", source="\u2066France24\u202e")
    [message] = render_html([replace(passage, duplicates=(twin,))])
    parsed = parse_telegram_html(message)
    own = BIDI_CONTROLS - {"\u2068", "\u2069"}  # FSI/PDI: the bot's own isolates, always paired
    assert not own.intersection(parsed.text)
    assert parsed.text.count("\u2068") == parsed.text.count("\u2069")
    assert "عنوان مقلوب" in parsed.text
    shown = strip_marks(parsed.blockquotes[0])
    assert shown == "قال المتحدث إن الاجتماع انتهى دون اتفاق.", "the quote reads as the article, controls dropped"
    assert not own.intersection(render_plain([passage]))


def test_about_lists_many_long_sources_within_the_limit() -> None:
    sources = [("م" * 5_000 + str(n), n) for n in range(300)]
    values = about_values(30_000, sources, ("2018-01-01", "2018-12-31"), "2026-12-03T10:00:00Z")
    message = html_message(messages.ABOUT, **values)
    assert utf16_len(message) <= MAX_MESSAGE
    assert "ومصادر أخرى" in parse_telegram_html(message).text


@pytest.mark.e2e
async def test_the_running_bot_answers_from_an_article_with_hostile_metadata(
        start_bot, fake_telegram: FakeTelegram, tmp_path: Path, tiny_embedder: Any, news_records: list[dict]) -> None:
    hostile = {"id": "hostile-1", "title": "\u202eمعرض الكتاب الدولي يفتح أبوابه", "source": "س" * 5_000,
               "url": "javascript:alert(document.cookie)//", "date": "2018-05-01",
               "text": "أعلنت اللجنة المنظمة أن معرض الكتاب الدولي يفتح أبوابه للزوار يوم السبت المقبل في العاصمة."}
    twin = {**hostile, "id": "hostile-2", "source": "ن" * 5_000, "url": "https://example.test/" + "a" * 6_000}
    index_dir = tmp_path / "index"
    build_index([write_jsonl(tmp_path / "hostile.jsonl", [hostile, twin, *news_records[100:103]])], index_dir,
                tiny_embedder)
    async with start_bot(index_dir=index_dir):
        replies = await ask(fake_telegram, "متى يفتح معرض الكتاب الدولي أبوابه للزوار؟")
        await fake_telegram.settle()
    assert fake_telegram.requests("sendMessage", status=400) == [], "no 'message is too long'"
    [reply] = replies
    parsed = parse_telegram_html(reply.params["text"])
    assert "أعلنت اللجنة المنظمة" in strip_marks(parsed.text)
    assert not any(link.lower().startswith("javascript") for link in parsed.links)
    assert all(len(link) <= MAX_URL for link in parsed.links)
    assert "\u202e" not in parsed.text
