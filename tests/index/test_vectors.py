"""The vector file: exact search, the HNSW graph used for large archives, and filtered search in both."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from index.stores.faiss import vectors
from index.stores.faiss.vectors import BatchedExactSearch, chosen_kind, read_vectors, search_vectors, write_vectors


def _clustered_unit_vectors(count: int, dimension: int = 48, seed: int = 7) -> np.ndarray:
    """Vectors around a few hundred topics, like news chunks: near neighbours exist and matter."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(200, dimension))
    matrix = centres[rng.integers(0, len(centres), count)] + 0.6 * rng.normal(size=(count, dimension))
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def test_auto_switches_to_hnsw_at_the_threshold() -> None:
    assert chosen_kind("auto", vectors.HNSW_MIN_VECTORS - 1) == "flat"
    assert chosen_kind("auto", vectors.HNSW_MIN_VECTORS) == "hnsw"
    assert chosen_kind("flat", 10**9) == "flat"
    assert chosen_kind("hnsw", 1) == "hnsw"


def test_hnsw_finds_what_exact_search_finds(tmp_path: Path) -> None:
    matrix = _clustered_unit_vectors(4000)
    queries = _clustered_unit_vectors(100, seed=8)
    assert write_vectors(tmp_path / "flat.faiss", matrix, "flat") == "Flat"
    assert write_vectors(tmp_path / "hnsw.faiss", matrix, "hnsw").startswith("HNSW")
    exact, graph = read_vectors(tmp_path / "flat.faiss"), read_vectors(tmp_path / "hnsw.faiss")
    recall = np.mean([len(set(search_vectors(exact, q, 10)[1]) & set(search_vectors(graph, q, 10)[1])) / 10
                      for q in queries])
    assert recall >= 0.95
    # Same stored vectors: relevance scores read back from either index agree.
    np.testing.assert_allclose(graph.reconstruct(17), matrix[17])


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_filtered_search_returns_only_allowed_ids(tmp_path: Path, kind: str) -> None:
    matrix = _clustered_unit_vectors(1500)
    write_vectors(tmp_path / "v.faiss", matrix, kind)  # type: ignore[arg-type]
    index = read_vectors(tmp_path / "v.faiss")
    allowed = np.arange(0, 1500, 7, dtype=np.int64)
    scores, ids = search_vectors(index, matrix[3], 20, allowed)
    found = ids[ids >= 0]
    assert len(found) == 20
    assert set(found.tolist()) <= set(allowed.tolist())
    exact_best = allowed[np.argmax(matrix[allowed] @ matrix[3])]
    assert found[0] == exact_best
    assert scores[0] == pytest.approx(float(matrix[exact_best] @ matrix[3]), abs=1e-5)


def test_batched_exact_search_answers_each_concurrent_question_as_faiss_does(tmp_path: Path) -> None:
    matrix = _clustered_unit_vectors(3000)
    queries = _clustered_unit_vectors(40, seed=9)
    write_vectors(tmp_path / "flat.faiss", matrix, "flat")
    exact = read_vectors(tmp_path / "flat.faiss")
    assert BatchedExactSearch.supports(exact)
    batched = BatchedExactSearch(exact, max_batch=8)
    counts = [1 + (i * 7) % 60 for i in range(len(queries))]  # each question its own pool size
    barrier = threading.Barrier(len(queries))

    def ask(position: int) -> tuple[np.ndarray, np.ndarray]:
        barrier.wait()
        return batched.search(queries[position], counts[position])

    with ThreadPoolExecutor(len(queries)) as pool:
        found = list(pool.map(ask, range(len(queries))))
    assert max(batched._batcher.batch_sizes) > 1  # they did share passes
    for query, count, (scores, ids) in zip(queries, counts, found, strict=True):
        want_scores, want_ids = search_vectors(exact, query, count)
        assert ids.tolist() == want_ids.tolist()
        np.testing.assert_allclose(scores, want_scores, atol=1e-5)
    # More wanted than stored: every vector once; the stored rows come back as written.
    scores, ids = batched.search(queries[0], 5000)
    assert sorted(ids.tolist()) == list(range(3000))
    np.testing.assert_allclose(batched.rows([17, 3]), matrix[[17, 3]])


def test_a_graph_index_is_not_searched_by_the_batched_path(tmp_path: Path) -> None:
    write_vectors(tmp_path / "hnsw.faiss", _clustered_unit_vectors(500), "hnsw")
    assert not BatchedExactSearch.supports(read_vectors(tmp_path / "hnsw.faiss"))


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_the_builds_list_of_vectors_is_written_slice_by_slice(tmp_path: Path, kind: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A build hands its per-chunk vectors as a list: written in slices, they are the matrix's rows, in order."""
    monkeypatch.setattr(vectors, "ADD_SLICE_ROWS", 128)  # several slices and a ragged last one
    matrix = _clustered_unit_vectors(1000)
    write_vectors(tmp_path / "rows.faiss", [row.astype(np.float64) for row in matrix], kind)  # type: ignore[arg-type]
    written = read_vectors(tmp_path / "rows.faiss")
    assert written.ntotal == len(matrix)
    stored = np.vstack([written.reconstruct(i) for i in range(written.ntotal)])
    np.testing.assert_allclose(stored, matrix, atol=1e-7)


def test_an_empty_build_writes_an_empty_index_of_its_dimension(tmp_path: Path) -> None:
    write_vectors(tmp_path / "empty.faiss", [], "flat", dimension=48)
    empty = read_vectors(tmp_path / "empty.faiss")
    assert (empty.ntotal, empty.d) == (0, 48)
