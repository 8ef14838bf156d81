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

import calendar
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from corpus.arabic import normalise

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


# -- tables (written as people spell them; normalised on import) -----------------------------

#: Gregorian month names: Levantine/Iraqi, Egyptian/Gulf, Moroccan and Algerian/Tunisian forms.
MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: ("كانون الثاني", "كانون ثاني", "يناير", "جانفي"),
    2: ("شباط", "فبراير", "فيفري"),
    3: ("آذار", "مارس"),
    4: ("نيسان", "أبريل", "إبريل", "أفريل"),
    5: ("أيار", "مايو", "ماي"),
    6: ("حزيران", "يونيو", "يونيه", "جوان"),
    7: ("تموز", "يوليو", "يوليه", "يوليوز", "جويلية"),
    8: ("آب", "أغسطس", "أغشت", "غشت", "أوت"),
    9: ("أيلول", "سبتمبر", "شتنبر"),
    10: ("تشرين الأول", "تشرين أول", "أكتوبر", "أوكتوبر"),
    11: ("تشرين الثاني", "تشرين ثاني", "نوفمبر", "نونبر"),
    12: ("كانون الأول", "كانون أول", "ديسمبر", "دجنبر"),
}
#: Month names in labels.
LABEL_MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر",
                "نوفمبر", "ديسمبر")
#: Python weekday number (Monday 0) of each Arabic day name.
WEEKDAYS = {"الاثنين": 0, "الإثنين": 0, "الثلاثاء": 1, "الأربعاء": 2, "الخميس": 3, "الجمعة": 4, "السبت": 5,
            "الأحد": 6}
WEEK_START = calendar.SATURDAY
#: Unit words (singular, accusative, dual, plural) → (unit, count; None = "a few").
UNIT_WORDS: dict[str, tuple[str, int | None]] = {
    "ساعة": ("hour", 1), "ساعتين": ("hour", 2), "ساعتان": ("hour", 2), "ساعات": ("hour", None),
    "يوم": ("day", 1), "يوما": ("day", 1), "يومين": ("day", 2), "يومان": ("day", 2), "أيام": ("day", None),
    "أسبوع": ("week", 1), "أسبوعا": ("week", 1), "أسبوعين": ("week", 2), "أسبوعان": ("week", 2),
    "أسابيع": ("week", None),
    "شهر": ("month", 1), "شهرا": ("month", 1), "شهرين": ("month", 2), "شهران": ("month", 2),
    "أشهر": ("month", None), "شهور": ("month", None),
    "عام": ("year", 1), "عاما": ("year", 1), "سنة": ("year", 1), "عامين": ("year", 2), "عامان": ("year", 2),
    "سنتين": ("year", 2), "سنتان": ("year", 2), "أعوام": ("year", None), "سنوات": ("year", None),
    "سنين": ("year", None),
}
#: How many units "a few" (منذ أيام, الأشهر الأخيرة) means.
FEW = {"hour": 24, "day": 7, "week": 4, "month": 6, "year": 5}
#: Calendar units that "هذا/الماضي" apply to.
CALENDAR_UNITS = {"أسبوع": "week", "شهر": "month", "عام": "year", "سنة": "year"}
NUMBER_WORDS: dict[str, int | None] = {
    "واحد": 1, "واحدة": 1, "اثنين": 2, "اثنان": 2, "اثنتين": 2, "ثلاث": 3, "ثلاثة": 3, "أربع": 4, "أربعة": 4,
    "خمس": 5, "خمسة": 5, "ست": 6, "ستة": 6, "سبع": 7, "سبعة": 7, "ثماني": 8, "ثمانية": 8, "ثمان": 8,
    "تسع": 9, "تسعة": 9, "عشر": 10, "عشرة": 10, "عشرين": 20, "ثلاثين": 30, "بضع": None, "بضعة": None,
    "عدة": None,
}
#: Direction words (each also with feminine/dual endings) → -1 past, 0 current, +1 future.
DIRECTIONS = {"الماضي": -1, "المنصرم": -1, "الفائت": -1, "السابق": -1, "المنقضي": -1, "الحالي": 0, "الجاري": 0,
              "المقبل": 1, "القادم": 1}
#: Relative day words → days from the reference (positive = future).
DAY_WORDS = {"اليوم": 0, "أمس": -1, "بالأمس": -1, "الأمس": -1, "البارحة": -1, "الليلة الماضية": -1,
             "أمس الأول": -2, "أول أمس": -2, "أول من أمس": -2, "غدا": 1, "يوم غد": 1, "بعد غد": 2}
#: Words after اليوم that make it "the day" of something (اليوم الوطني), not today.
NOT_TODAY_AFTER = ("الوطني", "العالمي", "الدولي", "السابع", "الأول", "الثاني", "الثالث", "الأخير", "التالي",
                   "المفتوح", "الموعود", "نفسه", "ذاته")
#: Nouns that عام qualifies as "general" (الأمين العام, المدعي العام السابق): no year follows them.
GENERAL_NOUNS = ("أمين", "مدير", "مدعي", "نائب", "رأي", "قطاع", "مؤتمر", "إضراب", "عفو", "أمن", "نظام", "مال",
                 "شأن", "حق", "صالح", "قائد", "مرشد", "قنصل", "مراقب", "مفتش", "منسق", "اتحاد", "ذوق", "مزاج",
                 "تعليم", "نفع", "مفوض", "سكرتير", "نقل", "طابع", "إطار", "خط", "توجه", "وضع", "مناخ")
#: Hijri months: not resolved (a gap), but "قبل شهر رمضان" must not read as "a month ago".
HIJRI_MONTHS = ("رمضان", "شعبان", "شوال", "محرم", "رجب", "صفر", "ربيع", "جمادى", "ذي الحجة", "ذي القعدة")
#: Phrases asking for the newest news.
LATEST_PHRASES = ("مؤخرا", "حاليا", "هذه الأيام", "في هذه الأيام", "حتى الآن", "إلى الآن", "لحد الآن", "حتى اليوم",
                  "إلى اليوم", "حتى الساعة", "الآن", "في الآونة الأخيرة", "في الوقت الراهن", "في الوقت الحالي",
                  "latest")
NEWS_NOUNS = ("أخبار", "مستجدات", "تطورات", "أنباء", "معلومات", "تصريحات", "تقارير", "مواقف")


def _n(words: Iterable[str]) -> list[str]:
    return [normalise(word) for word in words]


def _alt(words: Iterable[str]) -> str:
    """Return a regex alternation of the normalised ``words``, longest first."""
    return "(?:" + "|".join(re.escape(w) for w in sorted(set(_n(words)), key=len, reverse=True)) + ")"


_MONTH_OF = {normalise(name): month for month, names in MONTH_NAMES.items() for name in names}
_UNIT_OF = {normalise(word): unit for word, unit in UNIT_WORDS.items()}
_NUMBER_OF = {normalise(word): value for word, value in NUMBER_WORDS.items()}
_WEEKDAY_OF = {normalise(word).removeprefix("ال"): day for word, day in WEEKDAYS.items()}
_DAY_OFFSET = {normalise(word): offset for word, offset in DAY_WORDS.items()}
_DIRECTION_OF = {normalise(stem + ending): value for stem, value in DIRECTIONS.items()
                 for ending in ("", "ة", "ين", "تين")}
_GENERAL_NOUNS = frozenset(_n(GENERAL_NOUNS))

# -- regex fragments over the normalised text --------------------------------------------------

_B, _E = r"(?<!\w)", r"(?!\w)"
_CONJ = "[وف]?"
_AL = "(?:[وف]?(?:لل|[بلك]?ال))"  # the article with attached conjunction/preposition
_MONTH = "(?:" + "|".join(
    f"{_alt(names)}(?:\\s*/\\s*|\\s+){_alt(names)}|{_alt(names)}" for names in MONTH_NAMES.values()) + ")"
_YEAR = r"(?:1[89]|2[01])\d\d"
_NUM = rf"(?:ال\s?)?(?:\d{{1,3}}|{_alt(NUMBER_WORDS)})"
_UNIT = _alt(UNIT_WORDS)
_PLURAL_UNIT = _alt(w for w, (_, count) in UNIT_WORDS.items() if count != 1)
_DIRECTION = "(?:" + "|".join(sorted(_DIRECTION_OF, key=len, reverse=True)) + ")"
_PAST_OR_LAST = "(?:" + "|".join(sorted(
    [w for w, v in _DIRECTION_OF.items() if v < 0] + _n(["الأخير", "الأخيرة", "الأخيرين", "الأخيرتين"]),
    key=len, reverse=True)) + ")"
_PERIOD_LEAD = rf"(?:(?P<lead>{_CONJ}(?:في|خلال|طوال|منذ|بتاريخ|يوم))\s+)?"
_QUALIFIER = rf"(?:(?P<qual>{_CONJ}{_alt(['بداية', 'مطلع', 'منتصف', 'أوائل', 'أواخر', 'نهاية'])})\s+)?"
_TIME_OF_DAY = _alt(["يوم", "صباح", "مساء", "ليلة", "ليل", "فجر", "ظهر", "عصر"])
_WEEKDAY = "(?:ال)?" + _alt(_WEEKDAY_OF)


# -- the scan: a normalised copy that remembers where each character came from ---------------

#: Prepositions left out of a label ("في الأسبوع الماضي" → "الأسبوع الماضي"); منذ and يوم stay.
_DROPPED_LEADS = frozenset(_n(["في", "خلال", "طوال", "بتاريخ", "على مدى", "على مدار"]))
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


# -- date arithmetic ---------------------------------------------------------------------------

def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _back(reference: date, unit: str, count: int) -> date:
    """Go back ``count`` units from ``reference`` (hours round up to whole days)."""
    if unit == "hour":
        return reference - timedelta(days=max(1, -(-count // 24)))
    if unit in ("day", "week"):
        return reference - timedelta(days=count * (7 if unit == "week" else 1))
    return _add_months(reference, -count * (12 if unit == "year" else 1))


def _calendar_period(reference: date, unit: str, shift: int) -> tuple[date, date]:
    """Return the calendar week/month/year ``shift`` steps from the one holding ``reference``."""
    if unit == "week":
        start = reference - timedelta(days=(reference.weekday() - WEEK_START) % 7) + timedelta(weeks=shift)
        return start, start + timedelta(days=6)
    if unit == "month":
        start = _add_months(reference.replace(day=1), shift)
        return start, _month_end(start.year, start.month)
    return date(reference.year + shift, 1, 1), date(reference.year + shift, 12, 31)


def _latest_month(reference: date, month: int, day: int | None = None, past: bool = False) -> int:
    """Return the year of the latest ``month`` (``day``) not after the reference (before it if ``past``)."""
    key, ref_key = (month, day or 1), (reference.month, reference.day if day else 1)
    too_late = key >= ref_key if past else key > ref_key
    return reference.year - 1 if too_late else reference.year


def _count(number: str | None, unit_word: str) -> tuple[str, int]:
    unit, implied = _UNIT_OF[unit_word]
    value: int | None = implied
    if number is not None:
        number = number.removeprefix("ال").strip()
        value = int(number) if number.isdigit() else _NUMBER_OF[number]
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
    first = _MONTH_NAME.match(text)
    assert first is not None, text  # the rules only pass what _MONTH matched
    return _MONTH_OF[first.group(0)]


def _resolve_day(match: re.Match[str], scan: _Scan) -> _Found | None:
    before = scan.text[:match.start()].split()[-2:]
    if before[-1:] in (["ذلك"], ["نفس"], ["ذات"]) or before == ["مثل", "هذا"]:
        return None  # "في ذلك اليوم", "في مثل هذا اليوم": a day in the story, not today
    offset = _DAY_OFFSET[match.group("day")]
    if offset > 0:
        return _LATEST_ONLY
    day = scan.reference + timedelta(days=offset)
    return _found(scan, match, day, day, relative=True)


def _resolve_weekday(match: re.Match[str], scan: _Scan) -> _Found | None:
    lead = match.group("lead") or ""
    if not (match.group("tod") or match.group("dir") or lead.endswith(("يوم", "منذ"))):
        return None  # "صلاة الجمعة", "الاثنين" (the two): a day name needs يوم, مساء, الماضي or منذ
    direction = _DIRECTION_OF.get(match.group("dir") or "", 0)
    if direction > 0:
        return _LATEST_ONLY
    weekday = _WEEKDAY_OF[match.group("wd").removeprefix("ال")]
    day = scan.reference - timedelta(days=(scan.reference.weekday() - weekday) % 7 or (7 if direction < 0 else 0))
    return _found(scan, match, day, day, relative=True)


def _resolve_ago(match: re.Match[str], scan: _Scan) -> _Found | None:
    if match.group("kw") == "من" and not match.group("num") and _UNIT_OF[match.group("unit")][1] != 2:
        return None  # "من أيام الحرب": from the days of the war
    return _resolve_window(match, scan)


def _resolve_window(match: re.Match[str], scan: _Scan) -> _Found | None:
    unit, count = _count(match.group("num"), match.group("unit"))
    return _found(scan, match, _back(scan.reference, unit, count), scan.reference, relative=True)


def _resolve_calendar(match: re.Match[str], scan: _Scan) -> _Found | None:
    unit = _CALENDAR_UNITS[match.group("unit")]
    if not (match.group("this") or match.group("dir") or match.group("qual")):
        return None  # "الأسبوع" alone names no particular week
    if unit == "year" and not (match.group("this") or match.group("lead") or match.group("qual")) \
            and scan.previous_word(match.start()) in _GENERAL_NOUNS:
        return None
    shift = _DIRECTION_OF.get(match.group("dir") or "", 0) * (2 if match.group("before") else 1)
    if shift > 0:
        return _LATEST_ONLY
    since, until = _calendar_period(scan.reference, unit, shift)
    return _found(scan, match, since, until, relative=True)


def _resolve_month(match: re.Match[str], scan: _Scan) -> _Found | None:
    month_text = match.group("month")
    month = _month_number(month_text)
    day = int(match.group("day")) if match.group("day") else None
    strong = bool(day or match.group("year") or match.group("shahr") or month_text not in _MONTH_OF)
    if not (strong or match.group("dir") or match.group("lead") or match.group("qual") or match.group("of_year")):
        return None  # "مارس ترامب ضغوطا": a verb, not March
    if month_text == "اب" and not strong and "آ" not in scan.words(match):
        return None  # "في أب": a father, not August
    direction = _DIRECTION_OF[match.group("dir")] if match.group("dir") else None
    if match.group("year"):
        year = int(match.group("year"))
    elif match.group("of_year"):  # "مارس من العام الماضي"
        year = scan.reference.year + _DIRECTION_OF.get(match.group("year_dir") or "", 0)
    elif direction == 1:
        return _LATEST_ONLY
    elif direction == 0:
        year = scan.reference.year
    else:
        year = _latest_month(scan.reference, month, day, past=direction == -1)
    if year > scan.reference.year and not match.group("year"):
        return _LATEST_ONLY
    try:
        since = date(year, month, day or 1)
    except ValueError:
        return None  # 30 فبراير
    return _found(scan, match, since, since if day else _month_end(year, month), relative=False)


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
        return _found(scan, match, date(year, month, 1), _month_end(year, month), relative=False)
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
    year2 = int(y2) if y2 else _latest_month(scan.reference, month2 or 12, int(d2) if d2 else None)
    # The start takes what it lacks from the end.
    month1 = _month_number(m1) if m1 else (month2 if d1 else None)
    year1 = int(y1) if y1 else year2
    try:
        until = date(year2, month2, int(d2)) if d2 and month2 else \
            _month_end(year2, month2) if month2 else date(year2, 12, 31)
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


_MONTH_NAME = re.compile(_alt(_MONTH_OF))
_CALENDAR_UNITS = {normalise(word): unit for word, unit in CALENDAR_UNITS.items()}
_WINDOW_LEAD = rf"(?:(?P<lead>{_CONJ}{_alt(['خلال', 'في', 'طوال', 'على مدى', 'على مدار'])})\s+)?"
#: After a unit: not "قبل أسبوع من الانتخابات" / "آخر يوم من رمضان" (relative to something else).
_NOT_RELATIVE_TO_EVENT = rf"(?!\s+من\s)(?!\s+{_alt(HIJRI_MONTHS)})"
_ABOUT = rf"(?:{_alt(['حوالي', 'نحو', 'قرابة', 'زهاء', 'أكثر من', 'أقل من'])}\s+)?"
_YEAR_WORD = "(?:ال)?(?:عام|سنه)"
#: After a month: "2018", "/ 2018", "من عام 2018", or "من العام الماضي", "من هذا العام".
_MONTH_YEAR = (rf"(?:\s*/?\s*(?:(?:من\s+)?{_YEAR_WORD}\s+)?(?P<year>{_YEAR})م?"
               rf"|\s+(?:من\s+)?(?P<of_year>(?:هذا|هذه)\s+{_YEAR_WORD}|{_YEAR_WORD}\s+(?P<year_dir>{_DIRECTION})))?")
_DATE_PART = rf"(?:(?P<d{{n}}>\d{{{{1,2}}}})\s+)?(?:(?P<m{{n}}>{_MONTH})\s*)?(?:(?P<y{{n}}>{_YEAR})م?\s*)?"


class _Rule(NamedTuple):
    name: str  # for debugging: which rule found an expression
    pattern: re.Pattern[str]
    resolve: _Resolver


_RULES = tuple(_Rule(name, re.compile(pattern), resolve) for name, pattern, resolve in [
    # اليوم، أمس، مساء أمس، أول أمس، غدا (+ an optional day name: "أمس الأربعاء")
    ("day", rf"{_B}{_CONJ}(?:{_TIME_OF_DAY}\s+)?(?P<day>{_alt(DAY_WORDS)})(?:\s+{_WEEKDAY})?"
            rf"(?!\s+{_alt(NOT_TODAY_AFTER)}{_E}){_E}", _resolve_day),
    # يوم الجمعة، مساء الأحد، الخميس الماضي، منذ يوم السبت
    ("weekday", rf"{_B}{_PERIOD_LEAD}(?:(?P<tod>{_CONJ}{_TIME_OF_DAY})\s+)?(?P<wd>{_WEEKDAY})"
                rf"(?:\s+(?P<dir>{_DIRECTION}))?{_E}", _resolve_weekday),
    # منذ يومين، قبل ثلاثة أيام، منذ 5 أيام، منذ أشهر (not "قبل عام 2018", "قبل أسبوع من الانتخابات")
    ("ago", rf"{_B}{_CONJ}(?P<kw>منذ|قبل|من)\s+{_ABOUT}(?:(?P<num>{_NUM})\s+)?(?P<unit>{_UNIT}){_E}"
            rf"(?!\s*\d){_NOT_RELATIVE_TO_EVENT}", _resolve_ago),
    # خلال الأيام الثلاثة الماضية، الأسبوعين الماضيين، في الأيام الأخيرة
    ("window", rf"{_B}{_WINDOW_LEAD}ال(?P<unit>{_PLURAL_UNIT})(?:\s+(?P<num>{_NUM}))?\s+{_PAST_OR_LAST}{_E}",
     _resolve_window),
    # خلال الـ24 ساعة الماضية، الثلاثة أيام الأخيرة
    ("window-count", rf"{_B}{_WINDOW_LEAD}(?P<num>ال\s?(?:\d{{1,3}}|{_alt(NUMBER_WORDS)}))\s+(?P<unit>{_UNIT})"
                     rf"\s+{_PAST_OR_LAST}{_E}", _resolve_window),
    # في آخر ثلاثة أيام، آخر أسبوعين
    ("window-last", rf"{_B}{_WINDOW_LEAD}{_CONJ}(?:ال)?اخر\s+(?:(?P<num>{_NUM})\s+)?(?P<unit>{_UNIT}){_E}"
                    rf"{_NOT_RELATIVE_TO_EVENT}", _resolve_window),
    # هذا الأسبوع، الشهر الماضي، العام قبل الماضي، منذ بداية العام
    ("calendar", rf"{_B}{_PERIOD_LEAD}{_QUALIFIER}(?:(?P<this>{_CONJ}(?:هذا|هذه))\s+)?{_AL}?"
                 rf"(?P<unit>{_alt(CALENDAR_UNITS)})(?:\s+(?P<before>(?:ما\s+)?قبل\s+)?(?P<dir>{_DIRECTION}))?"
                 rf"{_E}(?!\s*\d)", _resolve_calendar),
    # في مارس، في شهر آذار الماضي، آذار/مارس 2018، في ١٥ مارس ٢٠١٨، في الـ30 من آذار
    ("month", rf"{_B}{_PERIOD_LEAD}{_QUALIFIER}(?:(?:ال\s?)?(?P<day>\d{{1,2}})\s+(?:من\s+)?)?"
              rf"(?:(?P<shahr>[وفبل]?شهر)\s+)?و?(?P<month>{_MONTH}){_MONTH_YEAR}(?:\s+(?P<dir>{_DIRECTION}))?{_E}",
     _resolve_month),
    # عام 2018، سنة ٢٠١٧، في 2016، للعام 2018، 2018م
    ("year", rf"{_B}{_PERIOD_LEAD}{_QUALIFIER}(?:(?P<word>(?:[وف]?(?:لل|[بل]?(?:ال)?))(?:عام|سنه|عامي))\s+)?"
             rf"(?P<year>{_YEAR})(?P<m>م)?{_E}", _resolve_year),
    # 15/3/2018، ١٥-٠٣-٢٠١٨، 2018-03-15، 3/2018
    ("numeric", rf"(?<![\w/.\-]){_PERIOD_LEAD}(?:(?P<d>\d{{1,2}})(?P<s1>[/.\-])(?P<m>\d{{1,2}})(?P=s1)"
                rf"(?P<y>\d{{4}}|\d{{2}})|(?P<Y>{_YEAR})(?P<s2>[/.\-])(?P<M>\d{{1,2}})(?P=s2)(?P<D>\d{{1,2}})"
                rf"|(?P<mm>\d{{1,2}})[/\-](?P<yy>{_YEAR}))(?![\w/\-]|\.\d)", _resolve_numeric),
    # بين مارس وأبريل 2018، في الفترة من 1 إلى 10 يونيو، بين عامي 2016 و2018
    ("between", rf"{_B}(?:(?P<lead>{_CONJ}(?:في|خلال))\s+(?:ال)?(?:فتره\s+)?)?(?:بين|من)\s+"
                rf"(?:(?:ال)?(?:عامي|سنتي|عام|سنه)\s+)?{_DATE_PART.format(n=1)}"
                rf"{_alt(['و', 'إلى', 'حتى'])}\s*(?:{_YEAR_WORD}\s+)?{_DATE_PART.format(n=2)}(?<!\s){_E}",
     _resolve_between),
    # آخر أخبار، أحدث التطورات، ما الجديد، مؤخرا، حتى الآن
    ("latest", rf"{_B}(?:{_CONJ}(?:اخر|احدث)\s+(?:ال)?(?:{_alt(NEWS_NOUNS)}|ما)"
               rf"|(?:ال)?{_alt(NEWS_NOUNS)}\s+(?:ال)?(?:اخيره|جديده|حديثه)"
               rf"|(?:ما|ماذا)\s+(?:هو\s+)?(?:ال)?جديد"
               rf"|{_CONJ}{_alt(LATEST_PHRASES)}){_E}", _resolve_latest),
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
    dates = _format_range(since, until)
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


# -- labels ---------------------------------------------------------------------------------------

_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _format_range(since: date, until: date) -> str:
    """Describe an inclusive range in Arabic with Arabic-Indic digits: "٢–٨ يونيو ٢٠١٨", "مارس ٢٠١٨"."""
    def month(d: date) -> str:
        return LABEL_MONTHS[d.month - 1]

    whole_months = since.day == 1 and until == _month_end(until.year, until.month)
    if since == until:
        text = f"{since.day} {month(since)} {since.year}"
    elif whole_months and (since.month, until.month) == (1, 12) and since.year == until.year:
        text = f"عام {since.year}"
    elif whole_months and (since.month, until.month) == (1, 12):
        text = f"من عام {since.year} إلى عام {until.year}"
    elif whole_months and since.year == until.year:
        months = month(since) if since.month == until.month else f"{month(since)}–{month(until)}"
        text = f"{months} {since.year}"
    elif whole_months:
        text = f"{month(since)} {since.year} – {month(until)} {until.year}"
    elif (since.year, since.month) == (until.year, until.month):
        text = f"{since.day}–{until.day} {month(since)} {since.year}"
    elif since.year == until.year:
        text = f"{since.day} {month(since)} – {until.day} {month(until)} {since.year}"
    else:
        text = f"{since.day} {month(since)} {since.year} – {until.day} {month(until)} {until.year}"
    return text.translate(_ARABIC_DIGITS)
