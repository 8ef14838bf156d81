"""Calendar arithmetic and Arabic labels of the periods time expressions resolve to.

Weeks start on Saturday (as in the Arab world's working week); months and years are calendar
ones; labels use Arabic-Indic digits ("٢–٨ يونيو ٢٠١٨").
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from index.search.timewords import LABEL_MONTHS, WEEK_START


def month_end(year: int, month: int) -> date:
    """The last day of a month."""
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months (the 31st becomes the month's last day)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def back(reference: date, unit: str, count: int) -> date:
    """Go back ``count`` units from ``reference`` (hours round up to whole days)."""
    if unit == "hour":
        return reference - timedelta(days=max(1, -(-count // 24)))
    if unit in ("day", "week"):
        return reference - timedelta(days=count * (7 if unit == "week" else 1))
    return add_months(reference, -count * (12 if unit == "year" else 1))


def calendar_period(reference: date, unit: str, shift: int) -> tuple[date, date]:
    """Return the calendar week/month/year ``shift`` steps from the one holding ``reference``."""
    if unit == "week":
        start = reference - timedelta(days=(reference.weekday() - WEEK_START) % 7) + timedelta(weeks=shift)
        return start, start + timedelta(days=6)
    if unit == "month":
        start = add_months(reference.replace(day=1), shift)
        return start, month_end(start.year, start.month)
    return date(reference.year + shift, 1, 1), date(reference.year + shift, 12, 31)


def latest_month(reference: date, month: int, day: int | None = None, past: bool = False) -> int:
    """Return the year of the latest ``month`` (``day``) not after the reference (before it if ``past``)."""
    key, ref_key = (month, day or 1), (reference.month, reference.day if day else 1)
    too_late = key >= ref_key if past else key > ref_key
    return reference.year - 1 if too_late else reference.year


ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def format_range(since: date, until: date) -> str:
    """Describe an inclusive range in Arabic with Arabic-Indic digits: "٢–٨ يونيو ٢٠١٨", "مارس ٢٠١٨"."""
    def month(d: date) -> str:
        return LABEL_MONTHS[d.month - 1]

    whole_months = since.day == 1 and until == month_end(until.year, until.month)
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
    return text.translate(ARABIC_DIGITS)
