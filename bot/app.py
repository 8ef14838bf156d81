"""The application factory: one function builds the PTB Application, one wires its handlers.

    application = build_application(BotSettings())
    run(application, settings)        # long polling, or a webhook when WEBHOOK_URL is set

Outgoing flood control is PTB's ``AIORateLimiter``: it spaces messages within Telegram's limits
and, on a 429, waits the ``retry_after`` the server asked for and sends again, so a reply is
delayed, never lost. Below it, :class:`bot.delivery.RetryingRequest` sends a request again when
it provably did nothing (connection refused or dropped, HTTP 5xx) and never after a read timeout,
so a reply is neither lost to a passing fault nor shown twice. ``getUpdates`` has its own
connection; PTB's polling loop retries it with growing waits after any error (a 409 Conflict
included) and hands the error to :func:`bot.handlers.on_error`. Updates are handled
concurrently (each question searches in a worker thread). The index is opened once, in
``post_init``, and kept in ``bot_data``; with ``FEEDS_FILE`` set, ``post_init`` also schedules the
periodic feed refresh (:mod:`bot.refresh`) on PTB's job queue.

Webhook mode never runs without ``WEBHOOK_SECRET_TOKEN`` (:func:`webhook_secret`): PTB's webhook
server then refuses (403) every POST whose secret header differs, so only Telegram can deliver
updates; without it anyone who finds the URL could forge them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot import commands, follow_commands, handlers, inline, messages
from bot.answerer import Answerer
from bot.callbacks import FEEDBACK_PREFIX, MORE_PREFIX
from bot.delivery import RetryingRequest
from bot.feedback import FeedbackStore
from bot.follow import SqliteFollowStore
from bot.refresh import schedule_refresh
from bot.settings import BotSettings
from bot.state import STATE_KEY, BotState, bot_state
from index import Embedder

logger = logging.getLogger(__name__)

#: Attempts of one request after a 429 before giving up (each waits the server's retry_after).
MAX_RETRIES = 5
#: Updates handled at once; searches beyond the worker threads queue in the thread pool.
CONCURRENT_UPDATES = 64
#: Connections to the Bot API for everything but getUpdates (PTB's default). httpcore polls every
#: pooled socket on each request, but a smaller pool did not pay: 16 vs 256 connections gave
#: 21.3 / 22.7 vs 22.0 / 23.6 answers/s and 64.9-68.5 vs 63.4-66.4 ms of bot CPU per reply
#: (``bench/bot_load.py --index <30k> --no-outgoing-limiter``, alternated, AVX2 EPYC, 2026-12-07).
CONNECTIONS = 256
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]

App = Application[Any, Any, Any, Any, Any, Any]


class MissingToken(RuntimeError):
    """``TELEGRAM_BOT_TOKEN`` is not set (the console mode needs none)."""


class MissingWebhookSecret(RuntimeError):
    """Webhook mode without a usable ``WEBHOOK_SECRET_TOKEN``: anyone reaching the URL could forge updates."""


#: What Telegram accepts as a webhook secret (``setWebhook``): 1-256 of these characters.
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


def webhook_secret(settings: BotSettings) -> str:
    """The webhook's secret token, checked; webhook mode never starts without one.

    Without it the webhook server takes any POST as an update from Telegram, so whoever can
    reach ``WEBHOOK_URL`` can speak as any user in any chat: an admin's ``/reload``, questions
    past the allow-list and the rate limit. PTB's server answers 403 to a request whose
    ``X-Telegram-Bot-Api-Secret-Token`` header differs from the token registered here.

    Raises:
        MissingWebhookSecret: unset, empty, or not 1-256 of ``A-Z a-z 0-9 _ -`` (Telegram would refuse it).
    """
    secret = settings.webhook_secret_token.get_secret_value().strip() if settings.webhook_secret_token else ""
    if not secret:
        raise MissingWebhookSecret("WEBHOOK_SECRET_TOKEN is not set: webhook mode (WEBHOOK_URL) needs it, or "
                                   "anyone who finds the URL can forge updates; set it to a random string, e.g. "
                                   "python -c 'import secrets; print(secrets.token_urlsafe(32))'")
    if not _SECRET_TOKEN.fullmatch(secret):
        raise MissingWebhookSecret("WEBHOOK_SECRET_TOKEN must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
    return secret


def webhook_options(settings: BotSettings) -> dict[str, Any]:
    """Arguments of PTB's ``run_webhook``/``start_webhook`` for ``settings``, the secret token included.

    Raises:
        MissingWebhookSecret: see :func:`webhook_secret`.
    """
    assert settings.webhook_url, "webhook mode needs WEBHOOK_URL"
    return {"listen": settings.webhook_listen, "port": settings.webhook_port,
            "url_path": urlsplit(settings.webhook_url).path.lstrip("/"), "webhook_url": settings.webhook_url,
            "secret_token": webhook_secret(settings), "allowed_updates": ALLOWED_UPDATES}


def file_url(base_url: str) -> str:
    """The Bot API file URL matching ``base_url`` (``…/bot`` → ``…/file/bot``)."""
    head, sep, tail = base_url.rpartition("/bot")
    return f"{head}/file/bot{tail}" if sep else base_url.rstrip("/") + "/file/bot"


def build_application(settings: BotSettings, *, embedder: Embedder | None = None,
                      outgoing_limiter: bool = True) -> App:
    """Build the bot: token and Bot API URL from ``settings``, flood control, handlers, state.

    Args:
        settings: Everything configurable (token, URLs, index, limits).
        embedder: A model already in memory to open the index with (tests, tools); else
            ``post_init`` loads the configured one.
        outgoing_limiter: PTB's ``AIORateLimiter`` on outgoing calls. Off only to measure the
            answering core against a fake Bot API (``bench/bot_load.py --no-outgoing-limiter``):
            real Telegram answers a flood with 429, which then costs replies. Not a setting.

    Raises:
        MissingToken: ``TELEGRAM_BOT_TOKEN`` is not set.
    """
    token = settings.token
    if not token:
        raise MissingToken("TELEGRAM_BOT_TOKEN is not set")
    timeouts: dict[str, Any] = {"connect_timeout": settings.telegram_timeout,
                                "read_timeout": settings.telegram_timeout, "write_timeout": settings.telegram_timeout}
    builder = (ApplicationBuilder()
               .token(token)
               .base_url(settings.telegram_base_url)
               .base_file_url(file_url(settings.telegram_base_url))
               .request(RetryingRequest(retries=settings.telegram_retries, backoff=settings.telegram_retry_seconds,
                                        connection_pool_size=CONNECTIONS, **timeouts))
               .get_updates_request(HTTPXRequest(connection_pool_size=1, **timeouts))
               .concurrent_updates(CONCURRENT_UPDATES)
               .post_init(post_init)
               .post_shutdown(post_shutdown))
    application = (builder.rate_limiter(AIORateLimiter(max_retries=MAX_RETRIES)) if outgoing_limiter
                   else builder).build()
    application.bot_data[STATE_KEY] = BotState.create(settings, embedder)
    register_handlers(application)
    return application


def register_handlers(application: App) -> None:
    """Wire every handler: the allow-list gate first, then commands, questions, buttons, errors."""
    new_messages = filters.UpdateType.MESSAGE
    application.add_handler(TypeHandler(Update, handlers.gate), group=-1)
    for name, callback in (("start", commands.start_command), ("help", commands.help_command),
                           ("about", commands.about_command), ("ask", handlers.ask_command),
                           ("new", commands.new_command),
                           ("stats", commands.stats_command), ("reload", commands.reload_command),
                           ("follow", follow_commands.follow_command),
                           ("following", follow_commands.following_command),
                           ("unfollow", follow_commands.unfollow_command)):
        application.add_handler(CommandHandler(name, callback, filters=new_messages))
    text = filters.TEXT & ~filters.COMMAND & new_messages
    application.add_handler(MessageHandler(text & filters.ChatType.PRIVATE, handlers.on_private_text))
    application.add_handler(MessageHandler(text & filters.ChatType.GROUPS, handlers.on_group_text))
    application.add_handler(CallbackQueryHandler(handlers.on_more, pattern=f"^{MORE_PREFIX}:"))
    application.add_handler(CallbackQueryHandler(handlers.on_feedback, pattern=f"^{FEEDBACK_PREFIX}:"))
    application.add_handler(CallbackQueryHandler(follow_commands.on_unfollow_button,
                                                 pattern=f"^{follow_commands.UNFOLLOW_PREFIX}:"))
    application.add_handler(InlineQueryHandler(inline.on_inline_query))
    application.add_handler(CallbackQueryHandler(handlers.on_unknown_button))
    application.add_error_handler(handlers.on_error)


async def post_init(application: App) -> None:
    """Open the index (in a worker thread), the feedback and follow stores; start the feed refresh; publish the menu."""
    state = bot_state(application)
    settings = state.settings
    # asyncio.to_thread's default pool has cpu_count + 4 threads (6 on 2 cores): so few questions in
    # flight that the query embedding and the exact search, which batch concurrent questions, ran
    # nearly one at a time. One thread per concurrent update lets them batch.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=CONCURRENT_UPDATES, thread_name_prefix="akhbar-worker"))
    if state.loaded_answerer is None:
        state.loaded_answerer = await asyncio.to_thread(Answerer.open, settings, state.embedder)
    if state.loaded_feedback is None:
        salt = settings.feedback_salt.get_secret_value()
        if not salt:
            logger.warning("FEEDBACK_SALT is empty: anyone can link feedback rows to user ids by hashing them")
        state.loaded_feedback = FeedbackStore(settings.feedback_db, salt)
    if state.loaded_follows is None:
        state.loaded_follows = await asyncio.to_thread(SqliteFollowStore, settings.follow_path)
    schedule_refresh(application)
    await application.bot.set_my_commands([BotCommand(name, text) for name, text in messages.COMMANDS])
    logger.info("serving index build %s as @%s", state.answerer.build_id, application.bot.username)


async def post_shutdown(application: App) -> None:
    """Close the feedback, follow and conversation stores."""
    state = bot_state(application)
    state.memory.close()
    if state.loaded_feedback is not None:
        state.loaded_feedback.close()
        state.loaded_feedback = None
    if state.loaded_follows is not None:
        state.loaded_follows.close()
        state.loaded_follows = None


def run(application: App, settings: BotSettings) -> None:
    """Serve until interrupted: a webhook when ``WEBHOOK_URL`` is set, else long polling.

    Raises:
        telegram.error.InvalidToken: Telegram rejected the token (at the first ``getMe``).
        MissingWebhookSecret: webhook mode without ``WEBHOOK_SECRET_TOKEN`` (checked before serving).
    """
    if settings.webhook_url:
        application.run_webhook(**webhook_options(settings))
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
