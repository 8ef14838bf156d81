"""Keeping the served archive current: fetch the feeds every ``REFRESH_MINUTES`` and serve what they added.

When ``FEEDS_FILE`` is set, :func:`schedule_refresh` puts a repeating job on PTB's job queue
(APScheduler, the ``job-queue`` extra). Each run:

1. re-reads ``FEEDS_FILE`` (an edited list applies without a restart);
2. in a worker thread (``asyncio.to_thread``: fetching and embedding never block the event loop,
   so questions are answered meanwhile), fetches the feeds and adds their new articles to the
   index with an add-only update (:func:`index.build.feeds.update_from_feeds`). It reuses the
   model already loaded for answering, with ``QUERY_THREADS`` threads, so answering latency stays
   steady and no second copy of the model is loaded;
3. when a build was written, swaps it in the way ``/reload`` does (:meth:`bot.answerer.Answerer.reload`):
   a question already being searched finishes on the old build, the next one sees the new articles;
4. pushes the articles the new build added to the chats following their topics (:mod:`bot.alerts`);
5. logs counts (added, already known, failed) and the headlines added; never a token or a secret.

A failing run (a bad feed list, another build holding the index lock, a full disk) is logged and
the next run tries again; the bot serves the previous build meanwhile. Runs never overlap.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from telegram.ext import ContextTypes

from bot.alerts import added_article_ids, push_new_articles
from bot.state import BotState, bot_state
from corpus import ChunkerSettings
from corpus.feeds import BadFeedList, read_feed_list
from corpus.feeds.fetch import public_url
from index import AkhbarIndexError
from index.build.feeds import FeedUpdateReport, fetch_settings, update_from_feeds
from index.embedding.cache import open_cache
from index.stores import open_store

logger = logging.getLogger(__name__)

JOB_NAME = "akhbar-feed-refresh"
#: Seconds after start of the first refresh: at once, so an index left behind while the bot was down catches up.
FIRST_REFRESH_SECONDS = 1.0
#: Headlines of added articles written to the log per run (the count is always logged).
LOGGED_HEADLINES = 20

_running = threading.Lock()


class JobQueueMissing(RuntimeError):
    """``FEEDS_FILE`` is set but PTB's job queue is not installed (the ``job-queue`` extra)."""


def schedule_refresh(application: Any) -> bool:
    """Start the periodic refresh when ``FEEDS_FILE`` is set; returns whether it was scheduled.

    Raises:
        JobQueueMissing: APScheduler is not installed (``pip install "python-telegram-bot[job-queue]"``).
    """
    settings = bot_state(application).settings
    if settings.feeds_file is None:
        return False
    if application.job_queue is None:
        raise JobQueueMissing('FEEDS_FILE is set but PTB\'s job queue is missing: pip install '
                              '"python-telegram-bot[job-queue]"')
    if application.job_queue.get_jobs_by_name(JOB_NAME):
        return True
    interval = settings.refresh_minutes * 60
    application.job_queue.run_repeating(refresh_job, interval=interval, first=min(FIRST_REFRESH_SECONDS, interval),
                                        name=JOB_NAME, job_kwargs={"max_instances": 1, "coalesce": True})
    logger.info("refreshing from the feeds of %s every %g minute(s)", settings.feeds_file, settings.refresh_minutes)
    return True


async def refresh_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """One refresh (see the module docstring); never raises, so the job keeps its schedule."""
    state = bot_state(context)
    # What was served before the run: a question may hot-reload the new build before this job does.
    served = state.answerer.retriever
    before_build, before = served.build_id, served.manifest.article_fingerprints
    del served  # the old build is not held open for the length of the run
    try:
        report = await asyncio.to_thread(refresh_once, state)
    except (BadFeedList, AkhbarIndexError, OSError) as error:
        logger.error("feed refresh failed, the index is unchanged (next try in %g minute(s)): %s",
                     state.settings.refresh_minutes, error)
        return
    except Exception:
        logger.exception("feed refresh failed unexpectedly, the index is unchanged")
        return
    if report is None:
        return
    if report.build is not None:
        result = await asyncio.to_thread(state.answerer.reload)
        if result.error:
            logger.error("feed refresh: the new build could not be served: %s", result.error)
        current = state.answerer.retriever
        if current.build_id != before_build:
            fetched = [article.id for article in report.refresh.articles]
            await _push(context, state, added_article_ids(before, current.manifest.article_fingerprints, fetched))
    _log(report)


async def _push(context: ContextTypes.DEFAULT_TYPE, state: BotState, new_ids: list[str]) -> None:
    """Push the new articles to the chats that follow their topics; a failure here never stops the refresh job."""
    try:
        await push_new_articles(context, state, new_ids)
    except Exception:
        logger.exception("pushing the new articles to followers failed")


def refresh_once(state: BotState) -> FeedUpdateReport | None:
    """Fetch the feeds and update the index (blocking; run in a worker thread). None if a run is still going.

    Raises:
        BadFeedList: ``FEEDS_FILE`` is missing or holds a line that is not a URL.
        IndexLocked: another build holds the index (the fetched articles wait in ``INDEX_DIR/feeds``).
        OSError: the build could not be written.
    """
    if not _running.acquire(blocking=False):
        logger.warning("feed refresh skipped: the previous one is still running")
        return None
    try:
        settings = state.settings
        assert settings.feeds_file is not None
        urls = read_feed_list(settings.feeds_file)
        embedder = state.answerer.retriever.embedder
        cache = open_cache(settings, embedder)
        try:
            return update_from_feeds(urls, settings.index_dir, embedder,
                                     ChunkerSettings(settings.chunk_tokens, settings.chunk_overlap_tokens),
                                     fetch_settings(settings), open_store(settings),
                                     max_items=settings.feed_max_items,
                                     build_threads=settings.query_threads, cache=cache,
                                     vector_index=settings.vector_index)
        finally:
            if cache is not None:
                cache.close()
    finally:
        _running.release()


def _log(report: FeedUpdateReport) -> None:
    logger.info("feed refresh: %s", report.summary())
    for article in report.refresh.articles[:LOGGED_HEADLINES]:
        logger.info("added %s (%s)", article.title, public_url(article.url))
