"""Arabic UI strings: right-to-left line starts, escaping, the command menu."""

from __future__ import annotations

import unicodedata

import pytest
from telegram.constants import BotCommandLimit

from bot import messages
from bot.render import about_values, html_message
from bot.rtl import FSI, PDI, RLM, isolate, isolate_ltr_runs, mark_line_starts, strip_marks
from tests.bot.telegram_html import parse_telegram_html

UI_STRINGS = {name: value for name, value in vars(messages).items()
              if name.isupper() and isinstance(value, str) and not name.startswith("BUTTON_")}


@pytest.mark.parametrize("name", sorted(UI_STRINGS))
def test_every_line_starts_right_to_left(name: str) -> None:
    for line in UI_STRINGS[name].split("\n"):
        if line:
            assert line[0] == RLM or unicodedata.bidirectional(line[0]) in ("R", "AL"), line


def test_placeholders_are_escaped_and_the_result_is_valid_html() -> None:
    text = html_message(messages.TOO_LONG, length="<b>99</b>", limit="&")
    parsed = parse_telegram_html(text)
    assert "<b>99</b>" in parsed.text
    assert "&" in parsed.text


def test_about_isolates_names_numbers_and_dates() -> None:
    values = about_values(60, [("BBC", 12), ("Sky News", 3), ("", 1)], ("2012-10-13", "2018-10-18"),
                          "2026-08-01T10:00:00+00:00")
    text = html_message(messages.ABOUT, **values)
    parsed = parse_telegram_html(text)
    for value in ("60", "BBC", "Sky News", "2012-10-13", "2018-10-18", "12"):
        assert f"{FSI}{value}{PDI}" in parsed.text
    assert "غير معروف" in parsed.text


def test_command_menu_fits_telegram_limits() -> None:
    for command, description in messages.COMMANDS:
        assert command.islower()
        assert len(command) <= BotCommandLimit.MAX_COMMAND
        assert BotCommandLimit.MIN_DESCRIPTION <= len(description) <= BotCommandLimit.MAX_DESCRIPTION


def test_rtl_helpers() -> None:
    assert isolate("") == ""
    assert isolate_ltr_runs("قال CEO Tim Cook إن 2018 عام جيد") == \
        f"قال {FSI}CEO Tim Cook{PDI} إن {FSI}2018{PDI} عام جيد"
    pieces = mark_line_starts(["سطر\n2018 رقم ", "Latin\nعربي", "\n«علامة»"])
    assert pieces == ["سطر\n" + RLM + "2018 رقم ", "Latin\nعربي", "\n" + RLM + "«علامة»"]
    assert strip_marks("".join(pieces)) == "سطر\n2018 رقم Latin\nعربي\n«علامة»"
