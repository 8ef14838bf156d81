"""Callback data: short, parseable, and forged or stale data rejected."""

from __future__ import annotations

import pytest
from telegram.constants import InlineKeyboardButtonLimit

from bot.callbacks import (
    FeedbackRequest,
    MoreRequest,
    Page,
    QuestionStore,
    feedback_data,
    more_data,
    parse_callback,
)


def test_round_trip_and_size() -> None:
    store = QuestionStore()
    qid = store.add("سؤال طويل جداً " * 50, chat_id=-1001234567890)
    for data, expected in ((more_data(qid, 97), MoreRequest(qid, 97)),
                           (feedback_data(qid, 3, True), FeedbackRequest(qid, 3, True)),
                           (feedback_data(qid, 0, False), FeedbackRequest(qid, 0, False))):
        assert len(data.encode()) <= InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
        assert parse_callback(data) == expected


@pytest.mark.parametrize("data", [
    None, "", "m", "m:", "m:abc:0", "m:abcdefgh", "m:abcdefgh:-1", "m:abcdefgh:1000", "m:abcdefgh:101",
    "m:abcdefgh:0:1", "f:abcdefgh:0", "f:abcdefgh:0:2", "f:abcdefgh:x:1", "x:abcdefgh:0", "m:abcdéfgh:0",
    "m:abcdefgh:0\n", "m:abcdefgh:٣", "m:ab'defgh:0", "f:abcdefgh:0:1:extra",
], ids=lambda d: repr(d))
def test_forged_data_is_rejected(data: str | None) -> None:
    assert parse_callback(data) is None


def test_pages_are_found_only_for_their_chat_and_offset() -> None:
    store = QuestionStore()
    qid = store.add("سؤال", chat_id=7)
    store.get(qid).pages[0] = Page(("a#0",), has_more=True)
    assert store.page(qid, 0, 7) is not None
    assert store.page(qid, 3, 7) is None, "a page that was never sent"
    assert store.page(qid, 0, 8) is None, "a button replayed in another chat"
    assert store.page("zzzzzzzz", 0, 7) is None, "an unknown question"


def test_the_oldest_questions_expire() -> None:
    store = QuestionStore(capacity=3)
    ids = [store.add(f"سؤال {n}", chat_id=1) for n in range(3)]
    store.get(ids[0])  # recently used: survives
    newest = store.add("سؤال جديد", chat_id=1)
    assert store.get(ids[1]) is None
    assert all(store.get(qid) is not None for qid in (ids[0], ids[2], newest))
    assert len(store) == 3
