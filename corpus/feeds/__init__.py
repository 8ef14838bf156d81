"""Keeping the archive current: RSS/Atom feeds in, new articles out (see :mod:`corpus.feeds.refresh`).

Small modules, one job each: :mod:`~corpus.feeds.feedlist` reads the operator's list of feeds,
:mod:`~corpus.feeds.fetch` fetches politely, :mod:`corpus.extract` turns a page into an article,
:mod:`~corpus.feeds.store` remembers validators and seen items, :mod:`~corpus.feeds.refresh`
runs them. Knows nothing of indexes: ``index.build.feeds`` adds what a run found to the index.
"""

from corpus.feeds.feedlist import BadFeedList, parse_feed_list, read_feed_list
from corpus.feeds.fetch import Fetcher, FetchFailed, FetchSettings
from corpus.feeds.refresh import FeedFailure, KnownArticles, RefreshReport, refresh_feeds
from corpus.feeds.store import ARTICLES_DIR, STORE_NAME, FeedStore, content_fingerprint, url_key

__all__ = [
    "ARTICLES_DIR",
    "STORE_NAME",
    "BadFeedList",
    "FeedFailure",
    "FeedStore",
    "FetchFailed",
    "FetchSettings",
    "Fetcher",
    "KnownArticles",
    "RefreshReport",
    "content_fingerprint",
    "parse_feed_list",
    "read_feed_list",
    "refresh_feeds",
    "url_key",
]
