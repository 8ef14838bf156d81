"""Reader for JSON Lines archives such as ``ant_multisource.jsonl`` (one article object a line).

A broken line or a record without text is reported with its line number and skipped; the rest
of the file is still read. Lines end at line feeds only: ``str.splitlines`` would also split at
U+2028/U+2029 and U+0085, which JSON allows unescaped inside strings (one article of the ANT
archive has them), breaking that record in two. A file that is UTF-8 except for a few damaged
bytes loses only the lines holding them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from corpus.readers.base import DamagedUtf8, UnreadableFile, decode_bytes, read_file_bytes
from corpus.readers.records import record_items
from corpus.types import Article, RepairedInput, SkippedInput


def read_jsonl(path: Path) -> Iterator[Article | SkippedInput | RepairedInput]:
    """Yield an Article per good line and a SkippedInput (``path:line`` + reason) per bad one."""
    data = read_file_bytes(path)
    try:
        lines: list[str | UnicodeDecodeError] = list(decode_bytes(data).split("\n"))
    except DamagedUtf8:
        lines = [_decode_line(line) for line in data.removeprefix(b"\xef\xbb\xbf").split(b"\n")]
    if all(isinstance(line, str) and not line.strip() for line in lines):
        raise UnreadableFile("file holds only white space")
    for number, line in enumerate(lines, start=1):
        where = f"{path}:{number}"
        if isinstance(line, UnicodeDecodeError):
            yield SkippedInput(where, f"invalid UTF-8 at byte {line.start} of the line ({line.reason})")
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield SkippedInput(where, f"invalid JSON ({error.msg})")
            continue
        except RecursionError:  # e.g. 100,000 nested "[": Python's decoder recurses per level
            yield SkippedInput(where, "JSON nested too deeply")
            continue
        yield from record_items(where, record)


def _decode_line(line: bytes) -> str | UnicodeDecodeError:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as error:
        return error
