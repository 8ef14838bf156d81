"""Bad corpus input: every bad file or record is skipped or repaired with its reason; the rest is indexed.

Each case writes real articles of the shared sample (read in place) in one shape that bad input
takes, into its own folder, and states what reading it must give: how many articles, and which
paths are skipped or repaired for which reason. The last test builds one folder holding every case
with the real CLI and checks its summary and the number of articles indexed.
"""

from __future__ import annotations

import csv
import gzip
import html
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus import read_corpus
from corpus.readers.base import MAX_ARTICLE_CHARS
from index import IndexSettings, Retriever
from index.cli import app
from tests.reliability.support import assert_clean_exit
from tests.support.corpora import write_jsonl

#: Real records each case may use: each case gets its own, so cases can share one folder.
RECORDS_PER_CASE = 6
GIANT_BYTES = 50 * 1024 * 1024


@dataclass
class Expected:
    """What reading a case's folder must give. Paths are relative to the folder; reasons are fragments."""

    articles: int
    skipped: list[tuple[str, str]] = field(default_factory=list)
    repaired: list[tuple[str, str]] = field(default_factory=list)
    #: Exact (title, text) of articles whose content the case is about, in reading order.
    contents: list[tuple[str, str]] = field(default_factory=list)


Case = Callable[[Path, list[dict]], Expected]


def _page(record: dict) -> str:
    """A scraped ``.txt`` page: title, blank line, body."""
    return f"{record['title']}\n\n{record['text']}\n"


def _web_paragraphs(text: str) -> str:
    """The body as the web-page extractor gives it: paragraphs, without the invisible bidi embedding
    controls (U+202A-U+202E) some outlets leave in their text (one sample article has them)."""
    return re.sub("[\u202a-\u202e]", "", _paragraphs(text))


def _paragraphs(text: str) -> str:
    """The body as page readers give it: one line per non-empty paragraph, HTML white space collapsed."""
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _ends_like_an_article(record: dict) -> bool:
    """True when a ``.txt`` page of the record keeps its last line (short unpunctuated lines are navigation)."""
    last = _paragraphs(record["text"]).split("\n")[-1]
    return len(last.split()) > 6 or last[-1] in ".!?؟»\""


def _cp1256_records(records: list[dict], count: int) -> list[dict]:
    def encodable(record: dict) -> bool:
        try:
            "".join(str(record[key]) for key in ("title", "text", "source", "url")).encode("cp1256")
        except UnicodeEncodeError:
            return False
        return True

    found = [record for record in records if encodable(record)][:count]
    assert len(found) == count, "not enough Windows-1256-encodable articles in the sample"
    return found


def _html(record: dict, *, title: bool = True) -> str:
    """A saved news page: the article inside navigation, header, asides, scripts and a footer."""
    paragraphs = "\n".join(f"<p>{html.escape(line)}</p>" for line in record["text"].split("\n") if line.strip())
    head_title = f"<title>{html.escape(record['title'])}</title>" if title else ""
    return f"""<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">{head_title}
<meta property="article:published_time" content="{record['date']}">
<meta property="og:site_name" content="{record['source']}"><link rel="canonical" href="{record['url']}">
<style>p {{ margin: 0 }}</style><script>document.write("<p>سكربت</p>");</script></head>
<body><header><nav><ul><li><a href="/">الرئيسية</a></li><li>سياسة</li></ul></nav><p>شريط الأخبار العاجلة</p></header>
<main><article><header><h1>{html.escape(record['title'])}</h1><p class="byline">بقلم المحرر</p></header>
{paragraphs}
</article><aside><h3>اقرأ أيضا</h3><p>خبر آخر لا علاقة له</p></aside></main>
<footer><p>جميع الحقوق محفوظة 2018</p></footer></body></html>"""


# --- the cases ----------------------------------------------------------------------------------------

def empty_files(folder: Path, records: list[dict]) -> Expected:
    for name in ("empty.txt", "empty.jsonl", "empty.csv", "empty.html"):
        (folder / name).write_bytes(b"")
    (folder / "blank.jsonl").write_text("\n  \n\t\n", encoding="utf-8")
    return Expected(0, skipped=[("empty.txt", "empty file"), ("empty.jsonl", "empty file"),
                                ("empty.csv", "empty file"), ("empty.html", "empty file"),
                                ("blank.jsonl", "file holds only white space")])


def binary_files(folder: Path, records: list[dict]) -> Expected:
    (folder / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    archive = "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode("utf-8")
    (folder / "archive.jsonl").write_bytes(gzip.compress(archive))
    return Expected(0, skipped=[("archive.jsonl", "binary file (contains NUL bytes)"),
                                ("photo.txt", "binary file (contains NUL bytes)")])


def invalid_utf8(folder: Path, records: list[dict]) -> Expected:
    """Bytes that are neither UTF-8 nor Windows-1256 text, and UTF-8 with one damaged character."""
    rng = random.Random(7)
    (folder / "noise.txt").write_bytes(bytes(rng.randrange(0x80, 0x100) for _ in range(4000)))
    page = _page(records[0]).encode("utf-8")
    # Drop the last byte of a two-byte Arabic letter that ends a word.
    cut = next(i for i in range(200, len(page)) if 0x80 <= page[i] <= 0xBF and page[i + 1] == ord(" "))
    (folder / "damaged.txt").write_bytes(page[:cut] + page[cut + 1:])
    return Expected(0, skipped=[("damaged.txt", f"invalid UTF-8 at byte {cut - 1} (invalid continuation byte) "
                                                "in an otherwise UTF-8 file"),
                                ("noise.txt", "neither UTF-8 nor Windows-1256 text (")])


def damaged_jsonl_line(folder: Path, records: list[dict]) -> Expected:
    lines = [json.dumps(r, ensure_ascii=False).encode("utf-8") for r in records[:5]]
    at = lines[2].index(b" ", 300)
    lines[2] = lines[2][:at] + b"\xff" + lines[2][at:]
    (folder / "news.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return Expected(4, skipped=[("news.jsonl:3", f"invalid UTF-8 at byte {at} of the line (invalid start byte)")])


def csv_with_quotes(folder: Path, records: list[dict]) -> Expected:
    """Articles quoting someone, exported as spreadsheets do (a quote inside a field is doubled)."""
    assert any('"' in record["text"] for record in records)
    for delimiter, name in ((",", "comma.csv"), (";", "semicolon.csv")):
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["id", "title", "text", "date"], delimiter=delimiter)
            writer.writeheader()
            for record in records[:3] if delimiter == "," else records[3:]:
                writer.writerow({key: record[key] for key in writer.fieldnames})
    return Expected(len(records), contents=[(r["title"], r["text"].strip()) for r in records])


def windows_1256(folder: Path, records: list[dict]) -> Expected:
    line, row, web = _cp1256_records(records, 3)
    page = next(r for r in _cp1256_records(records, len(records) - 1)[3:] if _ends_like_an_article(r))
    (folder / "page.txt").write_bytes(_page(page).encode("cp1256"))
    (folder / "news.jsonl").write_bytes(json.dumps(line, ensure_ascii=False).encode("cp1256"))
    with (folder / "table.csv").open("w", encoding="cp1256", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "title", "text", "date", "source", "url"])
        writer.writeheader()
        writer.writerow({key: row[key] for key in writer.fieldnames})
    (folder / "page.htm").write_bytes(_html(web).replace("utf-8", "windows-1256").encode("cp1256"))
    # Reading order is by path: news.jsonl, page.htm, page.txt, table.csv.
    return Expected(4, contents=[(line["title"], line["text"].strip()), (web["title"], _web_paragraphs(web["text"])),
                                 (page["title"], _paragraphs(page["text"])), (row["title"], row["text"].strip())])


def html_pages(folder: Path, records: list[dict]) -> Expected:
    (folder / "article.html").write_text(_html(records[0]), encoding="utf-8")
    (folder / "headline-in-h1.htm").write_text(_html(records[1], title=False), encoding="utf-8")
    (folder / "menu.html").write_text("<html><body><nav><p>الرئيسية</p><p>سياسة</p></nav></body></html>",
                                      encoding="utf-8")
    (folder / "broken.html").write_text(f"<html><body><p>{records[2]['title']}</p><![mso-bookmark]><p>x</p>",
                                        encoding="utf-8")
    # lxml reads the stray "<![mso-bookmark]>" without complaint; what is left (a headline and "x")
    # is no article, like the menu page.
    return Expected(2, skipped=[("menu.html", "no article text found in the page"),
                                ("broken.html", "no article text found in the page")],
                    contents=[(r["title"], _web_paragraphs(r["text"])) for r in records[:2]])


def broken_jsonl(folder: Path, records: list[dict]) -> Expected:
    """Broken lines and missing fields in a file whose name has brackets (rich markup in the summary)."""
    good, truncated, untitled, unnamed = records[:4]
    lines = [
        json.dumps(good, ensure_ascii=False),
        "{not json",
        json.dumps(truncated, ensure_ascii=False)[:150],  # an export killed mid-line
        "[1, 2]",
        json.dumps({"id": "no-text", "title": "عنوان بلا نص"}, ensure_ascii=False),
        json.dumps({"id": "dict-text", "title": "نص ككائن", "text": {"ar": good["text"]}}, ensure_ascii=False),
        json.dumps({k: v for k, v in untitled.items() if k != "title"}, ensure_ascii=False),
        json.dumps({"title": unnamed["title"], "text": unnamed["text"], "tags": ["x"]}, ensure_ascii=False),
    ]
    name = "export [draft].jsonl"
    (folder / name).write_text("\n".join(lines), encoding="utf-8")
    return Expected(3, skipped=[(f"{name}:2", "invalid JSON (Expecting property name"),
                                (f"{name}:3", "invalid JSON ("),
                                (f"{name}:4", "expected an object, got list"),
                                (f"{name}:5", "missing or empty text field"),
                                (f"{name}:6", "text field is a JSON object, expected a string")],
                    repaired=[(f"{name}:7", "no title: used the first line of the text")])


def line_separators_in_text(folder: Path, records: list[dict]) -> Expected:
    """U+2028, U+2029 and U+0085 are legal unescaped in JSON strings; they must not split a record."""
    record = dict(records[0], text=records[0]["text"].replace("\n", "\u2029", 1) + "\u2028تابع\x85النهاية")
    write_jsonl(folder / "news.jsonl", [record, records[1]])
    return Expected(2, contents=[(r["title"], r["text"].strip()) for r in (record, records[1])])


def duplicate_ids(folder: Path, records: list[dict]) -> Expected:
    first, second = records[:2]
    write_jsonl(folder / "a.jsonl", [first, second, dict(second, title="نسخة ثانية")])
    with (folder / "b.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "title", "text"])
        writer.writeheader()
        writer.writerow({"id": first["id"], "title": first["title"], "text": first["text"]})
    return Expected(2, skipped=[("a.jsonl", f"duplicate article id {second['id']!r} (earlier in this file)"),
                                ("b.csv", f"duplicate article id {first['id']!r} (first in {folder / 'a.jsonl'})")],
                    contents=[(r["title"], r["text"].strip()) for r in (first, second)])


def _giant_body(records: list[dict]) -> str:
    """Real article paragraphs repeated to past 50 MB of UTF-8."""
    text = "\n".join(record["text"] for record in records) + "\n"
    return text * (GIANT_BYTES // len(text.encode("utf-8")) + 1)


def giant_page(folder: Path, records: list[dict]) -> Expected:
    (folder / "dump.txt").write_text(f"{records[0]['title']}\n\n{_giant_body(records)}", encoding="utf-8")
    return Expected(1, repaired=[("dump.txt", "characters cut to")])


def giant_record(folder: Path, records: list[dict]) -> Expected:
    write_jsonl(folder / "dump.jsonl", [dict(records[0], text=_giant_body(records)), records[1]])
    return Expected(2, repaired=[("dump.jsonl", f"article {records[0]['id']!r}: text of ")])


CASES: dict[str, Case] = {
    "empty-files": empty_files,
    "binary-files": binary_files,
    "invalid-utf8": invalid_utf8,
    "damaged-utf8-jsonl-line": damaged_jsonl_line,
    "windows-1256": windows_1256,
    "csv-with-quotes-in-text": csv_with_quotes,
    "html-pages": html_pages,
    "broken-jsonl-lines-and-fields": broken_jsonl,
    "line-separators-inside-jsonl-text": line_separators_in_text,
    "duplicate-ids": duplicate_ids,
    "50mb-text-page": giant_page,
    "50mb-jsonl-record": giant_record,
}


def _records_for(case: str, news_records: list[dict]) -> list[dict]:
    start = list(CASES).index(case) * RECORDS_PER_CASE
    return news_records[start:start + RECORDS_PER_CASE]


def _matches(found: list[tuple[str, str]], expected: list[tuple[str, str]], folder: Path) -> bool:
    """Each expected (relative path, reason fragment) matches one found entry, and nothing else was found."""
    remaining = list(found)
    for path, fragment in expected:
        hit = next((item for item in remaining if item[0] == str(folder / path) and fragment in item[1]), None)
        if hit is None:
            return False
        remaining.remove(hit)
    return not remaining


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_skipped_or_repaired_with_its_reason(tmp_path: Path, news_records: list[dict], case: str) -> None:
    expected = CASES[case](tmp_path, _records_for(case, news_records))
    clock = time.perf_counter()
    report = read_corpus([tmp_path])
    seconds = time.perf_counter() - clock
    skipped = [(item.path, item.reason) for item in report.skipped]
    repaired = [(item.path, item.reason) for item in report.repaired]
    assert _matches(skipped, expected.skipped, tmp_path), skipped
    assert _matches(repaired, expected.repaired, tmp_path), repaired
    assert len(report.articles) == expected.articles
    if expected.contents:
        assert [(a.title, a.text) for a in report.articles] == expected.contents
    for article in report.articles:
        assert 0 < len(article.text) <= MAX_ARTICLE_CHARS
        assert "\ufffd" not in article.text  # nothing decoded by guesswork
    assert seconds < 30, f"reading took {seconds:.1f} s"  # a 50 MB file is read in about a second


def test_an_oversized_article_is_cut_at_a_sentence_end_and_keeps_its_beginning(
        tmp_path: Path, news_records: list[dict]) -> None:
    records = _records_for("50mb-jsonl-record", news_records)
    giant_record(tmp_path, records)
    article = read_corpus([tmp_path]).articles[0]
    body = _giant_body(records).strip()
    assert MAX_ARTICLE_CHARS // 2 < len(article.text) <= MAX_ARTICLE_CHARS
    assert body.startswith(article.text)
    assert article.text[-1] in ".!?؟؛…\"'»”’)]" or body[len(article.text)] == "\n"


def test_html_page_keeps_headline_body_and_metadata_but_no_site_chrome(
        tmp_path: Path, news_records: list[dict]) -> None:
    record = news_records[0]
    (tmp_path / "page.html").write_text(_html(record), encoding="utf-8")
    article = read_corpus([tmp_path]).articles[0]
    assert (article.title, article.text, article.url, article.source) == (
        record["title"], _web_paragraphs(record["text"]), record["url"], record["source"])
    assert article.date is not None
    assert article.date.isoformat() == record["date"]
    for chrome in ("الرئيسية", "شريط الأخبار", "بقلم المحرر", "اقرأ أيضا", "خبر آخر", "جميع الحقوق", "سكربت",
                   "margin"):
        assert chrome not in article.text


def test_cli_build_of_every_bad_input_lists_each_reason_and_indexes_the_rest(
        tmp_path: Path, tiny_model_dir: Path, news_records: list[dict], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    good = news_records[len(CASES) * RECORDS_PER_CASE:][:20]
    corpus.mkdir()
    write_jsonl(corpus / "good.jsonl", good)
    expectations: list[tuple[Path, Expected]] = []
    for case in CASES:
        if case == "50mb-jsonl-record":
            continue  # one 50 MB article is enough for the build
        folder = corpus / case
        folder.mkdir()
        expectations.append((folder, CASES[case](folder, _records_for(case, news_records))))
    skipped = [(folder / path, reason) for folder, expected in expectations for path, reason in expected.skipped]
    repaired = [(folder / path, reason) for folder, expected in expectations for path, reason in expected.repaired]
    assert len(skipped) <= 20, "the build summary lists the first 20 skipped"
    assert len(repaired) <= 20, "the build summary lists the first 20 repaired"

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BUILD_THREADS", "1")
    index_dir = tmp_path / "index"
    result = CliRunner().invoke(app, ["build", str(corpus), "--index", str(index_dir), "--model", str(tiny_model_dir)])
    assert_clean_exit(result, 0)
    summary = result.stderr.splitlines()
    for path, reason in [*skipped, *repaired]:
        assert any(line.startswith(f"  {path}: ") and reason in line for line in summary), (path, reason)
    articles = len(good) + sum(expected.articles for _, expected in expectations)
    assert f": {articles} articles, " in result.stderr
    settings = IndexSettings(index_dir=index_dir, embedding_model=str(tiny_model_dir), _env_file=None)
    retriever = Retriever.open(index_dir, settings=settings)
    assert retriever.manifest.articles == articles
    assert retriever.search("أسعار النفط", k=3)
    retriever.close()
