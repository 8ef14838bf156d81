"""Readers: files and folders of news in, clean Articles out, with a report of what was skipped.

One module per format; :func:`read_corpus` picks the reader by file extension and walks folders
recursively, so a user can point the build at a mixed folder. Nothing here raises on bad input:
every unreadable file or record lands in the report with its path and reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from corpus.readers.base import UnreadableFile, cap_article
from corpus.readers.csv_table import read_csv
from corpus.readers.html_page import read_html_page
from corpus.readers.jsonl import read_jsonl
from corpus.readers.text_page import read_text_page
from corpus.types import Article, CorpusReport, RepairedInput, SkippedInput

logger = logging.getLogger(__name__)

Item = Article | SkippedInput | RepairedInput


def _single(reader: Callable[[Path], Article]) -> Callable[[Path], Iterator[Item]]:
    def read(path: Path) -> Iterator[Item]:
        yield reader(path)

    return read


#: Extension → reader. Everything else inside a folder is ignored (with a debug log line).
READERS: dict[str, Callable[[Path], Iterator[Item]]] = {
    ".txt": _single(read_text_page),
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".csv": read_csv,
    ".html": read_html_page,
    ".htm": read_html_page,
}

__all__ = ["READERS", "iter_corpus_files", "read_corpus"]


def iter_corpus_files(sources: Iterable[Path]) -> Iterator[Path | SkippedInput]:
    """Expand files and folders (recursively, sorted for stable ids order) into readable files."""
    for source in sources:
        if source.is_dir():
            for path in sorted(p for p in source.rglob("*") if p.is_file()):
                if path.suffix.lower() in READERS and not path.name.startswith("."):
                    yield path
                else:
                    logger.debug("ignoring %s (not a corpus format)", path)
        elif source.is_file():
            if source.suffix.lower() in READERS:
                yield source
            else:
                yield SkippedInput(str(source), f"unknown format {source.suffix or '(no extension)'!r}; "
                                                f"use one of {', '.join(sorted(READERS))}")
        else:
            yield SkippedInput(str(source), "no such file or folder")


def read_corpus(sources: Iterable[Path | str], on_article: Callable[[Article], None] | None = None) -> CorpusReport:
    """Read every article under ``sources``; duplicates of an id keep the first and are reported.

    Oversized articles are cut to :data:`~corpus.readers.base.MAX_ARTICLE_CHARS` here, whatever
    their format, and reported as repaired.

    Args:
        sources: Files and folders, in any supported format, mixed.
        on_article: Called per article read (progress display).
    """
    report = CorpusReport()
    seen: dict[str, str] = {}  # article id -> the file it was first read from
    for entry in iter_corpus_files(Path(s) for s in sources):
        if isinstance(entry, SkippedInput):
            report.skipped.append(entry)
            continue
        report.files_read += 1
        try:
            for item in READERS[entry.suffix.lower()](entry):
                if isinstance(item, SkippedInput):
                    report.skipped.append(item)
                elif isinstance(item, RepairedInput):
                    report.repaired.append(item)
                elif item.id in seen:
                    first = "earlier in this file" if seen[item.id] == str(entry) else f"first in {seen[item.id]}"
                    report.skipped.append(SkippedInput(str(entry), f"duplicate article id {item.id!r} ({first})"))
                else:
                    seen[item.id] = str(entry)
                    article, repairs = cap_article(item)
                    report.repaired.extend(RepairedInput(str(entry), repair) for repair in repairs)
                    report.articles.append(article)
                    if on_article is not None:
                        on_article(article)
        except (UnreadableFile, OSError) as error:
            report.skipped.append(SkippedInput(str(entry), str(error) or type(error).__name__))
        except Exception as error:  # noqa: BLE001 - one file a parser chokes on must not stop the build
            logger.debug("reading %s failed", entry, exc_info=True)
            report.skipped.append(SkippedInput(str(entry), f"cannot be read ({type(error).__name__}: "
                                                           f"{str(error)[:160]})"))
    return report
