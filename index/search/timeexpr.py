"""Time expressions in an Arabic question, turned into the date range to search.

"ماذا حدث في سوريا الأسبوع الماضي؟" should search last week's articles for "ماذا حدث في سوريا؟":
the words "الأسبوع الماضي" name a period, not something an article says. ``parse_time`` finds
such words, resolves them against a reference date, and returns the period, a recency flag and
the question without them. The reference is the date of the newest article in the archive, not
today's clock: an archive of 2018 news read in 2026 still has a "last week".

Choices:

- **Own table-driven parser, no library.** ``dateparser`` (1.5, BSD) was run over the phrasings
  in ``tests/index/test_timeexpr.py``: it put a date inside the expected period for 50 of 108, and
  always a single day, never the period ("الأسبوع الماضي" → 7 June, not 2–8 June); it knows no
  Levantine or Maghrebi month name (آذار, شباط, جانفي, شتنبر), nor "الأسبوع المنصرم", "منذ ثلاثة
  أيام", "خلال الأسبوعين الماضيين", "العام الماضي"; it fired on 10 of 27 questions with no time in
  them (مارس the verb, اليوم الوطني, آلان, رؤية 2030); and it returns matched text, not offsets.
  Here each rule is one regular expression built from tables (month names, units, numbers,
  directions) plus one resolver.
- **Match on a normalised copy, cut from the original.** The question is folded character by
  character with ``corpus.arabic.normalise`` (diacritics, alef/hamza/ta marbuta, digits) while
  keeping each folded character's offset, so a match maps back to the exact original span.
- **Context before a month name.** مارس is also a verb ("مارس ضغوطا"), آب/أب also "father": a month
  name counts only after في/منذ/خلال/شهر, with a day or a year, a direction (الماضي) or in the
  combined agency form. آب alone after في needs its madda. عام is a year only with a number or a
  direction, and not after a noun it qualifies as "general" (الأمين العام الحالي).
- **Resolution.** Weeks start on Saturday. "This week/month/year" runs from its start to the
  reference; "last week/month/year" is the whole previous one. "منذ N أيام" and "خلال الأيام N
  الماضية" both mean the window from N units before the reference to the reference (it contains
  the "N days ago" reading). A month or day without a year is its latest occurrence not after the
  reference. "منذ" before a period means from its start to the reference.
- **Future and "latest".** The archive has nothing after the reference, so future words (غدا,
  الأسبوع المقبل) and recency words (آخر أخبار, أحدث, ما الجديد, مؤخرا, حتى الآن) give no range
  and set ``latest``: the caller should rank the newest articles first. Both kinds are removed.
- **Several expressions** give the smallest range covering all of them.

Not handled (the words stay in the question): Hijri months and feasts (رمضان, عيد الفطر), ordinal
days (الخامس عشر من مارس), compound numbers (خمسة عشر يوما), "قبل/بعد" an absolute date, and
parts of a period (أواخر مارس searches all of March).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from corpus.arabic import normalise
from index.search.timecalendar import back, calendar_period, format_range, latest_month, month_end
from index.search.timewords import (
    ABOUT_RX,
    AL_RX,
    CALENDAR_UNIT_OF,
    CALENDAR_UNITS,
    CONJ_RX,
    DATE_PART_RX,
    DAY_OFFSET,
    DAY_WORDS,
    DIRECTION_OF,
    DIRECTION_RX,
    FEW,
    GENERAL_NOUN_SET,
    LATEST_PHRASES,
    MONTH_NAME_RE,
    MONTH_OF,
    MONTH_RX,
    MONTH_YEAR_RX,
    NEWS_NOUNS,
    NOT_RELATIVE_TO_EVENT_RX,
    NOT_TODAY_AFTER,
    NUM_RX,
    NUMBER_OF,
    NUMBER_WORDS,
    PAST_OR_LAST_RX,
    PERIOD_LEAD_RX,
    PLURAL_UNIT_RX,
    QUALIFIER_RX,
    TIME_OF_DAY_RX,
    UNIT_OF,
    UNIT_RX,
    WEEKDAY_OF,
    WEEKDAY_RX,
    WINDOW_LEAD_RX,
    WORD_END,
    WORD_START,
    YEAR_RX,
    YEAR_WORD_RX,
    alternation,
    normalised_all,
)

__all__ = ["TimeQuery", "TimeRange", "parse_time"]


@dataclass(frozen=True, slots=True)
class TimeRange:
    """An inclusive date range to search, with an Arabic description for the reader."""

    since: date
    until: date
    #: e.g. "الأسبوع الماضي (٢–٨ يونيو ٢٠١٨)" or "مارس ٢٠١٨".
    label: str


@dataclass(frozen=True, slots=True)
class TimeQuery:
    """What ``parse_time`` found in a question.

    ``question`` is the original text with the time words cut out (it may be left with nothing
    but question words, e.g. "ماذا حدث أمس؟" → "ماذا حدث؟"; fall back to the original then).
    ``spans`` are the removed ``(start, end)`` offsets into the original question.
    """

    question: str
    period: TimeRange | None = None
    latest: bool = False
    spans: tuple[tuple[int, int], ...] = ()


# -- the scan: a normalised copy that remembers where each character came from ---------------

#: Prepositions left out of a label ("في الأسبوع الماضي" → "الأسبوع الماضي"); منذ and يوم stay.
_DROPPED_LEADS = frozenset(normalised_all(["في", "خلال", "طوال", "بتاريخ", "على مدى", "على مدار"]))
#: Bidi controls removed from the user's words before they become a label (see :meth:`_Scan.words`).
_NO_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])
_KEPT = {"/": "/", "\u060d": "/", "-": "-", "\u2013": "-", "\u2014": "-", ".": "."}


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """Fold one character: its matching form, a space (a separator) or nothing (a mark)."""
    if char in _KEPT:
        return _KEPT[char]
    folded = normalise(char)
    if folded:
        return folded
    category = unicodedata.category(char)
    return " " if category[0] in "PSZ" or category == "Cc" else ""


@dataclass(frozen=True, slots=True)
class _Found:
    """One resolved expression: a period (or none, for future/latest words) and its label words."""

    since: date | None
    until: date | None
    latest: bool = False
    #: The user's words, for a relative label ("الأسبوع الماضي (…)"); None labels with the dates alone.
    words: str | None = None


class _Scan:
    """The question, its normalised copy and the map between their offsets."""

    def __init__(self, question: str, reference: date) -> None:
        self.original = question
        self.reference = reference
        chars: list[str] = []
        self.origin: list[int] = []
        for index, char in enumerate(question):
            for folded in _fold_char(char):
                if folded == " " and (not chars or chars[-1] == " "):
                    continue
                chars.append(folded)
                self.origin.append(index)
        self.text = "".join(chars)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map normalised ``[start, end)`` to original offsets, trailing diacritics included."""
        first, last = self.origin[start], self.origin[end - 1] + 1
        while last < len(self.original) and _fold_char(self.original[last]) == "":
            last += 1
        return first, last

    def words(self, match: re.Match[str]) -> str:
        """Return the user's words for ``match`` as typed, without a leading في/خلال/طوال.

        The words become the period's label, a line the bot writes, so bidi embedding, override
        and isolate controls (U+202A–U+202E, U+2066–U+2069, invisible and folded away for
        matching) are dropped with the marks LRM/RLM/ALM: an unterminated U+202E would reverse
        the rest of the bot's line. White space runs become one space, so a label is one line.
        """
        start = match.start()
        lead = match.groupdict().get("lead")
        if lead and (lead in _DROPPED_LEADS or lead[1:] in _DROPPED_LEADS):
            start = match.end("lead")
        while self.text[start] == " ":
            start += 1
        first, last = self.span(start, match.end())
        return " ".join(self.original[first:last].translate(_NO_BIDI_CONTROLS).split())

    def previous_word(self, start: int) -> str:
        """Return the normalised word before ``start``, without a prefixed article or conjunction."""
        words = self.text[:start].split()
        return re.sub(r"^[وفبلك]?(?:ال|ل(?=ل))?", "", words[-1]) if words else ""


# -- numbers and years ---------------------------------------------------------------------------

def _count(number: str | None, unit_word: str) -> tuple[str, int]:
    unit, implied = UNIT_OF[unit_word]
    value: int | None = implied
    if number is not None:
        number = number.removeprefix("ال").strip()
        value = int(number) if number.isdigit() else NUMBER_OF[number]
    return unit, FEW[unit] if value is None else value


def _year(text: str) -> int:
    value = int(text)
    return value + 2000 if value < 100 else value


# -- rules: one regex and one resolver each ------------------------------------------------------

_Resolver = Callable[[re.Match[str], _Scan], _Found | None]
#: Future or "latest" words: no period (the archive ends at the reference), newest first.
_LATEST_ONLY = _Found(None, None, latest=True)


def _found(scan: _Scan, match: re.Match[str], since: date, until: date, *, relative: bool) -> _Found | None:
    """Wrap a resolved period: after منذ it runs on to the reference; a relative one never passes it.

    Relative periods are labelled with the user's words, absolute ones with their dates alone.
    """
    if (match.groupdict().get("lead") or "").endswith("منذ"):
        return _Found(since, scan.reference, words=scan.words(match)) if since <= scan.reference else None
    if relative:
        return _Found(since, min(until, scan.reference), words=scan.words(match))
    return _Found(since, until)


def _month_number(text: str) -> int:
    """Return the month of a matched month expression (one name, or two joined: "آذار/مارس")."""
    first = MONTH_NAME_RE.match(text)
    assert first is not None, text  # the rules only pass what MONTH_RX matched
    return MONTH_OF[first.group(0)]


def _resolve_day(match: re.Match[str], scan: _Scan) -> _Found | None:
    before = scan.text[:match.start()].split()[-2:]
    if before[-1:] in (["ذلك"], ["نفس"], ["ذات"]) or before == ["مثل", "هذا"]:
        return None  # "في ذلك اليوم", "في مثل هذا اليوم": a day in the story, not today
    offset = DAY_OFFSET[match.group("day")]
    if offset > 0:
        return _LATEST_ONLY
    day = scan.reference + timedelta(days=offset)
    return _found(scan, match, day, day, relative=True)


def _resolve_weekday(match: re.Match[str], scan: _Scan) -> _Found | None:
    lead = match.group("lead") or ""
    if not (match.group("tod") or match.group("dir") or lead.endswith(("يوم", "منذ"))):
        return None  # "صلاة الجمعة", "الاثنين" (the two): a day name needs يوم, مساء, الماضي or منذ
    direction = DIRECTION_OF.get(match.group("dir") or "", 0)
    if direction > 0:
        return _LATEST_ONLY
    weekday = WEEKDAY_OF[match.group("wd").removeprefix("ال")]
    day = scan.reference - timedelta(days=(scan.reference.weekday() - weekday) % 7 or (7 if direction < 0 else 0))
    return _found(scan, match, day, day, relative=True)


def _resolve_ago(match: re.Match[str], scan: _Scan) -> _Found | None:
    if match.group("kw") == "من" and not match.group("num") and UNIT_OF[match.group("unit")][1] != 2:
        return None  # "من أيام الحرب": from the days of the war
    return _resolve_window(match, scan)


def _resolve_window(match: re.Match[str], scan: _Scan) -> _Found | None:
    unit, count = _count(match.group("num"), match.group("unit"))
    return _found(scan, match, back(scan.reference, unit, count), scan.reference, relative=True)


def _resolve_calendar(match: re.Match[str], scan: _Scan) -> _Found | None:
    unit = CALENDAR_UNIT_OF[match.group("unit")]
    if not (match.group("this") or match.group("dir") or match.group("qual")):
        return None  # "الأسبوع" alone names no particular week
    if unit == "year" and not (match.group("this") or match.group("lead") or match.group("qual")) \
            and scan.previous_word(match.start()) in GENERAL_NOUN_SET:
        return None
    shift = DIRECTION_OF.get(match.group("dir") or "", 0) * (2 if match.group("before") else 1)
    if shift > 0:
        return _LATEST_ONLY
    since, until = calendar_period(scan.reference, unit, shift)
    return _found(scan, match, since, until, relative=True)


def _resolve_month(match: re.Match[str], scan: _Scan) -> _Found | None:
    month_text = match.group("month")
    month = _month_number(month_text)
    day = int(match.group("day")) if match.group("day") else None
    strong = bool(day or match.group("year") or match.group("shahr") or month_text not in MONTH_OF)
    if not (strong or match.group("dir") or match.group("lead") or match.group("qual") or match.group("of_year")):
        return None  # "مارس ترامب ضغوطا": a verb, not March
    if month_text == "اب" and not strong and "آ" not in scan.words(match):
        return None  # "في أب": a father, not August
    direction = DIRECTION_OF[match.group("dir")] if match.group("dir") else None
    if match.group("year"):
        year = int(match.group("year"))
    elif match.group("of_year"):  # "مارس من العام الماضي"
        year = scan.reference.year + DIRECTION_OF.get(match.group("year_dir") or "", 0)
    elif direction == 1:
        return _LATEST_ONLY
    elif direction == 0:
        year = scan.reference.year
    else:
        year = latest_month(scan.reference, month, day, past=direction == -1)
    if year > scan.reference.year and not match.group("year"):
        return _LATEST_ONLY
    try:
        since = date(year, month, day or 1)
    except ValueError:
        return None  # 30 فبراير
    return _found(scan, match, since, since if day else month_end(year, month), relative=False)


def _resolve_year(match: re.Match[str], scan: _Scan) -> _Found | None:
    if not (match.group("lead") or match.group("qual") or match.group("word") or match.group("m")):
        return None  # "قتل 2018 شخصا": a count, not a year
    year = int(match.group("year"))
    return _found(scan, match, date(year, 1, 1), date(year, 12, 31), relative=False)


def _resolve_numeric(match: re.Match[str], scan: _Scan) -> _Found | None:
    if match.group("Y"):
        year, month, day = int(match.group("Y")), int(match.group("M")), int(match.group("D"))
    elif match.group("y"):
        day, month, year = int(match.group("d")), int(match.group("m")), _year(match.group("y"))
        if month > 12 >= day:
            day, month = month, day  # month first (US style): 3/15/2018
    else:
        month, year = int(match.group("mm")), int(match.group("yy"))
        if not 1 <= month <= 12:
            return None
        return _found(scan, match, date(year, month, 1), month_end(year, month), relative=False)
    try:
        when = date(year, month, day)
    except ValueError:
        return None  # 31/2/2018
    return _found(scan, match, when, when, relative=False)


def _resolve_between(match: re.Match[str], scan: _Scan) -> _Found | None:
    d1, m1, y1 = match.group("d1"), match.group("m1"), match.group("y1")
    d2, m2, y2 = match.group("d2"), match.group("m2"), match.group("y2")
    if not (d1 or m1 or y1) or not (m2 or y2) or (d1 and not (m1 or m2)) or (d2 and not m2):
        return None
    # The end first: a missing year is the latest one not after the reference.
    month2 = _month_number(m2) if m2 else None
    year2 = int(y2) if y2 else latest_month(scan.reference, month2 or 12, int(d2) if d2 else None)
    # The start takes what it lacks from the end.
    month1 = _month_number(m1) if m1 else (month2 if d1 else None)
    year1 = int(y1) if y1 else year2
    try:
        until = date(year2, month2, int(d2)) if d2 and month2 else \
            month_end(year2, month2) if month2 else date(year2, 12, 31)
        since = date(year1, month1 or 1, int(d1) if d1 else 1)
        if since > until and not y1:
            since = since.replace(year=year1 - 1)
    except ValueError:
        return None
    return _Found(since, until) if since <= until else None


def _resolve_latest(match: re.Match[str], scan: _Scan) -> _Found | None:
    if match.group(0).endswith("الان") and "آل" in scan.words(match):
        return None  # "آلان" (Alain), not "الآن"
    return _LATEST_ONLY


class _Rule(NamedTuple):
    name: str  # for debugging: which rule found an expression
    pattern: re.Pattern[str]
    resolve: _Resolver


_RULES = tuple(_Rule(name, re.compile(pattern), resolve) for name, pattern, resolve in [
    # اليوم، أمس، مساء أمس، أول أمس، غدا (+ an optional day name: "أمس الأربعاء")
    ("day", rf"{WORD_START}{CONJ_RX}(?:{TIME_OF_DAY_RX}\s+)?(?P<day>{alternation(DAY_WORDS)})(?:\s+{WEEKDAY_RX})?"
            rf"(?!\s+{alternation(NOT_TODAY_AFTER)}{WORD_END}){WORD_END}", _resolve_day),
    # يوم الجمعة، مساء الأحد، الخميس الماضي، منذ يوم السبت
    ("weekday", rf"{WORD_START}{PERIOD_LEAD_RX}(?:(?P<tod>{CONJ_RX}{TIME_OF_DAY_RX})\s+)?(?P<wd>{WEEKDAY_RX})"
                rf"(?:\s+(?P<dir>{DIRECTION_RX}))?{WORD_END}", _resolve_weekday),
    # منذ يومين، قبل ثلاثة أيام، منذ 5 أيام، منذ أشهر (not "قبل عام 2018", "قبل أسبوع من الانتخابات")
    ("ago", rf"{WORD_START}{CONJ_RX}(?P<kw>منذ|قبل|من)\s+{ABOUT_RX}(?:(?P<num>{NUM_RX})\s+)?"
            rf"(?P<unit>{UNIT_RX}){WORD_END}"
            rf"(?!\s*\d){NOT_RELATIVE_TO_EVENT_RX}", _resolve_ago),
    # خلال الأيام الثلاثة الماضية، الأسبوعين الماضيين، في الأيام الأخيرة
    ("window", rf"{WORD_START}{WINDOW_LEAD_RX}ال(?P<unit>{PLURAL_UNIT_RX})(?:\s+(?P<num>{NUM_RX}))?\s+"
               rf"{PAST_OR_LAST_RX}{WORD_END}",
     _resolve_window),
    # خلال الـ24 ساعة الماضية، الثلاثة أيام الأخيرة
    ("window-count", rf"{WORD_START}{WINDOW_LEAD_RX}(?P<num>ال\s?(?:\d{{1,3}}|{alternation(NUMBER_WORDS)}))\s+"
                     rf"(?P<unit>{UNIT_RX})"
                     rf"\s+{PAST_OR_LAST_RX}{WORD_END}", _resolve_window),
    # في آخر ثلاثة أيام، آخر أسبوعين
    ("window-last", rf"{WORD_START}{WINDOW_LEAD_RX}{CONJ_RX}(?:ال)?اخر\s+(?:(?P<num>{NUM_RX})\s+)?"
                    rf"(?P<unit>{UNIT_RX}){WORD_END}"
                    rf"{NOT_RELATIVE_TO_EVENT_RX}", _resolve_window),
    # هذا الأسبوع، الشهر الماضي، العام قبل الماضي، منذ بداية العام
    ("calendar", rf"{WORD_START}{PERIOD_LEAD_RX}{QUALIFIER_RX}(?:(?P<this>{CONJ_RX}(?:هذا|هذه))\s+)?{AL_RX}?"
                 rf"(?P<unit>{alternation(CALENDAR_UNITS)})(?:\s+(?P<before>(?:ما\s+)?قبل\s+)?(?P<dir>{DIRECTION_RX}))?"
                 rf"{WORD_END}(?!\s*\d)", _resolve_calendar),
    # في مارس، في شهر آذار الماضي، آذار/مارس 2018، في ١٥ مارس ٢٠١٨، في الـ30 من آذار
    ("month", rf"{WORD_START}{PERIOD_LEAD_RX}{QUALIFIER_RX}(?:(?:ال\s?)?(?P<day>\d{{1,2}})\s+(?:من\s+)?)?"
              rf"(?:(?P<shahr>[وفبل]?شهر)\s+)?و?(?P<month>{MONTH_RX}){MONTH_YEAR_RX}(?:\s+(?P<dir>{DIRECTION_RX}))?{WORD_END}",
     _resolve_month),
    # عام 2018، سنة ٢٠١٧، في 2016، للعام 2018، 2018م
    ("year", rf"{WORD_START}{PERIOD_LEAD_RX}{QUALIFIER_RX}"
             rf"(?:(?P<word>(?:[وف]?(?:لل|[بل]?(?:ال)?))(?:عام|سنه|عامي))\s+)?"
             rf"(?P<year>{YEAR_RX})(?P<m>م)?{WORD_END}", _resolve_year),
    # 15/3/2018، ١٥-٠٣-٢٠١٨، 2018-03-15، 3/2018
    ("numeric", rf"(?<![\w/.\-]){PERIOD_LEAD_RX}(?:(?P<d>\d{{1,2}})(?P<s1>[/.\-])(?P<m>\d{{1,2}})(?P=s1)"
                rf"(?P<y>\d{{4}}|\d{{2}})|(?P<Y>{YEAR_RX})(?P<s2>[/.\-])(?P<M>\d{{1,2}})(?P=s2)(?P<D>\d{{1,2}})"
                rf"|(?P<mm>\d{{1,2}})[/\-](?P<yy>{YEAR_RX}))(?![\w/\-]|\.\d)", _resolve_numeric),
    # بين مارس وأبريل 2018، في الفترة من 1 إلى 10 يونيو، بين عامي 2016 و2018
    ("between", rf"{WORD_START}(?:(?P<lead>{CONJ_RX}(?:في|خلال))\s+(?:ال)?(?:فتره\s+)?)?(?:بين|من)\s+"
                rf"(?:(?:ال)?(?:عامي|سنتي|عام|سنه)\s+)?{DATE_PART_RX.format(n=1)}"
                rf"{alternation(['و', 'إلى', 'حتى'])}\s*(?:{YEAR_WORD_RX}\s+)?{DATE_PART_RX.format(n=2)}"
                rf"(?<!\s){WORD_END}",
     _resolve_between),
    # آخر أخبار، أحدث التطورات، ما الجديد، مؤخرا، حتى الآن
    ("latest", rf"{WORD_START}(?:{CONJ_RX}(?:اخر|احدث)\s+(?:ال)?(?:{alternation(NEWS_NOUNS)}|ما)"
               rf"|(?:ال)?{alternation(NEWS_NOUNS)}\s+(?:ال)?(?:اخيره|جديده|حديثه)"
               rf"|(?:ما|ماذا)\s+(?:هو\s+)?(?:ال)?جديد"
               rf"|{CONJ_RX}{alternation(LATEST_PHRASES)}){WORD_END}", _resolve_latest),
])


# -- the public function --------------------------------------------------------------------------

def parse_time(question: str, reference: date) -> TimeQuery:
    """Find the time expressions in ``question`` and resolve them against ``reference``.

    Args:
        question: The reader's question, as typed.
        reference: The date of the newest article in the archive ("today" for the archive).

    Returns:
        The period to search (or None), whether the newest articles are wanted, and the
        question with the time words removed.

    """
    if isinstance(reference, datetime):
        reference = reference.date()
    scan = _Scan(question, reference)
    candidates: list[tuple[int, int, _Found]] = []
    for _, pattern, resolve in _RULES:
        for match in pattern.finditer(scan.text):
            if match.end() > match.start() and (found := resolve(match, scan)) is not None:
                candidates.append((match.start(), match.end(), found))
    # The longest expression wins where several overlap ("منذ يوم الجمعة" over "منذ يوم").
    chosen: list[tuple[int, int, _Found]] = []
    for start, end, found in sorted(candidates, key=lambda c: (c[0] - c[1], c[0])):
        if all(end <= s or start >= e for s, e, _ in chosen):
            chosen.append((start, end, found))
    chosen.sort(key=lambda c: c[0])
    spans = tuple(scan.span(start, end) for start, end, _ in chosen)
    found_periods = [found for _, _, found in chosen if found.since is not None and found.until is not None]
    return TimeQuery(question=_cut(question, spans), period=_period(found_periods),
                     latest=any(found.latest for _, _, found in chosen), spans=spans)


def _period(found: list[_Found]) -> TimeRange | None:
    """Return the smallest range covering every period found, labelled for the reader."""
    if not found:
        return None
    since = min(f.since for f in found if f.since is not None)
    until = max(f.until for f in found if f.until is not None)
    dates = format_range(since, until)
    words = found[0].words if len(found) == 1 else None
    return TimeRange(since, until, f"{words} ({dates})" if words else dates)


def _cut(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    """Remove ``spans`` from ``text``, leaving one space (or none before punctuation) at each seam."""
    out: list[str] = []
    position = 0
    for start, end in spans:
        before, after = text[position:start], text[end:]
        if not ("".join(out) + before).strip():
            before = ""  # at the start: drop what separated it from the rest ("أمس، ماذا …")
            end += len(after) - len(after.lstrip(" \t،,:-"))
        elif before[-1:].isspace() and (not after or not after[0].isalnum()):
            before = before.rstrip()  # "… سوريا الأسبوع الماضي؟" → "… سوريا؟"
        out.append(before)
        position = end
    out.append(text[position:])
    return "".join(out)
