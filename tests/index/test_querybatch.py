"""Micro-batching of concurrent query embeddings (index.embedding.querybatch, used by every BatchedEmbedder)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from index.embedding.querybatch import QueryBatcher
from tests.support.corpora import QUESTIONS


def run_at_once(function, arguments: list) -> list:  # noqa: ANN001
    """Call ``function`` on every argument from its own thread, all released together."""
    barrier = threading.Barrier(len(arguments))
    results: list = [None] * len(arguments)

    def worker(position: int) -> None:
        barrier.wait()
        results[position] = function(arguments[position])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(arguments))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_concurrent_queries_get_the_same_vectors_as_alone(tiny_embedder) -> None:
    questions = QUESTIONS * 3
    alone = [tiny_embedder._encode([tiny_embedder.query_prompt + q])[0] for q in questions]
    together = run_at_once(tiny_embedder.embed_query, questions)
    for question, single, batched in zip(questions, alone, together, strict=True):
        assert batched.shape == (tiny_embedder.dimension,)
        np.testing.assert_allclose(batched, single, atol=1e-5, err_msg=question)


def test_concurrent_queries_share_forward_passes() -> None:
    calls: list[list[str]] = []

    def slow_encode(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        time.sleep(0.05)  # a forward pass long enough for the others to queue behind it
        return np.array([[float(len(t)), float(t.count("a"))] for t in texts], dtype=np.float32)

    batcher = QueryBatcher(slow_encode, max_batch=32, max_in_flight=1)
    texts = [f"q{i}" + "a" * i for i in range(20)]
    results = run_at_once(batcher.embed, texts)
    for text, vector in zip(texts, results, strict=True):  # each caller gets its own row
        assert vector.tolist() == [float(len(text)), float(text.count("a"))]
    assert sorted(t for call in calls for t in call) == sorted(texts)  # every text embedded exactly once
    assert len(calls) < len(texts)
    assert max(batcher.batch_sizes) > 1


def test_a_lone_query_does_not_wait_for_the_window() -> None:
    batcher = QueryBatcher(lambda texts: np.ones((len(texts), 2), dtype=np.float32), window=2.0)
    started = time.monotonic()
    batcher.embed("وحيد")
    time.sleep(2.1)  # longer than the window: the next one is alone again
    batcher.embed("وحيد مرة أخرى")
    assert time.monotonic() - started < 3.0  # neither call waited the 2 s window
    assert batcher.batch_sizes == [1, 1]


def test_max_batch_splits_large_crowds() -> None:
    def encode(texts: list[str]) -> np.ndarray:
        time.sleep(0.02)
        return np.zeros((len(texts), 1), dtype=np.float32)

    batcher = QueryBatcher(encode, max_batch=4, max_in_flight=2)
    run_at_once(batcher.embed, [str(i) for i in range(24)])
    assert sum(batcher.batch_sizes) == 24
    assert max(batcher.batch_sizes) <= 4


def test_an_error_reaches_every_caller_of_the_batch() -> None:
    def failing(texts: list[str]) -> np.ndarray:
        time.sleep(0.02)
        raise RuntimeError("model gone")

    batcher = QueryBatcher(failing, max_in_flight=1)

    def ask(text: str) -> str:
        with pytest.raises(RuntimeError, match="model gone"):
            batcher.embed(text)
        return "raised"

    assert run_at_once(ask, ["a", "b", "c", "d"]) == ["raised"] * 4
