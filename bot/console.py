"""Console mode: the bot's answers in a terminal or a pipe, with no Telegram at all.

Same retrieval (:class:`bot.answerer.Answerer`), same rendering rules (:func:`bot.render.render_plain`
trims exactly as the Telegram renderer does), same no-answer rule, same follow-ups: the session is
one conversation (its last ``CONTEXT_TURNS`` questions, in memory), and ``/new`` forgets it. On
the first run without an index it builds one from the bundled sample corpus, with a progress
bar, then answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from bot import messages
from bot.answerer import Answerer, question_refusal
from bot.memory import ContextStore, MemoryContext, Turn
from bot.render import answer_note, no_answer_text, plain_message, render_plain
from bot.settings import BotSettings
from corpus import SAMPLE_CORPUS
from index import BadQuery, IndexNotFound

logger = logging.getLogger(__name__)

ANSWER_SEPARATOR = "─" * 40
#: The console session is a single conversation (keys are only needed to tell conversations apart).
_SESSION = "console"
NEW_COMMAND = "/new"


def open_or_build(settings: BotSettings, status: Callable[[str], None]) -> Answerer:
    """Open the index; if there is none yet, build it from ``corpus.SAMPLE_CORPUS`` first.

    Raises:
        AkhbarIndexError: the index exists but cannot be served (mismatch, damage), or the build failed.
    """
    try:
        return Answerer.open(settings)
    except IndexNotFound:
        status(messages.CONSOLE_BUILDING)
    from index.build.run import run_build  # imports rich's progress machinery only when a build is needed

    run_build(settings, [SAMPLE_CORPUS], incremental=False, wait=True)
    return Answerer.open(settings)


def answer_text(answerer: Answerer, question: str, context: ContextStore | None = None) -> str:
    """The console reply to one question: passages as plain text, or the reason there are none.

    Args:
        answerer: The opened index.
        question: The line typed.
        context: The session's conversation: a follow-up is completed from its last turn, and the
            answer is remembered in it. None answers the question alone.
    """
    if context is not None and question.strip() == NEW_COMMAND:
        context.clear(_SESSION)
        return plain_message(messages.NEW_CONVERSATION)
    if refusal := question_refusal(question, empty=messages.UNREADABLE_QUESTION):
        template, values = refusal
        return plain_message(template, **values)
    previous = context.previous(_SESSION, _SESSION) if context is not None else None
    try:
        answer = answerer.answer(question, previous=previous)
    except BadQuery:
        return plain_message(messages.UNREADABLE_QUESTION)
    if context is not None:
        context.add(_SESSION, _SESSION, Turn(query=answer.query, period=answer.period,
                                             article_ids=answer.article_ids if answer.answered else ()))
    if not answer.answered:
        template, values = no_answer_text(answer)
        return plain_message(template, **values)
    return render_plain(answer.passages, note=answer_note(answer))


def prompted_lines(prompt: str = messages.CONSOLE_PROMPT) -> Iterator[str]:
    """Questions typed at a terminal, until end of input (Ctrl-D) or Ctrl-C."""
    while True:
        try:
            yield input(prompt)
        except (EOFError, KeyboardInterrupt):
            return


def run_console(answerer: Answerer, questions: Iterable[str], write: Callable[[str], None]) -> int:
    """Answer each non-blank line of ``questions`` as one conversation; returns how many got a reply.

    Args:
        answerer: The opened index (its settings give ``CONTEXT_TURNS`` and ``CONTEXT_MINUTES``).
        questions: One question per item (terminal input or piped lines); ``/new`` starts afresh.
        write: Where each reply goes (``print`` with flush for pipes).
    """
    settings = answerer.settings
    context = MemoryContext(settings.context_turns, settings.context_minutes, capacity=1)
    count = 0
    for line in questions:
        question = line.strip()
        if not question:
            continue
        if count:
            write(ANSWER_SEPARATOR)
        write(answer_text(answerer, question, context))
        count += 1
    return count
