"""``akhbar-bot`` as a user runs it: the console mode, and the Telegram mode's start-up errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import messages
from bot.cli import app
from bot.console import ANSWER_SEPARATOR
from corpus.types import Article
from tests.bot.fake_telegram import serve_in_thread
from tests.bot.helpers import question_from

runner = CliRunner()


def console_args(index: Path, model: Path, threshold: str = "-1") -> list[str]:
    return ["--console", "--index", str(index), "--model", str(model), "--mode", "lexical", "--threshold", threshold]


@pytest.mark.e2e
def test_console_answers_piped_questions(small_index: Path, tiny_model_dir: Path, tmp_path: Path,
                                         known_articles: list[Article]) -> None:
    questions = [question_from(known_articles[2]), "", question_from(known_articles[9])]
    done = subprocess.run([sys.executable, "-m", "bot", *console_args(small_index, tiny_model_dir)],
                          input="\n".join(questions) + "\n", capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env={**os.environ, "TELEGRAM_BOT_TOKEN": ""})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    answers = done.stdout.split(f"\n{ANSWER_SEPARATOR}\n")
    assert len(answers) == 2, "one answer per non-blank line"
    for answer, article in zip(answers, (known_articles[2], known_articles[9]), strict=True):
        assert article.title in answer
        quote = answer.split("«", 1)[1].split("»", 1)[0].replace("\u200f", "")
        assert quote
        assert quote in article.text


def test_console_builds_the_sample_index_on_first_run(tmp_path: Path, tiny_model_dir: Path) -> None:
    index = tmp_path / "fresh-index"
    result = runner.invoke(app, console_args(index, tiny_model_dir), input="كيم جونج أون الجيش الروسي\n")
    assert result.exit_code == 0, result.output
    assert messages.CONSOLE_BUILDING in result.stderr
    assert (index / "current").is_symlink()
    assert "كيم جونج أون يعد بتقديم" in result.stdout
    assert "«" in result.stdout


def test_console_says_when_nothing_relevant_was_found(small_index: Path, tiny_model_dir: Path) -> None:
    result = runner.invoke(app, console_args(small_index, tiny_model_dir, threshold="1"),
                           input="كيف أحضّر الكبسة باللحم في البيت؟\n" + "؟؟؟\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{messages.NO_ANSWER}\n{ANSWER_SEPARATOR}\n{messages.UNREADABLE_QUESTION}\n"


def test_a_missing_token_stops_at_once(small_index: Path) -> None:
    result = runner.invoke(app, ["--index", str(small_index)])
    assert result.exit_code == 1
    assert "TELEGRAM_BOT_TOKEN is not set" in result.stderr
    assert "--console" in result.stderr
    assert "Traceback" not in result.output


def test_a_missing_index_names_the_command_that_builds_it(tmp_path: Path) -> None:
    secret = "424242:NEVER-PRINT-ME"
    result = runner.invoke(app, ["--index", str(tmp_path / "nothing")], env={"TELEGRAM_BOT_TOKEN": secret})
    assert result.exit_code == 1
    assert "akhbar-index build" in result.stderr
    assert str(tmp_path / "nothing") in result.stderr
    assert secret not in result.output


@pytest.mark.e2e
def test_a_rejected_token_stops_with_a_clear_message(small_index: Path, tiny_model_dir: Path) -> None:
    wrong = "999999:WRONG-SECRET-TOKEN"
    with serve_in_thread() as server:
        result = runner.invoke(app, ["--index", str(small_index), "--model", str(tiny_model_dir)],
                               env={"TELEGRAM_BOT_TOKEN": wrong, "TELEGRAM_BASE_URL": server.base_url})
    assert result.exit_code == 1, result.output
    assert "rejected TELEGRAM_BOT_TOKEN" in result.stderr
    assert wrong not in result.output
    assert "WRONG-SECRET" not in result.output
    assert [call.status for call in server.calls if call.method == "getMe"] == [401]


def test_a_bad_setting_is_named() -> None:
    result = runner.invoke(app, ["--console"], env={"ADMIN_IDS": "[1, 2]"})
    assert result.exit_code == 1
    assert "admin_ids" in result.stderr
    assert "[1, 2]" in result.stderr
    assert "comma-separated" in result.stderr


def test_help_explains_every_option() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for option in ("--console", "--index", "--model", "--mode", "--results", "--threshold", "TELEGRAM_BOT_TOKEN"):
        assert option in result.stdout, option
    for variable in ("INDEX_DIR", "EMBEDDING_MODEL", "SEARCH_MODE", "RESULTS_PER_ANSWER", "NO_ANSWER_THRESHOLD"):
        assert variable in result.stdout, f"{variable} lost from --help (rich markup eats [brackets])"


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--console", "--results", "0"])
    assert result.exit_code == 2
