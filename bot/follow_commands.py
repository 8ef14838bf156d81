"""``/follow``, ``/following``, ``/unfollow`` and the stop buttons: a chat's standing questions.

* ``/follow <topic>`` saves the topic for the chat it is typed in (in a group any member may, and
  the pushes go to the group), confirms in Arabic and shows what the archive answers now, so the
  reader sees what the topic will match; the same topic twice, or more than
  ``FOLLOW_MAX_TOPICS``, is refused with a reason.
* ``/following`` lists the chat's topics, numbered, with one stop button each (callback data
  ``u:<follow id>``: ids only, checked against the chat pressing, so a forged button stops
  nothing of another chat); ``/unfollow N`` stops the N-th of that list.

Every reply counts against the sender's rate limit, like a question.
"""

from __future__ import annotations

import asyncio
import contextlib
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot import messages
from bot.answerer import question_refusal
from bot.commands import rate_limited
from bot.follow import Follow
from bot.handlers import NO_PREVIEW, Context, reply_html, reply_target, send_answer, send_html, within_rate_limit
from bot.render import html_message, number, one_line, plain_message
from bot.rtl import isolate_ltr_runs
from bot.state import bot_state
from corpus.arabic import normalise

UNFOLLOW_PREFIX = "u"
_UNFOLLOW = re.compile(rf"{UNFOLLOW_PREFIX}:(?P<id>[0-9]{{1,18}})")
#: Characters of a topic shown in lists and on buttons.
SHOWN_TOPIC = 60
BUTTON_TOPIC = 24


def _argument(update: Update) -> str:
    text = update.effective_message.text if update.effective_message else ""
    parts = (text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def _shown(topic: str, size: int = SHOWN_TOPIC) -> str:
    return isolate_ltr_runs(one_line(topic, size))


def _same_topic(a: str, b: str) -> bool:
    return " ".join(normalise(a).split()) == " ".join(normalise(b).split())


@rate_limited
async def follow_command(update: Update, context: Context) -> None:
    """/follow <topic>: save a standing question for this chat; confirm and show today's answer."""
    state, chat = bot_state(context), update.effective_chat
    if chat is None:
        return
    topic = _argument(update)
    if refusal := question_refusal(topic, messages.FOLLOW_USAGE):
        template, values = refusal
        await reply_html(update, context, html_message(template, **values))
        return
    store, settings = state.follows, state.settings
    existing = await asyncio.to_thread(store.follows, chat.id)
    if duplicate := next((f for f in existing if _same_topic(f.topic, topic)), None):
        await reply_html(update, context, html_message(messages.FOLLOW_DUPLICATE, topic=_shown(duplicate.topic)))
        return
    saved = await asyncio.to_thread(store.add, chat.id, topic, settings.follow_max_topics)
    if saved is None:
        await reply_html(update, context, html_message(messages.FOLLOW_LIMIT, limit=number(settings.follow_max_topics)))
        return
    answer = await asyncio.to_thread(state.answerer.answer, topic)
    confirm = html_message(messages.FOLLOW_SAVED, topic=_shown(topic), cap=number(settings.follow_max_pushes_per_day))
    now = messages.FOLLOW_NOW if answer.answered else messages.FOLLOW_NOTHING_YET
    await reply_html(update, context, confirm + "\n" + html_message(now))
    if answer.answered:
        qid = state.questions.add(answer.question, chat.id, answer.plan)
        await send_answer(context, chat.id, answer, qid, reply_target(update))


def following_text(follows: list[Follow]) -> str:
    """The numbered list of a chat's topics (HTML)."""
    if not follows:
        return html_message(messages.FOLLOWING_NONE)
    items = "\n".join(messages.FOLLOWING_ITEM.format(number=n, topic=_shown(f.topic))
                      for n, f in enumerate(follows, 1))
    return html_message(messages.FOLLOWING_LIST, topics=items)


def following_keyboard(follows: list[Follow]) -> InlineKeyboardMarkup | None:
    """One stop button per topic, in list order (None when there is none)."""
    if not follows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        messages.BUTTON_UNFOLLOW.format(number=n, topic=one_line(f.topic, BUTTON_TOPIC)),
        callback_data=f"{UNFOLLOW_PREFIX}:{f.id}")] for n, f in enumerate(follows, 1)])


@rate_limited
async def following_command(update: Update, context: Context) -> None:
    """/following: the chat's topics with a stop button each."""
    state, chat = bot_state(context), update.effective_chat
    if chat is None:
        return
    follows = await asyncio.to_thread(state.follows.follows, chat.id)
    await send_html(context, chat.id, following_text(follows), reply_to=reply_target(update),
                    markup=following_keyboard(follows))


def _position(text: str) -> int | None:
    """``N`` of ``/unfollow N`` (Arabic-Indic digits too), None if it is not a positive number."""
    text = text.strip().lstrip("#")
    if not text or not text.isdecimal() or len(text) > 4:
        return None
    value = int(text)
    return value if value >= 1 else None


@rate_limited
async def unfollow_command(update: Update, context: Context) -> None:
    """/unfollow N: stop the N-th topic of ``/following``."""
    state, chat = bot_state(context), update.effective_chat
    if chat is None:
        return
    argument = _argument(update)
    position = _position(argument)
    if position is None:
        await reply_html(update, context, html_message(messages.UNFOLLOW_USAGE))
        return
    follows = await asyncio.to_thread(state.follows.follows, chat.id)
    if position > len(follows):
        await reply_html(update, context, html_message(messages.UNFOLLOW_UNKNOWN))
        return
    removed = await asyncio.to_thread(state.follows.remove, chat.id, follows[position - 1].id)
    if removed is None:  # stopped meanwhile (a button)
        await reply_html(update, context, html_message(messages.UNFOLLOW_UNKNOWN))
        return
    await reply_html(update, context, html_message(messages.UNFOLLOWED, topic=_shown(removed.topic)))


async def on_unfollow_button(update: Update, context: Context) -> None:
    """A stop button of ``/following``: stop that topic (only this chat's) and refresh the buttons."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    state = bot_state(context)
    if not await within_rate_limit(update, context, state):
        return
    match = _UNFOLLOW.fullmatch(query.data or "")
    removed = await asyncio.to_thread(state.follows.remove, chat.id, int(match["id"])) if match else None
    if removed is None:
        await query.answer(text=messages.STALE_BUTTON)
        return
    await query.answer(text=plain_message(messages.UNFOLLOWED, topic=_shown(removed.topic)))
    follows = await asyncio.to_thread(state.follows.follows, chat.id)
    with contextlib.suppress(BadRequest):  # too old to edit, or unchanged: the stop itself is done
        await query.edit_message_text(following_text(follows), parse_mode=ParseMode.HTML,
                                      reply_markup=following_keyboard(follows), link_preview_options=NO_PREVIEW)
