"""Console mode: one conversation per session (follow-ups, /new), and the period searched is named."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot import messages
from bot.answerer import Answerer
from bot.console import ANSWER_SEPARATOR, run_console
from bot.settings import BotSettings
from corpus.types import Article
from tests.bot.helpers import question_from


def test_the_session_is_one_conversation(make_settings: Callable[..., BotSettings], tiny_embedder,  # noqa: ANN001
                                         known_articles: list[Article], capture_answers: list[Any]) -> None:
    article = known_articles[12]
    question = question_from(article).removeprefix("ماذا جاء في الخبر: ")
    replies: list[str] = []
    answerer = Answerer.open(make_settings(), tiny_embedder)
    count = run_console(answerer, [question, "ومن قال ذلك؟", " ", "/new", "ومن قال ذلك؟",
                                   f"{question} الأسبوع الماضي"], replies.append)
    replies = [reply for reply in replies if reply != ANSWER_SEPARATOR]
    assert count == 5
    assert article.title in replies[0]
    assert capture_answers[1].plan.context_words
    assert replies[1].startswith(article.title), "the follow-up is answered from the same article"
    assert replies[2] == messages.NEW_CONVERSATION
    assert capture_answers[2].plan.followup is None
    assert replies[3] == messages.NO_ANSWER
    assert replies[4].startswith("لا توجد في الأرشيف أخبار من الأسبوع الماضي (")
