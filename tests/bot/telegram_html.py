"""A strict checker of Telegram's HTML parse mode, so tests can prove what the bot sends is accepted.

Telegram accepts only a handful of tags, requires them balanced, and needs every ``<``, ``>``
and ``&`` outside a tag or entity escaped (only ``&lt; &gt; &amp; &quot;`` and numeric entities
are known). The checker also returns the visible text and the text of each ``<blockquote>`` and
``<b>``, which the tests compare with the source articles.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from html.parser import HTMLParser

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote",
                "tg-spoiler", "span"}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "span": {"class"}, "blockquote": {"expandable"}, "code": {"class"}}
KNOWN_ENTITIES = {"lt", "gt", "amp", "quot"}


class InvalidTelegramHtml(ValueError):
    """Telegram would answer "Bad Request: can't parse entities"."""


@dataclass(slots=True)
class ParsedHtml:
    """What Telegram would show: visible text, and the text of quote blocks and bold spans."""

    text: str = ""
    blockquotes: list[str] = field(default_factory=list)
    bold: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    #: Links inside bold text: the headlines (other links name other outlets of the same story).
    headline_links: list[str] = field(default_factory=list)


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.parsed = ParsedHtml()
        self._open: dict[str, list[int]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise InvalidTelegramHtml(f"tag <{tag}> is not supported")
        for name, value in attrs:
            if name not in ALLOWED_ATTRIBUTES.get(tag, set()):
                raise InvalidTelegramHtml(f"attribute {name!r} is not allowed on <{tag}>")
            if tag == "span" and value != "tg-spoiler":
                raise InvalidTelegramHtml("<span> needs class=\"tg-spoiler\"")
            if tag == "a" and name == "href":
                self.parsed.links.append(value or "")
                if "b" in self.stack or "strong" in self.stack:
                    self.parsed.headline_links.append(value or "")
        if tag == "span" and not attrs:
            raise InvalidTelegramHtml("<span> needs class=\"tg-spoiler\"")
        self.stack.append(tag)
        self._open.setdefault(tag, []).append(len(self.parsed.text))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise InvalidTelegramHtml(f"self-closing <{tag}/> is not supported")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise InvalidTelegramHtml(f"unbalanced </{tag}> (open: {self.stack})")
        self.stack.pop()
        start = self._open[tag].pop()
        if tag == "blockquote":
            self.parsed.blockquotes.append(self.parsed.text[start:])
        elif tag in ("b", "strong"):
            self.parsed.bold.append(self.parsed.text[start:])

    def handle_data(self, data: str) -> None:
        for char in "<>&":
            if char in data:
                raise InvalidTelegramHtml(f"unescaped {char!r} in {data[:40]!r}")
        self.parsed.text += data

    def handle_entityref(self, name: str) -> None:
        if name not in KNOWN_ENTITIES:
            raise InvalidTelegramHtml(f"unknown entity &{name};")
        self.parsed.text += html.unescape(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.parsed.text += html.unescape(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        raise InvalidTelegramHtml("comments are not supported")

    def handle_decl(self, decl: str) -> None:
        raise InvalidTelegramHtml("declarations are not supported")

    def unknown_decl(self, data: str) -> None:
        raise InvalidTelegramHtml("declarations are not supported")


def parse_telegram_html(text: str) -> ParsedHtml:
    """Parse like Telegram does, or raise :class:`InvalidTelegramHtml`."""
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.rawdata:
        raise InvalidTelegramHtml(f"unterminated markup at {checker.rawdata[:40]!r}")
    if checker.stack:
        raise InvalidTelegramHtml(f"unclosed tags {checker.stack}")
    return checker.parsed


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts message length."""
    return len(text.encode("utf-16-le")) // 2
