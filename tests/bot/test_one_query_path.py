"""One query path for every front-end: the CLI, the Python ``Retriever`` and the bot answer a time question alike.

"ماذا حدث في السعودية في مارس 2018؟" must search March 2018 only, whichever way it is asked: the
period, the recency rule and the no-answer decision live in ``index.search.plan``, not in the bot.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from index import IndexSettings, Retriever
from tests.bot.fake_telegram import FakeTelegram
from tests.bot.helpers import ask
from tests.bot.telegram_html import parse_telegram_html
from tests.support.cli import run_cli, tiny_cli_env

QUESTION = "ماذا حدث في السعودية في مارس 2018؟"


async def test_cli_python_and_bot_answer_a_time_question_with_the_same_articles(
        start_bot: Any, fake_telegram: FakeTelegram, small_index: Path, tiny_model_dir: Path, tiny_embedder: Any,
        tmp_path: Path) -> None:
    settings = IndexSettings(index_dir=small_index, embedding_model=str(tiny_model_dir), search_mode="lexical",
                             no_answer_threshold=-1.0, _env_file=None)
    retriever = Retriever.open(small_index, settings=settings, embedder=tiny_embedder)
    try:
        python = retriever.ask(QUESTION, k=3)
    finally:
        retriever.close()
    assert python.plan.period is not None
    assert (python.plan.period.since.isoformat(), python.plan.period.until.isoformat()) == ("2018-03-01", "2018-03-31")
    assert python.answered
    assert python.passages
    assert all(p.article.date is not None and p.article.date.strftime("%Y-%m") == "2018-03" for p in python.passages)
    python_urls = [p.article.url for p in python.passages]

    env = {**tiny_cli_env(tmp_path, tiny_model_dir, small_index), "SEARCH_MODE": "lexical"}
    found = run_cli("search", QUESTION, "-k", "3", "--json", env=env, cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert "period: مارس ٢٠١٨" in found.stderr
    records = [json.loads(block) for block in found.stdout.replace("}\n{", "}\x00{").split("\x00")]
    assert [r["url"] for r in records] == python_urls

    raw = run_cli("search", QUESTION, "-k", "3", "--json", "--raw", env=env, cwd=tmp_path)
    assert raw.returncode == 0, raw.stderr
    assert "period:" not in raw.stderr, "--raw searches the words as typed: no period"
    assert raw.stdout.strip(), "and still finds passages"

    async with start_bot(search_mode="lexical", results_per_answer=3):
        [reply] = await ask(fake_telegram, QUESTION, chat_id=42)
    parsed = parse_telegram_html(reply.params["text"])
    assert parsed.headline_links == python_urls
