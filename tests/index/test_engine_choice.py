"""EMBEDDING_BACKEND=auto: calibration, the choice, its record, and the index/query agreement check.

Engines here are the tiny test model behind fakes that are slower or disagree, so the choice
logic runs for real in seconds; one test calibrates the real engines over the tiny model.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from index.embedding import SentenceTransformerEmbedder, calibration, load_embedder, query_embedder
from index.embedding.base import BatchedEmbedder
from index.embedding.calibration import (
    Calibration,
    calibrate,
    calibration_texts,
    check_query_engine,
    choose_engine,
    describe_engine,
    engine_summary,
    engines_agree,
    read_record,
    record_path,
    same_order,
)
from index.errors import IndexMismatch


class FakeEngine(BatchedEmbedder):
    """The tiny model under another name, optionally slower per text or with noisy vectors."""

    def __init__(self, base: SentenceTransformerEmbedder, backend: str, delay: float = 0.0,
                 noise: float = 0.0) -> None:
        super().__init__(batch_size=8)
        self.base, self.backend, self.delay, self.noise = base, backend, delay, noise
        self.model_id, self.dimension = base.model_id, base.dimension
        self.query_prompt, self.document_prompt = base.query_prompt, base.document_prompt
        self._tokenizer = base._tokenizer

    def _encode(self, texts: list[str]) -> np.ndarray:
        deadline = time.perf_counter() + self.delay * len(texts)
        while time.perf_counter() < deadline:  # burn CPU: engines are ranked by tokens per CPU-second
            pass
        vectors = self.base._encode(texts)
        if self.noise:
            seeds = [sum(map(ord, text)) for text in texts]
            vectors = vectors + self.noise * np.stack(
                [np.random.default_rng(seed).standard_normal(self.dimension) for seed in seeds])
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors.astype(np.float32)


@pytest.fixture
def texts() -> tuple[list[str], list[str]]:
    return calibration_texts()


def loaders_for(tiny_embedder, **engines: FakeEngine):  # noqa: ANN001, ANN201
    # The reference is slowed too, so "fast" engines are clearly faster whatever the machine's load.
    reference = FakeEngine(tiny_embedder, "torch", delay=0.01)
    return {"torch": lambda: reference, **{name: (lambda e=engine: e) for name, engine in engines.items()}}


def test_calibration_texts_are_real_arabic_chunks_and_queries(texts) -> None:
    chunks, queries = texts
    assert 40 <= len(chunks) <= 64
    assert 8 <= len(queries) <= 12
    assert all(any("\u0600" <= ch <= "\u06ff" for ch in text) for text in chunks + queries)
    assert len(set(chunks)) == len(chunks)


def test_a_fake_slow_engine_loses_to_a_fast_one(tiny_embedder, texts) -> None:
    loaders = loaders_for(tiny_embedder, fast=FakeEngine(tiny_embedder, "fast"),
                          slow=FakeEngine(tiny_embedder, "slow", delay=0.05))
    result = calibrate(loaders, *texts)
    assert result.chosen == "fast"
    assert result.engines["fast"].agrees
    assert result.engines["fast"].mean_cosine > 0.9999
    slow = result.engines["slow"]
    assert slow.tokens_per_cpu_second < result.engines["fast"].tokens_per_cpu_second
    assert slow.error is not None
    assert "probe" in slow.error
    assert result.embedder is not None
    assert result.embedder.backend == "fast"


def test_a_budget_spent_on_the_reference_still_measures_the_likely_winner(tiny_embedder, texts) -> None:
    """On a slow or busy machine torch alone can take the whole budget: the first candidate is still measured."""
    loaders = loaders_for(tiny_embedder, likely=FakeEngine(tiny_embedder, "likely"),
                          other=FakeEngine(tiny_embedder, "other"))
    result = calibrate(loaders, *texts, budget=0.0)
    assert result.engines["likely"].error is None
    assert result.chosen == "likely"
    assert "budget" in (result.engines["other"].error or "")


class CompilingEngine(FakeEngine):
    """Slow the first time it meets a text (OpenVINO compiles kernels per batch shape), fast after."""

    def __init__(self, base: SentenceTransformerEmbedder, backend: str, first_delay: float) -> None:
        super().__init__(base, backend)
        self.first_delay, self.seen = first_delay, set[str]()

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.delay = self.first_delay * sum(text not in self.seen for text in texts) / len(texts)
        self.seen.update(texts)
        return super()._encode(texts)


def test_an_engine_is_timed_once_its_kernels_are_compiled(tiny_embedder, texts) -> None:
    """A long build pays each shape's compilation once: the engine fastest when warm wins, as it would there."""
    loaders = loaders_for(tiny_embedder, steady=FakeEngine(tiny_embedder, "steady", delay=0.004),
                          compiling=CompilingEngine(tiny_embedder, "compiling", first_delay=0.03))
    result = calibrate(loaders, *texts)
    assert result.engines["compiling"].error is None  # not dropped by a cold probe either
    assert result.chosen == "compiling"
    assert result.engines["compiling"].tokens_per_cpu_second > result.engines["steady"].tokens_per_cpu_second


def test_a_disagreeing_engine_is_rejected_however_fast(tiny_embedder, texts) -> None:
    loaders = loaders_for(tiny_embedder, wrong=FakeEngine(tiny_embedder, "wrong", noise=0.3))
    result = calibrate(loaders, *texts)
    wrong = result.engines["wrong"]
    assert wrong.tokens_per_cpu_second > result.engines["torch"].tokens_per_cpu_second
    assert wrong.mean_cosine < calibration.MIN_MEAN_COSINE
    assert not wrong.agrees
    assert result.chosen == "torch"


def test_a_failed_child_calibration_is_measured_in_process(tiny_embedder, tiny_model_dir: Path,
                                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calibration, "_calibrate_in_child", lambda *args: False)
    monkeypatch.setattr(calibration, "prepare_exports", lambda *args: None)
    monkeypatch.setattr(calibration, "engine_loaders", lambda *args: loaders_for(tiny_embedder))
    embedder = calibration.choose_engine(str(tiny_model_dir), tiny_embedder.model_id, tmp_path)
    assert embedder.backend == "torch"
    assert read_record(record_path(tmp_path, tiny_embedder.model_id)) is not None


def test_an_engine_that_fails_to_load_is_recorded_not_raised(tiny_embedder, texts) -> None:
    def broken() -> BatchedEmbedder:
        raise RuntimeError("no such runtime here")

    loaders = {**loaders_for(tiny_embedder), "broken": broken}
    result = calibrate(loaders, *texts)
    assert result.chosen == "torch"
    assert "no such runtime here" in (result.engines["broken"].error or "")


def test_same_order_allows_near_ties_only() -> None:
    scores = np.array([0.90, 0.850, 0.849, 0.70, 0.60, 0.50])
    assert same_order(scores, [0, 1, 2], margin=0.01)
    assert same_order(scores, [0, 2, 1], margin=0.01)  # 0.001 apart: a tie
    assert not same_order(scores, [1, 0, 2], margin=0.01)  # 0.05 inversion
    assert not same_order(scores, [0, 1, 3], margin=0.01)  # chunk 2 is clearly inside the top 3
    assert not same_order(scores, [0, 2, 1], margin=0.0)


def test_the_choice_is_recorded_as_json_and_reused(tiny_embedder, tiny_model_dir: Path, tmp_path: Path) -> None:
    calls = {"fast": 0}

    def fast() -> FakeEngine:
        calls["fast"] += 1
        return FakeEngine(tiny_embedder, "fast")

    loaders = {**loaders_for(tiny_embedder), "fast": fast}
    first = choose_engine(tiny_model_dir, "tiny", tmp_path, loaders=loaders)
    assert first.backend == "fast"
    assert calls["fast"] == 1
    path = record_path(tmp_path, "tiny")
    data = json.loads(path.read_text(encoding="utf-8"))
    name, flags = calibration.cpu_identity()
    assert data["chosen"] == "fast"
    assert data["key"]["cpu"] == name
    assert data["cpu_flags"] == flags
    assert data["engines"]["fast"]["tokens_per_second"] > 0
    assert data["key"]["libraries"]["torch"]
    assert not list(path.parent.glob("*.tmp"))  # written atomically, no leftovers

    again = choose_engine(tiny_model_dir, "tiny", tmp_path, loaders=loaders)
    assert again.backend == "fast"
    assert calls["fast"] == 2
    assert json.loads(path.read_text(encoding="utf-8"))["calibrated_at"] == data["calibrated_at"]
    forced = choose_engine(tiny_model_dir, "tiny", tmp_path, loaders=loaders, force=True)
    assert forced.backend == "fast"
    assert json.loads(path.read_text(encoding="utf-8"))["calibrated_at"] >= data["calibrated_at"]
    assert calls["fast"] == 3  # measured again (and handed over, not loaded a fourth time)
    assert "auto: fastest of" in describe_engine(again)
    assert "fast" in describe_engine(again)


def test_a_different_cpu_recalibrates(tiny_embedder, tiny_model_dir: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    loaders = loaders_for(tiny_embedder, fast=FakeEngine(tiny_embedder, "fast"))
    choose_engine(tiny_model_dir, "tiny", tmp_path, loaders=loaders)
    before = read_record(record_path(tmp_path, "tiny"))
    assert before is not None
    monkeypatch.setattr(calibration, "cpu_identity", lambda: ("Intel Xeon Platinum 8480+", "avx512f amx_bf16"))
    assert read_record(record_path(tmp_path, "tiny"), calibration.calibration_key("tiny", tiny_model_dir)) is None
    slower_now = loaders_for(tiny_embedder, fast=FakeEngine(tiny_embedder, "fast", noise=0.3))  # disagrees there
    chosen = choose_engine(tiny_model_dir, "tiny", tmp_path, loaders=slower_now)
    after = read_record(record_path(tmp_path, "tiny"))
    assert after is not None
    assert after.key["cpu"] == "Intel Xeon Platinum 8480+"
    assert after.cpu_flags == "avx512f amx_bf16"
    assert chosen.backend == after.chosen == "torch"


def test_changed_library_versions_recalibrate(tiny_embedder, tiny_model_dir: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    choose_engine(tiny_model_dir, "tiny", tmp_path, loaders=loaders_for(tiny_embedder))
    key = calibration.calibration_key("tiny", tiny_model_dir)
    assert read_record(record_path(tmp_path, "tiny"), key) is not None
    monkeypatch.setattr(calibration, "library_versions", lambda: {"onnxruntime": "9.9.9"})
    assert read_record(record_path(tmp_path, "tiny"), calibration.calibration_key("tiny", tiny_model_dir)) is None


def test_a_damaged_record_is_recalibrated(tiny_embedder, tiny_model_dir: Path, tmp_path: Path) -> None:
    path = record_path(tmp_path, "tiny")
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    chosen = choose_engine(tiny_model_dir, "tiny", tmp_path, loaders=loaders_for(tiny_embedder))
    assert chosen.backend == "torch"
    assert Calibration.from_json(path.read_text(encoding="utf-8")).chosen == "torch"


def test_index_and_query_engines_must_agree(tiny_embedder, tiny_model_dir: Path, tmp_path: Path) -> None:
    # "wrong" first: measured fully (a probe against "fast" could drop it before its agreement is known).
    loaders = loaders_for(tiny_embedder, wrong=FakeEngine(tiny_embedder, "wrong", noise=0.3),
                          fast=FakeEngine(tiny_embedder, "fast"))
    choose_engine(tiny_model_dir, "tiny", tmp_path, loaders=loaders)
    assert engines_agree("fast", "torch", tmp_path, "tiny") is True
    assert engines_agree("wrong", "torch", tmp_path, "tiny") is False
    assert engines_agree("never-measured", "torch", tmp_path, "tiny") is None
    query = FakeEngine(tiny_embedder, "torch")
    query.model_id = "tiny"
    check_query_engine("fast", query, tmp_path, "data/index")  # agrees: no error
    with pytest.raises(IndexMismatch, match="embedding engine 'wrong'.*EMBEDDING_BACKEND=wrong"):
        check_query_engine("wrong", query, tmp_path, "data/index")
    with pytest.raises(IndexMismatch, match="onnx-int8"):  # no record measured it: only fp32 twins pass
        check_query_engine("onnx-int8", query, tmp_path / "elsewhere", "data/index")
    check_query_engine("onnx", query, tmp_path / "elsewhere", "data/index")


def test_auto_calibrates_the_real_engines_over_the_tiny_model(tiny_model_dir: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # Measured in a child process, whose memory goes back to the system: never in this one.
    monkeypatch.setattr(calibration, "calibrate", lambda *a, **k: pytest.fail("calibrated in the build's process"))
    embedder = load_embedder(str(tiny_model_dir), tmp_path, backend="auto")
    record = read_record(record_path(tmp_path, embedder.model_id))
    assert record is not None
    assert embedder.backend == record.chosen
    assert record.engines["torch"].agrees
    assert record.engines["torch"].mean_cosine == pytest.approx(1.0)
    # Every engine loaded and was measured or dropped as slow after a probe (exports not in the budget).
    assert all(f.error is None or f.error.startswith("dropped") for f in record.engines.values())
    assert {"torch", "onnx", "onnx-int8", "torch-bf16"} <= set(record.engines)
    measured = [f for f in record.engines.values() if f.error is None and f.name != "torch"]
    assert measured
    assert all(f.mean_cosine > 0.99 for f in measured)
    assert record.seconds < 60
    vector = embedder.embed_query("أسعار النفط")
    assert vector.shape == (embedder.dimension,)
    assert abs(float(np.linalg.norm(vector)) - 1) < 1e-4
    assert load_embedder(str(tiny_model_dir), tmp_path, backend="torch").backend == "torch"  # explicit overrides


def test_queries_use_the_index_engine_under_auto(tiny_embedder, tiny_model_dir: Path, tmp_path: Path) -> None:
    model = str(tiny_model_dir)
    under_auto = query_embedder(model, tmp_path, "onnx", "auto")
    assert under_auto.backend == "onnx"  # the index's own engine: agrees by construction
    assert "built with" in describe_engine(under_auto)
    assert query_embedder(model, tmp_path, "onnx", "torch").backend == "torch"  # explicit: the user's call
    loaders = loaders_for(tiny_embedder)
    choose_engine(tiny_model_dir, under_auto.model_id, tmp_path, loaders=loaders)  # record: auto picks torch
    assert query_embedder(model, tmp_path, "custom", "auto").backend == "torch"  # unknown engine: the auto choice


def test_engine_summary_reads_the_record_without_loading(tiny_embedder, tiny_model_dir: Path, tmp_path: Path) -> None:
    assert "not calibrated" in engine_summary("tiny", tmp_path, "auto")
    assert engine_summary("tiny", tmp_path, "onnx-int8") == "embedding engine onnx-int8 (set by EMBEDDING_BACKEND)"
    choose_engine(tiny_model_dir, "tiny", tmp_path, loaders=loaders_for(tiny_embedder, fast=FakeEngine(tiny_embedder,
                                                                                                        "fast")))
    summary = engine_summary("tiny", tmp_path, "auto")
    assert summary.startswith("embedding engine auto → fast (auto: fastest of 2 engines")
    assert "tokens/s" in summary
