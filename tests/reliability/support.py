"""Helpers of the reliability suite: asking the fixed questions, running and reading the CLI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from click.testing import Result

from tests.support.cli import start_cli, tiny_cli_env
from tests.support.corpora import QUESTIONS

__all__ = ["QUESTIONS", "Answers", "ask", "assert_clean_exit", "cli_env", "copy_index", "error_line", "start_cli",
           "staging_dirs"]

#: Per question, the (chunk id, score) pairs returned, best first.
Answers = dict[str, list[tuple[str, float]]]


def ask(index_dir: Path, embedder, questions: list[str]) -> Answers:  # noqa: ANN001
    """Open the index with every checksum verified and ask each question (k=5, default hybrid mode)."""
    from index import IndexSettings, Retriever

    settings = IndexSettings(index_dir=index_dir, embedding_model=embedder.model_id, _env_file=None)
    retriever = Retriever.open(index_dir, settings=settings, embedder=embedder, verify=True)
    try:
        return {q: [(p.chunk.id, p.score) for p in retriever.search(q, k=5)] for q in questions}
    finally:
        retriever.close()


def copy_index(index_dir: Path, target: Path) -> Path:
    """A private copy of an index directory (``current`` stays a relative symlink into the copy)."""
    shutil.copytree(index_dir, target, symlinks=True)
    return target


def staging_dirs(index_dir: Path) -> list[Path]:
    """Staging directories of builds that never finished."""
    return sorted((index_dir / "builds").glob(".tmp-*"))


def cli_env(tmp_path: Path, model_dir: Path, index_dir: Path) -> dict[str, str]:
    """Environment of a real ``akhbar-index`` process (see :func:`tests.support.cli.tiny_cli_env`)."""
    return {**os.environ, **tiny_cli_env(tmp_path, model_dir, index_dir)}


def error_line(stderr: str) -> str:
    """The one ``error:`` line of a failed command, after checking it is alone and not a traceback."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    return errors[0]


def assert_clean_exit(result: Result, code: int) -> None:
    """The in-process CLI exited with ``code`` through typer, not through an unhandled exception."""
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
