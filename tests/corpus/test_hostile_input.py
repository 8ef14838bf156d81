"""Hostile text and records (security review 2026-12, findings 3, 8, 9, 11, 12 and the CSV observations).

The timing tests print what they measured; their bound is generous (seconds, where the quadratic
code took minutes) so a busy machine cannot make them flaky.
"""

from __future__ import annotations

import csv
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from corpus import read_corpus
from corpus.arabic import lexical_tokens, normalise
from corpus.chunking import Chunker
from corpus.readers.base import MAX_SOURCE_CHARS, cap_article
from corpus.readers.text_page import read_text_page
from corpus.sentences import sentence_spans
from corpus.types import Article

RUNS = {"dots": "." * 200_000 + "x", "spaces": "كلمة " + " " * 200_000 + "x",
        "question-marks": "؟!" * 100_000 + "x", "dot-space": ". " + " " * 200_000 + "x",
        "ellipses": "…" * 200_000, "quotes": '."»' * 66_000 + "x"}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_long_punctuation_and_space_runs_are_processed_in_linear_time(name: str, tmp_path: Path) -> None:
    text = RUNS[name]
    page = tmp_path / "page.txt"
    page.write_text(f"عنوان الخبر\nأخبار\nقال المتحدث إن الاجتماع انتهى.\n{text}\n", encoding="utf-8")
    started = time.perf_counter()
    spans = sentence_spans(text)
    chunks = Chunker().chunk(Article("a", "t", text))
    read_text_page(page)
    normalise(text)
    lexical_tokens(text)
    capped, _ = cap_article(Article("b", "t", (text + " ") * 2))
    elapsed = time.perf_counter() - started
    print(f"\n{name}: {len(text):,} characters split, chunked, read, normalised and cut in {elapsed:.3f} s")
    assert all(text[s:e].strip() == text[s:e] and text[s:e] for s, e in spans)
    assert all(text[c.start:c.end] == c.text for c in chunks)
    assert len(capped.text) <= 200_000
    assert elapsed < 10, "quadratic code took 20 s at 40,000 characters and ~500 s at 200,000"


def test_a_deeply_nested_json_line_costs_that_line_only(tmp_path: Path, news_records: list[dict]) -> None:
    path = tmp_path / "nested.jsonl"
    good = json.dumps(news_records[0], ensure_ascii=False)
    path.write_text("\n".join([good, '{"text": ' + '{"a": ' * 5000 + "1" + "}" * 5001, "[" * 100_000,
                               json.dumps(news_records[1], ensure_ascii=False)]) + "\n", encoding="utf-8")
    report = read_corpus([path])
    assert [a.title for a in report.articles] == [news_records[0]["title"], news_records[1]["title"]]
    assert [(s.path.rsplit(":", 1)[1], s.reason) for s in report.skipped] == [
        ("2", "JSON nested too deeply"), ("3", "JSON nested too deeply")]


def _csv(path: Path, rows: list[dict]) -> bytes:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "title", "text", "date", "source"])
        writer.writeheader()
        writer.writerows({k: r[k] for k in ("id", "title", "text", "date", "source")} for r in rows)
    return path.read_bytes()


def test_a_csv_row_with_an_undecodable_byte_or_a_nul_loses_only_that_row(tmp_path: Path,
                                                                          news_records: list[dict]) -> None:
    rows = news_records[:40]
    path = tmp_path / "export.csv"
    data = _csv(path, rows)

    def spot(n: int) -> bytes:  # a quote-free piece of row n's text, as it appears in the file
        piece = rows[n]["text"][:30]
        assert '"' not in piece
        return piece.encode()

    damaged = data.replace(spot(2), spot(2)[:10] + b"\xff" + spot(2)[10:], 1)
    late = next(n for n in range(25, 40) if '"' not in rows[n]["text"][:30] and data.index(spot(n)) > 65536)
    # After the first 64 KiB: a NUL there once reached the index (only the start was checked for binary).
    damaged = damaged.replace(spot(late), spot(late)[:6] + b"\x00" + spot(late)[6:], 1)
    path.write_bytes(damaged)
    report = read_corpus([path])
    ids = [a.id for a in report.articles]
    assert rows[2]["id"] not in ids
    assert rows[late]["id"] not in ids
    assert len(ids) == 38
    first_line = {n: data[:data.index(f"\r\n{rows[n]['id']},".encode()) + 2].count(b"\n") + 1 for n in (2, late)}
    assert sorted((s.path, s.reason) for s in report.skipped) == sorted([
        (f"{path}:{first_line[2]}", "invalid UTF-8 in this row (the rest of the file is UTF-8)"),
        (f"{path}:{first_line[late]}", "NUL byte in this row (binary data, not text)")])
    assert all("\x00" not in a.text for a in report.articles)


def test_a_broken_csv_row_loses_only_that_row(tmp_path: Path, news_records: list[dict]) -> None:
    path = tmp_path / "export.csv"
    data = _csv(path, news_records[:5]).decode()
    lines = data.split("\r\n")
    header, rest = lines[0], "\r\n".join(lines[1:])
    path.write_text(header + "\r\n" + 'x,"t","' + "a" * 100 + '"junk after quote' + "\r\n" + rest, encoding="utf-8")
    import corpus.readers.csv_table as csv_table

    previous = csv.field_size_limit(50)  # a row over the field limit is one csv.Error, like a broken quote
    try:
        report = read_corpus([path])
    finally:
        csv.field_size_limit(previous)
    assert csv_table  # the reader module is the one under test
    assert report.skipped
    assert all("broken CSV row" in s.reason for s in report.skipped)
    assert len(report.articles) + len(report.skipped) >= 5


def test_article_metadata_is_bounded_whatever_the_source_says() -> None:
    now = datetime(2026, 12, 3, tzinfo=UTC)
    article = Article("x", "عنوان", "نص الخبر.", date=datetime(2099, 12, 31, 23, 59, tzinfo=UTC),
                      source="ب" * 5000, url="javascript:alert(document.cookie)")
    capped, repairs = cap_article(article, now)
    assert len(capped.source) == MAX_SOURCE_CHARS
    assert capped.source.endswith("…")
    assert capped.url == ""
    assert capped.date is None
    assert len(repairs) == 3
    assert any("in the future" in r for r in repairs)
    long_url = "https://example.com/" + "a" * 6000
    assert cap_article(Article("y", "t", "n", url=long_url), now)[0].url == ""
    fine = Article("z", "t", "n", date=datetime(2018, 5, 1, tzinfo=UTC), source="BBC عربي",
                   url="https://www.bbc.com/arabic/x")
    assert cap_article(fine, now) == (fine, [])


def test_a_future_dated_record_keeps_its_text_but_not_its_date(tmp_path: Path, news_records: list[dict]) -> None:
    record = dict(news_records[3], date="2099-12-31T23:59:00+00:00")
    path = tmp_path / "future.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    report = read_corpus([path])
    [article] = report.articles
    assert article.date is None
    assert article.text == record["text"].strip()
    assert any("in the future: dropped" in r.reason for r in report.repaired)
