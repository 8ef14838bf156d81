"""Index faults: builds killed with SIGKILL, damaged files, two builds at once, a full disk.

The promise under test (design.md, "The index on disk"): a reader never sees a half-written
index, a crash mid-build leaves the previous one serving, and damage is detected on open with a
message that says what to run. "Serving" is checked strictly: after each fault the index opens
with every checksum verified and answers fixed questions with the same chunks and scores.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from index import BuildReport, build_index
from index.cli import app
from index.stores.faiss.layout import current_build_id, resolve_build
from index.stores.faiss.metadata import write_metadata
from index.stores.faiss.vectors import write_vectors
from index.stores.lexical import LexicalIndex
from tests.reliability.support import (
    QUESTIONS,
    Answers,
    ask,
    assert_clean_exit,
    cli_env,
    copy_index,
    error_line,
    staging_dirs,
    start_cli,
)
from tests.support.corpora import write_jsonl

KILLS = 20
#: Extra kills of updates at a random moment of their writing stage (write, fsync, rename, switch).
WRITING_KILLS = 4
#: Real articles in the killed builds: a full build takes ~1.5-2.5 s with the tiny model on 2 cores.
KILL_CORPUS_ARTICLES = 150


# --- kill -9 ------------------------------------------------------------------------------------------

@pytest.mark.slow  # a kill -9 loop of ~1 min: CI's slow step
def test_builds_killed_at_random_points_never_disturb_the_served_index(
        tmp_path: Path, tiny_model_dir: Path, news_records: list[dict]) -> None:
    """SIGKILL real build processes 24 times, at seeded random points, over 150 real articles.

    One driver subprocess (``kill_builds.py``) imports torch once and forks each build: the child
    runs the same ``build_index`` as ``akhbar-index build``/``update`` and the parent kills it
    with SIGKILL, after a random delay between 0.2 s and a full build's duration (20 full
    builds) or at a random moment of its writing stage (4 updates). That is a real ``kill -9`` of
    a process writing the index, at ~1-2 s per kill instead of ~8 s per fresh Python process.
    After every kill: the index opens (checksums verified) and answers exactly as before, whatever
    staging directories killed builds left; the next build succeeds and removes them.
    """
    corpus = write_jsonl(tmp_path / "news.jsonl", news_records[:KILL_CORPUS_ARTICLES])
    config = {"model": str(tiny_model_dir), "corpus": str(corpus), "index": str(tmp_path / "index"),
              "cache": str(tmp_path / "cache"), "questions": QUESTIONS, "kills": KILLS,
              "writing_kills": WRITING_KILLS, "seed": 20260611}
    (tmp_path / "config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error"}
    driver = subprocess.run([sys.executable, str(Path(__file__).with_name("kill_builds.py")),
                             str(tmp_path / "config.json"), str(tmp_path / "report.json")],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=400)
    assert driver.returncode == 0, driver.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))

    baseline = report["baseline"]
    assert baseline.get("articles") == KILL_CORPUS_ARTICLES, baseline
    done = report["kills"]
    assert len(done) == KILLS + WRITING_KILLS
    for number, kill in enumerate(done):
        where = f"kill {number} ({kill['kind']} in its {kill['stage']} stage, after {kill['killed_after']} s)"
        assert kill["after_kill"] == baseline, where
        assert kill["next_build"] == "ok", where
        assert kill["leftovers_after_next_build"] == [], where
    assert report["after_last_build"] == baseline
    interrupted = [kill for kill in done if kill["killed"] and not kill["finished"]]
    # The kills really land mid-build: in the long embedding stage and while files are being written.
    assert len(interrupted) >= (KILLS + WRITING_KILLS) // 2, [(k["stage"], k["killed_after"]) for k in done]
    assert {"embedding", "writing"} <= {kill["stage"] for kill in interrupted}
    assert any(kill["leftovers"] for kill in interrupted), "no kill caught a build with files half-written"
    print(f"\n{len(interrupted)} of {len(done)} builds killed mid-way (stages "
          f"{sorted({k['stage'] for k in interrupted})}, {sum(bool(k['leftovers']) for k in interrupted)} with files "
          f"half-written); full build {report['build_seconds']:.1f} s; kills {report['seconds']:.0f} s in all; "
          f"the index served identically after every kill")


# --- damaged files ------------------------------------------------------------------------------------

def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _scribble(path: Path) -> None:
    """Overwrite 64 bytes in the middle with 0xFF: same size, different content (invalid UTF-8 too)."""
    with path.open("r+b") as handle:
        handle.seek(path.stat().st_size // 2)
        handle.write(b"\xff" * 64)


DAMAGES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "vectors-truncated": ("vectors.faiss", _truncate, "vectors.faiss has"),
    "vectors-corrupted": ("vectors.faiss", _scribble, "vectors.faiss does not match its checksum"),
    "chunk-db-truncated": ("chunks.sqlite", _truncate, "chunks.sqlite has"),
    "chunk-db-corrupted": ("chunks.sqlite", _scribble, "chunks.sqlite does not match its checksum"),
    "manifest-truncated": ("manifest.json", _truncate, "manifest.json is not valid JSON"),
    "manifest-corrupted": ("manifest.json", _scribble, "manifest.json is not valid JSON"),
    "lexical-file-missing": ("lexical/vocab.index.json", Path.unlink, "lexical/vocab.index.json is missing"),
}


def _damaged_copy(served_index: Path, tmp_path: Path, damage: str) -> Path:
    index_dir = copy_index(served_index, tmp_path / "index")
    name, spoil, _ = DAMAGES[damage]
    spoil(resolve_build(index_dir) / name)
    return index_dir


@pytest.mark.parametrize("command", ["search", "info"])
@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_index_is_refused_with_one_line_and_exit_1(
        tmp_path: Path, served_index: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch,
        damage: str, command: str) -> None:
    index_dir = _damaged_copy(served_index, tmp_path, damage)
    monkeypatch.setenv("EMBEDDING_MODEL", str(tiny_model_dir))
    monkeypatch.chdir(tmp_path)
    args = ["search", "أسعار النفط"] if command == "search" else ["info"]
    result = CliRunner().invoke(app, [*args, "--index", str(index_dir)])
    assert_clean_exit(result, 1)
    line = error_line(result.stderr)
    assert f"index at {index_dir}" in line
    assert f"is damaged ({DAMAGES[damage][2]}" in line
    assert "; rebuild it with: akhbar-index build SOURCE... --index " in line  # says what to run
    assert result.stdout == ""


@pytest.mark.e2e
def test_damaged_index_fails_real_processes_with_exit_1_and_no_traceback(
        tmp_path: Path, served_index: Path, tiny_model_dir: Path, processes: list[subprocess.Popen[str]]) -> None:
    index_dir = _damaged_copy(served_index, tmp_path, "vectors-truncated")
    env = cli_env(tmp_path, tiny_model_dir, index_dir)
    processes.append(start_cli("search", "أسعار النفط", env=env, cwd=tmp_path))
    processes.append(start_cli("info", env=env, cwd=tmp_path))
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 1, stderr
        assert stderr.count("\n") == 1  # one line, nothing else
        assert "vectors.faiss has" in error_line(stderr)
        assert stdout == ""


# --- two builds at once -------------------------------------------------------------------------------

class PausedProgress:
    """A progress sink that holds a build at the start of ``stage`` until released: a build caught mid-way."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.reached = threading.Event()
        self.release = threading.Event()

    def start(self, stage: str, total: int | None, unit: str) -> None:
        if stage == self.stage:
            self.reached.set()
            assert self.release.wait(300), "never released"

    def advance(self, amount: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


def _waiting_for_lock(pid: int) -> bool:
    """True when ``pid`` is blocked waiting for a flock (``/proc/locks`` marks waiters with ``->``)."""
    return any(line.split()[1:2] == ["->"] and str(pid) in line.split()
               for line in Path("/proc/locks").read_text().splitlines())


@pytest.mark.e2e
def test_second_build_is_refused_with_the_holders_pid_or_queues_with_wait(
        tmp_path: Path, tiny_embedder, tiny_model_dir: Path, news_records: list[dict],  # noqa: ANN001
        processes: list[subprocess.Popen[str]]) -> None:
    """A build holds the lock mid-way; ``akhbar-index build`` refuses, ``build --wait`` queues behind it."""
    index_dir = tmp_path / "index"
    first = write_jsonl(tmp_path / "first.jsonl", news_records[:30])
    second = write_jsonl(tmp_path / "second.jsonl", news_records[30:50])
    paused = PausedProgress("embedding")
    finished: list[BuildReport] = []
    holder = threading.Thread(target=lambda: finished.append(
        build_index([first], index_dir, tiny_embedder, progress=paused, build_threads=1)))
    holder.start()
    try:
        assert paused.reached.wait(60)
        env = cli_env(tmp_path, tiny_model_dir, index_dir)
        refused = start_cli("build", str(second), env=env, cwd=tmp_path)
        queued = start_cli("build", str(second), "--wait", env=env, cwd=tmp_path)
        processes.extend((refused, queued))

        _, stderr = refused.communicate(timeout=180)
        assert refused.returncode == 1
        line = error_line(stderr)
        assert f"another build is writing the index at {index_dir} (pid {os.getpid()})" in line
        assert "pass --wait to queue behind it" in line

        deadline = time.monotonic() + 180
        while not _waiting_for_lock(queued.pid):
            assert queued.poll() is None, queued.communicate()[1]
            assert time.monotonic() < deadline, "build --wait never queued on the lock"
            time.sleep(0.05)
    finally:
        paused.release.set()
        holder.join(120)
    assert [report.articles for report in finished] == [30]  # the first build finished undisturbed
    _, stderr = queued.communicate(timeout=180)
    assert queued.returncode == 0, stderr
    assert ": 20 articles, " in stderr

    published = sorted(path.name for path in (index_dir / "builds").iterdir())
    assert len(published) == 2  # the first build and, current, the queued one
    assert current_build_id(index_dir) == f"builds/{published[-1]}"
    answers = ask(index_dir, tiny_embedder, QUESTIONS)
    second_ids = {record["id"] for record in news_records[30:50]}
    assert all(chunk_id.split("#")[0] in second_ids for hits in answers.values() for chunk_id, _ in hits)


# --- a full disk --------------------------------------------------------------------------------------

def _full_disk(real: Callable[..., object]) -> Callable[..., object]:
    """Wrap a writer: it writes, then its file is cut to half and ENOSPC raised, as on a disk that fills up."""

    def write(*args: object, **kwargs: object) -> object:
        real(*args, **kwargs)
        target = next(Path(arg) for arg in args if isinstance(arg, Path))
        written = max((p for p in target.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size) \
            if target.is_dir() else target
        written.write_bytes(written.read_bytes()[: written.stat().st_size // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(written))

    return write


def _fsync_full_disk(path: Path) -> None:
    """With delayed allocation a full disk is often reported only by fsync."""
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


#: Where the disk fills up: what to patch, and its replacement.
FULL_DISK_AT: dict[str, tuple[str, Callable[..., object]]] = {
    "writing-vectors": ("index.stores.faiss.store.write_vectors", _full_disk(write_vectors)),
    "writing-chunk-database": ("index.stores.faiss.store.write_metadata", _full_disk(write_metadata)),
    "writing-lexical-index": ("index.stores.lexical.LexicalIndex.save", _full_disk(LexicalIndex.save)),
    "fsync-before-publish": ("index.stores.faiss.layout._fsync_file", _fsync_full_disk),
}


def _builds(index_dir: Path) -> list[str]:
    return sorted(path.name for path in (index_dir / "builds").iterdir())


@pytest.mark.parametrize("where", list(FULL_DISK_AT))
def test_full_disk_fails_the_build_and_loses_nothing(
        tmp_path: Path, served_index: Path, served_answers: Answers, tiny_embedder, news_records: list[dict],  # noqa: ANN001
        monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    index_dir = copy_index(served_index, tmp_path / "index")
    before, builds_before = current_build_id(index_dir), _builds(index_dir)
    monkeypatch.setattr(*FULL_DISK_AT[where])
    with pytest.raises(OSError, match="No space left on device") as caught:
        build_index([write_jsonl(tmp_path / "new.jsonl", news_records[40:60])], index_dir, tiny_embedder,
                    build_threads=1)
    assert caught.value.errno == errno.ENOSPC
    assert current_build_id(index_dir) == before
    assert _builds(index_dir) == builds_before  # nothing published, no staging left taking space
    monkeypatch.undo()
    assert ask(index_dir, tiny_embedder, QUESTIONS) == served_answers


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Make this process's writes past ``limit`` bytes of a file fail (EFBIG), as a disk filling up mid-file.

    Unlike a patched function, this fails the real writes inside FAISS, SQLite and numpy. Python
    ignores SIGXFSZ, so the write call fails instead of the process being killed.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


@pytest.mark.parametrize("file_name", ["vectors.faiss", "chunks.sqlite"], ids=["faiss-writer", "sqlite-writer"])
def test_write_failures_inside_faiss_and_sqlite_become_one_clear_os_error(
        tmp_path: Path, served_index: Path, served_answers: Answers, tiny_embedder, news_records: list[dict],  # noqa: ANN001
        file_name: str) -> None:
    """FAISS raises RuntimeError and SQLite OperationalError on a failed write; callers get an OSError."""
    index_dir = copy_index(served_index, tmp_path / "index")
    before, builds_before = current_build_id(index_dir), _builds(index_dir)
    sizes = {name: (resolve_build(index_dir) / name).stat().st_size for name in ("vectors.faiss", "chunks.sqlite")}
    assert sizes["chunks.sqlite"] > 4 * sizes["vectors.faiss"]  # so a limit between them fails only SQLite
    limit = sizes["vectors.faiss"] // 2 if file_name == "vectors.faiss" else 2 * sizes["vectors.faiss"]
    corpus = write_jsonl(tmp_path / "new.jsonl", news_records[40:80])
    with pytest.raises(OSError, match=f"cannot write {file_name}: ") as caught, file_size_limit(limit):
        build_index([corpus], index_dir, tiny_embedder, build_threads=1)
    assert "\n" not in str(caught.value)
    assert current_build_id(index_dir) == before
    assert _builds(index_dir) == builds_before
    assert ask(index_dir, tiny_embedder, QUESTIONS) == served_answers


@pytest.mark.parametrize("command", ["build", "update"])
def test_cli_on_a_full_disk_says_why_in_one_line_and_the_next_build_succeeds(
        tmp_path: Path, served_index: Path, served_answers: Answers, tiny_embedder, tiny_model_dir: Path,  # noqa: ANN001
        news_records: list[dict], monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    index_dir = copy_index(served_index, tmp_path / "index")
    before = current_build_id(index_dir)
    corpus = write_jsonl(tmp_path / "new.jsonl", news_records[40:60])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BUILD_THREADS", "1")
    args = [command, str(corpus), "--index", str(index_dir), "--model", str(tiny_model_dir)]
    with monkeypatch.context() as patch:
        patch.setattr(*FULL_DISK_AT["writing-chunk-database"])
        failed = CliRunner().invoke(app, args)
    assert_clean_exit(failed, 1)
    line = error_line(failed.stderr)
    assert line.startswith("error: build failed, the previous index is still current: No space left on device: ")
    assert "chunks.sqlite" in line
    assert current_build_id(index_dir) == before
    assert staging_dirs(index_dir) == []
    assert ask(index_dir, tiny_embedder, QUESTIONS) == served_answers

    retried = CliRunner().invoke(app, args)
    assert_clean_exit(retried, 0)
    assert ": 20 articles, " in retried.stderr
    assert current_build_id(index_dir) != before
