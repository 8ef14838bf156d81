"""Right-to-left helpers: keep Arabic lines from flipping when they hold Latin names, numbers or URLs.

Telegram lays each line out by its first strong character. A line that opens with a digit, a
Latin word or punctuation is laid out left-to-right and the Arabic in it reads backwards, so
every line we send starts with an Arabic letter or U+200F RIGHT-TO-LEFT MARK. Latin names, URLs,
numbers and dates inside a line are wrapped in U+2068 FIRST STRONG ISOLATE … U+2069 POP
DIRECTIONAL ISOLATE so their own direction cannot reorder the Arabic around them.

Quoted article text is left verbatim apart from a mark at the start of a line: a reader must be
able to copy a quote and find it in the original.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

RLM = "\u200f"
FSI = "\u2068"
PDI = "\u2069"
#: Every invisible mark this module adds; strip them to recover the exact text.
MARKS = (RLM, FSI, PDI)

# A run of Latin letters/digits, possibly with inner spaces and URL/date punctuation, that must
# keep its own left-to-right order inside an Arabic line.
_LATIN = r"A-Za-z0-9\u00C0-\u024F"
_LTR_RUN = re.compile(rf"[{_LATIN}](?:[{_LATIN} .,:;/_\-@&'+%#?=~()]*[{_LATIN}%)/])?")


def starts_rtl(text: str) -> bool:
    """Whether ``text`` begins with a right-to-left letter (Arabic, Hebrew, ...)."""
    return bool(text) and unicodedata.bidirectional(text[0]) in ("R", "AL")


def line_start(text: str) -> str:
    """The mark to put before a line showing ``text``: nothing if it opens with an Arabic letter, else RLM."""
    return "" if starts_rtl(text) else RLM


def isolate(text: str) -> str:
    """Wrap a whole value (a date, a number, a URL) so it keeps its own direction."""
    return f"{FSI}{text}{PDI}" if text else ""


def isolate_ltr_runs(text: str) -> str:
    """Isolate every Latin/digit run inside an otherwise Arabic string (titles, source names)."""
    return _LTR_RUN.sub(lambda match: isolate(match.group(0)), text)


def mark_line_starts(pieces: Sequence[str], at_line_start: bool = True) -> list[str]:
    """Insert RLM at each line start (in a sequence of adjacent text pieces) that lacks an Arabic letter.

    The pieces are rendered back to back (e.g. text before a quote, the quote, text after it),
    so a line can begin in any piece; a mark is inserted only into text, never between pieces
    that will later be wrapped in different tags.

    Args:
        pieces: Adjacent texts, in order.
        at_line_start: Whether the first piece starts a new line.
    """
    marked: list[str] = []
    for piece in pieces:
        out: list[str] = []
        for index, line in enumerate(piece.split("\n")):
            if index > 0:
                out.append("\n")
                at_line_start = True
            if at_line_start and line:
                out.append(line_start(line))
                at_line_start = False
            out.append(line)
        marked.append("".join(out))
    return marked


def strip_marks(text: str) -> str:
    """Remove the marks this module adds, recovering the verbatim text."""
    return text.translate({ord(mark): None for mark in MARKS})


#: Bidi embedding, override and isolate controls (LRE RLE PDF LRO RLO, LRI RLI FSI PDI). Unlike the
#: marks (LRM, RLM, ALM), which act only where they stand, each of these changes the direction of
#: everything after it up to its terminator or the end of the line, so one raw U+202E in a headline
#: would reverse the rest of the bot's own line.
BIDI_CONTROLS = frozenset(chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
_NO_BIDI_CONTROLS = {ord(char): None for char in BIDI_CONTROLS}


def drop_bidi_controls(text: str) -> str:
    """``text`` without :data:`BIDI_CONTROLS` (they are invisible, so what is read stays the same)."""
    return text.translate(_NO_BIDI_CONTROLS)
