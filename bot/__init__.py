"""The Telegram bot and its console twin: settings, handlers, rendering, the ``akhbar-bot`` CLI.

It only asks :class:`index.Retriever` and renders what comes back; nothing is generated::

    from bot import BotSettings, build_application
    build_application(BotSettings()).run_polling()
"""

import logging

from bot.answerer import Answer, Answerer
from bot.app import build_application, register_handlers, run
from bot.render import render_html, render_plain
from bot.settings import BotSettings

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "Answer",
    "Answerer",
    "BotSettings",
    "build_application",
    "register_handlers",
    "render_html",
    "render_plain",
    "run",
]
