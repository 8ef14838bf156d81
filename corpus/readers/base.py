"""What every reader shares: decoding bytes as Arabic news files really come, dates, size caps.

Arabic text arrives as UTF-8, UTF-8 with a BOM (Windows tools) or Windows-1256 (older Arabic
sites and Excel exports). We try them strictly in that order, so a valid UTF-8 file is never
misread, and refuse what would only index garbage: binary files, UTF-8 with damaged bytes (read
as Windows-1256 it would become mojibake such as ``ط§ظ„``) and bytes that decode to symbols
rather than words.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from corpus.types import Article

logger = logging.getLogger(__name__)

#: Files larger than this are refused: they are dumps or binaries, not articles.
MAX_FILE_BYTES = 512 * 1024 * 1024

MAX_ARTICLE_CHARS = 200_000
"""Longest article body kept, in characters; longer bodies are cut at a sentence or line boundary.

The longest of the ~30,000 articles in the ANT archive has ~21,000 characters, so this is ten
times any real article. A longer "article" is a dump or a scraping accident, and indexing it in
full would cost one build minutes to hours (25 million characters are ~90,000 chunks to embed,
about two hours with the default model at ~12 chunks/s) for text nobody asked for. Cutting keeps
the build bounded, keeps what can still be quoted, and the build summary says what was cut.
"""

MAX_TITLE_CHARS = 1_000
"""Longest headline kept, in characters: every chunk carries its headline (embedded and in BM25),
so an oversized "title" would be repeated into every chunk of its article."""

MAX_SOURCE_CHARS = 120
"""Longest outlet name kept: real ones are a few words; a page or feed may claim anything."""

MAX_URL_CHARS = 2_000
"""Longest article URL kept (browsers and Telegram links handle this much); a longer one is dropped."""

#: How far past the current time an article's date may be (time zones, clock skew) before it is dropped.
FUTURE_SLACK = timedelta(days=1)

#: Where a cut may fall: after sentence-ending punctuation (and closing quotes) or at a line end.
#: Possessive quantifiers and the look-behind keep it linear on long runs of punctuation: without
#: them, 40,000 dots cost 16 s (each start inside the run rescanned the rest of it).
_CUT_POINT = re.compile(r"(?<![.!?؟؛…])[.!?؟؛…]++[\"'»”’)\]]*+(?=\s)|\n")
_LAST_SPACE = re.compile(r"\s\S*$")


class UnreadableFile(Exception):
    """A file that cannot be turned into text; the message says why, for the build summary."""


class DamagedUtf8(UnreadableFile):
    """A file that is UTF-8 except for a few invalid bytes (readers of line formats may salvage the rest)."""


def read_file_bytes(path: Path) -> bytes:
    """Read a file's bytes, refusing empty and oversized files with a clear reason."""
    size = path.stat().st_size
    if size == 0:
        raise UnreadableFile("empty file")
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(f"file too large ({size} bytes > {MAX_FILE_BYTES})")
    return path.read_bytes()


def decode_bytes(data: bytes) -> str:
    """Decode a file's bytes as UTF-8 (with or without BOM), else Windows-1256.

    Raises:
        DamagedUtf8: the bytes are UTF-8 with a few invalid sequences (not Windows-1256 text).
        UnreadableFile: the bytes look binary (NUL bytes) or decode to symbols and control
            characters rather than text.
    """
    if b"\x00" in data[:65536]:
        raise UnreadableFile("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        utf8_error = error
    if _mostly_utf8(data):
        raise DamagedUtf8(f"invalid UTF-8 at byte {utf8_error.start} ({utf8_error.reason}) in an otherwise "
                          f"UTF-8 file; fix or re-export it")
    text = data.decode("cp1256")  # Windows-1256 maps every byte, so this cannot fail
    problem = _not_text(text)
    if problem:
        raise UnreadableFile(f"neither UTF-8 nor Windows-1256 text ({problem})")
    logger.debug("decoded as Windows-1256")
    return text


def read_text_file(path: Path) -> str:
    """Read and decode one file, refusing empty, huge and binary files with a clear reason."""
    text = decode_bytes(read_file_bytes(path))
    if not text.strip():
        raise UnreadableFile("file holds only white space")
    return text


def cap_article(article: Article, now: datetime | None = None) -> tuple[Article, list[str]]:
    """Bound what one article may carry into the index, whatever its reader.

    * the body is cut to :data:`MAX_ARTICLE_CHARS` and the title to :data:`MAX_TITLE_CHARS`;
    * the outlet name is cut to :data:`MAX_SOURCE_CHARS`, so no article can make an answer's
      header line longer than a Telegram message;
    * a URL that is not ``http(s)`` or is over :data:`MAX_URL_CHARS` is dropped (readers are shown
      only web links);
    * a date later than ``now`` plus :data:`FUTURE_SLACK` is dropped: one mis-dated item would
      otherwise become the archive's "today" for every relative time question.

    Returns:
        The article (the same object when nothing changed) and what was changed, for the build summary.
    """
    bounded, repairs = _bound_metadata(article, now or datetime.now(UTC))
    text, title = article.text, article.title
    if len(text) > MAX_ARTICLE_CHARS:
        text, where = _cut(text, MAX_ARTICLE_CHARS)
        repairs.append(f"article {article.id!r}: text of {len(article.text):,} characters cut to {len(text):,} at a "
                       f"{where} (articles are capped at {MAX_ARTICLE_CHARS:,} characters)")
    if len(title) > MAX_TITLE_CHARS:
        title, where = _cut(title, MAX_TITLE_CHARS)
        repairs.append(f"article {article.id!r}: title of {len(article.title):,} characters cut to {len(title):,} "
                       f"at a {where}")
    if not repairs:
        return article, repairs
    return replace(article, text=text, title=title, **bounded), repairs


def _bound_metadata(article: Article, now: datetime) -> tuple[dict[str, Any], list[str]]:
    """The source, URL and date :func:`cap_article` keeps, and what it changed, for the build summary."""
    bounded: dict[str, Any] = {}
    repairs = []
    if len(article.source) > MAX_SOURCE_CHARS:
        bounded["source"] = article.source[:MAX_SOURCE_CHARS - 1].rstrip() + "…"
        repairs.append(f"article {article.id!r}: source name of {len(article.source):,} characters cut to "
                       f"{MAX_SOURCE_CHARS}")
    if article.url and (len(article.url) > MAX_URL_CHARS or not is_web_url(article.url)):
        bounded["url"] = ""
        repairs.append(f"article {article.id!r}: URL dropped (not an http(s) link of at most {MAX_URL_CHARS:,} "
                       f"characters)")
    if article.date is not None and _aware(article.date) > now + FUTURE_SLACK:
        bounded["date"] = None
        repairs.append(f"article {article.id!r}: date {article.date:%Y-%m-%d %H:%M} is in the future: dropped")
    return bounded, repairs


def is_web_url(url: str) -> bool:
    """Whether ``url`` is an absolute ``http(s)`` URL with a host: the only links Akhbar keeps and shows."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _aware(date: datetime) -> datetime:
    """``date`` with a time zone (UTC when the source gave none), so it compares with ``now``."""
    return date if date.tzinfo is not None else date.replace(tzinfo=UTC)


def _cut(text: str, limit: int) -> tuple[str, str]:
    """The longest prefix of ``text`` up to ``limit`` characters that ends a sentence or line, and which.

    Looks for that end in the second half of the allowance only, so little is lost; text without
    one there is cut at the last word boundary, and text without spaces at the limit itself.
    """
    window = text[:limit]
    last = None
    for last in _CUT_POINT.finditer(window, limit // 2):  # noqa: B007 - only the last one is wanted
        pass
    if last is not None:
        return window[:last.end()].rstrip(), "line break" if last.group() == "\n" else "sentence end"
    space = _LAST_SPACE.search(window)
    if space and space.start() > 0:
        return window[:space.start()].rstrip(), "word boundary"
    return window, "hard limit (no space to cut at)"


def _mostly_utf8(data: bytes) -> bool:
    """True when nearly all non-ASCII bytes form valid UTF-8: damaged UTF-8, not another encoding.

    Windows-1256 Arabic is almost never valid UTF-8 (a letter byte is followed by another letter,
    not a continuation byte), so its valid sequences are a small minority.
    """
    sample = data[: 1 << 20].decode("utf-8", errors="replace")
    invalid = sample.count("\ufffd")
    valid = sum(1 for char in sample if char > "\x7f") - invalid
    return valid >= 16 and valid >= 10 * invalid


def _not_text(text: str) -> str | None:
    """Why decoded text is not prose (too many control characters or symbols, no spaces), or None."""
    sample = text[:65536]
    if not sample:
        return None
    if _control_ratio(sample) > 0.05:
        return "too many control characters"
    non_ascii = [char for char in sample if char > "\x7f"]
    symbols = sum(1 for char in non_ascii if unicodedata.category(char)[0] == "S"
                  or unicodedata.category(char) in ("Cc", "Co", "Cn"))
    if len(non_ascii) >= 32 and symbols > 0.05 * len(non_ascii):
        return f"{symbols} of {len(non_ascii)} non-ASCII characters are symbols, not letters"
    if len(sample) >= 256 and sum(char.isspace() for char in sample) < 0.02 * len(sample):
        return "no spaces between words"
    return None


def _control_ratio(sample: str) -> float:
    controls = sum(1 for char in sample if unicodedata.category(char) == "Cc" and char not in "\r\n\t\f")
    return controls / len(sample)


def parse_date(value: object) -> datetime | None:
    """Parse an ISO 8601 date or datetime (``2018-03-03T13:18:35+04:00``, ``2018-03-03``); None if absent.

    Raises:
        ValueError: the value is present but not a date; readers report it and keep the article.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def clean_field(value: object) -> str:
    """A string field without surrounding white space; non-strings become ``""`` or their text."""
    if value is None:
        return ""
    return str(value).strip()
