"""``akhbar-index`` as a user runs it: real processes, exit codes, one-line errors, --help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SEED_PAGE
from tests.index.conftest import write_jsonl

pytestmark = pytest.mark.e2e


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "index.cli", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})}, cwd=cwd)


@pytest.fixture()
def cli_env(tmp_path: Path, tiny_model_dir: Path) -> dict[str, str]:
    return {"INDEX_DIR": str(tmp_path / "index"), "EMBEDDING_MODEL": str(tiny_model_dir),
            "CACHE_DIR": str(tmp_path / "cache")}


def test_build_search_info_update(tmp_path: Path, cli_env: dict[str, str], news_records) -> None:  # noqa: ANN001
    corpus = write_jsonl(tmp_path / "news.jsonl", news_records[:20])
    built = run_cli("build", str(corpus), str(SEED_PAGE), env=cli_env, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "21 articles" in built.stderr and "chunks/s" in built.stderr

    found = run_cli("search", "كيم جونج أون الجيش الروسي", "-k", "2", "--json", env=cli_env, cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    results = [json.loads(block) for block in found.stdout.replace("}\n{", "}\x00{").split("\x00")]
    assert len(results) == 2 and results[0]["quote"] in results[0]["passage"]

    info = run_cli("info", env=cli_env, cwd=tmp_path)
    assert info.returncode == 0 and "21" in info.stdout

    updated = run_cli("update", str(corpus), env=cli_env, cwd=tmp_path)
    assert updated.returncode == 0, updated.stderr
    assert "0 embedded" in updated.stderr and "20 articles" in updated.stderr


def test_errors_are_one_line_with_exit_code_1(tmp_path: Path, cli_env: dict[str, str]) -> None:
    missing = run_cli("search", "سؤال", env=cli_env, cwd=tmp_path)
    assert missing.returncode == 1
    assert "no index at" in missing.stderr and "akhbar-index build" in missing.stderr
    assert "Traceback" not in missing.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    nothing = run_cli("build", str(empty), env=cli_env, cwd=tmp_path)
    assert nothing.returncode == 1 and "empty file" in nothing.stderr and "Traceback" not in nothing.stderr


def test_bad_usage_exits_2(tmp_path: Path, cli_env: dict[str, str]) -> None:
    assert run_cli("search", "سؤال", "-k", "0", env=cli_env, cwd=tmp_path).returncode == 2
    assert run_cli("search", "سؤال", "--since", "yesterday", env=cli_env, cwd=tmp_path).returncode == 2
    assert run_cli("frobnicate", env=cli_env, cwd=tmp_path).returncode == 2


@pytest.mark.parametrize("command", ["build", "update", "search", "info", "eval", "migrate"])
def test_every_command_explains_itself(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert "Example" in result.stdout or command == "info"
    assert "--index" in result.stdout or command == "eval"
