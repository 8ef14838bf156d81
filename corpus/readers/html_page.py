"""Reader for saved news web pages (``.html``, ``.htm``): the headline and the body paragraphs.

A saved page wraps the article in menus, related links, share buttons and scripts. We keep what
a reader sees as the article: the headline (``<title>``, else the first ``<h1>``) and the text of
the ``<p>`` elements, skipping any inside ``nav``, ``header``, ``footer``, ``aside``, ``script``,
``style`` and the like. The date, canonical URL, site name and section come from the usual
``<meta>``/``<link>`` tags when the page has them. The standard library's ``html.parser`` is
lenient with broken markup and needs no dependency; an unclosed ``<p>`` ends at the next block.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

from corpus.readers.base import UnreadableFile, parse_date, read_text_file
from corpus.types import Article, RepairedInput, SkippedInput, stable_article_id

#: Elements whose text is never article body: site chrome, code, and embedded documents.
SKIPPED = frozenset({"nav", "header", "footer", "aside", "script", "style", "noscript", "template", "svg"})
#: A headline may sit in the article's ``<header>``, so only these hide an ``<h1>``.
SKIPPED_FOR_H1 = SKIPPED - {"header"}
#: Block elements: starting or ending one closes a paragraph left open (``<p>`` needs no end tag).
#: A script or style inside a paragraph (inline ads) is skipped without ending it.
BLOCKS = frozenset({"p", "div", "section", "article", "main", "ul", "ol", "li", "table", "tr", "td", "th",
                    "blockquote", "figure", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "pre",
                    "dl", "dt", "dd", "form", "nav", "header", "footer", "aside"})

#: ``<meta>`` names or properties read per Article field, first present wins.
META_FIELDS: dict[str, tuple[str, ...]] = {
    "date": ("article:published_time", "datepublished", "pubdate", "publish-date", "date", "dc.date"),
    "url": ("og:url",),
    "source": ("og:site_name", "application-name"),
    "category": ("article:section",),
}

_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def read_html_page(path: Path) -> Iterator[Article | SkippedInput | RepairedInput]:
    """Yield the page's article, preceded by any repair made (no headline, unparseable date).

    Raises:
        UnreadableFile: the file is empty, binary, malformed beyond parsing, or has no paragraph
            text outside the site chrome.
    """
    parser = _PageParser()
    try:
        parser.feed(read_text_file(path))
        parser.close()
    except AssertionError as error:  # html.parser's one failure: a malformed "<![...]>" section
        raise UnreadableFile(f"malformed HTML the parser cannot read ({error})") from None
    paragraphs = [text for text in (_clean(p) for p in parser.paragraphs) if text]
    if not paragraphs:
        raise UnreadableFile("HTML page has no paragraph text (<p>) outside navigation, header, footer and asides")
    body = "\n".join(paragraphs)
    title = _clean(parser.title) or _clean(parser.h1)
    if not title:
        title = body.splitlines()[0][:120]
        yield RepairedInput(str(path), "no <title> or <h1>: used the first paragraph")
    meta = {field: next((parser.meta[name] for name in names if parser.meta.get(name)), "")
            for field, names in META_FIELDS.items()}
    try:
        date = parse_date(meta["date"])
    except ValueError:
        date = None
        yield RepairedInput(str(path), f"unparseable date {meta['date'][:40]!r} dropped")
    url = parser.canonical or meta["url"]
    yield Article(id=stable_article_id(None, url, title, body), title=title, text=body, date=date,
                  source=meta["source"], url=url, category=meta["category"])


def _clean(text: str) -> str:
    """Collapse HTML white space inside each line (``<br>`` made the line breaks) and trim."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


class _PageParser(HTMLParser):
    """Collects title, first ``<h1>``, ``<p>`` texts outside skipped elements, and meta tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.h1 = ""
        self.paragraphs: list[str] = []
        self.meta: dict[str, str] = {}
        self.canonical = ""
        self._open: dict[str, int] = {}  # skipped element -> nesting depth
        self._in_title = self._in_h1 = self._h1_done = False
        self._paragraph: list[str] | None = None

    def _inside(self, names: frozenset[str]) -> bool:
        return any(self._open.get(name) for name in names)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Track skipped regions, open title/h1/paragraph capture, read meta and canonical link."""
        if tag in BLOCKS:
            self._end_paragraph()
        if tag in SKIPPED:
            self._open[tag] = self._open.get(tag, 0) + 1
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "title" and not self.title and not self._inside(SKIPPED):
            self._in_title = True
        elif tag == "h1" and not self._h1_done and not self._inside(SKIPPED_FOR_H1):
            self._in_h1 = True
        elif tag == "p" and not self._inside(SKIPPED):
            self._paragraph = []
        elif tag == "br" and self._paragraph is not None:
            self._paragraph.append("\n")
        elif tag == "meta":
            key = (values.get("property") or values.get("name") or values.get("itemprop") or "").lower()
            if key and key not in self.meta:
                self.meta[key] = values.get("content", "").strip()
        elif tag == "link" and "canonical" in values.get("rel", "").lower().split() and not self.canonical:
            self.canonical = values.get("href", "").strip()

    def handle_endtag(self, tag: str) -> None:
        """Close what the tag closes; an end tag without its start is ignored."""
        if tag in BLOCKS:
            self._end_paragraph()
        if tag in SKIPPED and self._open.get(tag):
            self._open[tag] -= 1
        if tag == "title":
            self._in_title = False
        elif tag == "h1" and self._in_h1:
            self._in_h1 = False
            self._h1_done = bool(self.h1.strip())

    def handle_data(self, data: str) -> None:
        """Route text to whatever is being captured."""
        if self._in_title:
            self.title += data
        elif self._in_h1:
            self.h1 += data
        if self._paragraph is not None and not self._inside(SKIPPED):
            self._paragraph.append(data)

    def close(self) -> None:
        """Flush a paragraph left open at the end of the page."""
        super().close()
        self._end_paragraph()

    def _end_paragraph(self) -> None:
        if self._paragraph is not None:
            self.paragraphs.append("".join(self._paragraph))
            self._paragraph = None
