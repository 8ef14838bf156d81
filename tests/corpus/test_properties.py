"""Property-based tests (hypothesis) of the code that eats untrusted text: readers, splitter, chunker, time words.

Examples per property come from the profile (``tests/hypothesis_profiles.py``): 60 in the default
run, 1,000 with ``HYPOTHESIS_PROFILE=ci-slow`` (CI's slow step). What must hold for *any* input:

* readers never raise on a file's content: they yield articles or say, per record, why not;
* every sentence span and chunk is an exact slice of the article (quotes are verbatim);
* the time-expression parser always returns, its spans are slices of the question, and the
  period label never carries a bidi control from the question.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpus import read_corpus
from corpus.chunking import Chunker, ChunkerSettings
from corpus.sentences import sentence_spans
from corpus.types import Article, SkippedInput
from index.search.timeexpr import parse_time

#: What news text is made of, and what hostile text adds: Arabic letters, diacritics and digits,
#: Latin, punctuation runs, white space of every kind, bidi and zero-width controls, emoji, NUL.
ALPHABET = st.sampled_from(
    [chr(c) for c in range(0x0621, 0x064B)] + ["\u064b", "\u0651", "٣", "5", "a", "Z"]
    + list(".!?؟؛…،,:\"'»«”’)]([") + [" ", "\n", "\t", "\r", "\u00a0", "\u2028"]
    + ["\u202b", "\u202e", "\u2066", "\u2069", "\u200f", "\u200b", "\ufeff", "😀", "\x00", "<", "&"])
TEXT = st.text(ALPHABET, max_size=600)
WORDS = st.sampled_from(["أمس", "الأسبوع الماضي", "في مارس 2018", "منذ ثلاثة أيام", "آخر أخبار", "بين 1 و 5 مايو",
                         "الشهر الماضي", "يوم الاثنين", "ماذا", "حدث", "في", "السعودية", "؟", "\u202e", "\u2067",
                         "2018", "١٢", "خلال الـ 3 أيام", "قبل", "شباط", "الماضي"])
QUESTION = st.lists(st.one_of(WORDS, TEXT.map(lambda t: t[:30])), max_size=12).map(" ".join)


@pytest.mark.fuzz


@given(TEXT)
def test_sentence_spans_are_trimmed_exact_slices_in_order(text: str) -> None:
    spans = sentence_spans(text)
    assert spans == sorted(spans)
    for start, end in spans:
        assert 0 <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()


@pytest.mark.fuzz


@given(TEXT, st.integers(16, 64))
def test_chunks_are_verbatim_slices_that_cover_the_text(text: str, max_tokens: int) -> None:
    chunks = Chunker(settings=ChunkerSettings(max_tokens=max_tokens, overlap_tokens=max_tokens // 4)).chunk(
        Article("a", "t", text))
    for chunk in chunks:
        assert text[chunk.start:chunk.end] == chunk.text
    if text.strip():
        covered = {i for c in chunks for i in range(c.start, c.end)}
        assert all(i in covered or text[i].isspace() or not text[i].isprintable() for i in range(len(text)))


@pytest.mark.fuzz


@given(st.lists(st.one_of(  # at least one record: an empty file is refused as a whole
    st.fixed_dictionaries({"id": TEXT, "title": TEXT, "text": TEXT, "date": st.one_of(st.none(), TEXT),
                           "source": TEXT, "url": TEXT}),
    st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), TEXT),
                 lambda inner: st.one_of(st.lists(inner, max_size=3),
                                         st.dictionaries(st.sampled_from(["text", "title", "x"]), inner, max_size=3)),
                 max_leaves=8)), min_size=1, max_size=6),
       st.binary(max_size=200))
def test_jsonl_and_csv_readers_never_raise_and_skip_per_record(records: list[object], junk: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        jsonl = Path(folder) / "a.jsonl"
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
        report = read_corpus([jsonl])
        # Each line is exactly one article or one reported skip (a bad record, or a duplicate id).
        assert len(report.articles) + len(report.skipped) == len(lines)
        assert all(article.text.strip() and article.text == article.text.strip() for article in report.articles)
        rows = [r for r in records if isinstance(r, dict)]
        csv_path = Path(folder) / "b.csv"
        csv_path.write_bytes(b"id,title,text\n" + b"\n".join(
            ",".join(json.dumps(str(r.get(k, ""))) for k in ("id", "title", "text")).encode() for r in rows)
            + b"\n" + junk)
        junk_path = Path(folder) / "c.jsonl"
        junk_path.write_bytes(junk + b"\n" + junk[::-1])
        other = read_corpus([csv_path, junk_path])  # must not raise, whatever the bytes
        assert all(isinstance(s, SkippedInput) and s.reason for s in other.skipped)
        assert all(article.text.strip() for article in other.articles)


@pytest.mark.fuzz


@given(TEXT, TEXT)
def test_html_and_text_page_readers_never_raise(title: str, body: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "p.html"
        page.write_text(f"<html><head><title>{title}</title></head><body><article><p>{body}</p>"
                        f"<p>{body[::-1]}</p></article></body></html>", encoding="utf-8", errors="surrogatepass")
        text = Path(folder) / "p.txt"
        text.write_text(f"{title}\nأخبار\n{body}\n", encoding="utf-8", errors="surrogatepass")
        report = read_corpus([page, text])
        for article in report.articles:
            assert article.text.strip()
        assert report.files_read == 2


@pytest.mark.fuzz


@given(QUESTION, st.dates(date(2000, 1, 1), date(2030, 12, 31)))
def test_the_time_parser_always_returns_slices_and_labels_without_bidi_controls(question: str,
                                                                              reference: date) -> None:
    found = parse_time(question, reference)
    for start, end in found.spans:
        assert 0 <= start <= end <= len(question)
    if found.period is not None:
        assert found.period.since <= found.period.until
        assert not any(c in found.period.label for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
