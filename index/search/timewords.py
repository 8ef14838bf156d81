"""The vocabulary of Arabic time expressions and the regular-expression pieces built from it.

The tables are written as people spell them (Levantine, Egyptian/Gulf, Maghrebi month names
included) and normalised on import with :func:`corpus.arabic.normalise`, since
:mod:`index.search.timeexpr` matches on a normalised copy of the question. Patterns are
fragments of one regex each rule of ``timeexpr`` is built from.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable

from corpus.arabic import normalise

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


def normalised_all(words: Iterable[str]) -> list[str]:
    """The matching forms of ``words``."""
    return [normalise(word) for word in words]


def alternation(words: Iterable[str]) -> str:
    """Return a regex alternation of the normalised ``words``, longest first."""
    return "(?:" + "|".join(re.escape(w) for w in sorted(set(normalised_all(words)), key=len, reverse=True)) + ")"


MONTH_OF = {normalise(name): month for month, names in MONTH_NAMES.items() for name in names}
UNIT_OF = {normalise(word): unit for word, unit in UNIT_WORDS.items()}
NUMBER_OF = {normalise(word): value for word, value in NUMBER_WORDS.items()}
WEEKDAY_OF = {normalise(word).removeprefix("ال"): day for word, day in WEEKDAYS.items()}
DAY_OFFSET = {normalise(word): offset for word, offset in DAY_WORDS.items()}
DIRECTION_OF = {normalise(stem + ending): value for stem, value in DIRECTIONS.items()
                 for ending in ("", "ة", "ين", "تين")}
GENERAL_NOUN_SET = frozenset(normalised_all(GENERAL_NOUNS))

# -- regex fragments over the normalised text --------------------------------------------------

WORD_START, WORD_END = r"(?<!\w)", r"(?!\w)"
CONJ_RX = "[وف]?"
AL_RX = "(?:[وف]?(?:لل|[بلك]?ال))"  # the article with attached conjunction/preposition
MONTH_RX = "(?:" + "|".join(f"{alternation(names)}(?:\\s*/\\s*|\\s+){alternation(names)}|{alternation(names)}"
                            for names in MONTH_NAMES.values()) + ")"
YEAR_RX = r"(?:1[89]|2[01])\d\d"
NUM_RX = rf"(?:ال\s?)?(?:\d{{1,3}}|{alternation(NUMBER_WORDS)})"
UNIT_RX = alternation(UNIT_WORDS)
PLURAL_UNIT_RX = alternation(w for w, (_, count) in UNIT_WORDS.items() if count != 1)
DIRECTION_RX = "(?:" + "|".join(sorted(DIRECTION_OF, key=len, reverse=True)) + ")"
PAST_OR_LAST_RX = "(?:" + "|".join(sorted(
    [w for w, v in DIRECTION_OF.items() if v < 0] + normalised_all(["الأخير", "الأخيرة", "الأخيرين", "الأخيرتين"]),
    key=len, reverse=True)) + ")"
PERIOD_LEAD_RX = rf"(?:(?P<lead>{CONJ_RX}(?:في|خلال|طوال|منذ|بتاريخ|يوم))\s+)?"
QUALIFIER_RX = rf"(?:(?P<qual>{CONJ_RX}{alternation(['بداية', 'مطلع', 'منتصف', 'أوائل', 'أواخر', 'نهاية'])})\s+)?"
TIME_OF_DAY_RX = alternation(["يوم", "صباح", "مساء", "ليلة", "ليل", "فجر", "ظهر", "عصر"])
WEEKDAY_RX = "(?:ال)?" + alternation(WEEKDAY_OF)

MONTH_NAME_RE = re.compile(alternation(MONTH_OF))
CALENDAR_UNIT_OF = {normalise(word): unit for word, unit in CALENDAR_UNITS.items()}
WINDOW_LEAD_RX = rf"(?:(?P<lead>{CONJ_RX}{alternation(['خلال', 'في', 'طوال', 'على مدى', 'على مدار'])})\s+)?"
#: After a unit: not "قبل أسبوع من الانتخابات" / "آخر يوم من رمضان" (relative to something else).
NOT_RELATIVE_TO_EVENT_RX = rf"(?!\s+من\s)(?!\s+{alternation(HIJRI_MONTHS)})"
ABOUT_RX = rf"(?:{alternation(['حوالي', 'نحو', 'قرابة', 'زهاء', 'أكثر من', 'أقل من'])}\s+)?"
YEAR_WORD_RX = "(?:ال)?(?:عام|سنه)"
#: After a month: "2018", "/ 2018", "من عام 2018", or "من العام الماضي", "من هذا العام".
MONTH_YEAR_RX = (rf"(?:\s*/?\s*(?:(?:من\s+)?{YEAR_WORD_RX}\s+)?(?P<year>{YEAR_RX})م?"
               rf"|\s+(?:من\s+)?(?P<of_year>(?:هذا|هذه)\s+{YEAR_WORD_RX}|{YEAR_WORD_RX}\s+(?P<year_dir>{DIRECTION_RX})))?")
DATE_PART_RX = rf"(?:(?P<d{{n}}>\d{{{{1,2}}}})\s+)?(?:(?P<m{{n}}>{MONTH_RX})\s*)?(?:(?P<y{{n}}>{YEAR_RX})م?\s*)?"
