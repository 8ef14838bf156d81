"""Turning one structured record (a JSONL object or a CSV row) into an Article.

JSONL and CSV exports name their columns differently (``text``/``body``/``content``,
``date``/``published``...), so both readers map them through one table here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from corpus.readers.base import clean_field, parse_date
from corpus.types import Article, RepairedInput, SkippedInput, stable_article_id

#: Accepted column names per Article field, first match wins.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "article_id", "doc_id", "guid"),
    "title": ("title", "headline", "name"),
    "text": ("text", "body", "content", "article", "passage"),
    "date": ("date", "published", "published_at", "datetime", "time"),
    "source": ("source", "outlet", "site", "publisher"),
    "url": ("url", "link", "href"),
    "category": ("category", "section", "topic"),
}


class BadRecord(ValueError):
    """A record that cannot become an article; the message is the reason shown to the user."""


def record_to_article(record: Mapping[str, object]) -> tuple[Article, list[str]]:
    """Build an Article from a record, returning it with the repairs made (e.g. a bad date dropped).

    Raises:
        BadRecord: no body text, a body that is not a string, or the record is not an object.
    """
    if not isinstance(record, Mapping):
        raise BadRecord(f"expected an object, got {type(record).__name__}")
    lowered = {str(key).strip().lower(): value for key, value in record.items()}
    values = {name: _first(lowered, aliases) for name, aliases in FIELD_ALIASES.items()}
    if values["text"] is not None and not isinstance(values["text"], str):
        raise BadRecord(f"text field is a {_json_type(values['text'])}, expected a string")
    text = values["text"].strip() if values["text"] is not None else ""
    if not text:
        raise BadRecord("missing or empty text field")
    repairs: list[str] = []
    for name in ("id", "title", "date", "source", "url", "category"):
        if isinstance(values[name], Mapping | list | bool):
            repairs.append(f"{name} field is a {_json_type(values[name])}, not text: dropped")
            values[name] = None
    title = clean_field(values["title"])
    if not title:
        title = text.splitlines()[0][:120]
        repairs.append("no title: used the first line of the text")
    try:
        date = parse_date(values["date"])
    except ValueError:
        date = None
        repairs.append(f"unparseable date {str(values['date'])[:40]!r} dropped")
    url = clean_field(values["url"])
    article = Article(
        id=stable_article_id(clean_field(values["id"]), url, title, text),
        title=title,
        text=text,
        date=date,
        source=clean_field(values["source"]),
        url=url,
        category=clean_field(values["category"]),
    )
    return article, repairs


def _json_type(value: object) -> str:
    """How a JSON reader would name the value's type (``object``, ``array``...), for messages."""
    if isinstance(value, Mapping):
        return "JSON object"
    if isinstance(value, list):
        return "JSON array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _first(record: Mapping[str, object], aliases: tuple[str, ...]) -> object | None:
    for alias in aliases:
        value = record.get(alias)
        if value not in (None, ""):
            return value
    return None


def record_items(where: str, record: object) -> Iterator[Article | SkippedInput | RepairedInput]:
    """What one record yields to a reader: the article and its repairs, or why it was skipped."""
    try:
        article, repairs = record_to_article(record)  # type: ignore[arg-type]
    except BadRecord as error:
        yield SkippedInput(where, str(error))
        return
    for repair in repairs:
        yield RepairedInput(where, repair)
    yield article
