"""Sentence spans for Arabic news text, as offsets so that nothing is ever rewritten.

Arabic sentences end with ``.`` ``؟`` ``!`` ``؛`` ``…`` (and Latin ``?`` in mixed text), often
followed by a closing quote; paragraphs end at line breaks. A full stop inside a number
(``3.5``) or before a non-space is not a boundary, nor is the full stop of an initial (``بول ت.
ستالسوورث``, ``Frederick W. Mote``): splitting there cuts a name in two, and the quote with it.
Spans exclude surrounding white space.
"""

from __future__ import annotations

import re

#: End of a sentence: terminators, optional closing quotes/brackets, then space or end of line.
#: Only a run's first terminator can start a match (the look-behind) and the quantifiers are
#: possessive, so a long run of punctuation is scanned once: linear time. (Without them, 40,000
#: dots took 20 s, and a feed page can hold 200,000.)
_BOUNDARY = re.compile(r"(?<![.!?؟؛…])[.!?؟؛…]++[\"'»”’)\]]*+(?=\s|$)")
_NON_SPACE = re.compile(r"\S+")
#: A lone letter and its full stop, after a word that is not a number: an initial, not an end.
#: (After a number, ``1988 م.`` is the era abbreviation and usually does end the sentence.)
_LOOK_BACK = 64
_INITIAL = re.compile(r"(?:^|\s)(?![0-9٠-٩]+\s)\S+\s+[^\W\d_]\.$")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` for every sentence of ``text``, in order, trimmed of white space.

    Line breaks always end a sentence, so headings and list items never merge with the next line.
    """
    spans: list[tuple[int, int]] = []
    line_start = 0
    for line in text.split("\n"):
        cursor = 0
        for match in _BOUNDARY.finditer(line):
            if match.group().startswith(".") and _is_initial(line, match.start()):
                continue
            _append_trimmed(spans, line, line_start, cursor, match.end())
            cursor = match.end()
        _append_trimmed(spans, line, line_start, cursor, len(line))
        line_start += len(line) + 1
    return spans


def word_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Offsets of the white-space separated words of ``text[start:end]``, relative to ``text``."""
    return [(match.start(), match.end()) for match in _NON_SPACE.finditer(text, start, end)]


def _is_initial(line: str, stop: int) -> bool:
    """Whether the full stop at ``line[stop]`` closes an initial (a short look back suffices)."""
    return _INITIAL.search(line[max(0, stop - _LOOK_BACK):stop + 1]) is not None


def _append_trimmed(spans: list[tuple[int, int]], line: str, offset: int, start: int, end: int) -> None:
    segment = line[start:end]
    stripped = segment.strip()
    if not stripped:
        return
    lead = len(segment) - len(segment.lstrip())
    spans.append((offset + start + lead, offset + start + lead + len(stripped)))
