"""The one-time int8 quantisation (NNCF) of the fp32 ONNX export that the ``openvino-int8`` engine runs.

Why a second int8 path: onnxruntime's int8 is *dynamic* (activations quantised on the fly, the
int8 kernels it has for them), and OpenVINO cannot read its ``QAttention`` graph. NNCF's
post-training quantisation is *static*: it runs real text through the fp32 graph once, records
each activation's range, and writes an OpenVINO model whose matrix products are int8 × int8 with
fixed scales (SmoothQuant for the outliers, bias correction after) — what VNNI and AMX-INT8
execute natively. On an AMD EPYC with AVX-512 VNNI and BF16 (2 cores, ``bench/engines.py``) it
embedded 45 chunks/s against 28 for ``openvino-bf16`` and 23 for ``onnx-int8``, at a mean
cosine to torch fp32 of 0.997. Calibration decides per machine whether that wins and agrees.

* **Statistics from the shipped calibration texts** (:func:`index.embedding.calibration_data.calibration_texts`,
  real Arabic chunks and questions with the model's prompts): available offline in every install.
* **Checked before kept, built once, atomically** — as the ONNX export (:func:`index._files.build_once`,
  a marker written last naming the fp32 export it came from). OpenVINO IR is XML plus a weight
  blob: loading it never runs code.
* **The word-embedding table lives outside the graph** (:mod:`index.embedding.word_table`): compiled
  inside, OpenVINO unpacks it to float32 (~460 MB more RSS for this model).
* **Optional**: needs ``openvino`` and ``nncf``; without them the engine is simply no candidate.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from index._files import build_once, marker_matches, write_marker
from index.embedding.base import model_prompts
from index.embedding.calibration_data import calibration_texts
from index.embedding.onnx_export import MARKER_FILE, MODEL_FILE, OUTPUT_NAME, ensure_onnx_model
from index.embedding.word_table import EMBEDS_INPUT, WordTable, split_word_embeddings

logger = logging.getLogger(__name__)

#: The quantised model (``.bin`` beside it holds the weights).
IR_FILE = "model.xml"
VARIANT = "openvino-int8"
#: Bump when the quantisation changes; cached models of an older version are redone.
QUANTIZER_VERSION = 2
#: Least cosine between the quantised model's vectors and the fp32 export's on the calibration texts.
_MIN_COSINE = 0.95


def openvino_int8_dir(onnx_dir: Path) -> Path:
    """Where the quantised model of an fp32 export is cached: beside it (``….onnx`` → ``….openvino-int8``)."""
    return onnx_dir.with_name(f"{onnx_dir.name.removesuffix('.onnx')}.{VARIANT}")


def _expected_marker(onnx_dir: Path) -> dict[str, object]:
    source = json.loads((onnx_dir / MARKER_FILE).read_text(encoding="utf-8"))
    return {"quantizer_version": QUANTIZER_VERSION, "variant": VARIANT, "source": str(onnx_dir.resolve()),
            "source_exported_at": source.get("exported_at")}


def ensure_openvino_int8(source: Path, models_dir: Path) -> Path:
    """Return the NNCF int8 model of the SentenceTransformer folder ``source``, quantising it on first use.

    Exports the fp32 ONNX graph first if needed (:func:`~index.embedding.onnx_export.ensure_onnx_model`);
    the quantisation itself takes ~35 s for multilingual-e5-small on 2 cores, once.

    Returns:
        A folder with ``model.xml``/``model.bin``, the tokenizer files and ``akhbar_onnx.json``
        (``variant`` ``openvino-int8``).

    Raises:
        ImportError: ``openvino`` or ``nncf`` is not installed.
        RuntimeError: the quantised model does not reproduce the fp32 vectors.
    """
    import nncf  # noqa: F401 - fail here, before any work, when the extra is missing

    onnx_dir = ensure_onnx_model(Path(source), Path(models_dir), quantize=False)
    target = openvino_int8_dir(onnx_dir)
    expected = _expected_marker(onnx_dir)

    def complete() -> bool:
        return marker_matches(target, MARKER_FILE, expected, (IR_FILE, "tokenizer_config.json"))

    if complete():
        return target
    return build_once(target, complete, lambda stage: _quantize(onnx_dir, stage, expected),
                      f"quantising {onnx_dir} to int8 with NNCF")


def _calibration_feeds(onnx_dir: Path, info: dict[str, Any]) -> list[dict[str, np.ndarray]]:
    """The shipped calibration chunks and questions, with the model's prompts, one text per feed."""
    from transformers import AutoTokenizer

    chunks, queries = calibration_texts()
    query_prompt, document_prompt = model_prompts(info.get("prompts"), str(info.get("source", "")))
    tokenizer = AutoTokenizer.from_pretrained(str(onnx_dir))
    names = list(info["input_names"])
    feeds = []
    for text in [document_prompt + chunk for chunk in chunks] + [query_prompt + query for query in queries]:
        encoded = tokenizer([text], truncation="longest_first", max_length=int(info["max_seq_length"]),
                            return_tensors="np")
        feeds.append({name: np.asarray(encoded[name], dtype=np.int64) for name in names})
    return feeds


def _quantize(onnx_dir: Path, stage: Path, marker: dict[str, object]) -> None:
    """Quantise the fp32 export into ``stage / "model"`` and check it against the fp32 graph."""
    import nncf
    import openvino

    started = time.monotonic()
    info: dict[str, Any] = json.loads((onnx_dir / MARKER_FILE).read_text(encoding="utf-8"))
    feeds = _calibration_feeds(onnx_dir, info)
    core = openvino.Core()
    fp32 = core.read_model(str(onnx_dir / MODEL_FILE))
    quantised = nncf.quantize(fp32, nncf.Dataset(feeds), model_type=nncf.ModelType.TRANSFORMER,
                              subset_size=len(feeds))
    out = stage / "model"
    out.mkdir()
    word_table = split_word_embeddings(quantised, out)
    openvino.save_model(quantised, str(out / IR_FILE))
    for path in onnx_dir.iterdir():
        if path.is_file() and path.name not in (MODEL_FILE, MARKER_FILE):
            shutil.copy2(path, out / path.name)  # the tokenizer files
    cosine = _least_cosine(core, onnx_dir / MODEL_FILE, out / IR_FILE, feeds)
    if not cosine >= _MIN_COSINE:
        raise RuntimeError(f"the int8 model of {onnx_dir} does not reproduce its fp32 vectors "
                           f"(cosine {cosine:.4f} < {_MIN_COSINE}); choose another EMBEDDING_BACKEND")
    info.update(marker)
    info.update(check_cosine=round(cosine, 6), quantization={"mode": "static", "tool": "nncf",
                                                            "samples": len(feeds)}, word_table=word_table,
                openvino=importlib.metadata.version("openvino"), nncf=importlib.metadata.version("nncf"),
                exported_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    write_marker(out / MARKER_FILE, info)  # written last: the model is complete
    logger.info("quantised %s with NNCF in %.1fs, check cosine %.4f", onnx_dir, time.monotonic() - started, cosine)


def _least_cosine(core: Any, reference: Path, candidate: Path, feeds: list[dict[str, np.ndarray]]) -> float:
    """Least cosine over ``feeds`` between the two models' sentence embeddings."""
    models = [core.compile_model(core.read_model(str(path)), "CPU") for path in (reference, candidate)]
    table = WordTable(candidate.parent) if WordTable.present(candidate.parent) else None
    least = 1.0
    for feed in feeds:
        candidate_feed = feed if table is None else {**feed, EMBEDS_INPUT: table.embeds(feed["input_ids"])}
        a = np.asarray(models[0](feed)[OUTPUT_NAME], dtype=np.float32)[0]
        b = np.asarray(models[1](candidate_feed)[OUTPUT_NAME], dtype=np.float32)[0]
        least = min(least, float(a @ b / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12)))
    return least
