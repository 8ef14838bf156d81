"""Inline mode: ``@bot question`` typed in any chat answers with up to five article cards.

Each card is one article: its headline as the title, outlet and date as the description, and as
the message the reader sends the usual HTML answer (:func:`bot.render.render_html`) with the
verbatim quote. Cards are answered with a short ``cache_time`` (the archive changes with every
feed refresh) and marked ``is_personal`` when the query was completed from the reader's own
conversation (a follow-up such as «ومتى؟» after a question in the private chat), since another
reader's identical text means something else.

The same rules as in chats apply: ``ALLOWED_CHAT_IDS`` (an inline query has no chat, so the
reader's own id, i.e. their private chat, must be allowed), the per-user rate limit (a refused
query gets a card saying so and costs no search), the calibrated no-answer threshold (a "no
answer" card rather than weak cards). Empty or too-short queries get a hint card: Telegram sends a
query at nearly every keystroke, and searching one or two letters would only spend the reader's
rate limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time

from telegram import InlineQuery, InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode

from bot import messages
from bot.answerer import question_refusal
from bot.handlers import NO_PREVIEW, Context
from bot.memory import chat_key, conversation_key
from bot.render import SHORT_TITLE, html_message, number, one_line, plain_message, render_html
from bot.state import BotState, bot_state
from index import BadQuery, Passage, run_plan

logger = logging.getLogger(__name__)

#: Cards per query at most (one per article).
MAX_CARDS = 5
#: Seconds Telegram may serve the same answer to the same query (short: refreshes add articles).
CACHE_SECONDS = 30
#: Characters a query needs before it is searched.
MIN_QUERY_CHARS = 3
#: Characters of the outlet name in a card's description.
DESCRIPTION_SOURCE = 60


def _card_id(kind: str, text: str) -> str:
    """A result id within Telegram's 64 bytes, stable per article (or per notice)."""
    return f"{kind}-" + hashlib.sha256(text.encode()).hexdigest()[:40]


def notice_card(title: str, text: str) -> InlineQueryResultArticle:
    """A card carrying a notice (hint, no answer, refusal); sending it posts the notice itself."""
    return InlineQueryResultArticle(
        id=_card_id("n", title), title=title, description=text[:200],
        input_message_content=InputTextMessageContent(html_message(text), parse_mode=ParseMode.HTML,
                                                      link_preview_options=NO_PREVIEW))


def article_card(passage: Passage) -> InlineQueryResultArticle:
    """One article's card: title, outlet · date, and the usual answer (its quote) as the message."""
    article = passage.article
    source = one_line(article.source, DESCRIPTION_SOURCE) or messages.UNKNOWN_NAME
    day = article.date.date().isoformat() if article.date else messages.UNKNOWN_NAME
    [text, *_] = render_html([passage])
    return InlineQueryResultArticle(
        id=_card_id("a", article.id), title=one_line(article.title, SHORT_TITLE) or messages.UNTITLED,
        description=plain_message(messages.INLINE_DESCRIPTION, source=source, day=day),
        url=None, input_message_content=InputTextMessageContent(text, parse_mode=ParseMode.HTML,
                                                                link_preview_options=NO_PREVIEW))


def _allowed(state: BotState, user_id: int) -> bool:
    allowed = state.settings.allowed_chat_ids
    return not allowed or user_id in allowed


async def on_inline_query(update: Update, context: Context) -> None:
    """Answer ``@bot question`` (see the module docstring)."""
    query = update.inline_query
    if query is None:
        return
    state = bot_state(context)
    user_id = query.from_user.id
    if not _allowed(state, user_id):
        await _answer(query, [notice_card(messages.INLINE_NOT_ALLOWED_TITLE, messages.NOT_ALLOWED)])
        return
    decision = state.limiter.acquire(user_id)
    if not decision.allowed:
        logger.info("rate-limited inline queries of user %s for %.0f s", user_id, decision.retry_after)
        text = plain_message(messages.RATE_LIMITED, limit=number(state.settings.rate_limit_questions),
                             seconds=number(round(state.settings.rate_limit_seconds)),
                             wait=number(max(1, round(decision.retry_after))))
        await _answer(query, [notice_card(messages.INLINE_RATE_LIMITED_TITLE, text)])
        return
    question = query.query.strip()
    if len(question) < MIN_QUERY_CHARS:
        await _answer(query, [notice_card(messages.INLINE_HINT_TITLE, messages.INLINE_HINT)])
        return
    if refusal := question_refusal(question):
        template, values = refusal
        await _answer(query, [notice_card(messages.INLINE_TOO_LONG_TITLE, plain_message(template, **values))])
        return
    started = time.perf_counter()
    salt = state.settings.feedback_salt.get_secret_value()
    conversation = conversation_key(salt, user_id, None)  # the reader's private chat with the bot
    previous = await asyncio.to_thread(state.memory.previous, conversation, chat_key(salt, user_id), None)
    answerer = state.answerer
    plan = await asyncio.to_thread(answerer.plan, question, previous)
    try:
        results = await asyncio.to_thread(run_plan, answerer.retriever, plan, MAX_CARDS, 0,
                                          threshold=state.settings.no_answer_threshold)
    except BadQuery:
        await _answer(query, [notice_card(messages.INLINE_HINT_TITLE, messages.INLINE_HINT)])
        return
    state.stats.record(time.perf_counter() - started, results.answered)
    if not results.answered or not results.passages:
        await _answer(query, [notice_card(messages.INLINE_NO_ANSWER_TITLE, messages.NO_ANSWER)],
                      personal=plan.followup is not None)
        return
    cards = [article_card(p) for p in results.passages[:MAX_CARDS]]
    await _answer(query, cards, personal=plan.followup is not None)


async def _answer(query: InlineQuery, cards: list[InlineQueryResultArticle], personal: bool = True) -> None:
    """Answer the query; notices are personal (they depend on who asks), article cards when context applied."""
    await query.answer(cards, cache_time=CACHE_SECONDS, is_personal=personal)
