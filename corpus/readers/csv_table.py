"""Reader for CSV exports with a header row (columns named as in ``records.FIELD_ALIASES``).

A row that cannot be read loses only itself, reported with its line: a row holding bytes that are
not UTF-8 (in a file that otherwise is), a NUL byte, or a quoting error the ``csv`` module refuses.

The delimiter (comma, semicolon or tab) is the one the header row uses most, so spreadsheets saved
in any locale read. Quoting is always the standard one (a quote inside a field is doubled), which
every spreadsheet and Python's ``csv`` writer produce: ``csv.Sniffer`` guessed ``doublequote=False``
for 122 of the 300 sample articles (their text quotes someone) and split each into broken rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

from corpus.readers.base import DamagedUtf8, UnreadableFile, decode_bytes, read_file_bytes
from corpus.readers.records import record_items
from corpus.types import Article, RepairedInput, SkippedInput

csv.field_size_limit(64 * 1024 * 1024)

#: Delimiters recognised, in order of preference when the header row has none of them (one column).
DELIMITERS = (",", ";", "\t")


#: Stands for undecodable bytes while parsing (``surrogateescape``); a row holding one is skipped.
_DAMAGED = re.compile("[\udc80-\udcff]")


def read_csv(path: Path) -> Iterator[Article | SkippedInput | RepairedInput]:
    """Yield an Article per good row and a SkippedInput (``path:line`` + reason) per bad one."""
    data = read_file_bytes(path)
    try:
        text = decode_bytes(data)
    except DamagedUtf8:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="surrogateescape")
    if not text.strip():
        raise UnreadableFile("file holds only white space")
    header = text.lstrip("\r\n").partition("\n")[0]
    delimiter = max(DELIMITERS, key=header.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=csv.excel, delimiter=delimiter)
    try:
        fields = reader.fieldnames
    except csv.Error as error:
        raise UnreadableFile(f"CSV header row cannot be read ({error})") from None
    if not fields:
        raise UnreadableFile("CSV file has no header row")
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield SkippedInput(f"{path}:{line}", f"broken CSV row ({error})")
            continue
        yield from _row_items(f"{path}:{line}", row)


def _row_items(where: str, row: dict[str | None, str | list[str] | None]) -> Iterator[Article | SkippedInput
                                                                                     | RepairedInput]:
    """The article of one parsed row, or why the row is skipped (damaged bytes, a NUL)."""
    values = [v for v in row.values() if isinstance(v, str)]
    if any(_DAMAGED.search(value) for value in values):
        yield SkippedInput(where, "invalid UTF-8 in this row (the rest of the file is UTF-8)")
        return
    if any("\x00" in value for value in values):
        yield SkippedInput(where, "NUL byte in this row (binary data, not text)")
        return
    yield from record_items(where, {k: v for k, v in row.items() if k is not None})
