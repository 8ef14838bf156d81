"""One ingestion run: read each feed, fetch each new item's page, extract its article, remember it.

For every feed of the list, in order:

1. GET the feed, conditionally (its stored ``ETag`` / ``Last-Modified``); a ``304`` ends here.
2. Parse it with ``feedparser`` (RSS 0.9x/1.0/2.0 and Atom alike). A feed that is not one, or
   does not answer, is reported and skipped; the other feeds go on.
3. For each item whose link is not known (to the feed store, or to the caller's index), fetch the
   page and extract the article (:mod:`corpus.extract`), the item's title and date filling what
   the page lacks. A page that cannot be fetched is reported and skipped, and retried next run:
   its feed's validators are then not stored, so the next request gets the whole feed again. A
   page that is fetched but holds no article (a video, a gallery) is reported once and remembered.
4. An article whose content fingerprint is already known (the same story under another URL) is
   counted as a duplicate, not added.

At the end, the new articles are written to ``feeds/<run>.jsonl`` and the items and validators
recorded (:meth:`corpus.feeds.store.FeedStore.save_run`). Nothing here touches the index: the
caller decides what to do with the articles (``index.build.feeds`` adds them incrementally).
"""

from __future__ import annotations

import calendar
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin

from corpus.extract import PageHints, charset_of, decode_html, extract_article, same_site
from corpus.feeds.fetch import Fetched, Fetcher, FetchFailed, public_url
from corpus.feeds.store import FeedState, FeedStore, SeenItem, content_fingerprint, url_key
from corpus.readers.base import UnreadableFile, cap_article
from corpus.types import Article

logger = logging.getLogger(__name__)

#: Items read per feed and run: a feed listing its whole archive is taken in slices, newest first.
MAX_ITEMS_PER_FEED = 200


class KnownArticles(Protocol):
    """What the caller's index already holds, so those items are not fetched or added again."""

    def has_url(self, key: str) -> bool:
        """Whether an article with this URL key (:func:`~corpus.feeds.store.url_key`) is indexed."""

    def has_fingerprint(self, fingerprint: str) -> bool:
        """Whether an article with this content fingerprint is indexed."""


@dataclass(slots=True)
class FeedFailure:
    """A feed or page that could not be used this run, with the reason (for logs and the CLI)."""

    url: str
    reason: str
    feed: str = ""


@dataclass(slots=True)
class RefreshReport:
    """What one run did.

    Attributes:
        articles: The new articles, in feed order.
        written: The ``feeds/<run>.jsonl`` file holding them (None when there are none).
        feeds: Feeds requested.
        unchanged: Feeds that answered ``304 Not Modified``.
        items: Items listed by the feeds that were read.
        duplicates: Items skipped as already known (by URL or by content).
        failures: Feeds and pages that failed, with reasons.
    """

    articles: list[Article] = field(default_factory=list)
    written: Path | None = None
    feeds: int = 0
    unchanged: int = 0
    items: int = 0
    duplicates: int = 0
    failures: list[FeedFailure] = field(default_factory=list)

    def summary(self) -> str:
        """One line for logs: counts only (never URLs with credentials or page text)."""
        return (f"{self.feeds} feed(s) ({self.unchanged} unchanged), {self.items} item(s): {len(self.articles)} "
                f"added, {self.duplicates} already known, {len(self.failures)} failed")


class _NothingKnown:
    def has_url(self, key: str) -> bool:
        return False

    def has_fingerprint(self, fingerprint: str) -> bool:
        return False


def refresh_feeds(feed_urls: Sequence[str], store: FeedStore, fetcher: Fetcher,
                  known: KnownArticles | None = None, *, max_items: int = MAX_ITEMS_PER_FEED,
                  on_item: Callable[[str], None] | None = None) -> RefreshReport:
    """Run the steps of the module docstring over ``feed_urls``.

    Args:
        feed_urls: The feeds, in order (see :func:`corpus.feeds.read_feed_list`).
        store: Validators, seen items and the article folder.
        fetcher: The polite HTTP client.
        known: The index's articles, by URL key and content fingerprint.
        max_items: Items read per feed.
        on_item: Called with each page URL before it is fetched (progress display).
    """
    known = known or _NothingKnown()
    report = RefreshReport(feeds=len(feed_urls))
    seen: list[SeenItem] = []
    states: list[FeedState] = []
    run_urls: set[str] = set()
    run_fingerprints: set[str] = set()

    def is_duplicate_url(key: str) -> bool:
        return key in run_urls or store.has_url(key) or known.has_url(key)

    budget = fetcher.settings.run_seconds
    ends = time.monotonic() + budget

    for feed_url in feed_urls:
        etag, last_modified = store.validators(feed_url)
        try:
            answer = fetcher.get(feed_url, etag, last_modified)
        except FetchFailed as error:
            report.failures.append(FeedFailure(feed_url, f"feed: {error}", feed_url))
            logger.warning("feed %s failed: %s", public_url(feed_url), error)
            continue
        if answer.not_modified:
            report.unchanged += 1
            states.append(FeedState(feed_url, answer.etag, answer.last_modified, "not-modified"))
            continue
        parsed = _parse_feed(answer)
        if isinstance(parsed, str):
            report.failures.append(FeedFailure(feed_url, f"feed: {parsed}", feed_url))
            logger.warning("feed %s failed: %s", public_url(feed_url), parsed)
            continue
        feed_title = str(parsed.feed.get("title", "")).strip()
        failed_before = len(report.failures)
        for entry in parsed.entries[:max_items]:
            report.items += 1
            link = str(entry.get("link") or "").strip()
            if not link:
                report.failures.append(FeedFailure(feed_url, "item without a link", feed_url))
                continue
            page_url = urljoin(answer.url, link)
            key = url_key(page_url)
            if is_duplicate_url(key):
                report.duplicates += 1
                continue
            if time.monotonic() > ends:
                report.failures.append(FeedFailure(feed_url, f"page: not fetched, the run's {budget:g} s are spent; "
                                                             f"fetched next run", feed_url))
                continue
            if on_item is not None:
                on_item(page_url)
            article = _fetch_article(fetcher, page_url, _hints(entry, feed_title, page_url), report, feed_url)
            if article is None:
                continue
            if isinstance(article, str):  # fetched, but no article in it: not worth fetching again
                run_urls.add(key)
                seen.append(SeenItem(key, None, None))
                continue
            fingerprint = content_fingerprint(article)
            run_urls.add(key)
            article_key = url_key(article.url) if article.url else key
            if fingerprint in run_fingerprints or store.has_fingerprint(fingerprint) \
                    or known.has_fingerprint(fingerprint) or (article_key != key and is_duplicate_url(article_key)):
                report.duplicates += 1
                seen.append(SeenItem(key, fingerprint, None))
                continue
            run_fingerprints.add(fingerprint)
            seen.append(SeenItem(key, fingerprint, article.id))
            if article_key != key:
                run_urls.add(article_key)
                seen.append(SeenItem(article_key, fingerprint, article.id))
            report.articles.append(article)
        complete = not any(f.reason.startswith("page:") for f in report.failures[failed_before:])
        # A feed with a failed page keeps no validators: the next run gets it whole and retries the page.
        states.append(FeedState(feed_url, answer.etag if complete else None,
                                answer.last_modified if complete else None, "ok" if complete else "partial"))
    report.written = store.save_run(report.articles, seen, states)
    logger.info("feeds refreshed: %s", report.summary())
    return report


def _parse_feed(answer: Fetched) -> Any:
    """The parsed feed, or why it is not one (a string)."""
    import feedparser  # imported here: only ingestion needs it

    parsed = feedparser.parse(answer.content, response_headers={"content-type": answer.content_type,
                                                                "content-location": answer.url})
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        detail = f" ({str(problem).strip()[:120]})" if problem else ""
        return f"not an RSS or Atom feed{detail}"
    if parsed.get("bozo") and not parsed.entries:
        return f"malformed feed ({str(parsed.get('bozo_exception', '')).strip()[:120]})"
    return parsed


def _hints(entry: Any, feed_title: str, page_url: str) -> PageHints:
    """What the feed item says about its page (title, time, section), for fields the page lacks."""
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    date = datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else None  # feedparser's are UTC
    tags = entry.get("tags") or []
    category = str(tags[0].get("term") or "").strip() if tags else ""
    return PageHints(title=str(entry.get("title") or "").strip(), date=date, source=feed_title, url=page_url,
                     category=category)


def _fetch_article(fetcher: Fetcher, page_url: str, hints: PageHints, report: RefreshReport,
                   feed_url: str) -> Article | str | None:
    """Fetch and extract one page; a failure is added to the report.

    Returns:
        The article; or None when the page could not be fetched (retried next run: the feed keeps
        no validators); or the reason when the page came but holds no article (a video, a gallery,
        an error page served as 200), which is remembered and not fetched again.
    """
    try:
        page = fetcher.get(page_url)
    except FetchFailed as error:
        report.failures.append(FeedFailure(page_url, f"page: {error}", feed_url))
        logger.warning("page %s skipped, retried next run: %s", public_url(page_url), error)
        return None
    try:
        text = decode_html(page.content, charset_of(page.content_type))
        article = extract_article(text, PageHints(hints.title, hints.date, hints.source, page.url or page_url,
                                                  hints.category))
    except UnreadableFile as error:
        report.failures.append(FeedFailure(page_url, f"no article: {error}", feed_url))
        logger.warning("page %s holds no article: %s", public_url(page_url), error)
        return str(error)
    except Exception as error:  # noqa: BLE001 - one hostile page (parser crash, odd codec) must not end the run
        reason = f"unreadable page ({type(error).__name__}: {str(error)[:120]})"
        report.failures.append(FeedFailure(page_url, f"no article: {reason}", feed_url))
        logger.warning("page %s skipped: %s", public_url(page_url), reason)
        return reason
    if hints.source and not same_site(page.url or page_url, feed_url):
        # A page off the feed's own site does not get to name the outlet: the operator's feed does.
        article = replace(article, source=hints.source)
    return cap_article(article)[0]
