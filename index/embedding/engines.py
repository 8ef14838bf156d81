"""Embedding engines: every way this project can compute the same model, and how to load each.

An *engine* is a runtime and a precision (``EMBEDDING_BACKEND``): which one is fastest depends on
the CPU (int8 onnxruntime on AVX2, bf16 torch on AMX Xeons), so ``auto`` measures them
(:mod:`index.embedding.calibration`) instead of fixing one. This module only knows what exists and how to
load it; it does not choose.

=================  ===========================================================================
``torch``          sentence-transformers, fp32 — the reference every other engine is compared with
``torch-bf16``     the same with bf16 weights (``torch_dtype=bfloat16``); fast only where the CPU has
                   native bf16 (AVX512-BF16, AMX), emulated and slow elsewhere
``onnx``           the exported graph on onnxruntime, fp32 (same vectors as torch)
``onnx-int8``      that export with dynamically quantised int8 weights (cosine ~0.998 to fp32)
``openvino``       the fp32 export on OpenVINO (optional extra ``openvino``)
``openvino-bf16``  OpenVINO in bf16, only where its CPU plugin reports native BF16
``openvino-int8``  NNCF's static int8 quantisation of the fp32 export on OpenVINO (needs ``nncf``;
                   only where the CPU plugin reports INT8)
=================  ===========================================================================
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path

from index.embedding.base import Embedder
from index.embedding.cpu import cpu_identity
from index.embedding.sbert import SentenceTransformerEmbedder
from index.settings import DEFAULT_BATCH_SIZE

logger = logging.getLogger(__name__)

#: The concrete engines, in the order calibration tries them after the reference: likely winners
#: first (int8, then bf16, then fp32), so a budget spent early skips only engines that lose anyway —
#: on an AVX-512 BF16 EPYC, OpenVINO's engines came last and were never measured.
ENGINE_NAMES: tuple[str, ...] = ("torch", "openvino-int8", "onnx-int8", "openvino-bf16", "torch-bf16", "onnx",
                                 "openvino")
#: The engine other engines' vectors are compared with.
REFERENCE_ENGINE = "torch"

#: Texts per forward pass when building, per engine: the best tokens/s of batches of 4/8/16/32
#: length-sorted ~175-token chunks (``bench/engines.py --batch-sizes``, AMD EPYC AVX2, 2 cores):
#: onnx-int8 3443/3195/2952/2937, onnx 2811/2508/2326/1962, openvino 2928/2824/2575/2196 — small
#: batches, one per core, stay in cache; torch 2019/2205/2315/1681, which splits each batch over
#: the cores and needs larger ones to keep both busy; torch-bf16 (emulated here) 353/362/321/292.
BUILD_BATCH_SIZE: dict[str, int] = {"torch": 16, "torch-bf16": 8, "onnx": 4, "onnx-int8": 4,
                                    "openvino": 4, "openvino-bf16": 4, "openvino-int8": 4}


def engine_importable(name: str) -> bool:
    """Whether the runtime of engine ``name`` is installed (loading may still fail)."""
    if name == "openvino-int8":
        return all(importlib.util.find_spec(package) is not None for package in ("openvino", "nncf"))
    if name.startswith("openvino"):
        return importlib.util.find_spec("openvino") is not None
    if name.startswith("onnx"):
        return importlib.util.find_spec("onnxruntime") is not None
    return name in ENGINE_NAMES


def candidate_engines(flags: str | None = None) -> list[str]:
    """The engines worth measuring on this machine, likely winners first: installed, bf16 OpenVINO only where native.

    ``torch-bf16`` is always a candidate: torch runs it everywhere, but without native bf16
    (AVX512-BF16, AMX) it is emulated (~8× slower than fp32 on AVX2), so there it is tried last,
    where the time budget or the first probe drops it, and the engines that can win go first.
    Without an int8 dot-product instruction (VNNI, AMX-INT8) OpenVINO's int8 is no faster than
    fp32 and onnxruntime's (which has its own AVX2 int8 kernels) is the one to measure first:
    on an AVX2-only EPYC (2 cores) the 30 s budget was spent on torch and openvino-int8 (12.1 and
    10.9 chunks/s) and torch was chosen, while onnx-int8 ran 17.5 and onnx 15.9.

    Args:
        flags: The CPU's flags (default this machine's).
    """
    flags = cpu_identity()[1] if flags is None else flags
    names = [name for name in ENGINE_NAMES if engine_importable(name)]
    if "openvino-bf16" in names or "openvino-int8" in names:
        from index.embedding.openvino import openvino_precisions

        precisions = openvino_precisions()
        for name, needed in (("openvino-bf16", "BF16"), ("openvino-int8", "INT8")):
            if name in names and needed not in precisions:
                names.remove(name)
    if "openvino-int8" in names and not native_int8(flags):
        names.remove("openvino-int8")
        names.append("openvino-int8")
    if not native_bf16(flags):
        names.remove("torch-bf16")
        names.append("torch-bf16")
    return names


def native_int8(flags: str) -> bool:
    """Whether the CPU has an int8 dot-product instruction (``avx512_vnni``, ``avx_vnni``, ``amx_int8``)."""
    return bool({"avx512_vnni", "avx_vnni", "amx_int8"} & set(flags.split()))


def native_bf16(flags: str | None = None) -> bool:
    """Whether the CPU computes bf16 natively (``avx512_bf16`` or ``amx_bf16`` in its flags)."""
    if flags is None:
        flags = cpu_identity()[1]
    return bool({"avx512_bf16", "amx_bf16"} & set(flags.split()))


def load_engine(name: str, folder: str | Path, model_id: str, models_dir: Path,
                batch_size: int | None = None) -> Embedder:
    """Load ``folder`` (a SentenceTransformer folder or cached model name) with engine ``name``.

    ONNX and OpenVINO engines export the folder once into ``models_dir``
    (:func:`index.embedding.onnx.ensure_onnx_model`).

    Args:
        name: One of :data:`ENGINE_NAMES`.
        folder: The model folder (or, for torch engines, a cached model name).
        model_id: What the manifest records.
        models_dir: Where exports are cached.
        batch_size: Texts per forward pass; ``None``: the engine's measured :data:`BUILD_BATCH_SIZE`.

    Raises:
        ValueError: unknown engine, or an exporting engine given a model name instead of a folder.
        ImportError, RuntimeError, OSError: the runtime or the export failed.
    """
    if name not in ENGINE_NAMES:
        raise ValueError(f"unknown embedding engine {name!r} (choose one of {', '.join(ENGINE_NAMES)})")
    size = batch_size or BUILD_BATCH_SIZE.get(name, DEFAULT_BATCH_SIZE)
    if name.startswith("torch"):
        return SentenceTransformerEmbedder(folder, model_id=model_id, batch_size=size,
                                           bf16=name == "torch-bf16")
    from index.embedding.onnx import OnnxEmbedder, ensure_onnx_model

    if not Path(folder).is_dir():
        raise ValueError(f"the {name} engine exports a local model folder or the default model; "
                         f"use EMBEDDING_BACKEND=torch for a model name")
    if name == "openvino-int8":
        from index.embedding.openvino_int8 import ensure_openvino_int8

        exported = ensure_openvino_int8(Path(folder), models_dir)
    else:
        exported = ensure_onnx_model(Path(folder), models_dir, quantize=name == "onnx-int8")
    if name.startswith("openvino"):
        from index.embedding.openvino import OpenVinoEmbedder

        # int8 keeps its float operations in bf16 where the CPU has it natively.
        bf16 = name == "openvino-bf16" or (name == "openvino-int8" and native_bf16())
        return OpenVinoEmbedder(exported, model_id=model_id, batch_size=size, precision="bf16" if bf16 else "f32")
    return OnnxEmbedder(exported, model_id=model_id, batch_size=size)


def prepare_exports(folder: str | Path, models_dir: Path, names: list[str] | None = None) -> None:
    """Export the ONNX models the candidate engines need (once per model, ~30-40 s each for e5-small).

    Done before calibration so its time budget measures engines, not one-time conversions; an
    export that fails is left to the engine's loader to report (the engine is then no candidate).
    """
    if not Path(folder).is_dir():
        return
    from index.embedding.onnx import ensure_onnx_model

    chosen = names if names is not None else candidate_engines()
    for quantize in sorted({name == "onnx-int8" for name in chosen if name.startswith(("onnx", "openvino"))}):
        try:
            ensure_onnx_model(Path(folder), models_dir, quantize=quantize)
        except (OSError, ValueError, RuntimeError, ImportError) as error:
            logger.warning("cannot export %s to ONNX (%s): those engines are no candidates", folder, error)
    if "openvino-int8" in chosen:
        from index.embedding.openvino_int8 import ensure_openvino_int8

        try:
            ensure_openvino_int8(Path(folder), models_dir)
        except (OSError, ValueError, RuntimeError, ImportError) as error:
            logger.warning("cannot quantise %s with NNCF (%s): openvino-int8 is no candidate", folder, error)


def engine_loaders(folder: str | Path, model_id: str, models_dir: Path,
                   names: list[str] | None = None) -> dict[str, Callable[[], Embedder]]:
    """A loader per candidate engine (reference first), for :func:`index.embedding.calibration.calibrate`."""
    chosen = names if names is not None else candidate_engines()
    ordered = [REFERENCE_ENGINE] + [name for name in chosen if name != REFERENCE_ENGINE]
    return {name: functools.partial(load_engine, name, folder, model_id, models_dir) for name in ordered}
