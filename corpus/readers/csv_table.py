"""Reader for CSV exports with a header row (columns named as in ``records.FIELD_ALIASES``).

The delimiter (comma, semicolon or tab) is the one the header row uses most, so spreadsheets saved
in any locale read. Quoting is always the standard one (a quote inside a field is doubled), which
every spreadsheet and Python's ``csv`` writer produce: ``csv.Sniffer`` guessed ``doublequote=False``
for 122 of the 300 sample articles (their text quotes someone) and split each into broken rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from corpus.readers.base import UnreadableFile, read_text_file
from corpus.readers.records import record_items
from corpus.types import Article, RepairedInput, SkippedInput

csv.field_size_limit(64 * 1024 * 1024)

#: Delimiters recognised, in order of preference when the header row has none of them (one column).
DELIMITERS = (",", ";", "\t")


def read_csv(path: Path) -> Iterator[Article | SkippedInput | RepairedInput]:
    """Yield an Article per good row and a SkippedInput (``path:row`` + reason) per bad one."""
    text = read_text_file(path)
    header = text.lstrip("\r\n").partition("\n")[0]
    delimiter = max(DELIMITERS, key=header.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=csv.excel, delimiter=delimiter)
    if not reader.fieldnames:
        raise UnreadableFile("CSV file has no header row")
    for number, row in enumerate(reader, start=2):
        where = f"{path}:{number}"
        yield from record_items(where, {k: v for k, v in row.items() if k is not None})
