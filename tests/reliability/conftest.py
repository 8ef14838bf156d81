"""Fixtures of the reliability suite: the real 300-article sample and a small index built from it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.support import QUESTIONS, Answers, ask
from tests.support.corpora import write_jsonl


@pytest.fixture(scope="session")
def served_index(tmp_path_factory: pytest.TempPathFactory, tiny_embedder, news_records) -> Path:  # noqa: ANN001
    """An index directory of 40 real articles (tiny model); copy it before damaging or rebuilding it."""
    from index import build_index

    folder = tmp_path_factory.mktemp("served")
    build_index([write_jsonl(folder / "news.jsonl", news_records[:40])], folder / "index", tiny_embedder,
                build_threads=1)
    return folder / "index"


@pytest.fixture(scope="session")
def served_answers(served_index: Path, tiny_embedder) -> Answers:  # noqa: ANN001
    """What :data:`QUESTIONS` get from ``served_index``: every copy of it must answer the same."""
    return ask(served_index, tiny_embedder, QUESTIONS)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts; any still running when it ends (a failed assertion) is killed."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()
