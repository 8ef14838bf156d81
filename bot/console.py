"""Console mode: the bot's answers in a terminal or a pipe, with no Telegram at all.

Same retrieval (:class:`bot.answerer.Answerer`), same rendering rules (:func:`bot.render.render_plain`
trims exactly as the Telegram renderer does), same no-answer rule. On the first run without an
index it builds one from the bundled sample corpus, with a progress bar, then answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from bot import messages
from bot.answerer import Answerer, question_refusal
from bot.render import plain_message, render_plain
from bot.settings import BotSettings
from corpus import SAMPLE_CORPUS
from index import BadQuery, IndexNotFound

logger = logging.getLogger(__name__)

ANSWER_SEPARATOR = "─" * 40


def open_or_build(settings: BotSettings, status: Callable[[str], None]) -> Answerer:
    """Open the index; if there is none yet, build it from ``corpus.SAMPLE_CORPUS`` first.

    Raises:
        AkhbarIndexError: the index exists but cannot be served (mismatch, damage), or the build failed.
    """
    try:
        return Answerer.open(settings)
    except IndexNotFound:
        status(messages.CONSOLE_BUILDING)
    from index.cli import run_build  # imports rich's progress machinery only when a build is needed

    run_build(settings, [SAMPLE_CORPUS], incremental=False, wait=True)
    return Answerer.open(settings)


def answer_text(answerer: Answerer, question: str) -> str:
    """The console reply to one question: passages as plain text, or the reason there are none."""
    if refusal := question_refusal(question, empty=messages.UNREADABLE_QUESTION):
        template, values = refusal
        return plain_message(template, **values)
    try:
        answer = answerer.answer(question)
    except BadQuery:
        return plain_message(messages.UNREADABLE_QUESTION)
    return render_plain(answer.passages) if answer.answered else plain_message(messages.NO_ANSWER)


def prompted_lines(prompt: str = messages.CONSOLE_PROMPT) -> Iterator[str]:
    """Questions typed at a terminal, until end of input (Ctrl-D) or Ctrl-C."""
    while True:
        try:
            yield input(prompt)
        except (EOFError, KeyboardInterrupt):
            return


def run_console(answerer: Answerer, questions: Iterable[str], write: Callable[[str], None]) -> int:
    """Answer each non-blank line of ``questions``; returns how many were answered or refused.

    Args:
        answerer: The opened index.
        questions: One question per item (terminal input or piped lines).
        write: Where each reply goes (``print`` with flush for pipes).
    """
    count = 0
    for line in questions:
        question = line.strip()
        if not question:
            continue
        if count:
            write(ANSWER_SEPARATOR)
        write(answer_text(answerer, question))
        count += 1
    return count
