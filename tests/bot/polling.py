"""The real application polling a fake Bot API, started and stopped as ``run_polling`` would.

``run_polling`` owns the event loop and waits for a signal, which a test or a benchmark running
its own loop cannot use; this context manager does the same steps around a ``yield``. Shared by
the ``start_bot`` fixture and ``bench/bot_latency.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from telegram.error import TelegramError

from bot.app import ALLOWED_UPDATES, App
from tests.bot.fake_telegram import FakeTelegram

#: Long-poll timeout of the tests: short, so a stopping bot never waits long for its last poll.
POLL_SECONDS = 1


def forward_error(application: App, error: TelegramError) -> None:
    """What ``run_polling`` does with a polling error: hand it to the error handlers, without an update."""
    application.create_task(application.process_error(error=error, update=None))


@contextlib.asynccontextmanager
async def polling(application: App, server: FakeTelegram) -> AsyncIterator[App]:
    """Initialise, run ``post_init``, start polling ``server``; on exit stop everything in order."""
    async with application:
        await application.post_init(application)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=POLL_SECONDS, allowed_updates=ALLOWED_UPDATES,
                                                error_callback=lambda error: forward_error(application, error))
        try:
            yield application
        finally:
            server.release_polls()
            await application.updater.stop()
            await application.stop()
            await application.post_shutdown(application)
