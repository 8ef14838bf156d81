"""Feed ingestion against a local news site (127.0.0.1) serving real archive articles as web pages.

The site (``news_site.py``) wraps each article in navigation, ads, "read also" boxes and reader
comments, serves some pages in Windows-1256, and lists them in an RSS 2.0 and an Atom feed; a
third feed repeats known items under other URLs and links a page that fails (500) and one that
answers too late; a fourth "feed" is not one, a fifth does not answer. What must hold:

* every article is extracted, its body matching the archive's text (the share matching exactly and
  the mean character overlap are printed and asserted), with its title, date and source;
* nothing of the page chrome reaches a body;
* a second run fetches nothing already seen (304 for the feeds with validators, duplicates skipped
  for the one without), and a new item is the only page fetched by a third run;
* the failing feeds and pages are reported, and never stop the run.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from corpus import read_corpus
from corpus.extract import ExtractionFailed, decode_html, extract_article
from corpus.feeds import (
    BadFeedList,
    FeedStore,
    Fetcher,
    FetchFailed,
    FetchSettings,
    parse_feed_list,
    read_feed_list,
    refresh_feeds,
    url_key,
)
from tests.corpus.news_site import CHROME, NewsSite, PageSpec, page_html

FETCH = FetchSettings(timeout=0.5, delay=0.02, max_bytes=400_000)
#: The refused-connection feed of ``feed_list``: a loopback port nothing listens on, allowed by name.
CLOSED = "127.0.0.1:9"


def fetch_settings(site: NewsSite) -> FetchSettings:
    """FETCH, with the loopback servers of this test named as allowed private hosts (SSRF guard)."""
    return replace(FETCH, allowed_private_hosts=frozenset({site.base.removeprefix("http://"), CLOSED}))
ARTICLES = 24


def _encodable(record: dict, encoding: str) -> bool:
    try:
        for key in ("title", "text", "source"):
            record[key].encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _paragraphs(text: str) -> str:
    """The body as a page shows it: one line per non-empty paragraph, HTML white space collapsed."""
    lines = (re.sub(r"\s+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def site_pages(records: list[dict]) -> list[PageSpec]:
    """24 real articles served in the ways pages come: 8 in Windows-1256, some lacking title, date or site name."""
    pool = [r for r in records[60:] if 400 <= len(r["text"]) <= 6000]
    legacy = [r for r in pool if _encodable(r, "cp1256")][:8]
    modern = [r for r in pool if r not in legacy][:ARTICLES - len(legacy)]
    specs = []
    for n, record in enumerate(legacy):
        specs.append(PageSpec(record, f"w{n}", encoding="cp1256", declared="header" if n % 2 else "meta"))
    for n, record in enumerate(modern):
        specs.append(PageSpec(record, f"u{n}", declared="none" if n in (0, 1) else "both",
                              head_title=n not in (2, 3), meta_date=n not in (4, 5, 6), site_name=n not in (7, 8)))
    # Interleave so both feeds carry both encodings.
    return [spec for pair in zip(specs[:12], specs[12:], strict=True) for spec in pair]


def make_site(records: list[dict]) -> NewsSite:
    pages = site_pages(records)
    half = len(pages) // 2
    feeds = {"/rss.xml": [(f"/news/{p.slug}.html", p.record) for p in pages[:half]],
             "/atom.xml": [(f"/news/{p.slug}.html", p.record) for p in pages[half:]],
             "/more.xml": [(f"/news/{pages[0].slug}.html?utm_source=rss&utm_medium=feed", pages[0].record),
                           (f"/mirror/{pages[3].slug}.html", pages[3].record),
                           ("/error.html", pages[4].record), ("/slow.html", pages[5].record)]}
    site = NewsSite(pages, feeds, slow_seconds=1.5)
    site.mirrors[f"/mirror/{pages[3].slug}.html"] = pages[3].slug
    return site


def feed_list(site: NewsSite) -> list[str]:
    return [site.url("/rss.xml"), site.url("/atom.xml"), site.url("/more.xml"), site.url("/broken.xml"),
            f"http://{CLOSED}/closed.xml"]


def run(site: NewsSite, store: FeedStore) -> Any:
    with Fetcher(fetch_settings(site)) as fetcher:
        return refresh_feeds(feed_list(site), store, fetcher)


def expected_source(spec: PageSpec, feed_titles: dict[str, str], site: NewsSite) -> str:
    if spec.site_name:
        return spec.record["source"]
    in_rss = any(path == f"/news/{spec.slug}.html" for path, _ in site.feeds["/rss.xml"])
    return feed_titles["rss" if in_rss else "atom"]


def test_feeds_are_ingested_verbatim_deduplicated_and_failures_reported(tmp_path: Path,
                                                                        news_records: list[dict]) -> None:
    store = FeedStore(tmp_path / "index")
    with make_site(news_records) as site:
        first = run(site, store)
        by_url = {a.url: a for a in first.articles}

        # Every article, verbatim, with its fields.
        assert len(first.articles) == ARTICLES
        exact, overlaps = 0, []
        for spec in site.pages.values():
            article = by_url[site.page_url(spec.slug)]
            expected = _paragraphs(spec.record["text"])
            exact += article.text == expected
            overlaps.append(difflib.SequenceMatcher(None, expected, article.text, autojunk=False).ratio())
            assert article.title == spec.record["title"], spec.slug
            assert article.date == datetime.fromisoformat(spec.record["date"]), spec.slug
            assert article.source == expected_source(spec, {"rss": "أخبار تجريبية", "atom": "أخبار أطوم"}, site)
            for chrome in CHROME:  # (a body may use a word of the chrome itself: "إعلان" is "announcement")
                assert article.text.count(chrome) <= spec.record["text"].count(chrome), (spec.slug, chrome)
        share, mean = exact / ARTICLES, sum(overlaps) / ARTICLES
        print(f"\nfeed extraction over {ARTICLES} real articles (8 in Windows-1256): exact body {exact}/{ARTICLES} "
              f"({share:.1%}), mean character overlap {mean:.4f}, lowest {min(overlaps):.4f}")
        assert share >= 0.8
        assert mean >= 0.98
        assert min(overlaps) >= 0.9

        # Failures reported, the run went on; the same story under other URLs added once.
        reasons = {f.url: f.reason for f in first.failures}
        assert reasons[site.url("/broken.xml")].startswith("feed: not an RSS or Atom feed")
        assert reasons["http://127.0.0.1:9/closed.xml"].startswith("feed: ConnectError")
        assert reasons[site.url("/error.html")] == "page: HTTP 500 Internal Server Error"
        assert reasons[site.url("/slow.html")] == "page: no complete answer within 0.5 s"
        assert len(first.failures) == 4
        assert first.duplicates == 2
        assert (first.feeds, first.unchanged, first.items) == (5, 0, 28)
        assert all(r.headers.get("User-Agent", "").startswith("Akhbar/") for r in site.requests)
        arrivals = [r.at for r in site.requests]
        assert min(b - a for a, b in zip(arrivals, arrivals[1:], strict=False)) >= FETCH.delay * 0.9

        # The run's file is a corpus that reads back to the same articles.
        assert first.written is not None
        assert read_corpus([first.written]).articles == first.articles

        # Second run: 304s, and nothing seen is fetched again; failed pages are retried.
        before = len(site.requests)
        second = run(site, store)
        assert second.articles == []
        assert second.written is None
        assert second.unchanged == 2
        assert second.duplicates == 2
        assert sorted(site.paths(before)) == sorted(["/rss.xml", "/atom.xml", "/more.xml", "/broken.xml",
                                                     "/error.html", "/slow.html"])
        conditional = {r.path: r.headers for r in site.requests[before:]}
        assert "If-None-Match" in conditional["/rss.xml"]
        assert "If-Modified-Since" in conditional["/atom.xml"]
        assert len(second.failures) == 4

        # A new item: the only page fetched.
        newcomer = PageSpec(next(r for r in news_records[200:] if len(r["text"]) > 400), "late")
        site.pages["late"] = newcomer
        site.feeds["/atom.xml"].append(("/news/late.html", newcomer.record))
        before = len(site.requests)
        third = run(site, store)
        assert [a.title for a in third.articles] == [newcomer.record["title"]]
        assert [p for p in site.paths(before) if p.startswith("/news/")] == ["/news/late.html"]
    store.close()


@pytest.mark.parametrize(("encoding", "declared"), [("utf-8", "both"), ("utf-8", "none"), ("cp1256", "header"),
                                                    ("cp1256", "meta"), ("cp1256", "none")],
                         ids=["utf8", "utf8-undeclared", "windows-1256-http", "windows-1256-meta",
                              "windows-1256-undeclared"])
def test_pages_decode_by_http_charset_meta_charset_or_content(news_records: list[dict], encoding: str,
                                                              declared: str) -> None:
    record = next(r for r in news_records[60:] if _encodable(r, "cp1256") and len(r["text"]) > 400)
    spec = PageSpec(record, "x", encoding=encoding, declared=declared)
    data = page_html(spec, "http://127.0.0.1:1").encode(encoding)
    header = encoding if declared in ("header", "both") else None
    article = extract_article(decode_html(data, header))
    assert article.title == record["title"]
    assert article.text == _paragraphs(record["text"])


def test_a_page_without_an_article_is_refused_with_a_reason() -> None:
    with pytest.raises(ExtractionFailed, match="no article text found"):
        extract_article(MENU)


MENU = "<html><body><nav><ul><li><a href='/'>الرئيسية</a></li></ul></nav><p>قصير</p></body></html>"


def test_a_page_without_an_article_is_reported_once_not_fetched_every_run(tmp_path: Path,
                                                                          news_records: list[dict]) -> None:
    spec = PageSpec(news_records[90], "video")
    site = NewsSite([spec], {"/rss.xml": [("/news/video.html", spec.record)]})
    site.pages["video"] = spec
    store = FeedStore(tmp_path / "index")
    with site:
        site.mirrors.clear()
        original = site._route

        def route(path: str, request: Any) -> tuple[int, bytes, dict[str, str]]:
            if path == "/news/video.html":
                return 200, MENU.encode(), {"Content-Type": "text/html; charset=utf-8"}
            return original(path, request)

        site._route = route  # type: ignore[method-assign]
        with Fetcher(fetch_settings(site)) as fetcher:
            first = refresh_feeds([site.url("/rss.xml")], store, fetcher)
            second = refresh_feeds([site.url("/rss.xml")], store, fetcher)
    assert [f.reason.split(":")[0] for f in first.failures] == ["no article"]
    assert (second.unchanged, second.failures) == (1, []), "the feed's validators were kept: 304"
    assert site.paths().count("/news/video.html") == 1
    store.close()


def test_feed_list_reads_urls_comments_and_refuses_bad_lines(tmp_path: Path) -> None:
    text = ("# صحف عربية\n\nhttps://example.com/rss.xml\n  http://example.org/atom  # their Atom feed\n"
            "https://example.com/rss.xml\n")
    assert parse_feed_list(text) == ["https://example.com/rss.xml", "http://example.org/atom"]
    path = tmp_path / "feeds.txt"
    path.write_text("https://example.com/rss.xml\nftp://example.com/feed\n", encoding="utf-8")
    with pytest.raises(BadFeedList, match=r"feeds.txt:2: 'ftp://example.com/feed' is not an http\(s\) feed URL"):
        read_feed_list(path)
    (tmp_path / "empty.txt").write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(BadFeedList, match="lists no feed URL"):
        read_feed_list(tmp_path / "empty.txt")
    with pytest.raises(BadFeedList, match="does not exist"):
        read_feed_list(tmp_path / "missing.txt")


def test_url_keys_ignore_case_fragments_tracking_and_trailing_slashes() -> None:
    assert url_key("HTTP://Example.COM:80/a/b/?utm_source=x&id=2&fbclid=1#top") == "http://example.com/a/b?id=2"
    assert url_key("https://example.com/a?b=1&a=2") == url_key("https://example.com/a/?a=2&b=1")
    assert url_key("https://example.com/a?id=1") != url_key("https://example.com/a?id=2")


def test_oversized_bodies_are_refused() -> None:
    big = b"<p>" + "خبر ".encode() * 100_000 + b"</p>"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/declared":
            return httpx.Response(200, content=big)
        return httpx.Response(200, content=iter([big[i:i + 4096] for i in range(0, len(big), 4096)]))

    with Fetcher(FetchSettings(max_bytes=100_000), transport=httpx.MockTransport(handler)) as fetcher:
        for path in ("/declared", "/streamed"):
            with pytest.raises(FetchFailed, match="100,000-byte limit"):
                fetcher.get(f"http://news.example.com/{path.lstrip('/')}")
        with pytest.raises(FetchFailed, match="not an http"):
            fetcher.get("file:///etc/passwd")
