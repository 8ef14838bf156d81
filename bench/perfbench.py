"""What the performance benchmarks share: archive subsets, child processes with their peak memory.

Every measured step runs in a fresh child process (``python <script> --child <json>``), so its
peak RSS is its own and one step's caches never speed up the next. Subsets of the archive are
written to a scratch folder outside the repository (the archive itself is read in place).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NEWS = ROOT.parent / "shared" / "data" / "news"
ARCHIVE = NEWS / "ant_multisource.jsonl"
HEADLINES = NEWS / "ant_multisource.headlines.jsonl"
RESULTS = ROOT / "bench" / "results"
ARCHIVE_ARTICLES = 29_916


def cpu_summary() -> str:
    """``lscpu``'s model name, CPU count and flags, printed by every benchmark (the machine is shared)."""
    import os

    text = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    fields = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"CPU: {fields.get('Model name', '?')} ({fields.get('CPU(s)', '?')} CPUs), load {load}\n"
            f"flags: {fields.get('Flags', '?')}")


def write_subset(count: int, path: Path) -> Path:
    """Every k-th article of the archive (all sources, categories and months), ``count`` of them."""
    if path.exists():
        return path
    step = max(1, ARCHIVE_ARTICLES // count)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    written = 0
    with ARCHIVE.open(encoding="utf-8") as source, partial.open("w", encoding="utf-8") as target:
        for number, line in enumerate(source):
            if number % step == 0 and written < count:
                target.write(line)
                written += 1
    partial.rename(path)
    return path


def subset_ids(path: Path) -> set[str]:
    """Article ids of a subset file."""
    with path.open(encoding="utf-8") as handle:
        return {json.loads(line)["id"] for line in handle if line.strip()}


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_mb(path: Path) -> float:
    """Size of every file under ``path``, in MB (symlinks not followed)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def run_child(script: Path, task: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run ``script --child TASK`` in a fresh interpreter; its last stdout line is its JSON result."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(script), "--child", json.dumps(task)], capture_output=True,
                          text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{task.get('step')} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(time.perf_counter() - started, 2)
    return result


def child_main(steps: dict[str, Callable[[dict[str, Any]], dict[str, Any]]]) -> bool:
    """If this process is a child, run its step, print the JSON result and return True."""
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        task = json.loads(sys.argv[2])
        result = steps[task["step"]](task)
        result["peak_rss_mb"] = round(peak_rss_mb(), 1)
        print(json.dumps(result))
        return True
    return False


#: Questions asked before timing starts (first-call allocations, caches).
WARM_UP = 10


def timed(call: Callable[[str], object], questions: Sequence[str]) -> list[float]:
    """Seconds of each call after a warm-up."""
    for question in questions[:WARM_UP]:
        call(question)
    values = []
    for question in questions:
        started = time.perf_counter()
        call(question)
        values.append(time.perf_counter() - started)
    return values


def percentiles_ms(values: list[float]) -> dict[str, float]:
    """p50/p95/p99 (nearest rank) and mean of ``values`` (seconds), in milliseconds."""
    ordered = sorted(values)

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))] * 1000

    return {"p50": round(rank(50), 2), "p95": round(rank(95), 2), "p99": round(rank(99), 2),
            "mean": round(sum(ordered) / len(ordered) * 1000, 2), "qps": round(len(ordered) / sum(ordered), 1)}
