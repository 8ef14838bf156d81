"""Reader for JSON Lines archives such as ``ant_multisource.jsonl`` (one article object a line).

A broken line or a record without text is reported with its line number and skipped; the rest
of the file is still read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from corpus.readers.base import read_text_file
from corpus.readers.records import BadRecord, record_to_article
from corpus.types import Article, RepairedInput, SkippedInput


def read_jsonl(path: Path) -> Iterator[Article | SkippedInput | RepairedInput]:
    """Yield an Article per good line and a SkippedInput (``path:line`` + reason) per bad one."""
    text = read_text_file(path)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield SkippedInput(where, f"invalid JSON ({error.msg})")
            continue
        try:
            article, repairs = record_to_article(record)
        except BadRecord as error:
            yield SkippedInput(where, str(error))
            continue
        for repair in repairs:
            yield RepairedInput(where, repair)
        yield article
