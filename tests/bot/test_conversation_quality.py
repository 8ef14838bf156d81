"""Follow-ups with the real model: context must find the right article far more often, and harm nothing else.

Replays the 55 dialogues of ``tests/data/dialogues_ar.jsonl`` over the 300-article sample indexed
with the real default model (``bench/conversation_eval.py`` prints the same figures, with
ablations). Measured when written: follow-ups top-1 85.9 % with context vs 31.8 % without, top-3
96.5 % vs 50.6 %; standalone turns and first questions after another dialogue 100 % unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.answerer import Answerer
from bot.dialogues import load_dialogues, replay, summarise
from bot.settings import BotSettings
from index import Retriever, build_index
from index.embedcache import EmbeddingCache
from index.settings import default_cache_dir
from tests.conftest import NEWS_SAMPLE, REPO_ROOT

pytestmark = pytest.mark.slow

DIALOGUES = REPO_ROOT / "tests" / "data" / "dialogues_ar.jsonl"


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Path:  # noqa: ANN001
    """The 300-article sample indexed with the real default model.

    Embedding its 1,060 chunks takes 1-2 min on 2 cores; the vectors are kept in the embedding cache
    beside the converted model, so later runs build in seconds.
    """
    folder = tmp_path_factory.mktemp("sample300-default-model")
    cache_dir = Path(os.environ.get("AKHBAR_TEST_CACHE", default_cache_dir())) / "embeddings"
    cache = EmbeddingCache(cache_dir, real_embedder.model_id, real_embedder.backend, real_embedder.dimension)
    try:
        build_index([NEWS_SAMPLE], folder / "index", real_embedder, cache=cache)
    finally:
        cache.close()
    return folder / "index"


def test_context_finds_follow_ups_and_leaves_other_questions_alone(sample_index: Path, real_embedder) -> None:  # noqa: ANN001
    settings = BotSettings(_env_file=None, index_dir=sample_index, results_per_answer=3)
    answerer = Answerer(Retriever.open(sample_index, settings=settings, embedder=real_embedder), settings)
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
