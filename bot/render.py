"""Turn passages into Telegram-HTML messages and console text; pure functions, no I/O.

Each passage shows its headline (a link when the article has a URL), its source and date, and
the retrieved chunk in a quote block with the best-matching sentence(s) in bold. Both outputs
come from one :class:`PassageView`, so the console and Telegram show the same thing:

* HTML: every dynamic string goes through ``html.escape``; only ``b``, ``a`` and ``blockquote``
  tags are emitted. Messages are split *between* passages, never inside a tag, and each message's
  HTML source stays within ``MessageLimit.MAX_TEXT_LENGTH`` UTF-16 code units — stricter than
  Telegram's rule (which counts the text left after parsing entities), and simple to check.
* Plain text (console): the same lines without tags, the quote marked with « ».

The same story from other outlets (``Passage.duplicates``) is named on the source line, each
outlet linked to its own article in HTML. An answer may open with a note (:func:`answer_note`):
the period searched, or that it holds no article, or that the newest come first.

A passage that alone exceeds the limit is trimmed around its quote: the quote stays whole, the
context before and after it is cut at word boundaries, and "…" marks each cut. What is shown is
always an exact substring of the article (modulo the RTL marks of :mod:`bot.rtl`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time

from telegram.constants import MessageLimit

from bot import messages
from bot.answerer import Answer
from bot.rtl import isolate, isolate_ltr_runs, line_start, mark_line_starts
from index import Passage

ELLIPSIS = "…"
#: Largest message, in UTF-16 code units, as Telegram counts.
MAX_MESSAGE = int(MessageLimit.MAX_TEXT_LENGTH)
PASSAGE_SEPARATOR = "\n\n"
#: Longest headline shown, in characters (real ones are far shorter).
MAX_TITLE = 300
_SPACE = re.compile(r"\s")
#: Rounds of shrinking a too-long passage before falling back to the bare quote (escaping can
#: make each estimate slightly short, so a few rounds may be needed).
_TRIM_ROUNDS = 12


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class PassageView:
    """What one passage shows, before formatting: the chunk split around its quote.

    ``before + quote + after`` is a contiguous span of the article text; ``cut_before`` and
    ``cut_after`` say whether the chunk was trimmed on that side (shown as an ellipsis).
    """

    title: str
    url: str
    source: str
    day: str
    before: str
    quote: str
    after: str
    cut_before: bool = False
    cut_after: bool = False
    #: Other outlets that ran the same story: (source, url of its article or "").
    also_in: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, passage: Passage) -> PassageView:
        """Slice the chunk around the quote, using the offsets both carry into the article."""
        article, chunk, quote = passage.article, passage.chunk, passage.quote
        start = max(chunk.start, min(quote.start, chunk.end))
        end = max(start, min(quote.end, chunk.end))
        text = article.text
        outlets: dict[str, str] = {}
        for twin in passage.duplicates:
            if twin.source and twin.source != article.source:
                outlets[twin.source] = outlets.get(twin.source) or twin.url
        also_in = tuple(outlets.items())
        return cls(title=article.title, url=article.url, source=article.source,
                   day=article.date.date().isoformat() if article.date else "",
                   before=text[chunk.start:start], quote=text[start:end], after=text[end:chunk.end], also_in=also_in)


Formatter = Callable[[PassageView], str]


def _excerpt(view: PassageView, opening: str = "", closing: str = "") -> list[str]:
    """The quote block's pieces [before, quote, after]: ellipses at cuts, quote marks, line starts marked."""
    before = (ELLIPSIS + " " if view.cut_before else "") + view.before
    after = view.after + (" " + ELLIPSIS if view.cut_after else "")
    return mark_line_starts([before, opening + view.quote + closing, after])


def _meta(view: PassageView, links: bool = False) -> str:
    """The source/date line, plus the other outlets that ran the same story (Latin names and dates isolated).

    Args:
        view: The passage.
        links: HTML: escape the line and link each other outlet to its article.
    """
    parts = [messages.SOURCE.format(source=isolate_ltr_runs(view.source)) if view.source else "",
             messages.DATE.format(day=isolate(view.day)) if view.day else ""]
    line = " · ".join(part for part in parts if part) or messages.UNKNOWN_SOURCE
    line = html.escape(line) if links else line
    if view.also_in:
        names = [_outlet(source, url, links) for source, url in view.also_in]
        template = html.escape(messages.ALSO_IN) if links else messages.ALSO_IN
        line += "\n" + template.format(sources="، ".join(names))
    return line


def _outlet(source: str, url: str, link: bool) -> str:
    """One other outlet's name, isolated; in HTML escaped and linked to its article when it has a URL."""
    name = isolate_ltr_runs(source)
    if not link:
        return name
    name = html.escape(name)
    return f'<a href="{html.escape(url, quote=True)}">{name}</a>' if url else name


def _title(view: PassageView) -> str:
    """The headline to show; an absurdly long one is cut (it must never push a message over the limit)."""
    title = view.title.strip() or messages.UNTITLED
    return title if len(title) <= MAX_TITLE else _head(title, MAX_TITLE) + " " + ELLIPSIS


def format_html(view: PassageView) -> str:
    """One passage as Telegram HTML (title line, source line, quote block)."""
    title = _title(view)
    shown = html.escape(isolate_ltr_runs(title))
    if view.url:
        shown = f'<a href="{html.escape(view.url, quote=True)}">{shown}</a>'
    before, quote, after = (html.escape(piece) for piece in _excerpt(view))
    return (f"{line_start(title)}<b>{shown}</b>\n"
            f"{_meta(view, links=True)}\n"
            f"<blockquote>{before}<b>{quote}</b>{after}</blockquote>")


def format_plain(view: PassageView) -> str:
    """One passage as console text: the same lines, the quote between « »."""
    title = _title(view)
    url = f" · {isolate(view.url)}" if view.url else ""
    excerpt = "".join(_excerpt(view, "«", "»"))
    return f"{line_start(title)}{isolate_ltr_runs(title)}\n{_meta(view)}{url}\n{excerpt}"


def _head(text: str, size: int) -> str:
    """At most ``size`` characters from the start of ``text``, cut at a word boundary."""
    if size >= len(text):
        return text
    cut = text[:max(size, 0)]
    if not _SPACE.match(text[len(cut):len(cut) + 1] or " "):
        spaces = [m.start() for m in _SPACE.finditer(cut)]
        cut = cut[:spaces[-1]] if spaces else ""
    return cut.rstrip()


def _tail(text: str, size: int) -> str:
    """At most ``size`` characters from the end of ``text``, cut at a word boundary."""
    return _head(text[::-1], size)[::-1]


def _trimmed(view: PassageView, before: int, after: int) -> PassageView:
    """Keep ``before``/``after`` characters of context around the quote (whole words)."""
    kept_before, kept_after = _tail(view.before, before), _head(view.after, after)
    return replace(view, before=kept_before, after=kept_after,
                   cut_before=view.cut_before or len(kept_before) < len(view.before.strip()),
                   cut_after=view.cut_after or len(kept_after) < len(view.after.strip()))


def fit(view: PassageView, formatter: Formatter, limit: int) -> PassageView:
    """Trim a passage's context (then, if need be, its quote) until its formatted size fits ``limit``."""
    if utf16_len(formatter(view)) <= limit:
        return view
    bare = replace(view, before="", after="", cut_before=True, cut_after=True)
    room = limit - utf16_len(formatter(bare))
    if room < 0:
        quote = _head(view.quote, len(view.quote) + room)
        for _ in range(_TRIM_ROUNDS):
            candidate = replace(bare, quote=quote)
            excess = utf16_len(formatter(candidate)) - limit
            if excess <= 0:
                return candidate
            quote = _head(quote, len(quote) - excess)
        return replace(bare, quote="")
    for _ in range(_TRIM_ROUNDS):
        half = room // 2
        before = min(len(view.before), max(half, room - len(view.after)))
        candidate = _trimmed(view, before, room - before)
        excess = utf16_len(formatter(candidate)) - limit
        if excess <= 0:
            return candidate
        room -= excess
    return bare


def pack(blocks: Sequence[str], limit: int = MAX_MESSAGE, separator: str = PASSAGE_SEPARATOR) -> list[str]:
    """Join blocks into as few messages as possible, splitting only between blocks."""
    messages_out: list[str] = []
    current = ""
    for block in blocks:
        joined = current + separator + block if current else block
        if current and utf16_len(joined) > limit:
            messages_out.append(current)
            joined = block
        current = joined
    if current:
        messages_out.append(current)
    return messages_out


def render_html(passages: Sequence[Passage], limit: int = MAX_MESSAGE, note: str = "") -> list[str]:
    """Passages as Telegram HTML messages, each within ``limit`` UTF-16 units of HTML source.

    Args:
        passages: The page, best first.
        limit: Largest message (HTML source, UTF-16 units).
        note: A plain-text line put first (:func:`answer_note`); escaped here.
    """
    head = html.escape(note) if note else ""
    room = utf16_len(head + PASSAGE_SEPARATOR) if head else 0
    blocks = [format_html(fit(PassageView.of(p), format_html, limit - (room if n == 0 else 0)))
              for n, p in enumerate(passages)]
    if head:
        blocks = [head + PASSAGE_SEPARATOR + blocks[0], *blocks[1:]] if blocks else [head]
    return pack(blocks, limit)


def render_plain(passages: Sequence[Passage], limit: int = MAX_MESSAGE, note: str = "") -> str:
    """Passages as console text, trimmed by the same rule so both outputs quote the same span."""
    blocks = [format_plain(fit(PassageView.of(p), format_html, limit)) for p in passages]
    return PASSAGE_SEPARATOR.join([note, *blocks] if note else blocks)


def answer_note(answer: Answer) -> str:
    """The line that opens an answer: the period searched (or that it has no article), the newest first.

    Plain text, right-to-left safe; "" when there is nothing to say.
    """
    lines = []
    period = answer.period
    if period is not None:
        label = isolate_ltr_runs(period.label)
        template = messages.PERIOD_EMPTY if answer.period_empty else messages.PERIOD_SEARCHED
        lines.append(template.format(period=label))
    if answer.plan is not None and answer.plan.latest:
        lines.append(messages.LATEST_FIRST)
    return "\n".join(lines)


def no_answer_text(answer: Answer) -> tuple[str, dict[str, str]]:
    """The no-answer template and its values: naming the period when one was searched."""
    if answer.offset:
        return messages.NO_MORE, {}
    if answer.period is None:
        return messages.NO_ANSWER, {}
    template = messages.PERIOD_EMPTY_NO_ANSWER if answer.period_empty else messages.NO_ANSWER_IN_PERIOD
    return template, {"period": isolate_ltr_runs(answer.period.label)}


def html_message(text: str, **values: str) -> str:
    """A UI string of :mod:`bot.messages` as HTML: placeholders filled, every part escaped."""
    escaped = {name: html.escape(value) for name, value in values.items()}
    return html.escape(text).format(**escaped) if values else html.escape(text)


def plain_message(text: str, **values: str) -> str:
    """A UI string of :mod:`bot.messages` for the console, placeholders filled."""
    return text.format(**values) if values else text


def number(value: float | int, digits: int = 0) -> str:
    """A number isolated for an Arabic line (``12``, ``0.35``)."""
    return isolate(f"{value:.{digits}f}" if isinstance(value, float) else str(value))


def about_values(articles: int, sources: Sequence[tuple[str, int]], date_range: tuple[str, str] | None,
                 built_at: str, newest: datetime | None = None) -> dict[str, str]:
    """Fill :data:`bot.messages.ABOUT`: counts and names isolated, separators Arabic.

    ``newest`` is the newest article's publication time, shown to the minute in its own offset
    (what the outlet printed), or as a day when the source gave no time.
    """
    listed = "، ".join(f"{isolate_ltr_runs(name or messages.UNKNOWN_NAME)} ({number(count)})"
                      for name, count in sources)
    since, until = (isolate(day) for day in date_range) if date_range else (messages.ABOUT_NO_DATES,) * 2
    return {"articles": number(articles), "sources": listed or messages.UNKNOWN_NAME, "since": since,
            "until": until, "built_at": isolate(built_at), "newest": _newest(newest)}


def _newest(stamp: datetime | None) -> str:
    if stamp is None:
        return messages.ABOUT_NO_DATES
    if stamp.tzinfo is None and stamp.time() == time(0):
        return isolate(stamp.date().isoformat())
    return isolate(stamp.strftime("%Y-%m-%d %H:%M"))
