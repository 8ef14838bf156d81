"""``akhbar-index eval --readers``: story-level scores per dialect on a pool of the archive, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from index.cli import app
from tests.support.paths import NEWS_ARCHIVE, NEWS_SAMPLE, REPO_ROOT


def test_reader_questions_are_scored_per_dialect_with_and_without_rewriting(
        tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBEDDING_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("EMBEDDING_BACKEND", "torch")
    monkeypatch.setenv("BUILD_THREADS", "1")
    readers = REPO_ROOT / "bench" / "data" / "reader_questions.jsonl"
    # The 300 pool is the sample itself (the archive is read to check every gold article is in it).
    result = CliRunner().invoke(app, ["eval", "--readers", str(readers), "--archive", str(NEWS_ARCHIVE),
                                      "--sample", str(NEWS_SAMPLE), "--pool", "300", "--mode", "lexical", "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout[result.stdout.index("{"):])
    assert set(scores) == {"rewrite off", "rewrite on", "rewrite on, shown article only"}
    for by_group in scores.values():
        assert {"overall", "msa", "gulf", "egyptian", "levantine", "maghrebi"} <= set(by_group)
        for group in by_group.values():
            assert 0.0 <= group["r_at_1"] <= group["r_at_3"] <= 1.0
    for group, strict in scores["rewrite on, shown article only"].items():  # no credit for "also reported by"
        assert strict["r_at_3"] <= scores["rewrite on"][group]["r_at_3"]
    assert scores["rewrite on"]["msa"] == scores["rewrite off"]["msa"], "MSA questions are searched as typed"


def test_reader_evaluation_needs_the_archive_and_a_known_pool(tmp_path: Path) -> None:
    readers = REPO_ROOT / "bench" / "data" / "reader_questions.jsonl"
    missing = CliRunner().invoke(app, ["eval", "--readers", str(readers)])
    assert missing.exit_code == 2
    assert "--readers needs --index, or --archive and --sample" in " ".join(missing.output.split())
    bad = CliRunner().invoke(app, ["eval", "--readers", str(readers), "--archive", str(NEWS_ARCHIVE), "--sample",
                                   str(NEWS_SAMPLE), "--pool", "42"])
    assert bad.exit_code == 2


def test_reader_questions_can_ask_an_index_already_built(small_index: Path, tiny_model_dir: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBEDDING_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("EMBEDDING_BACKEND", "torch")
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "cache"))
    readers = REPO_ROOT / "bench" / "data" / "reader_questions.jsonl"
    result = CliRunner().invoke(app, ["eval", "--readers", str(readers), "--index", str(small_index),
                                      "--mode", "hybrid", "--json"])
    assert result.exit_code == 0, result.output
    assert "gold articles in it" in result.stderr  # how much of the set the index can answer at all
    scores = json.loads(result.stdout[result.stdout.index("{"):])
    assert scores["rewrite off"]["overall"]["questions"] == scores["rewrite on"]["overall"]["questions"] >= 150
    gone = CliRunner().invoke(app, ["eval", "--readers", str(readers), "--index", str(tmp_path / "nowhere")])
    assert gone.exit_code == 1
    assert "Traceback" not in gone.output
