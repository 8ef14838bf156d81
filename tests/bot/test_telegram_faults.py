"""Telegram misbehaving, over real HTTP: every question is answered exactly once, and polling goes on.

The delivery policy under test (:mod:`bot.delivery`): a request that provably did nothing (HTTP
5xx, a connection closed without an answer) is sent again with growing waits, a bounded number of
times; one that timed out waiting for the answer is never sent again, because Telegram may have
delivered it, and the fake server, like a slow Telegram, does deliver it. ``getUpdates`` faults
are PTB's polling loop's to retry; updates stay on the server until a later poll confirms them,
so none is lost or handled twice. Flood control (429) is tested in ``test_e2e_bot.py``.
"""

from __future__ import annotations

import logging

import pytest

from bot import messages
from corpus.types import Article
from tests.bot.builders import message_update
from tests.bot.fake_telegram import DROP, DROPPED, Call, FakeTelegram, Fault, conflict, server_error, slow
from tests.bot.helpers import ask, question_from, text_of, ui

pytestmark = [pytest.mark.e2e]

#: Short timeouts and waits, so each fault costs a fraction of a second.
FAST = {"telegram_timeout": 0.5, "telegram_retry_seconds": 0.05}


def attempts(server: FakeTelegram, chat_id: int) -> list[Call]:
    """Every sendMessage the server received for ``chat_id``, failed or not."""
    return [c for c in server.requests("sendMessage", status=None) if c.params.get("chat_id") == chat_id]


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """ERROR records: the error handler's among them ("an update could not be handled")."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(("fault", "count"), [(server_error(500), 2), (server_error(502), 1), (DROP, 2)],
                         ids=["500-twice", "502-once", "dropped-twice"])
async def test_a_send_that_did_nothing_is_sent_again(start_bot, fake_telegram: FakeTelegram,
                                                     known_articles: list[Article], caplog: pytest.LogCaptureFixture,
                                                     fault: Fault, count: int) -> None:
    async with start_bot(**FAST):
        fake_telegram.fail_next("sendMessage", fault, count)
        [answer] = await ask(fake_telegram, question_from(known_articles[3]), chat_id=501)
        [after] = await ask(fake_telegram, question_from(known_articles[4]), chat_id=501)
        await fake_telegram.settle()
    tries = attempts(fake_telegram, 501)
    assert [c.status for c in tries] == [DROPPED if fault.drop else fault.status] * count + [200, 200]
    assert all(c.params["text"] == answer.params["text"] for c in tries[:count]), "the same answer was sent again"
    assert "<blockquote>" in answer.params["text"]
    assert "<blockquote>" in after.params["text"]
    assert len(fake_telegram.sent(501)) == 2, "each answer exactly once"
    assert errors_logged(caplog) == []
    assert "sending it again" in caplog.text


async def test_resends_are_bounded_then_the_reader_is_told(start_bot, fake_telegram: FakeTelegram,
                                                           known_articles: list[Article],
                                                           caplog: pytest.LogCaptureFixture) -> None:
    retries = 2
    async with start_bot(telegram_retries=retries, **FAST):
        fake_telegram.fail_next("sendMessage", server_error(), retries + 1)
        [told] = await ask(fake_telegram, question_from(known_articles[5]), chat_id=502)
        await fake_telegram.settle()
    tries = attempts(fake_telegram, 502)
    assert [c.status for c in tries] == [500] * (retries + 1) + [200]
    assert text_of(told) == ui(messages.ERROR)
    assert any("could not be handled" in line for line in errors_logged(caplog))


async def test_a_send_that_timed_out_is_not_sent_again(start_bot, fake_telegram: FakeTelegram,
                                                       known_articles: list[Article],
                                                       caplog: pytest.LogCaptureFixture) -> None:
    async with start_bot(**FAST):
        fake_telegram.fail_next("sendMessage", slow(1.0))  # twice the bot's read timeout
        fake_telegram.inject(message_update(question_from(known_articles[6]), chat_id=503))
        await fake_telegram.wait_for(lambda: len(fake_telegram.sent(503)) == 1)
        [after] = await ask(fake_telegram, question_from(known_articles[7]), chat_id=503)
        await fake_telegram.settle()
    late, _ = attempts(fake_telegram, 503)
    assert "<blockquote>" in late.params["text"], "the slow send was delivered, once"
    assert "<blockquote>" in after.params["text"]
    assert len(attempts(fake_telegram, 503)) == 2, "no resend after a timeout, and no error message"
    assert "may have delivered it" in caplog.text
    assert errors_logged(caplog) == []


@pytest.mark.parametrize("fault", [server_error(500), DROP, slow(3.0), conflict()],
                         ids=["500", "dropped", "timeout", "409-conflict"])
async def test_polling_goes_on_after_get_updates_faults(start_bot, fake_telegram: FakeTelegram,
                                                        known_articles: list[Article],
                                                        caplog: pytest.LogCaptureFixture, fault: Fault) -> None:
    async with start_bot(**FAST):
        fake_telegram.fail_next("getUpdates", fault, 2)
        fake_telegram.release_polls()  # end the poll in progress, so the next ones meet the faults
        await fake_telegram.wait_for(lambda: fake_telegram.pending_faults("getUpdates") == 1)
        fake_telegram.inject(message_update(question_from(known_articles[8]), chat_id=504))  # waits out a fault
        await fake_telegram.wait_for(lambda: len(fake_telegram.sent(504)) == 1)
        await ask(fake_telegram, question_from(known_articles[9]), chat_id=505)
        await fake_telegram.settle()
    assert [len(fake_telegram.sent(chat)) for chat in (504, 505)] == [1, 1], "each question answered exactly once"
    assert fake_telegram.pending_faults("getUpdates") == 0
    if fault == conflict():
        assert "another process is polling with this bot token" in caplog.text
    else:
        assert errors_logged(caplog) == []
