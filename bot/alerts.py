"""Push alerts: after a feed refresh, the standing questions (:mod:`bot.follow`) meet the articles it added.

:func:`push_new_articles` runs once per refresh that swapped in a new build
(:func:`bot.refresh.refresh_job`):

1. **What is new** is the difference of the article fingerprints of the two builds' manifests
   (:func:`added_article_ids`), not the feed run's own list: a run that fetched articles but
   could not index them (another build held the lock) leaves them for the next one, which then
   adds them, and they are pushed then. Milvus manifests carry no fingerprints: there the feed
   run's own articles are taken.
2. **Only the new articles are searched.** :class:`index.SearchFilters` has no article-id filter,
   so each topic is searched *inside* the days the new articles carry (one day of margin either
   side: the stored day is the article's own local date), and the results are kept only when
   their article is one of the new ones. The date filter runs inside the store's search (FAISS id
   selector and BM25 mask, or a Milvus expression), so the cost is that of searching a few days,
   not the archive, whatever the number of followers. A new article without a date makes the
   window the whole archive for that run (still verified by id). Searching each new article's
   chunks directly would need store internals the bot must not touch; an ``article_ids`` field in
   ``SearchFilters`` would make the window exact (see the report of issue #19).
3. **The bar** is ``FOLLOW_THRESHOLD`` on the passage's cosine relevance, never below
   ``NO_ANSWER_THRESHOLD`` (:attr:`bot.settings.BotSettings.push_threshold`): a wrong alert
   interrupts a reader who asked nothing, so it must be more certain than an answer.
4. **No spam** (:func:`plan_pushes`): a story is pushed once per chat: its keys (the article ids
   of every outlet the retriever folded into it, and its normalised headline) are remembered, so
   the same story from another outlet in a later refresh is not pushed again, and two outlets of
   one refresh that the retriever did not fold are one passage, "also reported by"; one refresh's
   matches for one chat are merged into one message of at most :data:`MAX_PUSH_ARTICLES`
   articles, best first; a chat gets at most ``FOLLOW_MAX_PUSHES_PER_DAY`` pushes per UTC day.
5. **Sending** goes through the bot (PTB's ``AIORateLimiter`` spaces it within Telegram's flood
   limits) in the usual answer format, opened by a line naming the followed topic(s), with the
   👎/👍 buttons; a chat that blocked the bot or no longer exists (``Forbidden``, "chat not found")
   has its follows dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import messages
from bot.callbacks import Page
from bot.follow import Follow
from bot.handlers import answer_keyboard, send_html
from bot.render import one_line, render_html
from bot.rtl import isolate_ltr_runs
from bot.state import BotState
from corpus.arabic import normalise
from corpus.types import Article
from index import MAX_K, BadQuery, Passage, Retriever, SearchFilters, plan_question

logger = logging.getLogger(__name__)

#: Articles in one push message at most (the best of one refresh's matches for one chat).
MAX_PUSH_ARTICLES = 3
#: Days either side of the new articles' own days searched (a stored day is the article's local date).
DAY_MARGIN = timedelta(days=1)
#: Characters of a topic shown in the push's opening line.
TOPIC_CHARS = 80
#: Telegram's answers meaning the chat is gone for the bot: it was blocked, kicked or deleted.
_GONE = ("chat not found", "bot was blocked", "bot was kicked", "user is deactivated", "group chat was deleted")


@dataclass(frozen=True, slots=True)
class Match:
    """A new article that answers a standing question well enough to push."""

    follow: Follow
    passage: Passage


@dataclass(slots=True)
class Push:
    """One message for one chat: up to :data:`MAX_PUSH_ARTICLES` passages and the topics they matched.

    Attributes:
        chat_id: Where it goes.
        passages: Best first.
        topics: The followed topics the passages matched, in order of first match.
        story_keys: Keys of every story carried (see :func:`story_keys`), remembered once sent.
    """

    chat_id: int
    passages: list[Passage] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    story_keys: list[str] = field(default_factory=list)


def added_article_ids(before: Mapping[str, str], after: Mapping[str, str], fetched: Sequence[str] = ()) -> list[str]:
    """Ids of the articles of the new build that the old one did not have.

    FAISS manifests list every article's fingerprint, so the difference is exact (articles a
    previous run fetched but could not index are included). Milvus keeps fingerprints in its
    article collection, not in the manifest (``after`` is empty): then the articles this feed run
    fetched are taken (the run keeps only articles it did not know, by URL or content);
    :func:`find_matches` keeps those the new build really holds.
    """
    if not after:
        return list(dict.fromkeys(fetched))
    return [article_id for article_id in after if article_id not in before]


def window(articles: Iterable[Article]) -> SearchFilters:
    """The days to search for these new articles (with a margin); no restriction if one has no date."""
    days = []
    for article in articles:
        if article.date is None:
            return SearchFilters()
        days.append(article.date.date())
    if not days:
        return SearchFilters()
    return SearchFilters(since=min(days) - DAY_MARGIN, until=max(days) + DAY_MARGIN)


def find_matches(retriever: Retriever, follows: Sequence[Follow], new_ids: Sequence[str], threshold: float, *,
                 dialect_rewrite: bool = True) -> list[Match]:
    """Search every standing question among the new articles only; keep what clears ``threshold``.

    Blocking (embeds one query per follow): run it in a worker thread.

    Args:
        retriever: The build that holds the new articles.
        follows: Every standing question.
        new_ids: Ids of the articles the refresh added.
        threshold: The push bar on :attr:`index.Passage.relevance`.
        dialect_rewrite: Match dialect words as MSA (as questions are).
    """
    new = set(new_ids)
    articles = retriever.metadata.articles(list(new))
    if not articles or not follows:
        return []
    filters = window(articles.values())
    k = min(MAX_K, max(10, 2 * len(articles)))  # room for the old articles of the same days
    matches: list[Match] = []
    for follow in follows:
        plan = plan_question(follow.topic, None, dialect_rewrite=dialect_rewrite)
        try:
            passages = retriever.search(plan.query, k, filters=filters)
        except BadQuery:
            continue
        matches.extend(Match(follow, p) for p in passages if p.article.id in new and p.relevance >= threshold)
    return matches


def story_keys(passage: Passage) -> list[str]:
    """What identifies a passage's story: every folded outlet's article id and its normalised headline."""
    keys = []
    for article in (passage.article, *passage.duplicates):
        keys.append(f"a:{article.id}")
        title = " ".join(normalise(article.title).split())
        if title:
            keys.append(f"t:{title[:200]}")
    return keys


def plan_pushes(matches: Iterable[Match], seen: Callable[[int, Iterable[str]], bool],
                limit: int = MAX_PUSH_ARTICLES) -> list[Push]:
    """Group one refresh's matches into one message per chat, dropping stories the chat already got.

    Args:
        matches: Every match of the refresh.
        seen: Whether a chat was already sent a story with any of these keys (:meth:`FollowStore.seen`).
        limit: Articles per message at most.
    """
    by_chat: dict[int, list[Match]] = {}
    for match in matches:
        by_chat.setdefault(match.follow.chat_id, []).append(match)
    pushes = []
    for chat_id, found in by_chat.items():
        push = Push(chat_id)
        taken: dict[str, int] = {}  # story key -> index of its passage in the push
        for match in sorted(found, key=lambda m: -m.passage.relevance):
            keys = story_keys(match.passage)
            same = next((taken[key] for key in keys if key in taken), None)
            if same is not None:  # the same story again (another topic or another outlet): one passage
                push.passages[same] = _also_reported(push.passages[same], match.passage)
                taken.update(dict.fromkeys(keys, same))
                push.story_keys.extend(k for k in keys if k not in push.story_keys)
                if match.follow.topic not in push.topics:
                    push.topics.append(match.follow.topic)
                continue
            if len(push.passages) >= limit or seen(chat_id, keys):
                continue
            taken.update(dict.fromkeys(keys, len(push.passages)))
            push.passages.append(match.passage)
            push.story_keys.extend(keys)
            if match.follow.topic not in push.topics:
                push.topics.append(match.follow.topic)
        if push.passages:
            pushes.append(push)
    return pushes


def _also_reported(kept: Passage, other: Passage) -> Passage:
    """``kept`` with the articles of ``other`` (the same story elsewhere) listed as "also reported by"."""
    known = {kept.article.id, *(a.id for a in kept.duplicates)}
    extra = tuple(a for a in (other.article, *other.duplicates) if a.id not in known)
    return replace(kept, duplicates=kept.duplicates + extra) if extra else kept


def push_note(topics: Sequence[str]) -> str:
    """The plain line opening a push: which followed topic(s) it answers."""
    shown = "» و«".join(isolate_ltr_runs(one_line(topic, TOPIC_CHARS)) for topic in topics)
    return messages.PUSH_TOPIC.format(topics=shown)


def chat_gone(error: TelegramError) -> bool:
    """Telegram says the bot can no longer write to this chat (blocked, kicked, deleted)."""
    if isinstance(error, Forbidden):
        return True
    return isinstance(error, BadRequest) and any(text in error.message.lower() for text in _GONE)


async def push_new_articles(context: ContextTypes.DEFAULT_TYPE, state: BotState, new_ids: Sequence[str]) -> int:
    """Push the new articles that match standing questions (see the module docstring); returns messages sent.

    Never raises for one chat's failure: the others are still served.
    """
    store = state.follows
    follows = await asyncio.to_thread(store.every_follow)
    if not follows or not new_ids:
        return 0
    settings = state.settings
    matches = await asyncio.to_thread(find_matches, state.answerer.retriever, follows, new_ids,
                                      settings.push_threshold, dialect_rewrite=settings.dialect_rewrite)
    pushes = await asyncio.to_thread(plan_pushes, matches, store.seen)
    today = datetime.now(UTC).date()
    sent = 0
    for push in pushes:
        if await asyncio.to_thread(store.pushes_on, push.chat_id, today) >= settings.follow_max_pushes_per_day:
            logger.info("chat %s reached its %d pushes today; %d new article(s) not pushed", push.chat_id,
                        settings.follow_max_pushes_per_day, len(push.passages))
            continue
        try:
            await _send(context, state, push)
        except TelegramError as error:
            if chat_gone(error):
                dropped = await asyncio.to_thread(store.drop_chat, push.chat_id)
                logger.info("chat %s is gone (%s): dropped its %d follow(s)", push.chat_id, error, dropped)
            else:
                logger.warning("a push to chat %s failed: %s", push.chat_id, error)
            continue
        await asyncio.to_thread(store.record_push, push.chat_id, push.story_keys, today)
        sent += 1
    logger.info("follows: %d new article(s), %d follow(s), %d match(es), %d push(es) sent", len(new_ids),
                len(follows), len(matches), sent)
    return sent


async def _send(context: ContextTypes.DEFAULT_TYPE, state: BotState, push: Push) -> None:
    """Send one push (usually one message) with 👎/👍 under its last message.

    The push is remembered like an asked question so its buttons work; the votes count as push votes.
    """
    qid = state.questions.add(" / ".join(push.topics), push.chat_id)
    asked = state.questions.get(qid)
    assert asked is not None
    asked.push = True
    asked.pages[0] = Page(tuple(p.chunk.id for p in push.passages), has_more=False)
    texts = render_html(push.passages, note=push_note(push.topics))
    for index, text in enumerate(texts):
        markup = answer_keyboard(qid, 0, has_more=False) if index == len(texts) - 1 else None
        await send_html(context, push.chat_id, text, markup=markup)
