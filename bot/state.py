"""What the bot shares between handlers, kept in ``application.bot_data`` under one key.

One typed object instead of loose dictionary keys: the settings, the answerer (the retriever,
loaded once in ``post_init``), the feedback and follow stores, the question memory behind the buttons, the
conversations (for follow-up questions), the rate limiter, serving figures, and the chats
already refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, CallbackContext

from bot.answerer import Answerer
from bot.callbacks import QuestionStore
from bot.feedback import FeedbackStore
from bot.follow import FollowStore
from bot.limiter import SlidingWindowLimiter
from bot.memory import ContextStore, MemoryContext, open_context
from bot.settings import BotSettings
from bot.stats import ServingStats
from index import Embedder

STATE_KEY = "akhbar"


@dataclass(slots=True)
class BotState:
    """Shared resources of one running bot.

    Attributes:
        settings: The bot's settings.
        limiter: Per-user question limit.
        questions: Questions behind the inline buttons.
        memory: The turns of each conversation, for follow-up questions (not PTB's ``context``).
        stats: Serving figures for ``/stats``.
        embedder: A model already in memory to open the index with (else loaded in ``post_init``).
        refused_chats: Chats outside ``ALLOWED_CHAT_IDS`` that were told so once.
    """

    settings: BotSettings
    limiter: SlidingWindowLimiter
    questions: QuestionStore = field(default_factory=QuestionStore)
    memory: ContextStore = field(default_factory=MemoryContext)
    stats: ServingStats = field(default_factory=ServingStats)
    embedder: Embedder | None = None
    refused_chats: set[int] = field(default_factory=set)
    loaded_answerer: Answerer | None = None
    loaded_feedback: FeedbackStore | None = None
    loaded_follows: FollowStore | None = None

    @classmethod
    def create(cls, settings: BotSettings, embedder: Embedder | None = None) -> BotState:
        """State for a new application; the index and feedback store open later, in ``post_init``."""
        return cls(settings=settings, embedder=embedder,
                   limiter=SlidingWindowLimiter(settings.rate_limit_questions, settings.rate_limit_seconds),
                   memory=open_context(settings.context_db, settings.context_turns, settings.context_minutes))

    @property
    def answerer(self) -> Answerer:
        """The loaded answerer (``post_init`` opens it before any update is handled)."""
        if self.loaded_answerer is None:
            raise RuntimeError("the index is not loaded yet: post_init has not run")
        return self.loaded_answerer

    @property
    def feedback(self) -> FeedbackStore:
        """The open feedback store."""
        if self.loaded_feedback is None:
            raise RuntimeError("the feedback store is not open yet: post_init has not run")
        return self.loaded_feedback

    @property
    def follows(self) -> FollowStore:
        """The open store of standing questions and pushes (:mod:`bot.follow`)."""
        if self.loaded_follows is None:
            raise RuntimeError("the follow store is not open yet: post_init has not run")
        return self.loaded_follows


def bot_state(source: CallbackContext[Any, Any, Any, Any] | Application[Any, Any, Any, Any, Any, Any]) -> BotState:
    """The :class:`BotState` of a handler's context or of an application."""
    state = source.bot_data[STATE_KEY]
    if not isinstance(state, BotState):
        raise TypeError(f"bot_data[{STATE_KEY!r}] holds {type(state).__name__}, not BotState")
    return state
