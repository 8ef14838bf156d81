"""Reply latency of the real bot over loopback HTTP: update delivered → sendMessage received.

Starts the fake Bot API of the tests (``tests/bot/fake_telegram.py``) on 127.0.0.1, runs the real
application (long polling, AIORateLimiter, handlers, worker-thread search) over an index built
with the real default model, and asks sample300 headlines as questions:

* sequential: one question at a time (the latency a lone reader sees);
* bursts: ``--burst`` chats asking at once (queueing behind the CPU-bound search on 2 cores).

For each it prints p50 / p95 / p99 / max of the time from the fake server handing the update to the
bot (the ``getUpdates`` response) to the fake server receiving the answer's ``sendMessage``, and,
for comparison, the bare search time (``Answerer.answer`` called directly).

    python bench/bot_latency.py                       # reuses bench/results/calibration-index if built
    python bench/bot_latency.py --questions 100 --burst 10 --index-dir /tmp/akhbar-latency

No network: the model comes from ~/.cache/akhbar, Telegram is the local fake.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from botbench import HEADLINES, MODEL, NEWS, RESULTS, describe_latency
from pydantic import SecretStr

from bot.answerer import Answerer
from bot.app import build_application
from bot.settings import BotSettings
from index import Embedder, build_index, load_embedder
from index.settings import default_cache_dir
from tests.bot.builders import message_update
from tests.bot.fake_telegram import TOKEN, FakeTelegram
from tests.bot.polling import polling


async def ask_all(server: FakeTelegram, questions: list[str], burst: int, first_chat: int) -> list[float]:
    """Ask in groups of ``burst`` chats at once; latency of each question's first reply message."""
    latencies = []
    for start in range(0, len(questions), burst):
        group = list(enumerate(questions[start:start + burst], start=first_chat + start))
        update_ids = {chat: server.inject(message_update(text, chat_id=chat)) for chat, text in group}
        await server.wait_for(lambda ids=update_ids: all(server.sent(chat) for chat in ids), timeout=120)
        for chat, update_id in update_ids.items():
            latencies.append(server.sent(chat)[0].at - server.delivered_at[update_id])
    return latencies


async def run(settings: BotSettings, embedder: Embedder, questions: list[str], burst: int) -> dict[str, list[float]]:
    """Start the fake server and the bot; measure sequential and burst latencies."""
    server = FakeTelegram()
    await server.start()
    application = build_application(settings.model_copy(update={"telegram_base_url": server.base_url}),
                                    embedder=embedder)
    try:
        async with polling(application, server):
            await ask_all(server, questions[:3], 1, 1)  # warm-up: first-call allocations, thread pool
            sequential = await ask_all(server, questions, 1, 10_000)
            bursts = await ask_all(server, questions, burst, 20_000)
    finally:
        await server.stop()
    return {"sequential": sequential, f"burst_{burst}": bursts}


def main() -> None:
    """Build or reuse the index, run the bot against the fake server, print percentiles."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, default=RESULTS / "calibration-index",
                        help="an index built with the default model; built from sample300 when missing")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--burst", type=int, default=10, help="chats asking at once in the burst run")
    parser.add_argument("--json", type=Path, default=RESULTS / "bot_latency.json")
    args = parser.parse_args()

    embedder = load_embedder(MODEL, default_cache_dir())
    if not (args.index_dir / "current").exists():
        print(f"# building {args.index_dir} from {NEWS.name} …", flush=True)
        build_index([NEWS], args.index_dir, embedder)
    questions = [json.loads(line)["query"] for line in HEADLINES.read_text(encoding="utf-8").splitlines()]
    questions = questions[:args.questions]
    with tempfile.TemporaryDirectory(prefix="akhbar-latency-") as workdir:
        settings = BotSettings(_env_file=None, index_dir=args.index_dir, embedding_model=MODEL,
                               cache_dir=default_cache_dir(), telegram_bot_token=SecretStr(TOKEN),
                               feedback_db=Path(workdir) / "feedback.sqlite", rate_limit_questions=10_000)
        answerer = Answerer.open(settings, embedder)
        search = []
        for question in questions:
            started = time.perf_counter()
            answerer.answer(question)
            search.append(time.perf_counter() - started)
        results = {"search_only": search, **asyncio.run(run(settings, embedder, questions, args.burst))}
    for name, values in results.items():
        print(f"{name:>14}: {describe_latency(values)}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({name: sorted(values) for name, values in results.items()}, indent=1),
                         encoding="utf-8")
    print(f"written {args.json}")


if __name__ == "__main__":
    main()
