"""Feedback storage (durable, user ids only as salted hashes) and serving figures."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from bot.feedback import FeedbackStore, hash_user
from bot.stats import ServingStats


def test_votes_are_stored_durably_without_user_ids(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "feedback.sqlite"
    store = FeedbackStore(path, salt="pepper")
    store.record(question="ماذا قال الوزير؟", chunk_ids=("a#0", "b#2"), page_offset=0, good=True,
                 user_id=987654321, build_id="b1")
    store.record(question="سؤال آخر", chunk_ids=("c#1",), page_offset=3, good=False, user_id=5, build_id="b1")
    store.close()
    reopened = FeedbackStore(path, salt="pepper")
    assert reopened.counts() == (1, 1)
    rows = sqlite3.connect(path).execute(
        "SELECT question, chunk_ids, page_offset, verdict, user_hash, build_id FROM feedback ORDER BY id").fetchall()
    assert rows[0] == ("ماذا قال الوزير؟", json.dumps(["a#0", "b#2"]), 0, 1,
                       hashlib.sha256(b"pepper987654321").hexdigest(), "b1")
    assert "987654321" not in path.read_bytes().decode("latin-1")


def test_hashes_depend_on_the_salt() -> None:
    assert hash_user(5, "a") != hash_user(5, "b")
    assert hash_user(5, "a") == hash_user(5, "a")


def test_latency_percentiles_and_no_answer_rate() -> None:
    stats = ServingStats(window=1000)
    assert stats.percentile(50) is None
    assert stats.no_answer_rate == 0
    for n in range(1, 101):
        stats.record(n / 1000, answered=n % 4 != 0)
    assert stats.served == 100
    assert stats.no_answer_rate == pytest.approx(0.25)
    assert stats.percentile(50) == pytest.approx(0.050)
    assert stats.percentile(95) == pytest.approx(0.095)


def test_latency_window_is_bounded() -> None:
    stats = ServingStats(window=10)
    for n in range(100):
        stats.record(float(n), answered=True)
    assert stats.percentile(0.1) == 90.0
