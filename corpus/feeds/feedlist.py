"""The operator's list of feeds: one RSS or Atom URL a line, ``#`` starts a comment.

Example ``feeds.txt``::

    # Arabic news outlets
    https://example.com/ar/rss.xml
    https://news.example.org/atom   # their Atom feed

Only ``http`` and ``https`` URLs are accepted; anything else is a mistake the operator should
see at once, with the file and line, rather than a feed that silently never refreshes.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from corpus.readers.base import UnreadableFile, read_text_file


class BadFeedList(ValueError):
    """The feed list cannot be used; the message names the file and line."""


def parse_feed_list(text: str, where: str = "feeds file") -> list[str]:
    """The feed URLs of a list's text, in order, without duplicates.

    Raises:
        BadFeedList: a line that is not an http(s) URL.
    """
    urls: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        url = line.strip()
        if not url or url.startswith("#"):
            continue
        url = url.split(" #", 1)[0].split("\t#", 1)[0].strip()  # an inline comment (a URL's own "#" stays)
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in url:
            raise BadFeedList(f"{where}:{number}: {url[:120]!r} is not an http(s) feed URL")
        if url not in urls:
            urls.append(url)
    return urls


def read_feed_list(path: Path) -> list[str]:
    """Read a feed list file (UTF-8 or Windows-1256).

    Raises:
        BadFeedList: the file is missing, unreadable, holds no URL, or a line is not a URL.
    """
    try:
        text = read_text_file(path)
    except FileNotFoundError:
        raise BadFeedList(f"feeds file {path} does not exist") from None
    except (UnreadableFile, OSError) as error:
        raise BadFeedList(f"feeds file {path}: {error}") from None
    urls = parse_feed_list(text, str(path))
    if not urls:
        raise BadFeedList(f"feeds file {path} lists no feed URL (one http(s) URL a line, # for comments)")
    return urls
