"""Kill index builds with SIGKILL at random moments and record what the index looks like after each.

Run by ``test_index_faults.py`` as one subprocess::

    python tests/reliability/kill_builds.py CONFIG.json REPORT.json

Why a driver rather than one ``akhbar-index build`` process per kill: starting Python and importing
torch costs ~5-8 s, so 20 kills would take minutes. This script imports once, loads the model
once, builds the baseline index, then per kill ``fork()``s a child that runs the real
:func:`index.build_index` (the function ``akhbar-index build`` and ``update`` run) and sends it
SIGKILL: a real ``kill -9`` of a process in the middle of reading, embedding or writing.
Children report each stage they enter through a pipe, so the report says where each kill landed.
Two kinds of kill: a full build killed after a random delay between 0.2 s and the baseline
build's duration, and an update (which reaches its writing stage at once, since nothing changed)
killed at a random moment of writing, fsyncing, renaming and switching.

After each kill the parent opens the index (checksums verified) and asks the fixed questions, then
runs a normal build over the same corpus (an incremental update: it goes through the same lock,
staging, publish and prune as any build, but embeds nothing, so it is fast). That build is the
index the next kill must leave serving, so its answers are checked after the next kill (and
after the last build). The test compares everything with the baseline; this script only records.

CONFIG keys: model, corpus, index, cache, questions, kills, writing_kills, seed.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from index import Retriever, build_index, load_embedder
from index.embedding.base import Embedder
from index.settings import IndexSettings
from index.stores.faiss.layout import current_build_id


class PipeProgress:
    """Progress that writes each stage's name to a pipe, so the parent knows where the child is."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def start(self, stage: str, total: int | None, unit: str) -> None:
        """Report the stage."""
        os.write(self.fd, f"{stage}\n".encode())

    def advance(self, amount: int = 1) -> None:
        """Nothing to report."""

    def finish(self) -> None:
        """Nothing to report."""


def answers(index_dir: Path, settings: IndexSettings, embedder: Embedder, questions: list[str]) -> dict[str, Any]:
    """Open the index with every checksum verified and ask each question; errors are recorded, not raised."""
    try:
        retriever = Retriever.open(index_dir, settings=settings, embedder=embedder, verify=True)
    except Exception as error:  # noqa: BLE001 - the test asserts there is none
        return {"error": f"{type(error).__name__}: {error}"}
    try:
        return {"answers": {q: [[p.chunk.id, p.score] for p in retriever.search(q, k=5)] for q in questions},
                "articles": retriever.manifest.articles}
    finally:
        retriever.close()


def staging_dirs(index_dir: Path) -> list[str]:
    """Staging directories of builds that never finished."""
    return sorted(path.name for path in (index_dir / "builds").glob(".tmp-*"))


def kill_one_build(corpus: Path, index_dir: Path, embedder: Embedder, delay: float,
                   after_stage: str | None) -> dict[str, Any]:
    """Fork a child that builds; SIGKILL it ``delay`` s after it starts, or after it enters ``after_stage``.

    A kill aimed at a stage kills an update rather than a full build: it gets there sooner.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a build process like any other, until it is killed
        os.close(read_end)
        code = 1
        try:
            build_index([corpus], index_dir, embedder, progress=PipeProgress(write_end), build_threads=1,
                        incremental=after_stage is not None)
            os.write(write_end, b"done\n")
            code = 0
        except BaseException:  # noqa: BLE001 - reported on stderr; the parent sees the exit code
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(write_end)
    started = time.monotonic()
    deadline = None if after_stage else started + delay
    stages: list[str] = []
    buffer = b""
    while True:
        timeout = 0.05 if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([read_end], [], [], timeout)
        if ready:
            chunk = os.read(read_end, 4096)
            if not chunk:
                break  # the child exited (finished or failed) before the kill
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            stages.extend(line.decode() for line in lines)
            if deadline is None and after_stage in stages:
                deadline = time.monotonic() + delay
        elif deadline is not None and time.monotonic() >= deadline:
            break
        if deadline is None and time.monotonic() - started > 120:
            break  # never reached the stage; kill it anyway and let the report show it
    killed_at = time.monotonic() - started
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(read_end)
    return {"kind": "update" if after_stage else "build", "delay": round(delay, 3), "after_stage": after_stage,
            "killed_after": round(killed_at, 3), "stage": stages[-1] if stages else None,
            "killed": os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL,
            "finished": "done" in stages}


def main(config_path: str, report_path: str) -> None:
    """Baseline build, then the kills, each followed by checks and a normal build."""
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    corpus, index_dir, questions = Path(config["corpus"]), Path(config["index"]), config["questions"]
    settings = IndexSettings(index_dir=index_dir, embedding_model=config["model"], cache_dir=Path(config["cache"]),
                             _env_file=None)
    embedder = load_embedder(config["model"], settings.cache_dir)
    rng = random.Random(config["seed"])

    clock = time.monotonic()
    baseline = build_index([corpus], index_dir, embedder, build_threads=1)
    build_seconds = time.monotonic() - clock
    report: dict[str, Any] = {"build_seconds": build_seconds, "write_seconds": baseline.seconds["write"],
                              "baseline": answers(index_dir, settings, embedder, questions), "kills": []}
    plan = [(rng.uniform(0.2, build_seconds), None) for _ in range(config["kills"])]
    plan += [(rng.uniform(0.0, 1.5 * baseline.seconds["write"]), "writing") for _ in range(config["writing_kills"])]
    rng.shuffle(plan)
    clock = time.monotonic()
    for delay, after_stage in plan:
        before = current_build_id(index_dir)
        kill = kill_one_build(corpus, index_dir, embedder, delay, after_stage)
        kill["current_changed"] = current_build_id(index_dir) != before
        kill["leftovers"] = staging_dirs(index_dir)
        kill["after_kill"] = answers(index_dir, settings, embedder, questions)
        try:
            build_index([corpus], index_dir, embedder, incremental=True, build_threads=1)
            kill["next_build"] = "ok"
        except Exception as error:  # noqa: BLE001 - the test asserts there is none
            kill["next_build"] = f"{type(error).__name__}: {error}"
        kill["leftovers_after_next_build"] = staging_dirs(index_dir)
        report["kills"].append(kill)
    report["seconds"] = time.monotonic() - clock
    report["after_last_build"] = answers(index_dir, settings, embedder, questions)
    Path(report_path).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:3])
