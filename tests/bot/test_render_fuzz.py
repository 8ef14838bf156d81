"""Property-based tests of the Telegram renderer: any article, any question, always a valid answer.

Articles (title, outlet, URL, text, other outlets of the same story) are drawn from strategies
mixing Arabic, Latin, digits, HTML metacharacters, emoji (outside the BMP, with ZWJ and skin
tones), bidi controls and marks, odd white space, and very long strings; the question mixes time
words (so the answer opens with a period label made of the user's words) with the same noise.
For every draw:

* every message is Telegram HTML the strict checker accepts (``tests/bot/telegram_html.py``);
* every message is within 4096 UTF-16 units, as HTML source and as visible text;
* every quote block is verbatim article text (modulo HTML escaping, the renderer's RTL marks,
  its "…" at cuts and the bidi controls it drops), and a quote that fits is shown whole;
* no bidi control reaches the reader except the renderer's own paired FSI/PDI isolates;
* every link is http(s) and at most ``MAX_URL`` long.

Example counts come from the Hypothesis profile (``tests/hypothesis_profiles.py``): 60 by
default, 1,000 with ``HYPOTHESIS_PROFILE=ci-slow``.
"""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.answerer import Answer
from bot.followup import make_plan
from bot.render import MAX_MESSAGE, MAX_URL, answer_note, html_message, no_answer_text, render_html, render_plain
from bot.rtl import BIDI_CONTROLS, FSI, PDI, drop_bidi_controls, strip_marks
from index import Passage
from tests.bot.telegram_html import parse_telegram_html, utf16_len
from tests.bot.test_render import make_passage, shown_excerpt

ARABIC = list("ابتثجحخدذرسشصضطظعغفقكلمنهوي ءأإآةى٠١٢٣") + ["\u064e", "\u0651", "\u0640"]  # with diacritics
LATIN = list("abcXYZ019 .,:/-_?=%#@")
HTML_META = list("<>&\"';") + ["&amp;", "&lt;", "</b>", "<a href='x'>", "<blockquote>", "&#x202e;"]
EMOJI = ["😀", "🔥", "👍🏽", "🇸🇦", "👨‍👩‍👧", "\ufe0f", "\u200d"]
BIDI = sorted(BIDI_CONTROLS) + ["\u200e", "\u200f", "\u061c"]
ODD_SPACE = ["\n", "\t", "\r", "\u00a0", "\u2028", "\u200b", "\x0b"]
#: Pieces drawn one by one and joined: single characters and short runs of every kind above.
PIECES = st.sampled_from(ARABIC + LATIN + HTML_META + EMOJI + BIDI + ODD_SPACE)


def mixed_text(min_size: int = 0, max_size: int = 200) -> st.SearchStrategy[str]:
    """Text joined from :data:`PIECES`, now and then with arbitrary Unicode mixed in."""
    pieces = st.lists(PIECES | st.text(max_size=3), min_size=min_size, max_size=max_size).map("".join)
    return pieces


def long_text(size: int) -> st.SearchStrategy[str]:
    """A string of about ``size`` characters: one drawn piece repeated (long names, long URLs)."""
    return st.builds(lambda piece, n: (piece * n)[:n], mixed_text(1, 8).filter(bool), st.integers(size // 2, size))


TITLES = mixed_text(0, 60) | long_text(6_000)
SOURCES = st.sampled_from(["", "BBC", "سكاي نيوز عربية", "France24"]) | mixed_text(0, 20) | long_text(5_000)
URLS = st.one_of(
    st.just(""),
    st.sampled_from(["javascript:alert(1)//", "JAVASCRIPT:x", "tg://resolve?domain=evil", "data:text/html,<b>",
                     "file:///etc/passwd", "//no-scheme.test/", "https:///", "http://[::1/", "mailto:a@b.test"]),
    st.builds(lambda path: "https://example.test/" + path, mixed_text(0, 40)),
    st.builds(lambda n, c: "https://example.test/" + c * n, st.integers(1_500, 7_000), st.sampled_from("a&\"<")),
    st.text(max_size=40),
)
ARTICLE_TEXTS = mixed_text(1, 400).filter(bool) | long_text(8_000)
TIME_WORDS = st.sampled_from(["", "الأسبوع الماضي", "في الشهر الماضي", "أمس", "في مارس 2018", "منذ ثلاثة أيام",
                              "خلال الأسبوع\u202e الماضي", "\u2067الشهر\u2069 الماضي", "آخر أخبار", "عام 2018"])
QUESTIONS = st.builds(lambda before, words, after: f"{before} {words} {after}", mixed_text(0, 15), TIME_WORDS,
                      mixed_text(0, 15))
REFERENCE = date(2018, 6, 10)


@st.composite
def passages(draw: st.DrawFn) -> Passage:
    """A passage of a drawn article: chunk and quote spans anywhere in its text, other outlets attached."""
    text = draw(ARTICLE_TEXTS)
    chunk_start = draw(st.integers(0, len(text) - 1))
    chunk_end = draw(st.integers(chunk_start + 1, len(text)))
    quote_start = draw(st.integers(chunk_start, chunk_end - 1))
    longest = draw(st.sampled_from([40, 400, 9_000]))
    quote_end = draw(st.integers(quote_start + 1, min(chunk_end, quote_start + longest)))
    passage = make_passage(text, (chunk_start, chunk_end), (quote_start, quote_end), title=draw(TITLES),
                           source=draw(SOURCES), url=draw(URLS))
    twins = draw(st.lists(st.tuples(SOURCES, URLS), max_size=8))
    duplicates = tuple(replace(passage.article, id=f"twin{n}", source=source, url=url)
                       for n, (source, url) in enumerate(twins))
    return replace(passage, duplicates=duplicates)


def answer_for(question: str, page: list[Passage]) -> Answer:
    """The answer the bot would send for ``question`` with this page (its plan, so its period note)."""
    plan = make_plan(question, REFERENCE)
    return Answer(question=question, passages=tuple(page), offset=0, answered=True, has_more=False, build_id="b",
                  plan=plan, period_empty=False)


def clean(text: str) -> str:
    """Article text as the renderer may show it: without the controls it drops and the marks it adds."""
    return strip_marks(drop_bidi_controls(text))


def check_message(message: str) -> None:
    """Valid, within the limit as source and as visible text, no stray bidi control, only safe links."""
    assert utf16_len(message) <= MAX_MESSAGE
    parsed = parse_telegram_html(message)
    assert utf16_len(parsed.text) <= MAX_MESSAGE
    assert not (BIDI_CONTROLS - {FSI, PDI}).intersection(message)
    assert message.count(FSI) == message.count(PDI), "the renderer's isolates come in pairs"
    for link in parsed.links:
        assert link.lower().startswith(("http://", "https://"))
        assert len(link) <= MAX_URL


@pytest.mark.fuzz


@given(page=st.lists(passages(), min_size=1, max_size=3), question=QUESTIONS)
def test_any_article_and_question_render_valid_verbatim_messages(page: list[Passage], question: str) -> None:
    answer = answer_for(question, page)
    note = answer_note(answer)
    messages_out = render_html(page, note=note)
    assert messages_out
    quotes: list[str] = []
    for message in messages_out:
        check_message(message)
        quotes.extend(parse_telegram_html(message).blockquotes)
    assert len(quotes) == len(page), "one quote block per passage"
    for passage, shown in zip(page, quotes, strict=True):
        article = clean(passage.article.text)
        excerpt = shown_excerpt(shown)
        assert excerpt in article, "the quote block is verbatim article text"
        quote = drop_bidi_controls(passage.quote.text)
        if utf16_len(html.escape(quote)) + quote.count("\n") <= 800:
            assert strip_marks(quote) in strip_marks(shown), "a quote that fits is shown whole"
    assert not (BIDI_CONTROLS - {FSI, PDI}).intersection(render_plain(page, note=note))


@pytest.mark.fuzz


@given(question=QUESTIONS)
def test_any_question_gets_a_valid_no_answer_message(question: str) -> None:
    answer = replace(answer_for(question, []), answered=False)
    template, values = no_answer_text(answer)
    check_message(html_message(template, **values))
