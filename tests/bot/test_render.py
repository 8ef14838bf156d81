"""Rendering: valid Telegram HTML, within the length limit, verbatim quotes, right-to-left lines."""

from __future__ import annotations

import html
import unicodedata
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import messages
from bot.answerer import Answer
from bot.render import ELLIPSIS, MAX_MESSAGE, answer_note, no_answer_text, render_html, render_plain, utf16_len
from bot.rtl import FSI, PDI, RLM, strip_marks
from corpus.types import Article, Chunk
from index import IndexSettings, Passage, Quote, Retriever
from index.search.plan import SearchPlan
from index.search.timeexpr import TimeRange
from tests.bot.helpers import question_from
from tests.bot.telegram_html import ParsedHtml, parse_telegram_html


def make_passage(text: str, chunk: tuple[int, int], quote: tuple[int, int], *, title: str = "عنوان الخبر",
                 source: str = "BBC", url: str = "https://example.test/news?id=1&lang=ar",
                 date: datetime | None = datetime(2018, 3, 3, 12, 0)) -> Passage:
    """A passage over ``text`` with the given chunk and quote spans (offsets into the article)."""
    article = Article(id="a1", title=title, text=text, date=date, source=source, url=url)
    return Passage(chunk=Chunk("a1#0", "a1", text[chunk[0]:chunk[1]], *chunk), article=article, score=1.0,
                   quote=Quote(text[quote[0]:quote[1]], *quote), relevance=0.9)


def checked(message: str) -> ParsedHtml:
    """Parse as Telegram would and check the size rule (HTML source within the limit)."""
    assert utf16_len(message) <= MAX_MESSAGE
    return parse_telegram_html(message)


def shown_excerpt(blockquote: str) -> str:
    """The quoted article text as a reader sees it, without RTL marks and the ellipses added at cuts."""
    text = strip_marks(blockquote)
    text = text.removeprefix(ELLIPSIS + " ")
    return text.removesuffix(" " + ELLIPSIS)


def assert_lines_start_rtl(text: str) -> None:
    for line in text.split("\n"):
        if line:
            assert line[0] == RLM or unicodedata.bidirectional(line[0]) in ("R", "AL"), repr(line[:30])


def test_real_passages_render_as_valid_verbatim_html(small_index: Path, tiny_embedder, tiny_model_dir: Path,
                                                     known_articles: list[Article]) -> None:
    settings = IndexSettings(embedding_model=str(tiny_model_dir), search_mode="lexical", _env_file=None)
    retriever = Retriever.open(small_index, settings=settings, embedder=tiny_embedder)
    by_id = {a.id: a for a in known_articles}
    for article in known_articles[:8]:
        passages = retriever.search(question_from(article), k=5)
        assert passages[0].article.id == article.id
        parsed = [checked(message) for message in render_html(passages)]
        quotes = [q for p in parsed for q in p.blockquotes]
        assert len(quotes) == len(passages)
        for passage, quote in zip(passages, quotes, strict=True):
            assert shown_excerpt(quote) in by_id[passage.article.id].text
            assert passage.quote.text in strip_marks(quote)
        for p in parsed:
            assert_lines_start_rtl(p.text)


def test_markup_in_article_text_is_shown_literally() -> None:
    text = 'مقدمة <b>غامق</b> & <script>alert("x")</script> نص "مقتبس" <a href=x>رابط</a> خاتمة.'
    passage = make_passage(text, (0, len(text)), (6, 30), title="عنوان <i>مائل</i> & رمز",
                           url='https://example.test/?q="x"&y=<z>')
    [message] = render_html([passage])
    parsed = checked(message)
    assert "<script>" not in message
    assert "&lt;script&gt;" in message
    assert strip_marks(parsed.blockquotes[0]) == text
    assert "عنوان <i>مائل</i> & رمز" in strip_marks(parsed.text)
    assert parsed.links == ['https://example.test/?q="x"&y=<z>']
    assert strip_marks(parsed.bold[-1]) == text[6:30]


def test_lines_start_right_to_left_and_latin_values_are_isolated() -> None:
    text = "2018 كان عاماً حافلاً.\nCNN قالت إن الاجتماع انتهى.\n«اقتباس» في سطر ثالث."
    passage = make_passage(text, (0, len(text)), (23, 51), title="Apple تطلق هاتفاً", source="Sky News Arabia")
    [message] = render_html([passage])
    parsed = checked(message)
    assert_lines_start_rtl(parsed.text)
    assert f"{FSI}Sky News Arabia{PDI}" in parsed.text
    assert f"{FSI}2018-03-03{PDI}" in parsed.text
    assert f"{FSI}Apple{PDI}" in parsed.text
    assert_lines_start_rtl(render_plain([passage]))


def test_the_same_story_from_other_outlets_is_named_once() -> None:
    text = "وكالات: انتهى الاجتماع دون اتفاق."
    base = make_passage(text, (0, len(text)), (8, len(text)), source="BBC")
    twins = tuple(replace(base.article, id=f"t{n}", source=source)
                  for n, source in enumerate(["France24", "BBC", "France24", "", "CNN"]))
    [message] = render_html([replace(base, duplicates=twins)])
    shown = strip_marks(checked(message).text)
    assert "ورد الخبر نفسه أيضاً في: France24، CNN" in shown
    assert_lines_start_rtl(checked(message).text)


def test_each_other_outlet_links_to_its_own_article() -> None:
    text = "وكالات: انتهى الاجتماع دون اتفاق."
    base = make_passage(text, (0, len(text)), (8, len(text)), source="BBC", url="https://bbc.test/a?x=1&y=2")
    twins = (replace(base.article, id="f1", source="France24", url='https://f24.test/"1"&<2>'),
             replace(base.article, id="f2", source="France24", url="https://f24.test/other"),
             replace(base.article, id="s1", source="سكاي نيوز عربية", url=""))
    [message] = render_html([replace(base, duplicates=twins)])
    parsed = checked(message)
    assert parsed.links == ["https://bbc.test/a?x=1&y=2", 'https://f24.test/"1"&<2>']
    assert parsed.headline_links == ["https://bbc.test/a?x=1&y=2"]
    assert "ورد الخبر نفسه أيضاً في: France24، سكاي نيوز عربية" in strip_marks(parsed.text)
    plain = render_plain([replace(base, duplicates=twins)])
    assert "ورد الخبر نفسه أيضاً في: " in plain
    assert "f24.test" not in plain


def _answer(passages: list[Passage], plan: SearchPlan | None = None, **fields: object) -> Answer:
    values: dict[str, object] = {"question": "س", "passages": tuple(passages), "offset": 0, "answered": True,
                                 "has_more": False, "build_id": "b", "plan": plan}
    values.update(fields)
    return Answer(**values)  # type: ignore[arg-type]


LAST_WEEK = TimeRange(date(2018, 10, 6), date(2018, 10, 12), "الأسبوع الماضي (٦–١٢ أكتوبر ٢٠١٨)")


def test_the_answer_says_which_period_it_searched() -> None:
    text = "وكالات: انتهى الاجتماع دون اتفاق."
    passage = make_passage(text, (0, len(text)), (8, len(text)))
    plan = SearchPlan("ماذا حدث الأسبوع الماضي؟", "ماذا حدث؟", LAST_WEEK)
    note = answer_note(_answer([passage], plan))
    assert note == "بحثتُ في أخبار الأسبوع الماضي (٦–١٢ أكتوبر ٢٠١٨)."
    [message] = render_html([passage], note=note)
    parsed = checked(message)
    assert parsed.text.startswith(note + "\n\n")
    assert_lines_start_rtl(parsed.text)
    assert render_plain([passage], note=note).startswith(note + "\n\n")
    assert answer_note(_answer([passage], plan, period_empty=True)) == \
        "لا توجد في الأرشيف أخبار من الأسبوع الماضي (٦–١٢ أكتوبر ٢٠١٨)؛ إليك أقرب النتائج من كل الفترات."
    latest = SearchPlan("ما آخر أخبار <سوريا> في مارس 2018؟", "ما سوريا؟",
                        TimeRange(date(2018, 3, 1), date(2018, 3, 31), "<مارس> 2018"), latest=True)
    note = answer_note(_answer([passage], latest))
    assert note == f"بحثتُ في أخبار <مارس> {FSI}2018{PDI}.\n{messages.LATEST_FIRST}"
    [message] = render_html([passage], note=note)
    assert checked(message).text.startswith(note), "the note is escaped"
    assert answer_note(_answer([passage])) == ""


def test_a_note_never_pushes_a_long_passage_over_the_limit() -> None:
    text = " ".join(f"كلمة{n}" for n in range(3000))
    passage = make_passage(text, (0, len(text)), (100, 200))
    note = "بحثتُ في أخبار " + "الأسبوع الماضي " * 20
    messages_out = render_html([passage, passage], note=note)
    assert len(messages_out) == 2
    assert checked(messages_out[0]).text.startswith(note.strip())
    checked(messages_out[1])


def test_no_answer_names_the_period() -> None:
    plan = SearchPlan("ماذا حدث الأسبوع الماضي؟", "ماذا حدث؟", LAST_WEEK)
    assert no_answer_text(_answer([], plan, answered=False)) == (messages.NO_ANSWER_IN_PERIOD,
                                                                  {"period": LAST_WEEK.label})
    assert no_answer_text(_answer([], plan, answered=False, period_empty=True))[0] == messages.PERIOD_EMPTY_NO_ANSWER
    assert no_answer_text(_answer([], None, answered=False)) == (messages.NO_ANSWER, {})
    assert no_answer_text(_answer([], plan, answered=False, offset=3)) == (messages.NO_MORE, {})


def test_a_long_passage_is_trimmed_around_its_whole_quote_at_word_boundaries() -> None:
    words = [f"كلمة{n}" for n in range(3000)]
    text = " ".join(words)
    quote_start = text.index("كلمة1500 ")
    quote_end = text.index(" كلمة1540")
    passage = make_passage(text, (0, len(text)), (quote_start, quote_end))
    [message] = render_html([passage])
    parsed = checked(message)
    assert strip_marks(parsed.bold[-1]) == text[quote_start:quote_end]
    shown = strip_marks(parsed.blockquotes[0])
    assert shown.startswith(ELLIPSIS)
    assert shown.endswith(ELLIPSIS)
    excerpt = shown_excerpt(parsed.blockquotes[0])
    at = text.index(excerpt)
    assert text[at - 1] == " ", "cut inside a word"
    assert text[at + len(excerpt)] == " ", "cut inside a word"
    assert utf16_len(message) > MAX_MESSAGE * 0.8, "trimmed far more than needed"


def test_a_quote_longer_than_a_message_is_cut_but_stays_verbatim() -> None:
    text = " ".join(f"جملة{n}" for n in range(2000))
    passage = make_passage(text, (0, len(text)), (0, len(text)))
    [message] = render_html([passage])
    parsed = checked(message)
    assert shown_excerpt(parsed.blockquotes[0]) in text
    assert len(parsed.bold[-1]) > 1000


def test_many_passages_split_between_passages_only() -> None:
    passages = []
    for n in range(7):
        text = f"الخبر رقم {n}: " + "تفاصيل إضافية حول الحدث " * 60
        passages.append(make_passage(text, (0, len(text)), (0, 12), title=f"عنوان {n}"))
    messages = render_html(passages)
    assert len(messages) > 1
    quotes = [q for m in messages for q in checked(m).blockquotes]
    assert [strip_marks(q) for q in quotes] == [p.article.text for p in passages]


def test_length_is_counted_in_utf16_units() -> None:
    text = "خبر " + "😀" * 3000
    passage = make_passage(text, (0, len(text)), (0, 3))
    [message] = render_html([passage])
    checked(message)
    assert len(message) < MAX_MESSAGE * 0.6, "each emoji must count as two units"


def test_plain_text_shows_the_same_span_with_the_quote_marked() -> None:
    words = " ".join(f"كلمة{n}" for n in range(2000))
    start = words.index("كلمة1000 ")
    passage = make_passage(words, (0, len(words)), (start, start + 40), source="France24")
    plain = render_plain([passage])
    [message] = render_html([passage])
    assert f"«{words[start:start + 40]}»" in plain
    assert "<" not in plain
    html_excerpt = shown_excerpt(checked(message).blockquotes[0])
    assert html_excerpt.replace(words[start:start + 40], "«" + words[start:start + 40] + "»") in strip_marks(plain)


@pytest.mark.parametrize("limit", [400, 1000, MAX_MESSAGE], ids=["tiny", "small", "telegram"])
def test_every_message_respects_the_limit(limit: int) -> None:
    text = "نص " * 800
    passages = [make_passage(text, (0, len(text)), (300, 330)) for _ in range(3)]
    for message in render_html(passages, limit=limit):
        assert utf16_len(message) <= limit
        parse_telegram_html(message)


_ALPHABET = st.sampled_from(list("ابتثجحخدذرسشصضطظعغفقكلمنهوي ءأإآةى٠١٢") + list("<>&\"' \n\t.،؟abcXYZ019😀"))


@pytest.mark.fuzz


@given(text=st.text(_ALPHABET, min_size=1, max_size=9000), data=st.data())
def test_any_text_renders_valid_and_verbatim(text: str, data: st.DataObject) -> None:
    chunk_start = data.draw(st.integers(0, len(text) - 1))
    chunk_end = data.draw(st.integers(chunk_start + 1, len(text)))
    quote_start = data.draw(st.integers(chunk_start, chunk_end - 1))
    quote_end = data.draw(st.integers(quote_start + 1, chunk_end))
    title = data.draw(st.text(_ALPHABET, max_size=80) | st.text(_ALPHABET, min_size=3000, max_size=5000))
    passage = make_passage(text, (chunk_start, chunk_end), (quote_start, quote_end), title=title)
    for message in render_html([passage, passage]):
        parsed = checked(message)
        for quote in parsed.blockquotes:
            assert shown_excerpt(quote) in text
    assert html.escape("<") not in render_plain([passage])
