"""The OpenVINO engines over the tiny model: fp32/bf16 on the ONNX export, NNCF's static int8 on IR.

The real model's figures (speed, cosine ~0.999) come from ``bench/engines.py``; here the
quantisation, its cache, the check against fp32 and the engine's loading are pinned.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.embedding.engines import candidate_engines, load_engine
from index.embedding.onnx_export import MARKER_FILE
from index.embedding.openvino import QUERY_PAD_TOKENS, OpenVinoEmbedder, openvino_precisions
from index.embedding.openvino_int8 import IR_FILE, ensure_openvino_int8, openvino_int8_dir
from index.embedding.word_table import EMBEDS_INPUT, SCALES_FILE, TABLE_FILE, WordTable


@pytest.fixture(scope="module")
def int8_folder(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_openvino_int8(tiny_model_dir, tmp_path_factory.mktemp("ov-cache") / "models")


@pytest.fixture(scope="module")
def texts(news_records: list[dict]) -> list[str]:
    return [record["title"] + "\n" + record["text"][: 150 + 41 * i] for i, record in enumerate(news_records[:16])]


def test_the_int8_model_is_ir_with_the_tokenizer_and_a_marker_naming_its_fp32_export(int8_folder: Path) -> None:
    marker = json.loads((int8_folder / MARKER_FILE).read_text(encoding="utf-8"))
    assert marker["variant"] == "openvino-int8"
    assert marker["quantization"]["tool"] == "nncf"
    assert marker["quantization"]["samples"] == 50  # the shipped 40 chunks and 10 questions
    assert marker["source"].endswith(".onnx")
    assert openvino_int8_dir(Path(marker["source"])) == int8_folder
    assert marker["check_cosine"] >= 0.95
    assert (int8_folder / IR_FILE).is_file()
    assert (int8_folder / "model.bin").is_file()
    assert (int8_folder / "tokenizer.json").is_file()
    assert not (int8_folder / "model.onnx").exists()
    assert not list(int8_folder.parent.glob(".*.tmp-*"))


def test_the_int8_model_is_reused_not_quantised_again(int8_folder: Path, tiny_model_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def no_quantisation(*args: object) -> None:
        raise AssertionError("quantised again")

    monkeypatch.setattr("index.embedding.openvino_int8._quantize", no_quantisation)
    assert ensure_openvino_int8(tiny_model_dir, int8_folder.parent) == int8_folder


@pytest.mark.parametrize(("name", "least"), [("openvino", 0.9999), ("openvino-int8", 0.9)])
def test_openvino_vectors_are_unit_and_close_to_torch(name: str, least: float, int8_folder: Path, tiny_model_dir: Path,
                                                      tiny_embedder, texts: list[str]) -> None:  # noqa: ANN001
    embedder = load_engine(name, tiny_model_dir, tiny_embedder.model_id, int8_folder.parent)
    assert isinstance(embedder, OpenVinoEmbedder)
    assert embedder.backend == name
    vectors = embedder.embed_documents(texts)
    reference = tiny_embedder.embed_documents(texts)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.sum(vectors * reference, axis=1).min() > least
    assert (np.argmax(vectors @ reference.T, axis=1) == np.arange(len(texts))).all()
    query = "ماذا قال وزير الخارجية عن المحادثات؟"
    assert float(embedder.embed_query(query) @ tiny_embedder.embed_query(query)) > least


@pytest.mark.parametrize("name", ["openvino", "openvino-int8"])
def test_a_question_padded_to_a_shared_length_gets_the_vector_it_gets_unpadded(name: str, int8_folder: Path,
                                                                              tiny_model_dir: Path,
                                                                              tiny_embedder) -> None:  # noqa: ANN001
    embedder = load_engine(name, tiny_model_dir, tiny_embedder.model_id, int8_folder.parent)
    questions = ["وش صار في مطار صلالة؟", "كم عدد ضحايا الزلزال الذي ضرب إندونيسيا أمس؟", "ليش؟"]
    lengths = [len(embedder._tokenizer(embedder.query_prompt + q)["input_ids"]) for q in questions]
    assert any(length % QUERY_PAD_TOKENS for length in lengths)  # padding really happens
    for question in questions:
        unpadded = embedder._encode([embedder.query_prompt + question])[0]
        np.testing.assert_allclose(embedder.embed_query(question), unpadded, atol=2e-3, err_msg=question)


def test_releasing_the_engine_s_memory_loses_nothing(int8_folder: Path, tiny_model_dir: Path,
                                                      tiny_embedder, texts: list[str]) -> None:  # noqa: ANN001
    embedder = load_engine("openvino-int8", tiny_model_dir, tiny_embedder.model_id, int8_folder.parent)
    before = embedder.embed_documents(texts[:4])
    embedder.release_memory()
    assert embedder._compiled is None
    np.testing.assert_allclose(embedder.embed_documents(texts[:4]), before, atol=1e-5)  # compiled again on use


def test_int8_and_bf16_are_candidates_exactly_where_the_cpu_plugin_runs_them() -> None:
    precisions = openvino_precisions()
    names = candidate_engines()
    assert ("openvino-int8" in names) == ("INT8" in precisions)
    assert ("openvino-bf16" in names) == ("BF16" in precisions)
    assert names[0] == "torch"



@pytest.mark.parametrize("flags", ["fma avx2 avx512f avx512_vnni", "fma avx2 avx_vnni amx_int8", "fma avx2"])
def test_the_int8_engine_with_the_cpu_s_int8_instructions_is_measured_first(flags: str) -> None:
    """Likely winners are measured before the 30 s budget runs out, on every kind of CPU seen."""
    names = candidate_engines(flags)
    assert {"openvino-int8", "onnx-int8", "onnx"} <= set(names)  # both runtimes are the project's dependencies
    if "vnni" in flags:  # OpenVINO's int8 uses VNNI/AMX: the fastest where the CPU has them
        assert names.index("openvino-int8") < names.index("onnx-int8") < names.index("onnx")
    else:  # AVX2 only: OpenVINO's int8 is no faster than fp32 there; onnxruntime has AVX2 int8 kernels
        assert names[1] == "onnx-int8"
        assert names.index("openvino-int8") > names.index("onnx")


def test_the_word_table_is_cut_out_of_the_int8_graph_and_gives_the_graph_s_own_vectors(
        int8_folder: Path, tiny_model_dir: Path, tiny_embedder, texts: list[str],  # noqa: ANN001
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import openvino

    marker = json.loads((int8_folder / MARKER_FILE).read_text(encoding="utf-8"))
    assert marker["word_table"] is True
    table = np.load(int8_folder / TABLE_FILE, allow_pickle=False)
    config = json.loads((tiny_model_dir / "config.json").read_text(encoding="utf-8"))
    assert table.dtype == np.int8
    assert table.shape == (config["vocab_size"], config["hidden_size"])
    graph = openvino.Core().read_model(str(int8_folder / IR_FILE))
    assert EMBEDS_INPUT in {name for parameter in graph.get_parameters() for name in parameter.output(0).get_names()}
    assert not [node for node in graph.get_ordered_ops()
                if node.get_type_name() == "Constant" and tuple(node.get_output_shape(0)) == table.shape]

    monkeypatch.setattr("index.embedding.openvino_int8.split_word_embeddings", lambda model, folder: False)
    whole = ensure_openvino_int8(tiny_model_dir, tmp_path / "models")  # the same quantisation, table kept inside
    assert not WordTable.present(whole)
    cut_vectors = load_engine("openvino-int8", tiny_model_dir, tiny_embedder.model_id,
                              int8_folder.parent).embed_documents(texts)
    whole_vectors = load_engine("openvino-int8", tiny_model_dir, tiny_embedder.model_id,
                                whole.parent).embed_documents(texts)
    np.testing.assert_allclose(cut_vectors, whole_vectors, atol=1e-5)


def test_a_word_table_whose_scales_do_not_match_is_refused(int8_folder: Path, tmp_path: Path) -> None:
    np.save(tmp_path / TABLE_FILE, np.zeros((10, 4), dtype=np.int8), allow_pickle=False)
    np.save(tmp_path / SCALES_FILE, np.ones((9, 1), dtype=np.float32), allow_pickle=False)
    with pytest.raises(ValueError, match="do not match"):
        WordTable(tmp_path)
