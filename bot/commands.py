"""Commands: /start /help /about /new for everyone, /stats and /reload for admins.

Each one is a reply the bot sends, so each counts against the sender's rate limit
(:func:`bot.handlers.within_rate_limit`) like a question does: told once when over it, then
silence, so a user repeating /help cannot make the bot spend its outgoing flood budget.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update

from bot import messages
from bot.handlers import Context, conversation_keys, reply_html, within_rate_limit
from bot.render import about_values, html_message, number
from bot.rtl import isolate
from bot.state import BotState, bot_state
from index.embedding import describe_engine

Command = Callable[[Update, Context], Coroutine[Any, Any, None]]


def rate_limited(command: Command) -> Command:
    """Run ``command`` only while its sender is within the rate limit (the refusal is sent once)."""

    @functools.wraps(command)
    async def limited(update: Update, context: Context) -> None:
        if await within_rate_limit(update, context, bot_state(context)):
            await command(update, context)

    return limited


@rate_limited
async def start_command(update: Update, context: Context) -> None:
    """/start: welcome and what the bot does."""
    await reply_html(update, context, html_message(messages.START))


@rate_limited
async def help_command(update: Update, context: Context) -> None:
    """/help: what the bot does, how to ask, what the archive covers."""
    await reply_html(update, context, html_message(messages.HELP))


@rate_limited
async def new_command(update: Update, context: Context) -> None:
    """/new: forget the conversation, so the next question is not read as a follow-up."""
    state = bot_state(context)
    conversation, _ = conversation_keys(update, state)
    await asyncio.to_thread(state.memory.clear, conversation)
    await reply_html(update, context, html_message(messages.NEW_CONVERSATION))


@rate_limited
async def about_command(update: Update, context: Context) -> None:
    """/about: articles, sources, date range, newest article and build time of the serving index."""
    retriever = bot_state(context).answerer.retriever
    sources, date_range, newest = await asyncio.to_thread(
        lambda: (retriever.metadata.sources(), retriever.metadata.date_range(), retriever.metadata.newest_date()))
    # The engine answering here (chosen for this CPU under EMBEDDING_BACKEND=auto).
    engine = describe_engine(retriever.embedder).removeprefix("embedding engine ")
    values = about_values(retriever.manifest.articles, sources, date_range, retriever.manifest.built_at, newest,
                          engine)
    await reply_html(update, context, html_message(messages.ABOUT, **values))


def _is_admin(update: Update, state: BotState) -> bool:
    user = update.effective_user
    return user is not None and user.id in state.settings.admin_ids


@rate_limited
async def stats_command(update: Update, context: Context) -> None:
    """/stats (admins): questions served, no-answer rate, latency p50/p95, feedback counts, follows and pushes."""
    state = bot_state(context)
    if not _is_admin(update, state):
        await reply_html(update, context, html_message(messages.ADMIN_ONLY))
        return
    good, bad = await asyncio.to_thread(state.feedback.counts)
    follows = await asyncio.to_thread(state.follows.counts)
    p50, p95 = (_millis(state.stats.percentile(q)) for q in (50, 95))
    await reply_html(update, context, html_message(
        messages.STATS, served=number(state.stats.served), no_answer_rate=isolate(f"{state.stats.no_answer_rate:.0%}"),
        p50=p50, p95=p95, good=number(good), bad=number(bad), build=isolate(state.answerer.build_id))
        + "\n" + html_message(messages.STATS_FOLLOWS, follows=number(follows.follows), chats=number(follows.chats),
                              pushes=number(follows.pushes), good=number(follows.good), bad=number(follows.bad)))


def _millis(seconds: float | None) -> str:
    """Seconds as isolated whole milliseconds, or a dash before the first question."""
    return number(seconds * 1000) if seconds is not None else "—"


@rate_limited
async def reload_command(update: Update, context: Context) -> None:
    """/reload (admins): open the build ``INDEX_DIR/current`` names now, keeping the old one on failure."""
    state = bot_state(context)
    if not _is_admin(update, state):
        await reply_html(update, context, html_message(messages.ADMIN_ONLY))
        return
    result = await asyncio.to_thread(state.answerer.reload)
    template = messages.RELOAD_FAILED if result.error else messages.RELOADED if result.swapped \
        else messages.RELOAD_UNCHANGED
    await reply_html(update, context, html_message(template, build=isolate(state.answerer.build_id)))
