"""Readers: the seed page, the archive's JSONL, CSV, mixed folders, encodings, bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from corpus import SAMPLE_CORPUS, read_corpus
from corpus.readers.text_page import read_text_page
from corpus.types import stable_article_id
from tests.support.paths import NEWS_SAMPLE, SEED_PAGE, read_news


def test_seed_page_keeps_title_and_body_and_drops_navigation() -> None:
    article = read_text_page(SEED_PAGE)
    assert article.title == 'كيم جونج أون يعد بتقديم "دعم ثابت" للجيش الروسي من كوريا الشمالية'
    assert article.text.startswith("اتهم الزعيم الكوري الشمالي كيم جونج أون")
    assert article.text.endswith("طبيعة التعاون بين البلدين.")
    for chrome in ("مدونة ومقالات", "الطابق العلوي", "أخبار\n", article.title):
        assert chrome not in article.text


def test_bundled_sample_is_the_seed_page() -> None:
    report = read_corpus([SAMPLE_CORPUS])
    assert [a.title for a in report.articles] == [read_text_page(SEED_PAGE).title]
    assert report.skipped == []


def test_archive_jsonl_reads_every_article_with_its_fields() -> None:
    report = read_corpus([NEWS_SAMPLE])
    assert len(report.articles) == 300
    assert report.skipped == []
    first = report.articles[0]
    record = read_news(1)[0]
    assert (first.id, first.title, first.text, first.source, first.url, first.category) == (
        record["id"], record["title"], record["text"], record["source"], record["url"], record["category"])
    assert first.date is not None
    assert first.date.isoformat() == record["date"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1256"], ids=["utf8", "utf8-bom", "windows-1256"])
def test_csv_in_every_arabic_encoding(tmp_path: Path, encoding: str) -> None:
    records = [r for r in read_news(40) if _encodable(r, "cp1256")][:5]
    path = tmp_path / "news.csv"
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "title", "text", "date", "source", "url"])
        writer.writeheader()
        for r in records:
            writer.writerow({key: r[key] for key in writer.fieldnames})
    report = read_corpus([path])
    assert [a.text for a in report.articles] == [r["text"] for r in records]
    assert [a.title for a in report.articles] == [r["title"] for r in records]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1256"], ids=["utf8-bom", "windows-1256"])
def test_text_page_in_other_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes(SEED_PAGE.read_text(encoding="utf-8").replace("—", "-").encode(encoding))
    assert read_text_page(path).title == read_text_page(SEED_PAGE).title


def test_folder_mixing_formats_recursively_reports_unreadable_files(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (tmp_path / "seed.txt").write_bytes(SEED_PAGE.read_bytes())
    records = read_news(3)
    (nested / "news.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), "utf-8")
    (nested / "binary.txt").write_bytes(b"\x89PNG\r\n\x00\x00\x00binary")
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    report = read_corpus([tmp_path])
    assert len(report.articles) == 4
    assert report.files_read == 4
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons == {"binary.txt": "binary file (contains NUL bytes)", "empty.csv": "empty file"}


def test_broken_jsonl_lines_are_skipped_with_line_numbers(tmp_path: Path) -> None:
    good = read_news(2)
    lines = [json.dumps(good[0], ensure_ascii=False), "{not json", json.dumps({"id": "x", "title": "بلا نص"}),
             json.dumps(good[1], ensure_ascii=False), json.dumps(good[1], ensure_ascii=False)]
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    report = read_corpus([path])
    assert [a.id for a in report.articles] == [good[0]["id"], good[1]["id"]]
    assert [(s.path, s.reason.split(" (")[0]) for s in report.skipped] == [
        (f"{path}:2", "invalid JSON"), (f"{path}:3", "missing or empty text field"),
        (str(path), f"duplicate article id '{good[1]['id']}'")]


def test_bad_date_is_repaired_not_fatal(tmp_path: Path) -> None:
    record = dict(read_news(1)[0], date="الأسبوع الماضي")
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    report = read_corpus([path])
    assert report.articles[0].date is None
    assert "unparseable date" in report.repaired[0].reason


def test_missing_source_is_reported() -> None:
    report = read_corpus([Path("/nonexistent/corpus")])
    assert report.articles == []
    assert report.skipped[0].reason == "no such file or folder"


def test_stable_ids_prefer_source_id_then_url_then_content() -> None:
    assert stable_article_id("AL-1", "http://x", "t", "b") == "AL-1"
    by_url = stable_article_id(None, "http://example.com/a", "t", "b")
    assert by_url.startswith("url-")
    assert by_url == stable_article_id("", "http://example.com/a", "other", "x")
    by_content = stable_article_id(None, None, "عنوان", "نص")
    assert by_content.startswith("sha-")
    assert by_content == stable_article_id(None, "", "عنوان", "نص")
    assert by_content != stable_article_id(None, None, "عنوان", "نص آخر")


def _encodable(record: dict, encoding: str) -> bool:
    try:
        for key in ("title", "text", "source", "url"):
            record[key].encode(encoding)
    except UnicodeEncodeError:
        return False
    return True
