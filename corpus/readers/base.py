"""What every reader shares: decoding bytes the way Arabic news files really come, and parsing dates.

Arabic text arrives as UTF-8, UTF-8 with a BOM (Windows tools) or Windows-1256 (older Arabic
sites and Excel exports). We try them strictly in that order, so a valid UTF-8 file is never
misread, and refuse files that are clearly binary instead of indexing garbage.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import datetime
from pathlib import Path

logger = logging.getLogger(__name__)

#: Files larger than this are refused: they are dumps or binaries, not articles.
MAX_FILE_BYTES = 512 * 1024 * 1024


class UnreadableFile(Exception):
    """A file that cannot be turned into text; the message says why, for the build summary."""


def decode_bytes(data: bytes) -> str:
    """Decode a file's bytes as UTF-8 (with or without BOM), else Windows-1256.

    Raises:
        UnreadableFile: the bytes look binary (NUL bytes) or decode to mostly non-text.
    """
    if b"\x00" in data[:65536]:
        raise UnreadableFile("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1256")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"neither UTF-8 nor Windows-1256: {error.reason} at byte {error.start}") from None
    if _control_ratio(text) > 0.05:
        raise UnreadableFile("not text in UTF-8 or Windows-1256 (too many control characters)")
    logger.debug("decoded as Windows-1256")
    return text


def read_text_file(path: Path) -> str:
    """Read and decode one file, refusing empty, huge and binary files with a clear reason."""
    size = path.stat().st_size
    if size == 0:
        raise UnreadableFile("empty file")
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(f"file too large ({size} bytes > {MAX_FILE_BYTES})")
    text = decode_bytes(path.read_bytes())
    if not text.strip():
        raise UnreadableFile("file holds only white space")
    return text


def _control_ratio(text: str) -> float:
    sample = text[:65536]
    if not sample:
        return 0.0
    controls = sum(1 for char in sample if unicodedata.category(char) == "Cc" and char not in "\r\n\t\f")
    return controls / len(sample)


def parse_date(value: object) -> datetime | None:
    """Parse an ISO 8601 date or datetime (``2018-03-03T13:18:35+04:00``, ``2018-03-03``); None if absent.

    Raises:
        ValueError: the value is present but not a date; readers report it and keep the article.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def clean_field(value: object) -> str:
    """A string field without surrounding white space; non-strings become ``""`` or their text."""
    if value is None:
        return ""
    return str(value).strip()
