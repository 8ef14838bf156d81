"""Follow-ups with the real model: context must find the right article far more often, and harm nothing else.

Replays the 55 dialogues of ``tests/data/dialogues_ar.jsonl`` over the 300-article sample indexed
with the real default model (``bench/conversation_eval.py`` prints the same figures, with
ablations). Measured when written: follow-ups top-1 85.9 % with context vs 31.8 % without, top-3
96.5 % vs 50.6 %; standalone turns and first questions after another dialogue 100 % unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answerer import Answerer
from bot.dialogues import load_dialogues, replay, summarise
from bot.settings import BotSettings
from index import Retriever
from tests.support.paths import REPO_ROOT

pytestmark = pytest.mark.slow

DIALOGUES = REPO_ROOT / "tests" / "data" / "dialogues_ar.jsonl"


def test_context_finds_follow_ups_and_leaves_other_questions_alone(real_sample_index: Path, real_embedder) -> None:  # noqa: ANN001
    settings = BotSettings(_env_file=None, index_dir=real_sample_index, results_per_answer=3)
    answerer = Answerer(Retriever.open(real_sample_index, settings=settings, embedder=real_embedder), settings)
    dialogues = load_dialogues(DIALOGUES)
    without = replay(answerer, dialogues, context=False)
    summary = summarise(replay(answerer, dialogues, context=True), without,
                        replay(answerer, dialogues, context=True, across=True))

    followup = summary["followup"]
    assert followup["turns"] == 85
    assert summary["followups_detected"] >= 0.95
    assert followup["top1_with"] >= followup["top1_without"] + 0.3, followup
    assert followup["top3_with"] >= followup["top3_without"] + 0.3, followup
    assert followup["top1_with"] >= 0.75, followup
    other = summary["followup_other_article"]
    assert other["top3_with"] >= 0.7, "follow-ups answered by another article still find it among the top 3"
    standalone, changes = summary["standalone"], summary["first_after_other_dialogue"]
    assert standalone["turns"] == 15
    assert standalone["same_top"] >= 0.95, standalone
    assert changes["turns"] == 54
    assert changes["same_top"] >= 0.95, changes
