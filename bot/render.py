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
always an exact substring of the article (modulo the RTL marks of :mod:`bot.rtl` and the bidi
controls dropped below).

Hostile or broken article metadata (feeds and saved pages set title, source and URL) must not
break an answer or take over the bot's own lines, so the renderer defends itself whatever the
readers already capped:

* Outlet names are cut to ``MAX_SOURCE`` characters and the headline to ``MAX_TITLE`` (with "…");
  each is shown on one line (white space and control characters collapsed). The "also reported
  in" list names at most ``MAX_OUTLETS`` outlets within ``MAX_META_UNITS``, then counts the rest.
* Only ``http``/``https`` URLs become links (``javascript:``, ``tg://``, ``data:`` … would let a
  page choose what a tap does), and only when escaped they stay within ``MAX_URL`` units; else
  the headline is shown without a link.
* If a passage still cannot fit, it is shown in a compact shape (shorter headline, no links),
  and :func:`guard` is the last word: no message leaves here over the limit.
* Bidi embedding/override/isolate controls (:data:`bot.rtl.BIDI_CONTROLS`) are dropped from
  everything shown: headlines, outlet names, period labels *and quotes*. A raw U+202E reverses
  the rest of its line; in a headline or outlet name that line is the bot's, and in a quote it
  would reverse the ellipsis, the bold quote and the text after it. Dropping them changes no
  visible character (they are invisible), so a quote still reads exactly as the article does;
  what is lost is only the page's own choice of direction for a Latin run, which
  :func:`bot.rtl.isolate_ltr_runs` already handles for headlines. Isolating them instead (FSI …
  PDI around each piece) would keep the controls but reorder every quote that opens with a
  Latin word or a digit, so dropping is the smaller change. The marks LRM/RLM/ALM act only where
  they stand and are kept.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time
from urllib.parse import urlsplit

from telegram.constants import MessageLimit

from bot import messages
from bot.answerer import Answer
from bot.rtl import drop_bidi_controls, isolate, isolate_ltr_runs, line_start, mark_line_starts
from index import Passage

ELLIPSIS = "…"
#: Largest message, in UTF-16 code units, as Telegram counts.
MAX_MESSAGE = int(MessageLimit.MAX_TEXT_LENGTH)
PASSAGE_SEPARATOR = "\n\n"
#: Longest headline shown, in characters (real ones are far shorter).
MAX_TITLE = 300
#: Longest outlet name shown, in characters (real ones are far shorter).
MAX_SOURCE = 100
#: Longest link target, in UTF-16 units once escaped; a longer URL is shown as no link at all.
MAX_URL = 2000
#: Schemes a link may use: anything else (javascript:, tg:, data:, file:) is not linked.
LINK_SCHEMES = frozenset({"http", "https"})
#: Other outlets of the same story named on the source line, and the HTML room that line may take.
MAX_OUTLETS = 5
MAX_META_UNITS = 1200
#: Longest period label quoted in a note (labels come from the question's words).
MAX_LABEL = 200
#: HTML room of the outlet list of /about (the rest of that message is short).
MAX_ABOUT_SOURCES = 3000
#: Headline lengths of the compact shapes tried when a passage cannot fit otherwise.
SHORT_TITLE = 100
TINY_TITLE = 40
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
        source = one_line(article.source, MAX_SOURCE)
        outlets: dict[str, str] = {}
        for twin in passage.duplicates:
            name = one_line(twin.source, MAX_SOURCE)
            if name and name != source:
                outlets[name] = outlets.get(name) or safe_url(twin.url)
        also_in = tuple(outlets.items())
        return cls(title=one_line(article.title, MAX_TITLE), url=safe_url(article.url), source=source,
                   day=article.date.date().isoformat() if article.date else "",
                   before=drop_bidi_controls(text[chunk.start:start]), quote=drop_bidi_controls(text[start:end]),
                   after=drop_bidi_controls(text[end:chunk.end]), also_in=also_in)


def one_line(text: str, size: int) -> str:
    """Metadata as shown: bidi and other control characters dropped, white space collapsed, capped.

    Args:
        text: A headline, outlet name or label from an article or a question.
        size: Most characters kept; a longer text is cut (at a word if possible) and ends with "…".
    """
    text = drop_bidi_controls(text[:size * 4])  # a bound first: a hostile name may be megabytes
    text = " ".join("".join(c for c in text if unicodedata.category(c) != "Cc" or c.isspace()).split())
    if len(text) <= size:
        return text
    return (_head(text, size - 2) or text[:size - 2]).rstrip() + " " + ELLIPSIS


def safe_url(url: str) -> str:
    """``url`` if it may be a link: http(s) with a host, no white space or control, not too long; else ""."""
    url = url.strip()
    if not url or len(url) > MAX_URL or utf16_len(html.escape(url, quote=True)) > MAX_URL:
        return ""
    if any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf") for c in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host
        return ""
    return url if parts.scheme.lower() in LINK_SCHEMES and parts.netloc else ""


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
        template = html.escape(messages.ALSO_IN) if links else messages.ALSO_IN
        room = MAX_META_UNITS - utf16_len(line if links else html.escape(line))
        line += "\n" + template.format(sources=_outlets(view.also_in, links, room))
    return line


def _outlets(also_in: Sequence[tuple[str, str]], links: bool, room: int) -> str:
    """The other outlets, joined: at most :data:`MAX_OUTLETS` within ``room`` units, then how many more.

    Which outlets are named is decided on their escaped names alone, so the console and Telegram
    name the same ones; then, in HTML, each is linked while the links still fit ``room``.
    """
    chosen: list[tuple[str, str]] = []
    used = 0
    for source, url in also_in[:MAX_OUTLETS]:
        size = utf16_len(html.escape(isolate_ltr_runs(source))) + 2  # and the separator
        if used + size > room:
            break
        chosen.append((source, url))
        used += size
    names: list[str] = []
    for source, url in chosen:
        shown = _outlet(source, "", links)
        if links and url:
            linked = _outlet(source, url, links)
            extra = utf16_len(linked) - utf16_len(shown)
            if used + extra <= room:
                shown, used = linked, used + extra
        names.append(shown)
    if rest := len(also_in) - len(chosen):
        more = messages.ALSO_IN_OTHERS.format(count=isolate(str(rest)))
        names.append(html.escape(more) if links else more)
    return "، ".join(names)


def _outlet(source: str, url: str, link: bool) -> str:
    """One other outlet's name, isolated; in HTML escaped and linked to its article when it has a URL."""
    name = isolate_ltr_runs(source)
    if not link:
        return name
    name = html.escape(name)
    return f'<a href="{html.escape(url, quote=True)}">{name}</a>' if url else name


def _title(view: PassageView) -> str:
    """The headline to show; an absurdly long one is cut (it must never push a message over the limit)."""
    return one_line(view.title, MAX_TITLE) or messages.UNTITLED


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


def _bare(view: PassageView) -> PassageView:
    """The passage with no context around its quote."""
    return replace(view, before="", after="", cut_before=True, cut_after=True)


def _compact(view: PassageView, title: int, outlets: bool = True) -> PassageView:
    """A smaller shape of the passage: a shorter headline, no links (and optionally no other outlets)."""
    also_in = tuple((source, "") for source, _ in view.also_in) if outlets else ()
    return replace(view, title=one_line(view.title, title), url="", also_in=also_in)


def fit(view: PassageView, formatter: Formatter, limit: int) -> PassageView:
    """Trim a passage until its formatted size fits ``limit``: context first, then its shape, then the quote.

    The quote is what answers the reader, so it is kept whole while any shape can hold it: the
    full passage, then :func:`_compact` ones (headline shorter, no links). Only when none can is
    the quote itself cut. The result always fits, given a ``limit`` above a bare compact passage.
    """
    if utf16_len(formatter(view)) <= limit:
        return view
    shapes = [view, _compact(view, SHORT_TITLE), _compact(view, TINY_TITLE, outlets=False)]
    for shape in shapes:
        if utf16_len(formatter(_bare(shape))) <= limit:
            return _trim_context(shape, formatter, limit)
    for shape in shapes:
        empty = replace(_bare(shape), quote="")
        if utf16_len(formatter(empty)) <= limit:
            return _cut_quote(_bare(shape), formatter, limit)
    return replace(_bare(shapes[-1]), quote="")


def _trim_context(view: PassageView, formatter: Formatter, limit: int) -> PassageView:
    """Cut the context before and after the quote (whole words) until the passage fits; its bare form fits."""
    bare = _bare(view)
    room = limit - utf16_len(formatter(bare))
    for _ in range(_TRIM_ROUNDS):
        half = room // 2
        before = min(len(view.before), max(half, room - len(view.after)))
        candidate = _trimmed(view, before, room - before)
        excess = utf16_len(formatter(candidate)) - limit
        if excess <= 0:
            return candidate
        room -= excess
    return bare


def _cut_quote(bare: PassageView, formatter: Formatter, limit: int) -> PassageView:
    """Cut the quote's end (at a word) until the bare passage fits; with no quote it fits."""
    quote = _head(bare.quote, len(bare.quote) + limit - utf16_len(formatter(bare)))
    for _ in range(_TRIM_ROUNDS):
        candidate = replace(bare, quote=quote)
        excess = utf16_len(formatter(candidate)) - limit
        if excess <= 0:
            return candidate
        quote = _head(quote, len(quote) - excess)
    return replace(bare, quote="")


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
    return [guard(message, limit) for message in pack(blocks, limit)]


_TAG = re.compile(r"<[^>]*>")
_OPEN_ENTITY = re.compile(r"&[^;]*$")


def guard(message: str, limit: int = MAX_MESSAGE) -> str:
    """The last defence of the length rule: an HTML message over ``limit`` becomes its cut, tag-free text.

    Nothing the renderer builds should ever need this (:func:`fit` shrinks passages first), but
    a message over the limit is refused by Telegram and costs the reader the whole answer, so
    whatever slipped through is sent as escaped text without tags, cut to the limit at a
    character (never inside an entity or a surrogate pair) and ended with "…".
    """
    if utf16_len(message) <= limit:
        return message
    text = _TAG.sub("", message)
    units = text.encode("utf-16-le")[:max(limit - 2, 0) * 2]
    cut = _OPEN_ENTITY.sub("", units.decode("utf-16-le", errors="ignore"))
    return cut.rstrip() + " " + ELLIPSIS


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
        label = period_label(period.label)
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
    return template, {"period": period_label(answer.period.label)}


def period_label(label: str) -> str:
    """A period's label for a note: its words come from the question, so controls go and length is capped."""
    return isolate_ltr_runs(one_line(label, MAX_LABEL))


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
                 built_at: str, newest: datetime | None = None, engine: str = "") -> dict[str, str]:
    """Fill :data:`bot.messages.ABOUT`: counts and names isolated, separators Arabic.

    ``newest`` is the newest article's publication time, shown to the minute in its own offset
    (what the outlet printed), or as a day when the source gave no time.
    """
    listed = _about_sources(sources)
    since, until = (isolate(day) for day in date_range) if date_range else (messages.ABOUT_NO_DATES,) * 2
    return {"articles": number(articles), "sources": listed or messages.UNKNOWN_NAME, "since": since,
            "until": until, "built_at": isolate(built_at), "newest": _newest(newest),
            "engine": isolate(one_line(engine, MAX_SOURCE)) if engine else messages.UNKNOWN_NAME}


def _about_sources(sources: Sequence[tuple[str, int]], room: int = MAX_ABOUT_SOURCES) -> str:
    """The archive's outlets with their counts, names capped, as many as fit ``room`` escaped units."""
    names: list[str] = []
    used = 0
    for name, count in sources:
        shown = f"{isolate_ltr_runs(one_line(name, MAX_SOURCE) or messages.UNKNOWN_NAME)} ({number(count)})"
        used += utf16_len(html.escape(shown)) + 2
        if used > room:
            break
        names.append(shown)
    if len(names) < len(sources):
        names.append(messages.ALSO_IN_OTHERS.format(count=isolate(str(len(sources) - len(names)))))
    return "، ".join(names)


def _newest(stamp: datetime | None) -> str:
    if stamp is None:
        return messages.ABOUT_NO_DATES
    if stamp.tzinfo is None and stamp.time() == time(0):
        return isolate(stamp.date().isoformat())
    return isolate(stamp.strftime("%Y-%m-%d %H:%M"))
