"""Telegram handlers: plain async functions; :func:`bot.app.register_handlers` wires them.

* In a private chat any text is a question; in a group the bot answers when mentioned, when a
  message replies to it, or on ``/ask <question>``.
* A question is searched off the event loop (``asyncio.to_thread``), so many chats are served at
  once; the reply is Telegram HTML with link previews off and, under its last message, buttons
  ordered for right-to-left readers: 👎 👍 المزيد.
* "typing…" is shown only when an answer takes longer than ``TYPING_DELAY`` (and renewed while it
  lasts): outgoing calls share one flood budget (30/s), and a typing action before every fast
  answer halved the answers the bot could send per second.
* Every reply to a user counts against that user's rate limit (:func:`within_rate_limit`):
  questions, refusals of empty or over-long ones, and the commands (:mod:`bot.commands`), so no
  one can make the bot send unbounded messages. The limit is per sender: a user, or the chat an
  anonymous group admin (or a channel) speaks as, so anonymous admins of one group share one
  bucket but not one across every group.
* Buttons carry ids only (:mod:`bot.callbacks`); forged or expired ones get a short notice.
* Each answered question is remembered for its conversation (:mod:`bot.memory`): a follow-up
  ("ومتى؟") is completed from the last one, or from the answer it replies to; ``/new`` forgets.
* :func:`gate` runs first for every update and keeps chats outside ``ALLOWED_CHAT_IDS`` out
  after telling each of them once.
"""

from __future__ import annotations

import asyncio
import html
import logging
import math
import time
from dataclasses import dataclass
from typing import Generic, TypeVar

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, MessageEntityType, ParseMode
from telegram.error import BadRequest, Conflict, TelegramError, TimedOut
from telegram.ext import ApplicationHandlerStop, ContextTypes, ExtBot

from bot import messages
from bot.answerer import Answer, question_refusal
from bot.callbacks import (
    AskedQuestion,
    FeedbackRequest,
    MoreRequest,
    Page,
    feedback_data,
    more_data,
    parse_callback,
)
from bot.delivery import outcome_unknown
from bot.memory import Turn, chat_key, conversation_key
from bot.render import answer_note, guard, html_message, no_answer_text, number, render_html
from bot.state import BotState, bot_state
from index import BadQuery

logger = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
#: Seconds an answer may take before "typing…" is shown; and how often it is renewed after
#: that (Telegram shows it for about 5 s).
TYPING_DELAY = 1.0
TYPING_RENEW = 4.5


# -- sending ------------------------------------------------------------------------------------

async def send_html(context: Context, chat_id: int, text: str, *, reply_to: int | None = None,
                    markup: InlineKeyboardMarkup | None = None) -> Message | None:
    """Send one HTML message, link previews off, optionally as a reply.

    Returns:
        The message sent, or None when Telegram did not answer in time: it may have delivered the
        message, so it is taken as sent, not sent again (at most once, see :mod:`bot.delivery`).
    """
    reply = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) if reply_to else None
    guarded = guard(text)
    if guarded is not text:
        logger.warning("a message to chat %s was over Telegram's length limit and was cut", chat_id)
        text = guarded
    try:
        return await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML,
                                              link_preview_options=NO_PREVIEW, reply_parameters=reply,
                                              reply_markup=markup)
    except TimedOut as error:
        if not outcome_unknown(error):
            raise
        logger.warning("no answer in time to a message for chat %s; Telegram may have delivered it, so it is "
                       "not sent again", chat_id)
        return None


def reply_target(update: Update) -> int | None:
    """The message to reply to: in groups the asker's, so the thread stays readable; none in private."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None or chat.type == ChatType.PRIVATE:
        return None
    return message.message_id


async def reply_html(update: Update, context: Context, text: str) -> None:
    """Answer in the update's chat (as a reply in groups)."""
    if update.effective_chat is not None:
        await send_html(context, update.effective_chat.id, text, reply_to=reply_target(update))


def answer_keyboard(qid: str, offset: int, has_more: bool) -> InlineKeyboardMarkup:
    """👎 👍 [المزيد], left to right, so a right-to-left reader meets "more" first."""
    row = [InlineKeyboardButton(messages.BUTTON_BAD, callback_data=feedback_data(qid, offset, False)),
           InlineKeyboardButton(messages.BUTTON_GOOD, callback_data=feedback_data(qid, offset, True))]
    if has_more:
        row.append(InlineKeyboardButton(messages.BUTTON_MORE, callback_data=more_data(qid, offset)))
    return InlineKeyboardMarkup([row])


async def send_answer(context: Context, chat_id: int, answer: Answer, qid: str | None,
                      reply_to: int | None = None) -> tuple[int, ...]:
    """Send a page of passages (several messages if long) with its buttons, or the no-answer text.

    Args:
        context: The handler's context.
        chat_id: Where to send.
        answer: The page to show; it opens with the period searched, when there is one.
        qid: The question's id in the store; the page is recorded under it before sending, so a
            button pressed at once already finds it. None for a page without buttons.
        reply_to: Message to reply to with the first message (groups).

    Returns:
        The ids of the messages sent (those Telegram confirmed).
    """
    state = bot_state(context)
    if not answer.answered or qid is None:
        template, values = no_answer_text(answer)
        sent = await send_html(context, chat_id, html_message(template, **values), reply_to=reply_to)
        return (sent.message_id,) if sent else ()
    asked = state.questions.get(qid)
    if asked is not None:
        asked.pages[answer.offset] = Page(tuple(p.chunk.id for p in answer.passages), answer.has_more)
    texts = render_html(answer.passages, note=answer_note(answer) if answer.offset == 0 else "")
    ids = []
    for index, text in enumerate(texts):
        last = index == len(texts) - 1
        sent = await send_html(context, chat_id, text, reply_to=reply_to if index == 0 else None,
                               markup=answer_keyboard(qid, answer.offset, answer.has_more) if last else None)
        if sent is not None:
            ids.append(sent.message_id)
    return tuple(ids)


async def _typing(context: Context, chat_id: int) -> None:
    """Show "typing…"; a failure here must not cost the answer."""
    try:
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
    except TelegramError as error:
        logger.debug("chat action failed: %s", error)


async def _typing_while_slow(context: Context, chat_id: int, done: asyncio.Event) -> None:
    """Show "typing…" once ``done`` has not been set for ``TYPING_DELAY`` s, renewed until it is.

    An action already being sent is finished, not cancelled, so it never arrives after the answer.
    """
    wait = TYPING_DELAY
    while True:
        try:
            await asyncio.wait_for(done.wait(), wait)
            return
        except TimeoutError:
            await _typing(context, chat_id)
            wait = TYPING_RENEW


# -- the allow-list gate --------------------------------------------------------------------------

async def gate(update: Update, context: Context) -> None:
    """Stop updates from chats outside ``ALLOWED_CHAT_IDS``; tell each such chat once."""
    state = bot_state(context)
    allowed = state.settings.allowed_chat_ids
    chat = update.effective_chat
    if not allowed or chat is None or chat.id in allowed:
        return
    if chat.id not in state.refused_chats and _addressed_to_bot(update, context.bot):
        state.refused_chats.add(chat.id)
        logger.info("refusing chat %s (not in ALLOWED_CHAT_IDS)", chat.id)
        await send_html(context, chat.id, html_message(messages.NOT_ALLOWED))
    raise ApplicationHandlerStop


def _addressed_to_bot(update: Update, bot: ExtBot[None]) -> bool:
    """A private message, a command, or a group message that mentions or replies to the bot."""
    message = update.message
    if message is None or not message.text:
        return False
    if message.chat.type == ChatType.PRIVATE or message.text.startswith("/"):
        return True
    return group_question(message, bot) is not None


# -- questions ------------------------------------------------------------------------------------

def group_question(message: Message, bot: ExtBot[None]) -> str | None:
    """The question in a group message addressed to the bot (its mention removed), else None."""
    text = message.text or ""
    mention = f"@{bot.username}".lower()
    mentions = {value for value in message.parse_entities([MessageEntityType.MENTION]).values()
                if value.lower() == mention}
    if mentions:
        for value in mentions:
            text = text.replace(value, " ")
        return text.strip()
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        return text
    return None


async def on_private_text(update: Update, context: Context) -> None:
    """Any text in a private chat is a question."""
    if update.effective_message is not None:
        await ask(update, context, update.effective_message.text or "")


async def on_group_text(update: Update, context: Context) -> None:
    """In groups, answer only messages that mention or reply to the bot."""
    message = update.effective_message
    if message is None:
        return
    question = group_question(message, context.bot)
    if question is not None:
        await ask(update, context, question)


async def ask_command(update: Update, context: Context) -> None:
    """``/ask <question>``: the text after the command (any chat)."""
    text = update.effective_message.text if update.effective_message else ""
    parts = (text or "").split(maxsplit=1)
    await ask(update, context, parts[1] if len(parts) > 1 else "")


async def ask(update: Update, context: Context, question: str) -> None:
    """Rate-limit, check, search off the loop (following the conversation) and send the first page."""
    started = time.perf_counter()
    state = bot_state(context)
    chat = update.effective_chat
    if chat is None:
        return
    if not await within_rate_limit(update, context, state):
        return
    if refusal := question_refusal(question):
        template, values = refusal
        await reply_html(update, context, html_message(template, **values))
        return
    _schedule_reload(context, state)
    conversation, chat_hash = conversation_keys(update, state)
    replied = _replied_answer(update, context.bot)
    done = asyncio.Event()
    typing = asyncio.create_task(_typing_while_slow(context, chat.id, done))
    try:
        previous = await asyncio.to_thread(state.memory.previous, conversation, chat_hash, replied)
        answer = await asyncio.to_thread(state.answerer.answer, question, previous=previous)
    except BadQuery:
        await reply_html(update, context, html_message(messages.EMPTY_QUESTION))
        return
    finally:
        done.set()
        await typing
    qid = state.questions.add(answer.question, chat.id, answer.plan) if answer.answered else None
    sent = await send_answer(context, chat.id, answer, qid, reply_target(update))
    turn = Turn(query=answer.query, article_ids=answer.article_ids if answer.answered else (), period=answer.period,
                message_ids=sent)
    await asyncio.to_thread(state.memory.add, conversation, chat_hash, turn)
    state.stats.record(time.perf_counter() - started, answer.answered)


def conversation_keys(update: Update, state: BotState) -> tuple[str, str]:
    """Keys of the update's conversation (the chat, or the user within a group) and of its chat."""
    chat, user = update.effective_chat, update.effective_user
    salt = state.settings.feedback_salt.get_secret_value()
    chat_id = chat.id if chat else 0
    in_group = chat is not None and chat.type != ChatType.PRIVATE
    return (conversation_key(salt, chat_id, user.id if in_group and user else None),
            chat_key(salt, chat_id))


def _replied_answer(update: Update, bot: ExtBot[None]) -> int | None:
    """Id of the bot's message the question replies to, if it replies to one."""
    message = update.effective_message
    replied = message.reply_to_message if message else None
    if replied is None or replied.from_user is None or replied.from_user.id != bot.id:
        return None
    return replied.message_id


def rate_limit_key(update: Update) -> int:
    """Whose window an update counts in: its sender (a user, or the chat an anonymous admin speaks as).

    Anonymous group admins all arrive as one Telegram user (``GroupAnonymousBot``) with the group
    as ``sender_chat``; keyed by that user they would share one bucket across every group.
    """
    message = update.effective_message
    if update.callback_query is None and message is not None and message.sender_chat is not None:
        return message.sender_chat.id
    user, chat = update.effective_user, update.effective_chat
    return user.id if user else chat.id if chat else 0


async def within_rate_limit(update: Update, context: Context, state: BotState) -> bool:
    """Count one reply against its sender's window; tell the sender once when over it, then stay silent."""
    key = rate_limit_key(update)
    decision = state.limiter.acquire(key)
    if decision.allowed:
        return True
    logger.info("rate-limited user %s for %.0f s", key, decision.retry_after)
    if decision.notify:
        text = html_message(messages.RATE_LIMITED, limit=number(state.settings.rate_limit_questions),
                            seconds=number(math.ceil(state.settings.rate_limit_seconds)),
                            wait=number(max(1, math.ceil(decision.retry_after))))
        if update.callback_query is not None:
            await update.callback_query.answer(text=_plain(text), show_alert=True)
        else:
            await reply_html(update, context, text)
    elif update.callback_query is not None:
        await update.callback_query.answer()
    return False


def _plain(html_text: str) -> str:
    """A tag-free :func:`html_message` result for popups (which take plain text)."""
    return html.unescape(html_text)


def _schedule_reload(context: Context, state: BotState) -> None:
    """Start opening a new build in a worker thread when ``INDEX_DIR/current`` has switched."""
    answerer = state.answerer
    if answerer.reload_due():
        context.application.create_task(asyncio.to_thread(answerer.reload), name="akhbar-index-reload")


# -- buttons --------------------------------------------------------------------------------------

Request = TypeVar("Request", MoreRequest, FeedbackRequest)


@dataclass(frozen=True, slots=True)
class Press(Generic[Request]):
    """A genuine button press: the decoded data, its question and the page the button is under."""

    query: CallbackQuery
    request: Request
    asked: AskedQuestion
    page: Page


async def genuine_press(update: Update, context: Context, kind: type[Request]) -> Press[Request] | None:
    """Decode and check a press; forged or expired data is answered with a notice and gives None."""
    query, chat = update.callback_query, update.effective_chat
    if query is None:
        return None
    request = parse_callback(query.data)
    if isinstance(request, kind) and chat is not None:
        found = bot_state(context).questions.page(request.qid, request.offset, chat.id)
        if found is not None:
            return Press(query, request, *found)
    logger.info("stale or forged callback data %r", (query.data or "")[:80])
    await query.answer(text=messages.STALE_BUTTON)
    return None


async def on_more(update: Update, context: Context) -> None:
    """"المزيد": send the next page of the same question and drop the button from the old page."""
    press = await genuine_press(update, context, MoreRequest)
    if press is None:
        return
    state = bot_state(context)
    if not press.page.has_more or press.page.more_sent:
        await press.query.answer()
        return
    if not await within_rate_limit(update, context, state):
        return
    press.page.more_sent = True
    await press.query.answer()
    await _drop_more_button(press.query, press.request.qid, press.request.offset)
    next_offset = press.request.offset + len(press.page.chunk_ids)
    plan = press.asked.plan
    if plan is not None:  # the same search as the first page: context words, period, order
        answer = await asyncio.to_thread(state.answerer.search, plan, next_offset)
    else:
        answer = await asyncio.to_thread(state.answerer.answer, press.asked.text, next_offset)
    await send_answer(context, press.asked.chat_id, answer, press.request.qid if answer.answered else None)


async def _drop_more_button(query: CallbackQuery, qid: str, offset: int) -> None:
    try:
        await query.edit_message_reply_markup(answer_keyboard(qid, offset, has_more=False))
    except BadRequest as error:  # message too old to edit, or already edited: harmless
        logger.debug("could not edit the keyboard: %s", error)


async def on_feedback(update: Update, context: Context) -> None:
    """👍/👎: store the vote (once per user and page) with the chunks the reader saw."""
    press = await genuine_press(update, context, FeedbackRequest)
    user = update.effective_user
    if press is None or user is None:
        return
    state = bot_state(context)
    voter = state.feedback.user_hash(user.id)
    if voter in press.page.rated_by:
        await press.query.answer(text=messages.FEEDBACK_ALREADY)
        return
    press.page.rated_by.add(voter)
    await asyncio.to_thread(state.feedback.record, question=press.asked.text, chunk_ids=press.page.chunk_ids,
                            page_offset=press.request.offset, good=press.request.good, user_id=user.id,
                            build_id=state.answerer.build_id)
    if press.asked.push:
        await asyncio.to_thread(state.follows.record_vote, press.request.good)
    await press.query.answer(text=messages.FEEDBACK_THANKS)


async def on_unknown_button(update: Update, context: Context) -> None:
    """Callback data this bot never sends: answer it (stops the spinner) and ignore it."""
    await genuine_press(update, context, MoreRequest)


# -- errors ---------------------------------------------------------------------------------------

async def on_error(update: object, context: Context) -> None:
    """Log the traceback first, then tell the reader in Arabic that something went wrong.

    Without an update the error is polling's own (``getUpdates`` failed): one line says what it
    means, since PTB goes on polling after it, with growing waits.
    """
    if update is None and isinstance(context.error, TelegramError):
        _log_polling_error(context.error)
        return
    logger.error("an update could not be handled", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await send_html(context, update.effective_chat.id, html_message(messages.ERROR))
        except TelegramError as error:
            logger.warning("could not tell the chat about the error: %s", error)


def _log_polling_error(error: TelegramError) -> None:
    if isinstance(error, Conflict):
        logger.error("another process is polling with this bot token (409 Conflict): each update goes to only "
                     "one of them; stop the other one. Polling goes on.")
    else:
        logger.warning("getUpdates failed (%s); polling goes on", error)
