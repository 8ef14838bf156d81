"""Adding what the feeds brought to the index: a feed run (:mod:`corpus.feeds`), then an add-only update.

Why an add-only update over ``INDEX_DIR/feeds/``, not over the run's new articles alone or over
the original corpus files:

* a plain ``update`` takes its sources as the whole corpus and drops what they lack; given only
  the feed articles it would delete the archive. ``build_index(add_only=True)`` keeps every
  article of the current build and adds those of its sources, reusing every unchanged vector;
* the original corpus files need not still exist (or be where the manifest says) for the index to
  grow: the current build already holds their articles;
* the whole ``feeds/`` folder, not just this run's file, is given, so articles a previous run
  fetched but could not index (a crash, a build lock held by another build) are indexed now.
  Articles already indexed with the same fingerprint are reused, so this costs a read, not an embed.

When nothing in ``feeds/`` is missing from the current build, no build is written at all, so a
refresh that found nothing does not churn builds (and the bot does not reload).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus import ChunkerSettings, read_corpus
from corpus.feeds import (
    ARTICLES_DIR,
    FeedStore,
    Fetcher,
    FetchSettings,
    RefreshReport,
    content_fingerprint,
    refresh_feeds,
    url_key,
)
from corpus.feeds.guard import parse_allowed_hosts
from corpus.types import Article
from index.build.builder import BuildReport, build_index
from index.build.progress import Progress
from index.embedding.base import Embedder
from index.embedding.cache import EmbeddingCache
from index.errors import FeedsBusy, IndexLocked
from index.settings import IndexSettings, VectorIndexKind
from index.stores import IndexStore
from index.stores.faiss.layout import file_lock

logger = logging.getLogger(__name__)

#: Held by the one feed run fetching into an index.
FEEDS_LOCK = ".feeds.lock"


@dataclass(slots=True)
class FeedUpdateReport:
    """What a feed refresh did to the index.

    Attributes:
        refresh: The feed run (articles added, duplicates, unchanged feeds, failures).
        pending: Articles of ``feeds/`` that were not yet in the index before the update.
        build: The update's report, or None when there was nothing to index.
    """

    refresh: RefreshReport
    pending: int
    build: BuildReport | None

    def summary(self) -> str:
        """One line for logs and the CLI."""
        built = f"build {self.build.build_dir.name} ({self.build.articles} articles)" if self.build else "no new build"
        return f"{self.refresh.summary()}; {self.pending} article(s) indexed, {built}"


def fetch_settings(settings: IndexSettings) -> FetchSettings:
    """The fetcher's settings from the index settings (``FEED_*`` variables)."""
    return FetchSettings(timeout=settings.feed_timeout, delay=settings.feed_delay_seconds,
                         max_bytes=settings.feed_max_page_bytes, user_agent=settings.feed_user_agent,
                         allowed_private_hosts=parse_allowed_hosts(settings.feed_allowed_private_hosts),
                         run_seconds=settings.feed_run_seconds)


def feed_articles_dir(index_dir: Path) -> Path:
    """The folder of articles fetched from feeds (a corpus source like any other)."""
    return index_dir / ARTICLES_DIR


class IndexedArticles:
    """URL keys and content fingerprints of the current build's articles, read on first use.

    Read through the store (:meth:`~index.stores.base.IndexStore.current_articles`), so a Milvus
    index is asked exactly like a FAISS directory. The articles are read once per instance: one
    instance serves a whole refresh (the feed run's checks, then :func:`pending_articles`).
    """

    def __init__(self, store: IndexStore) -> None:
        self.store = store
        self._articles: list[Article] | None = None
        self._urls: set[str] | None = None
        self._fingerprints: set[str] | None = None

    def _current(self) -> list[Article]:
        if self._articles is None:
            self._articles = self.store.current_articles()
        return self._articles

    def has_url(self, key: str) -> bool:
        """Whether an indexed article has this URL key."""
        if self._urls is None:
            self._urls = {url_key(article.url) for article in self._current() if article.url}
        return key in self._urls

    def versions(self) -> dict[str, str]:
        """Each indexed article's id → :meth:`~corpus.types.Article.fingerprint` (its indexed version)."""
        return {article.id: article.fingerprint() for article in self._current()}

    def has_fingerprint(self, fingerprint: str) -> bool:
        """Whether an indexed article has this content fingerprint."""
        if self._fingerprints is None:
            self._fingerprints = {content_fingerprint(article) for article in self._current()}
        return fingerprint in self._fingerprints


def fetch_feeds(feed_urls: Sequence[str], index_dir: Path, settings: FetchSettings, indexed: IndexedArticles, *,
                max_items: int = 200, on_item: Callable[[str], None] | None = None) -> RefreshReport:
    """Run the feeds once, skipping what the index (``indexed``) or the feed store already holds.

    One feed run at a time per index (``INDEX_DIR/.feeds.lock``): two at once would both fetch
    every new page and add each article twice; the second one is refused instead.

    Raises:
        FeedsBusy: another feed run holds the lock.
        OSError, sqlite3.Error: the feed store or the run's file cannot be written (full disk,
            read-only folder); nothing half-written is left.
    """
    try:
        with file_lock(index_dir, FEEDS_LOCK):
            feed_store = FeedStore(index_dir)
            try:
                with Fetcher(settings) as fetcher:
                    return refresh_feeds(feed_urls, feed_store, fetcher, indexed, max_items=max_items,
                                         on_item=on_item)
            finally:
                feed_store.close()
    except IndexLocked as busy:
        raise FeedsBusy(str(index_dir), busy.holder) from None


def pending_articles(index_dir: Path, indexed: IndexedArticles) -> int:
    """Articles of ``feeds/`` that the current build lacks or holds in another version."""
    folder = feed_articles_dir(index_dir)
    if not folder.is_dir():
        return 0
    articles = read_corpus([folder]).articles
    versions = indexed.versions()
    return sum(1 for a in articles if versions.get(a.id) != a.fingerprint())


def update_from_feeds(feed_urls: Sequence[str], index_dir: Path, embedder: Embedder,
                      chunker_settings: ChunkerSettings, settings: FetchSettings, store: IndexStore, *,
                      max_items: int = 200,
                      build_threads: int = 0, cache: EmbeddingCache | None = None,
                      vector_index: VectorIndexKind = "auto", wait: bool = False,
                      progress: Progress | None = None) -> FeedUpdateReport:
    """Fetch the feeds, then add every article of ``feeds/`` the index lacks (see the module docstring).

    Raises:
        IndexLocked: another build is running and ``wait`` is false (the articles stay in
            ``feeds/`` and are indexed by the next update).
        OSError: the update could not be written; the previous build stays current.
    """
    indexed = IndexedArticles(store)
    refresh = fetch_feeds(feed_urls, index_dir, settings, indexed, max_items=max_items)
    pending = pending_articles(index_dir, indexed)
    if not pending:
        return FeedUpdateReport(refresh, 0, None)
    build = build_index([feed_articles_dir(index_dir)], index_dir, embedder, chunker_settings, add_only=True,
                        build_threads=build_threads, cache=cache, vector_index=vector_index, wait=wait,
                        progress=progress, store=store)
    logger.info("indexed %d article(s) from feeds into build %s", pending, build.build_dir.name)
    return FeedUpdateReport(refresh, pending, build)
