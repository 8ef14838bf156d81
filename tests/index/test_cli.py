"""``akhbar-index`` as a user runs it: real processes, exit codes, one-line errors, --help."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.corpora import write_jsonl
from tests.support.paths import SEED_PAGE

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli_env(tmp_path: Path, tiny_model_dir: Path) -> dict[str, str]:
    return {"INDEX_DIR": str(tmp_path / "index"), "EMBEDDING_MODEL": str(tiny_model_dir),
            "CACHE_DIR": str(tmp_path / "cache")}


def test_build_search_info_update(tmp_path: Path, cli_env: dict[str, str], news_records) -> None:  # noqa: ANN001
    corpus = write_jsonl(tmp_path / "news.jsonl", news_records[:20])
    built = run_cli("build", str(corpus), str(SEED_PAGE), env=cli_env, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "21 articles" in built.stderr
    assert "chunks/s" in built.stderr

    found = run_cli("search", "كيم جونج أون الجيش الروسي", "-k", "2", "--json", env=cli_env, cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    results = [json.loads(block) for block in found.stdout.replace("}\n{", "}\x00{").split("\x00")]
    assert len(results) == 2
    assert results[0]["quote"] in results[0]["passage"]

    info = run_cli("info", env=cli_env, cwd=tmp_path)
    assert info.returncode == 0
    assert "21" in info.stdout

    updated = run_cli("update", str(corpus), env=cli_env, cwd=tmp_path)
    assert updated.returncode == 0, updated.stderr
    assert "0 embedded" in updated.stderr
    assert "20 articles" in updated.stderr


def test_errors_are_one_line_with_exit_code_1(tmp_path: Path, cli_env: dict[str, str]) -> None:
    missing = run_cli("search", "سؤال", env=cli_env, cwd=tmp_path)
    assert missing.returncode == 1
    assert "no index at" in missing.stderr
    assert "akhbar-index build" in missing.stderr
    assert "Traceback" not in missing.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    nothing = run_cli("build", str(empty), env=cli_env, cwd=tmp_path)
    assert nothing.returncode == 1
    assert "empty file" in nothing.stderr
    assert "Traceback" not in nothing.stderr


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
