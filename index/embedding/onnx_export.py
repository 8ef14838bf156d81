"""The one-time ONNX export of a SentenceTransformer folder (fp32, or int8) that the ``onnx`` engines run.

Choices, and why (figures from ``bench/embed_speed.py`` on multilingual-e5-small):

* **Export locally, with torch's own exporter.** sentence-transformers' ``backend="onnx"`` needs
  ``optimum``, which does not resolve with transformers 5; ``torch.onnx.export`` exports the
  loaded folder with no network.
* **The TorchScript exporter, eager attention, then onnxruntime's BERT fusions.** Only that graph
  is recognised by ``onnxruntime.transformers.optimizer`` (fused ``Attention``,
  ``EmbedLayerNormalization``, ``SkipLayerNormalization``, ``BiasGelu``), and only fused attention
  is quantised to int8 (``QAttention``): ~1.5× the documents/s of the unfused int8 graph. The
  torch.export-based exporter (``dynamo=True``) gives a graph nothing fuses in. The TorchScript
  exporter is deprecated but present in the pinned torch; if it goes, the export fails loudly.
* **The whole pipeline in one graph.** The exported module is the SentenceTransformer itself
  (transformer → pooling → normalisation, whatever the folder's modules are), so pooling is the
  model's own, not a re-implementation; only tokenisation runs outside, with the folder's own
  tokenizer called as sentence-transformers calls it (pad to the longest, truncate at
  ``max_seq_length``). Inputs are ``input_ids`` and ``attention_mask`` (+ ``token_type_ids`` when
  the tokenizer makes them), with dynamic batch and sequence axes.
* **int8: dynamic quantisation with per-channel weights** (onnxruntime's ``quantize_dynamic``,
  signed int8 weights, activations quantised on the fly). Per-tensor scales were measurably worse
  (cosine to fp32 0.983 against 0.996 per channel). The feed-forward output projections stay fp32
  (their inputs have outliers): cosine 0.996 → 0.998 for ~13% of the speed-up.
* **Checked before kept.** The fused graph and the final model are compared with the torch model
  on sample texts; a fusion that changes the vectors is dropped (unfused graph kept) and a final
  model that does not reproduce torch is never cached.
* **Once, atomically.** The export is written into a temporary sibling directory, its marker file
  last, then renamed into place under a lock; a marker naming the source folder's files (size and
  mtime) makes a re-converted source trigger a fresh export.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.metadata
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index._files import build_once, marker_matches, write_marker

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

#: Bump when the export changes; cached exports of an older version are redone.
EXPORTER_VERSION = 2
MARKER_FILE = "akhbar_onnx.json"
MODEL_FILE = "model.onnx"
OUTPUT_NAME = "sentence_embedding"
_INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
#: Texts the export is checked on (different lengths, so padding is exercised).
_CHECK_TEXTS = ("passage: قال وزير الخارجية إن المحادثات ستستأنف الأسبوع المقبل في القاهرة.",
                "query: متى تستأنف المحادثات؟", "passage: الطقس")
#: ONNX opset of the export (onnxruntime's fusions and int8 kernels cover it).
_OPSET = 17
#: Least cosine between the export's vectors and torch's on the check texts.
_MIN_COSINE = {"onnx": 0.9999, "onnx-int8": 0.9}


def variant_name(quantize: bool) -> str:
    """The backend name of an export: ``onnx-int8`` or ``onnx``."""
    return "onnx-int8" if quantize else "onnx"


def onnx_model_dir(source: Path, models_dir: Path, quantize: bool) -> Path:
    """Where the export of ``source`` is cached: beside it when it lives in ``models_dir``.

    The converted default model ``models_dir/multilingual-e5-small`` exports to
    ``models_dir/multilingual-e5-small.onnx-int8``; another folder gets a hash of its path in the name.
    """
    source = source.resolve()
    variant = variant_name(quantize)
    if source.parent == models_dir.resolve():
        return models_dir / f"{source.name}.{variant}"
    digest = hashlib.sha256(str(source).encode()).hexdigest()[:10]
    return models_dir / f"{source.name}-{digest}.{variant}"


def _source_files(source: Path) -> dict[str, list[int]]:
    """Size and mtime of every file of the source folder: it changes when the folder is rebuilt."""
    files = {}
    for path in sorted(source.rglob("*")):
        if path.is_file():
            status = path.stat()
            files[str(path.relative_to(source))] = [status.st_size, status.st_mtime_ns]
    return files


def _expected_marker(source: Path, quantize: bool) -> dict[str, object]:
    return {"exporter_version": EXPORTER_VERSION, "variant": variant_name(quantize),
            "source": str(source.resolve()), "source_files": _source_files(source)}


def _is_complete(target: Path, expected: dict[str, object]) -> bool:
    return marker_matches(target, MARKER_FILE, expected, (MODEL_FILE, "tokenizer_config.json"))


def ensure_onnx_model(source: Path, models_dir: Path, quantize: bool = True) -> Path:
    """Return the ONNX export of the SentenceTransformer folder ``source``, exporting it on first use.

    Safe to call from several processes at once: one exports (~40 s and ~5 GB peak RAM for
    multilingual-e5-small on 2 cores), the others wait on the lock and reuse its result. An interrupted
    export leaves only a temporary directory, removed by the next call.

    Args:
        source: A SentenceTransformer folder (the converted default model, or any local one).
        models_dir: The cache folder that holds converted and exported models.
        quantize: Quantise the weights to int8 (``onnx-int8``) instead of keeping fp32 (``onnx``).

    Returns:
        A folder with ``model.onnx``, the tokenizer files and ``akhbar_onnx.json``.

    Raises:
        ValueError: the model is not a text transformer the export supports.
        RuntimeError: the export does not reproduce the torch model's vectors.
    """
    source = Path(source)
    if not (source / "modules.json").is_file():
        raise ValueError(f"{source} is not a SentenceTransformer folder (no modules.json)")
    target = onnx_model_dir(source, Path(models_dir), quantize)
    expected = _expected_marker(source, quantize)
    if _is_complete(target, expected):
        return target
    return build_once(target, lambda: _is_complete(target, expected),
                      lambda stage: _export(source, stage, quantize, expected),
                      f"exporting {source} to ONNX ({variant_name(quantize)})")


def _export(source: Path, stage: Path, quantize: bool, marker: dict[str, object]) -> None:
    """Export, fuse (and quantise) ``source`` into ``stage / "model"``, using ``stage`` as scratch."""
    import torch
    from sentence_transformers import SentenceTransformer

    started = time.monotonic()
    # Eager attention exports as the plain MatMul/Softmax pattern onnxruntime's fusions recognise.
    model = SentenceTransformer(str(source), device="cpu", model_kwargs={"attn_implementation": "eager"}).eval()
    features = model.preprocess(list(_CHECK_TEXTS))
    tensors = {key: value for key, value in features.items() if isinstance(value, torch.Tensor)}
    names = [name for name in _INPUT_NAMES if name in tensors]
    if "input_ids" not in names or "attention_mask" not in names or set(tensors) - set(names):
        raise ValueError(f"the ONNX backend supports text transformer models only; this one takes "
                         f"{sorted(tensors)}")
    max_length = int(model.max_seq_length or 512)
    reference = model.encode(list(_CHECK_TEXTS), convert_to_numpy=True, normalize_embeddings=True,
                             show_progress_bar=False)
    out = stage / "model"
    out.mkdir()
    model.tokenizer.save_pretrained(str(out))
    checks = _CheckTexts(out, names, max_length, reference)

    raw = stage / "raw.onnx"
    _torch_export(model, tensors, names, raw)
    config = getattr(getattr(model[0], "auto_model", None), "config", None)
    dimension = int(model.get_embedding_dimension() or 0)
    prompts = dict(getattr(model, "prompts", {}) or {})
    del model, features, tensors  # the graph holds the weights now; free ~0.5 GB before fusing
    gc.collect()
    fp32 = stage / "fused.onnx"
    fused = _fuse(raw, fp32, config)
    if fused and checks.cosine(fp32) < _MIN_COSINE["onnx"]:
        logger.warning("onnxruntime's fusions changed the vectors of %s: keeping the unfused graph", source)
        fused = False
    if not fused:
        fp32 = raw
    kept_fp32: list[str] = []
    if quantize:
        kept_fp32 = _quantize(fp32, out / MODEL_FILE, config)
    else:
        os.replace(fp32, out / MODEL_FILE)
    variant = variant_name(quantize)
    cosine = checks.cosine(out / MODEL_FILE)
    if not cosine >= _MIN_COSINE[variant]:
        raise RuntimeError(f"the {variant} export of {source} does not reproduce the torch model "
                           f"(cosine {cosine:.4f} < {_MIN_COSINE[variant]}); use EMBEDDING_BACKEND=torch")
    info: dict[str, Any] = dict(marker)
    info.update(
        input_names=names, dimension=dimension, max_seq_length=max_length,
        prompts=prompts, fused=fused, check_cosine=round(cosine, 6),
        quantization={"mode": "dynamic", "weights": "int8", "per_channel": True,
                      "fp32_nodes": kept_fp32} if quantize else None,
        torch=torch.__version__, onnxruntime=importlib.metadata.version("onnxruntime"),
        exported_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    # Written last: its presence means everything above is on disk and checked.
    write_marker(out / MARKER_FILE, info)
    logger.info("exported %s (%s) in %.1fs, check cosine %.4f", source, variant, time.monotonic() - started, cosine)


class _CheckTexts:
    """Compares an exported graph's vectors with the torch model's on :data:`_CHECK_TEXTS`."""

    def __init__(self, tokenizer_dir: Path, names: list[str], max_length: int, reference: np.ndarray) -> None:
        from transformers import AutoTokenizer

        encoded = AutoTokenizer.from_pretrained(str(tokenizer_dir))(
            list(_CHECK_TEXTS), padding=True, truncation="longest_first", max_length=max_length, return_tensors="np")
        self.feeds = {name: np.asarray(encoded[name], dtype=np.int64) for name in names}
        self.reference = reference

    def cosine(self, path: Path) -> float:
        """Least cosine over the check texts between the graph at ``path`` and torch."""
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        vectors = np.asarray(session.run([OUTPUT_NAME], self.feeds)[0], dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return float(np.min(np.sum(vectors * self.reference, axis=1)))


def _sentence_embedding_module(model: Any) -> Any:
    """The exported module: token ids in, the SentenceTransformer's own sentence embedding out."""
    import torch

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
            features = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                features["token_type_ids"] = token_type_ids
            output: torch.Tensor = self.model(features)[OUTPUT_NAME]
            return output

    return SentenceEmbedding().eval()


def _torch_export(model: Any, tensors: dict[str, Any], names: list[str], path: Path) -> None:
    """``torch.onnx.export`` (TorchScript exporter) with dynamic batch and sequence axes."""
    import torch

    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    with torch.no_grad(), _quiet_exporter():
        torch.onnx.export(
            _sentence_embedding_module(model), tuple(tensors[name] for name in names), str(path),
            input_names=names, output_names=[OUTPUT_NAME], dynamo=False, opset_version=_OPSET,
            dynamic_axes={**axes, OUTPUT_NAME: {0: "batch"}}, do_constant_folding=True)


def _fuse(source: Path, target: Path, config: Any) -> bool:
    """Fuse the BERT-family graph (attention, embedding + layer norm, skip layer norm, bias GELU).

    Returns:
        Whether the fused graph was written (``False``: the optimizer failed; use ``source``).
    """
    from onnxruntime.transformers import optimizer

    try:
        with _quiet_exporter():
            fused = optimizer.optimize_model(
                str(source), model_type="bert", num_heads=int(getattr(config, "num_attention_heads", 0) or 0),
                hidden_size=int(getattr(config, "hidden_size", 0) or 0), opt_level=1)
            fused.save_model_to_file(str(target))
    except Exception as error:  # noqa: BLE001 - any optimizer failure just means "not fused"
        logger.warning("onnxruntime's transformer optimizer failed (%s): keeping the unfused graph", error)
        return False
    logger.info("fused operators: %s", {k: v for k, v in fused.get_fused_operator_statistics().items() if v})
    return True


def _quantize(source: Path, target: Path, config: Any) -> list[str]:
    """Dynamic int8 quantisation with per-channel weight scales, FFN output projections kept fp32.

    Returns:
        The names of the MatMul nodes left in fp32.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    keep = _ffn_output_matmuls(onnx.load(str(source), load_external_data=False), config)
    with _quiet_exporter():
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                         nodes_to_exclude=keep, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    return keep


def _ffn_output_matmuls(graph_model: Any, config: Any) -> list[str]:
    """MatMul nodes projecting the feed-forward layer back to the hidden size (weight ``ffn × hidden``).

    Their input is the GELU output, whose few large activations int8 rounds worst: keeping these 12
    of 84 weight matrices in fp32 cut the int8 error (1 − cosine to fp32) by ~60% on news text for
    ~13% of the speed-up.
    """
    shape = (getattr(config, "intermediate_size", None), getattr(config, "hidden_size", None))
    if None in shape:
        return []
    weights = {tensor.name: tuple(tensor.dims) for tensor in graph_model.graph.initializer}
    return [node.name for node in graph_model.graph.node
            if node.op_type == "MatMul" and any(weights.get(name) == shape for name in node.input)]


class _DropAdvice(logging.Filter):
    """Drops onnxruntime's advice to pre-process before quantising (its pre-processing fails on this graph)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


@contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence the exporters' notices that do not apply here, nothing else."""
    import warnings

    advice = _DropAdvice()
    root = logging.getLogger()
    root.addFilter(advice)
    try:
        with warnings.catch_warnings():
            # The TorchScript exporter is deprecated in favour of torch.export, whose graphs
            # onnxruntime does not fuse (see the module docstring); its trace notes are expected.
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx\..*")
            warnings.filterwarnings("ignore", message=r".*legacy TorchScript-based ONNX export.*")
            warnings.filterwarnings("ignore", message=r".*might cause the trace to be incorrect.*")
            warnings.filterwarnings("ignore", message=r".*advanced indexing in opset.*")
            yield
    finally:
        root.removeFilter(advice)

