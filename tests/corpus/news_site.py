"""A local news website for the feed tests: real archive articles served as pages and feeds on 127.0.0.1.

Pages wrap each article in what real news pages carry around it: a navigation bar, a breaking-news
ticker, ad slots, a "read also" box, reader comments, a footer and scripts. Some are served in
Windows-1256 (declared by the HTTP header, or only by ``<meta charset>``), some lack the
``<title>``/``<h1>`` or the publication-time ``<meta>``, so the feed's own fields must fill in.

Feeds: ``/rss.xml`` (RSS 2.0, answers ``If-None-Match`` with 304), ``/atom.xml`` (Atom, answers
``If-Modified-Since`` with 304), ``/more.xml`` (RSS without validators: served whole every time),
``/broken.xml`` (not a feed). ``/error.html`` answers 500, ``/slow.html`` answers too late.
Every request is logged with its headers. Tests may add items to a feed while the site runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: Text of the chrome around every article: none of it may reach an extracted body.
CHROME = ("الرئيسية", "شريط الأخبار العاجلة", "إعلان", "اشترك الآن", "اقرأ أيضا", "خبر آخر لا علاقة له",
          "تعليقات القراء", "تعليق من قارئ", "جميع الحقوق محفوظة", "سياسة الخصوصية", "var ads")

ATOM_EPOCH = datetime(2018, 5, 15, 10, tzinfo=UTC)


@dataclass
class PageSpec:
    """How one article is served."""

    record: dict[str, Any]
    slug: str
    encoding: str = "utf-8"
    #: Where the encoding is declared: "header", "meta", "both" or "none".
    declared: str = "both"
    head_title: bool = True
    meta_date: bool = True
    site_name: bool = True


@dataclass
class Request:
    """One request the site received."""

    path: str
    headers: dict[str, str]
    status: int
    at: float = field(default_factory=time.monotonic)


def page_html(spec: PageSpec, base: str) -> str:
    """The article inside a realistic news page (see the module docstring)."""
    record = spec.record
    title = html.escape(record["title"])
    paragraphs = "\n".join(f"<p>{html.escape(line)}</p>" for line in record["text"].split("\n") if line.strip())
    charset = f'<meta charset="{spec.encoding}">' if spec.declared in ("meta", "both") else ""
    head_title = f"<title>{title} - {html.escape(record['source'])}</title>" if spec.head_title else ""
    headline = f"<h1>{title}</h1>" if spec.head_title else ""
    date = f'<meta property="article:published_time" content="{record["date"]}">' if spec.meta_date else ""
    site = f'<meta property="og:site_name" content="{html.escape(record["source"])}">' if spec.site_name else ""
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head>{charset}{head_title}{date}{site}
<link rel="canonical" href="{base}/news/{spec.slug}.html">
<script>var ads = window.ads || []; ads.push("top");</script><style>.ad {{ height: 90px }}</style></head>
<body>
<header><nav><ul><li><a href="/">الرئيسية</a></li><li><a href="/politics">سياسة</a></li>
<li><a href="/economy">اقتصاد</a></li><li><a href="/sport">رياضة</a></li></ul></nav>
<div class="ticker"><a href="/breaking">شريط الأخبار العاجلة: تابعوا آخر المستجدات لحظة بلحظة</a></div></header>
<div class="ad ad-top"><p>إعلان: اشترك الآن في النشرة البريدية واحصل على أهم الأخبار كل صباح</p></div>
<main><article>{headline}
<div class="article-body">
{paragraphs}
</div></article>
<aside class="related"><h3>اقرأ أيضا</h3><ul><li><a href="/news/other.html">خبر آخر لا علاقة له بهذا الموضوع</a></li>
<li><a href="/news/other2.html">خبر آخر لا علاقة له بالسياسة</a></li></ul></aside>
<section id="comments" class="comments"><h3>تعليقات القراء</h3>
<div class="comment"><p>تعليق من قارئ: شكراً على هذا التقرير المفصل، ننتظر المزيد من التغطية.</p></div>
<div class="comment"><p>تعليق من قارئ آخر: أختلف مع ما جاء في الخبر، فالأرقام غير دقيقة برأيي.</p></div>
</section></main>
<div class="ad ad-bottom"><p>إعلان: اشترك الآن واحصل على شهر مجاني</p></div>
<footer><p>جميع الحقوق محفوظة 2018</p><a href="/privacy">سياسة الخصوصية</a></footer>
<script>ads.push("bottom");</script>
</body></html>"""


def rfc822(iso: str) -> str:
    """An ISO date as RSS's pubDate (RFC 822, UTC)."""
    return format_datetime(datetime.fromisoformat(iso).astimezone(UTC), usegmt=True)


class NewsSite:
    """The site; see the module docstring. ``with NewsSite(...) as site:`` serves it in a thread.

    Args:
        pages: The articles, by how they are served.
        feeds: Feed path → its items, in order, each ``(path of the item's page, record for its title and
            date)`` (``/rss.xml``, ``/atom.xml``, ``/more.xml``). Tests may append items while serving.
        slow_seconds: How late ``/slow.html`` answers.
    """

    def __init__(self, pages: list[PageSpec], feeds: dict[str, list[tuple[str, dict[str, Any]]]],
                 slow_seconds: float = 2.0) -> None:
        self.pages = {spec.slug: spec for spec in pages}
        self.feeds = feeds
        self.slow_seconds = slow_seconds
        self.requests: list[Request] = []
        #: Extra path → slug of the article served there too (the same story under another URL).
        self.mirrors: dict[str, str] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> NewsSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                site._answer(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="news-site", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>``."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        """Absolute URL of a path on the site."""
        return self.base + path

    def page_url(self, slug: str) -> str:
        """Where an article's page is."""
        return self.url(f"/news/{slug}.html")

    def paths(self, since: int = 0) -> list[str]:
        """Paths requested (from the ``since``-th request on)."""
        with self._lock:
            return [r.path for r in self.requests[since:]]

    # -- answers --------------------------------------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        request = Request(path, dict(handler.headers.items()), 0)  # logged on arrival (a slow answer comes later)
        with self._lock:
            self.requests.append(request)
        status, body, headers = self._route(path.split("?")[0], handler.headers)
        request.status = status
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (the slow page)
            handler.wfile.write(body)

    def _route(self, path: str, request: Any) -> tuple[int, bytes, dict[str, str]]:
        if path in self.feeds:
            return self._feed(path, request)
        if path == "/broken.xml":
            return 200, b"<html><body><p>\xd9\x87\xd8\xb0\xd9\x87 \xd9\x84\xd9\x8a\xd8\xb3\xd8\xaa\xd8\xa3", \
                {"Content-Type": "application/rss+xml"}
        if path == "/error.html":
            return 500, b"<html><body>Internal Server Error</body></html>", {"Content-Type": "text/html"}
        if path == "/slow.html":
            time.sleep(self.slow_seconds)
            return 200, b"<html><body><p>late</p></body></html>", {"Content-Type": "text/html"}
        slug = self.mirrors.get(path) or (path.removeprefix("/news/").removesuffix(".html")
                                          if path.startswith("/news/") else None)
        spec = self.pages.get(slug or "")
        if spec is None:
            return 404, b"not found", {"Content-Type": "text/plain"}
        body = page_html(spec, self.base)
        content_type = "text/html"
        if spec.declared in ("header", "both"):
            content_type += f"; charset={spec.encoding}"
        return 200, body.encode(spec.encoding), {"Content-Type": content_type}

    def _feed(self, path: str, request: Any) -> tuple[int, bytes, dict[str, str]]:
        items = list(self.feeds[path])
        if path == "/atom.xml":
            # Last-Modified moves with the feed's content, as a real server's does.
            modified = format_datetime(ATOM_EPOCH + timedelta(minutes=len(items)), usegmt=True)
            if request.get("If-Modified-Since") == modified:
                return 304, b"", {"Last-Modified": modified}
            return 200, self._atom(items), {"Content-Type": "application/atom+xml; charset=utf-8",
                                            "Last-Modified": modified}
        body = self._rss(items, path)
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if path == "/rss.xml":
            if request.get("If-None-Match") == etag:
                return 304, b"", {"ETag": etag}
            return 200, body, {"Content-Type": "application/rss+xml; charset=utf-8", "ETag": etag}
        return 200, body, {"Content-Type": "application/rss+xml; charset=utf-8"}

    def _rss(self, items: list[tuple[str, dict[str, Any]]], path: str) -> bytes:
        entries = []
        for page, record in items:
            link = self.url(page)
            entries.append(f"""<item><title>{html.escape(record['title'])}</title><link>{html.escape(link)}</link>
<guid isPermaLink="true">{html.escape(link)}</guid><pubDate>{rfc822(record['date'])}</pubDate>
<category>{html.escape(record.get('category', ''))}</category>
<description>{html.escape(record['text'][:150])}…</description></item>""")
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>أخبار تجريبية</title><link>{self.base}/</link>
<description>موجز الأخبار</description><language>ar</language>
{''.join(entries)}</channel></rss>""".encode()

    def _atom(self, items: list[tuple[str, dict[str, Any]]]) -> bytes:
        entries = []
        for page, record in items:
            link = self.url(page)
            stamp = datetime.fromisoformat(record["date"]).isoformat()
            entries.append(f"""<entry><title>{html.escape(record['title'])}</title>
<link rel="alternate" type="text/html" href="{html.escape(link)}"/><id>{html.escape(link)}</id>
<updated>{stamp}</updated><published>{stamp}</published>
<summary>{html.escape(record['text'][:150])}…</summary></entry>""")
        return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>أخبار أطوم</title><id>{self.base}/atom.xml</id>
<updated>2018-05-15T10:00:00Z</updated><link rel="self" href="{self.base}/atom.xml"/>
{''.join(entries)}</feed>""".encode()
