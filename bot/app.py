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
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot import handlers, messages
from bot.answerer import Answerer
from bot.callbacks import FEEDBACK_PREFIX, MORE_PREFIX
from bot.delivery import RetryingRequest
from bot.feedback import FeedbackStore
from bot.refresh import schedule_refresh
from bot.settings import BotSettings
from bot.state import STATE_KEY, BotState, bot_state
from index import Embedder

logger = logging.getLogger(__name__)

#: Attempts of one request after a 429 before giving up (each waits the server's retry_after).
MAX_RETRIES = 5
#: Updates handled at once; searches beyond the worker threads queue in the thread pool.
CONCURRENT_UPDATES = 64
#: Connections to the Bot API for everything but getUpdates (PTB's default).
CONNECTIONS = 256
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]

App = Application[Any, Any, Any, Any, Any, Any]


class MissingToken(RuntimeError):
    """``TELEGRAM_BOT_TOKEN`` is not set (the console mode needs none)."""


def file_url(base_url: str) -> str:
    """The Bot API file URL matching ``base_url`` (``…/bot`` → ``…/file/bot``)."""
    head, sep, tail = base_url.rpartition("/bot")
    return f"{head}/file/bot{tail}" if sep else base_url.rstrip("/") + "/file/bot"


def build_application(settings: BotSettings, *, embedder: Embedder | None = None) -> App:
    """Build the bot: token and Bot API URL from ``settings``, flood control, handlers, state.

    Args:
        settings: Everything configurable (token, URLs, index, limits).
        embedder: A model already in memory to open the index with (tests, tools); else
            ``post_init`` loads the configured one.

    Raises:
        MissingToken: ``TELEGRAM_BOT_TOKEN`` is not set.
    """
    token = settings.token
    if not token:
        raise MissingToken("TELEGRAM_BOT_TOKEN is not set")
    timeouts = {"connect_timeout": settings.telegram_timeout, "read_timeout": settings.telegram_timeout,
                "write_timeout": settings.telegram_timeout}
    application = (ApplicationBuilder()
                   .token(token)
                   .base_url(settings.telegram_base_url)
                   .base_file_url(file_url(settings.telegram_base_url))
                   .request(RetryingRequest(retries=settings.telegram_retries, backoff=settings.telegram_retry_seconds,
                                            connection_pool_size=CONNECTIONS, **timeouts))
                   .get_updates_request(HTTPXRequest(connection_pool_size=1, **timeouts))
                   .rate_limiter(AIORateLimiter(max_retries=MAX_RETRIES))
                   .concurrent_updates(CONCURRENT_UPDATES)
                   .post_init(post_init)
                   .post_shutdown(post_shutdown)
                   .build())
    application.bot_data[STATE_KEY] = BotState.create(settings, embedder)
    register_handlers(application)
    return application


def register_handlers(application: App) -> None:
    """Wire every handler: the allow-list gate first, then commands, questions, buttons, errors."""
    new_messages = filters.UpdateType.MESSAGE
    application.add_handler(TypeHandler(Update, handlers.gate), group=-1)
    for name, callback in (("start", handlers.start_command), ("help", handlers.help_command),
                           ("about", handlers.about_command), ("ask", handlers.ask_command),
                           ("new", handlers.new_command),
                           ("stats", handlers.stats_command), ("reload", handlers.reload_command)):
        application.add_handler(CommandHandler(name, callback, filters=new_messages))
    text = filters.TEXT & ~filters.COMMAND & new_messages
    application.add_handler(MessageHandler(text & filters.ChatType.PRIVATE, handlers.on_private_text))
    application.add_handler(MessageHandler(text & filters.ChatType.GROUPS, handlers.on_group_text))
    application.add_handler(CallbackQueryHandler(handlers.on_more, pattern=f"^{MORE_PREFIX}:"))
    application.add_handler(CallbackQueryHandler(handlers.on_feedback, pattern=f"^{FEEDBACK_PREFIX}:"))
    application.add_handler(CallbackQueryHandler(handlers.on_unknown_button))
    application.add_error_handler(handlers.on_error)


async def post_init(application: App) -> None:
    """Open the index (in a worker thread) and the feedback store; start the feed refresh; publish the menu."""
    state = bot_state(application)
    settings = state.settings
    if state.loaded_answerer is None:
        state.loaded_answerer = await asyncio.to_thread(Answerer.open, settings, state.embedder)
    if state.loaded_feedback is None:
        salt = settings.feedback_salt.get_secret_value()
        if not salt:
            logger.warning("FEEDBACK_SALT is empty: anyone can link feedback rows to user ids by hashing them")
        state.loaded_feedback = FeedbackStore(settings.feedback_db, salt)
    schedule_refresh(application)
    await application.bot.set_my_commands([BotCommand(name, text) for name, text in messages.COMMANDS])
    logger.info("serving index build %s as @%s", state.answerer.build_id, application.bot.username)


async def post_shutdown(application: App) -> None:
    """Close the feedback and conversation stores."""
    state = bot_state(application)
    state.context.close()
    if state.loaded_feedback is not None:
        state.loaded_feedback.close()
        state.loaded_feedback = None


def run(application: App, settings: BotSettings) -> None:
    """Serve until interrupted: a webhook when ``WEBHOOK_URL`` is set, else long polling.

    Raises:
        telegram.error.InvalidToken: Telegram rejected the token (at the first ``getMe``).
    """
    if settings.webhook_url:
        secret = settings.webhook_secret_token.get_secret_value() if settings.webhook_secret_token else None
        application.run_webhook(listen=settings.webhook_listen, port=settings.webhook_port,
                                url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
                                webhook_url=settings.webhook_url, secret_token=secret,
                                allowed_updates=ALLOWED_UPDATES)
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
