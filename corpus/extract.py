"""One web page's HTML in, one clean :class:`~corpus.types.Article` out: the article-extraction step.

The body is found by ``trafilatura`` (well kept, tuned on news sites, Arabic included): it drops
navigation, ads, "read also" boxes and reader comments by the page's structure and text density,
which a fixed list of tags cannot do on sites that put all of it in ``<div>``s. The text it
returns is the page's own text, paragraphs one a line, white space collapsed; invisible bidi
controls (U+202A…U+202E) are dropped with the markup, nothing else is changed.

What trafilatura does not give precisely, we take ourselves:

* the date: trafilatura's date guess is a day (``2018-05-03``), while the page's
  ``article:published_time`` (and the feed's ``pubDate``) carry the time and offset that order
  the newest news. Order: the page's machine-readable date, else the caller's (the feed's),
  else trafilatura's day.
* the encoding: :func:`decode_html` honours the HTTP charset, then the page's ``<meta charset>``,
  then tries UTF-8 and Windows-1256 (:func:`corpus.readers.base.decode_bytes`), so an older Arabic
  site served as Windows-1256 is read as Arabic, never as mojibake.

The title, source and URL fall back to what the caller knows (the feed item's title, the
feed's name, the item's link) when the page lacks them.
"""

from __future__ import annotations

import codecs
import itertools
import logging
import re
from configparser import ConfigParser
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from corpus.readers.base import UnreadableFile, decode_bytes, is_web_url, parse_date
from corpus.types import Article, stable_article_id

logger = logging.getLogger(__name__)

#: ``<meta>`` names or properties holding the publication time, first present wins.
DATE_META = ("article:published_time", "datepublished", "pubdate", "publish-date", "og:published_time",
             "dc.date", "date")
#: Shortest body kept, in characters: below this a "page" is an error page, a teaser or a menu.
MIN_BODY_CHARS = 80
#: Most HTML elements a page may have. A news page has a few thousand; 4.9 MB of ``<span>`` soup
#: (~300,000 elements) kept trafilatura busy for 33 s, in the bot's refresh thread.
MAX_PAGE_ELEMENTS = 60_000

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


class ExtractionFailed(UnreadableFile):
    """No article could be found in a page; the message says why (shown in the run's report)."""


@dataclass(frozen=True, slots=True)
class PageHints:
    """What the caller already knows about a page, used where the page itself is silent.

    Attributes:
        title: The feed item's title.
        date: The feed item's publication time.
        source: The outlet's name (the feed's title).
        url: The link the page was fetched from (after redirects).
        category: The feed item's category.
    """

    title: str = ""
    date: datetime | None = None
    source: str = ""
    url: str = ""
    category: str = ""


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a ``Content-Type`` header (``text/html; charset=windows-1256``), if any."""
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def decode_html(data: bytes, http_charset: str | None = None) -> str:
    """Decode a page by its HTTP charset, else its ``<meta charset>``, else as UTF-8 or Windows-1256.

    A declared charset Python does not know, or one that is not a text encoding (``base64``,
    ``rot13``, ``zlib``… are codecs too, and ``idna`` refuses the ``replace`` error handler), is
    ignored (logged), not fatal: the page is then read as if undeclared.

    Raises:
        UnreadableFile: the bytes are binary, or undeclared and neither UTF-8 nor Windows-1256.
    """
    for declared in (http_charset, _meta_charset(data)):
        if not declared:
            continue
        codec = _text_codec(declared)
        if codec is None:
            logger.debug("unknown or non-text charset %r declared; guessing", declared[:40])
            continue
        if codec in ("utf-8", "utf-8-sig"):
            break  # UTF-8 is what decode_bytes tries first, with a clear error when damaged
        try:
            return data.decode(codec, errors="replace")
        except (LookupError, UnicodeError, ValueError, TypeError):
            logger.debug("charset %r cannot decode this page; guessing", declared[:40])
    return decode_bytes(data)


#: Text codecs that cannot decode web pages with ``errors="replace"`` (they raise instead).
_UNFIT_CODECS = frozenset({"idna", "punycode", "utf-7", "raw-unicode-escape", "unicode-escape"})


def _text_codec(declared: str) -> str | None:
    """The codec named by a declared charset, if it is a text encoding fit for pages; else None."""
    try:
        info = codecs.lookup(declared)
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _UNFIT_CODECS:
        return None
    return info.name


def _meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def extract_article(page: str, hints: PageHints | None = None, repairs: list[str] | None = None) -> Article:
    """Find the article in a page: headline, body text, date, source, URL and section.

    Args:
        page: The page's HTML, decoded (see :func:`decode_html`).
        hints: What the feed says about the page, used where the page lacks a field.
        repairs: Receives a note per field filled by guesswork (no headline, an unparseable date),
            for the build summary.

    Raises:
        ExtractionFailed: no article body (or one shorter than :data:`MIN_BODY_CHARS`) was found.
    """
    import trafilatura  # imported here: ~0.5 s, and only ingestion needs it

    hints = hints or PageHints()
    try:
        tree = trafilatura.load_html(page)
    except ValueError as error:
        raise ExtractionFailed(f"HTML the parser cannot read ({error})") from None
    if tree is None:
        raise ExtractionFailed("HTML the parser cannot read")
    elements = sum(1 for _ in itertools.islice(tree.iter(), MAX_PAGE_ELEMENTS + 1))
    if elements > MAX_PAGE_ELEMENTS:
        raise ExtractionFailed(f"page has too many elements (over {MAX_PAGE_ELEMENTS:,}) to be a news article")
    extracted = trafilatura.bare_extraction(tree, url=hints.url or None, with_metadata=True, include_comments=False,
                                            include_tables=False, include_images=False, include_links=False,
                                            favor_precision=True, config=_config())
    found = extracted if extracted is not None and not isinstance(extracted, dict) else None
    body = _clean(found.text or "") if found is not None else ""
    if len(body) < MIN_BODY_CHARS:
        raise ExtractionFailed(f"no article text found in the page ({len(body)} characters of body, at least "
                               f"{MIN_BODY_CHARS} needed)")
    assert found is not None  # a body was found
    notes = repairs if repairs is not None else []
    title = _clean(found.title or "").replace("\n", " ") or hints.title.strip()
    if not title:
        title = body.splitlines()[0][:120]
        notes.append("no headline (<title>, <h1>) in the page: used the first paragraph")
    date = _page_date(tree, notes) or hints.date or _day(found.date)
    url = _page_url(tree, hints.url) or hints.url
    if not is_web_url(url):
        url = ""
    source = _site_name(found.sitename, url) or hints.source.strip() or (found.sitename or "").strip()
    category = (found.categories[0] if found.categories else "").strip() or hints.category.strip()
    return Article(id=stable_article_id(None, url, title, body), title=title, text=body, date=date,
                   source=source, url=url, category=category)


@lru_cache(maxsize=1)
def _config() -> ConfigParser:
    """Return trafilatura's defaults, except the body size below which it distrusts its own extraction.

    By default a body under 250 characters sends trafilatura to its fallback extractors, which
    keep everything paragraph-like, ads and comments included: 13 of the 300 sample articles are
    that short (brief news items), and each came back with the page's ad slot. At
    :data:`MIN_BODY_CHARS` they are extracted as cleanly as the long ones.
    """
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(MIN_BODY_CHARS))
    return config


def _site_name(name: str | None, url: str) -> str:
    """The page's site name, unless it is only the host name (trafilatura's guess when the page names none)."""
    name = (name or "").strip()
    host = urlsplit(url).netloc.lower()
    return "" if name.lower() in (host, host.removeprefix("www.")) else name


def same_site(url: str, other: str) -> bool:
    """Whether two URLs are on one site: the same host, or one host a subdomain of the other.

    Used to decide whether a page may name its own canonical URL: ``www.bbc.com`` may say
    ``bbc.com/arabic/...``, a page on ``evil.example`` may not say it is on ``bbc.com``.
    """
    try:
        host, other_host = (urlsplit(u).hostname or "" for u in (url, other))
    except ValueError:
        return False
    host, other_host = host.removeprefix("www."), other_host.removeprefix("www.")
    return bool(host) and (host == other_host or host.endswith(f".{other_host}") or other_host.endswith(f".{host}"))


def _page_url(tree: object, base: str) -> str:
    """The page's canonical URL (``<link rel="canonical">``, else ``og:url``), as written, made absolute.

    Read here rather than taken from trafilatura, which percent-encodes an Arabic path: the URL
    shown to readers stays the one the outlet wrote. What the page says is not trusted: a canonical
    URL is kept only when it is ``http(s)`` and, for a page fetched from ``base``, on the same site
    (:func:`same_site`); otherwise the fetched URL stands.
    """
    candidates = [link.get("href") for link in tree.iter("link")  # type: ignore[attr-defined]
                  if "canonical" in (link.get("rel") or "").lower().split()]
    candidates += [meta.get("content") for meta in tree.iter("meta")  # type: ignore[attr-defined]
                   if (meta.get("property") or meta.get("name") or "").strip().lower() == "og:url"]
    for candidate in candidates:
        url = urljoin(base, (candidate or "").strip()) if (candidate or "").strip() else ""
        if url and is_web_url(url) and (not base or same_site(url, base)):
            return url
    return ""


def _page_date(tree: object, notes: list[str]) -> datetime | None:
    """The publication time the page states in a ``<meta>`` tag (with time and offset), if parseable."""
    metas = {}
    for meta in tree.iter("meta"):  # type: ignore[attr-defined]
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        if key in DATE_META and key not in metas and (meta.get("content") or "").strip():
            metas[key] = meta.get("content").strip()
    for key in DATE_META:
        if key in metas:
            try:
                return parse_date(metas[key])
            except ValueError:
                notes.append(f"unparseable date {metas[key][:40]!r} ({key}) dropped")
    return None


def _day(value: str | None) -> datetime | None:
    try:
        return parse_date(value)
    except ValueError:
        return None


def _clean(text: str) -> str:
    """Collapse white space inside each line, trim, drop empty lines (the paragraphs stay one a line)."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)
