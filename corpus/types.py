"""The two values the whole pipeline passes around: a clean article and a chunk of it.

They are frozen so that a chunk's offsets can never drift from the article they point into:
``article.text[chunk.start:chunk.end] == chunk.text`` is the invariant every quote relies on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Article:
    """One news article, cleaned of site navigation, ready to chunk.

    Attributes:
        id: Stable across rebuilds: the source's own id, else a hash of the URL, else of the text.
        title: Headline, verbatim.
        text: Body, verbatim (paragraphs separated by newlines). Quotes are cut from it.
        date: Publication time (timezone-aware when the source says so), or None if unknown.
        source: Outlet name (e.g. ``BBC Arabic``), or ``""`` if unknown.
        url: Link to the original page, or ``""``.
        category: The outlet's section, or ``""``.
    """

    id: str
    title: str
    text: str
    date: datetime | None = None
    source: str = ""
    url: str = ""
    category: str = ""

    def fingerprint(self) -> str:
        """A hash of everything that is indexed or shown, so updates can tell a changed article."""
        digest = hashlib.sha256()
        for part in (self.title, self.text, self.date.isoformat() if self.date else "",
                     self.source, self.url, self.category):
            digest.update(part.encode("utf-8"))
            digest.update(b"\x00")
        return digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Chunk:
    """A span of an article's body, the unit that is embedded and retrieved.

    Attributes:
        id: ``<article_id>#<n>``, stable as long as the article and chunker settings are.
        article_id: The article this span belongs to.
        text: Exactly ``article.text[start:end]``.
        start: Offset of the first character in ``article.text``.
        end: Offset one past the last character.
    """

    id: str
    article_id: str
    text: str
    start: int
    end: int


def stable_article_id(source_id: str | None, url: str | None, title: str, text: str) -> str:
    """Pick the most stable id available: the source's own id, else a hash of the URL or content.

    Hash-based ids are prefixed so they can never collide with a source id by accident.
    """
    if source_id and source_id.strip():
        return source_id.strip()
    if url and url.strip():
        return "url-" + hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:16]
    content = (title.strip() + "\n" + text.strip()).encode("utf-8")
    return "sha-" + hashlib.sha256(content).hexdigest()[:16]


@dataclass(slots=True)
class SkippedInput:
    """A file or record that could not be read, with the reason shown in the build summary."""

    path: str
    reason: str


@dataclass(slots=True)
class RepairedInput:
    """A record that was kept after a repair (e.g. an unparseable date dropped), with what was done."""

    path: str
    reason: str


@dataclass(slots=True)
class CorpusReport:
    """What reading a corpus produced: the articles and everything skipped or repaired on the way."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[SkippedInput] = field(default_factory=list)
    repaired: list[RepairedInput] = field(default_factory=list)
    files_read: int = 0
