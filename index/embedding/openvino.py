"""The ``openvino``, ``openvino-bf16`` and ``openvino-int8`` engines, run by OpenVINO's CPU plugin.

Why a third runtime: on Xeons with AMX/AVX512-BF16 OpenVINO's kernels run the same graph in bf16
at several times the fp32 speed, and its fp32 kernels differ from onnxruntime's, so on some CPUs it
is the fastest fp32 engine. It reads the fused ``onnx`` export (:func:`index.embedding.onnx.ensure_onnx_model`,
the com.microsoft ``Attention``/``SkipLayerNormalization`` ops convert); it is optional — the
``openvino`` package is an extra, and an engine that does not import simply is not a candidate.

``openvino-int8`` is not onnxruntime's int8 export (OpenVINO has no conversion for its
``QAttention``) but NNCF's static quantisation of the fp32 export
(:mod:`index.embedding.openvino_int8`), an OpenVINO IR folder; its remaining float operations run
in bf16 where the CPU has it natively (45 against 36 chunks/s in fp32 on an AVX-512 BF16 EPYC).
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from index.embedding.base import DEFAULT_BATCH_SIZE
from index.embedding.onnx import MODEL_FILE, OUTPUT_NAME, OnnxEmbedder
from index.embedding.openvino_int8 import IR_FILE, VARIANT
from index.embedding.word_table import EMBEDS_INPUT, WordTable


def openvino_precisions() -> set[str]:
    """Precisions the CPU plugin runs natively here (``FP32``, ``BF16``, ``INT8``...); empty without openvino."""
    try:
        import openvino
    except ImportError:
        return set()
    return set(openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))


#: (batch, length) shapes whose compiled kernels OpenVINO keeps (least recently used first out).
#: Its default, 5,000, let a build's hundreds of shapes grow the peak RSS of 1,200 chunks from
#: 1.7 to 2.3 GB; none at all doubled a question's embedding time (22 against 11 ms). 64, with
#: questions padded to a few lengths (:data:`QUERY_PAD_TOKENS`), keeps both: 1.7 GB, and the
#: shapes of questions stay compiled.
RUNTIME_CACHE_SHAPES = 64
#: Questions are padded to a multiple of this many tokens, so their shapes repeat (the attention
#: mask hides the padding: the vectors do not change).
QUERY_PAD_TOKENS = 16


class OpenVinoEmbedder(OnnxEmbedder):
    """An :class:`~index.embedding.base.Embedder` running the fp32 ONNX export with OpenVINO.

    Args:
        folder: The ``onnx`` (fp32) export.
        model_id: What the manifest records.
        batch_size: Texts per forward pass when embedding documents.
        precision: ``f32`` or ``bf16`` (OpenVINO's inference precision hint; bf16 only where native).
            For an int8 folder it is the precision of what stays in float.
    """

    def __init__(self, folder: Path, model_id: str, batch_size: int = DEFAULT_BATCH_SIZE,
                 precision: str = "f32") -> None:
        super().__init__(folder, model_id, batch_size)
        # An NNCF folder holds OpenVINO IR (model.xml); the fp32 export holds ONNX.
        self._model_file = IR_FILE if (self.folder / IR_FILE).is_file() else MODEL_FILE
        if self._model_file == IR_FILE:
            self.backend = VARIANT
        else:
            self.backend = "openvino-bf16" if precision == "bf16" else "openvino"
        self._precision = precision
        # The int8 model's word embeddings, looked up here (see index.embedding.word_table).
        self._word_table = WordTable(self.folder) if WordTable.present(self.folder) else None
        self._compiled: Any = None
        self._compile_lock = threading.Lock()
        self._first_call_lock = threading.Lock()
        # One infer request per thread: a request is not re-entrant, the compiled model is shared.
        self._requests = threading.local()

    def release_memory(self) -> None:
        """Drop the compiled model and the infer requests (OpenVINO's working memory): compiled again on next use."""
        with self._compile_lock:
            self._compiled = None
            self._requests = threading.local()

    def _compiled_model(self) -> Any:
        with self._compile_lock:
            if self._compiled is None:
                import openvino

                core = openvino.Core()
                # One stream per core, one thread per stream: like the onnxruntime engines, whole
                # batches run side by side rather than splitting small matrices over cores.
                cores = os.cpu_count() or 1
                self._compiled = core.compile_model(
                    core.read_model(str(self.folder / self._model_file)), "CPU",
                    {"INFERENCE_PRECISION_HINT": self._precision, "NUM_STREAMS": cores,
                     "INFERENCE_NUM_THREADS": cores, "PERFORMANCE_HINT": "THROUGHPUT",
                     "CPU_RUNTIME_CACHE_CAPACITY": RUNTIME_CACHE_SHAPES})
            return self._compiled

    def _encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode([self.query_prompt + text for text in texts], pad_to_multiple_of=QUERY_PAD_TOKENS)

    def _run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        if self._word_table is not None:
            feeds = {**feeds, EMBEDS_INPUT: self._word_table.embeds(feeds["input_ids"])}
        request = getattr(self._requests, "request", None)
        first = request is None
        if request is None:
            request = self._requests.request = self._compiled_model().create_infer_request()
        # A thread's first inference runs alone: the binding initialises function-local statics
        # on first use while holding the GIL, and two threads doing so at once deadlocked a
        # 30k-article build (one waiting on the static's guard, the other on the GIL; 0% CPU).
        with self._first_call_lock if first else contextlib.nullcontext():
            return np.array(request.infer(feeds)[OUTPUT_NAME], dtype=np.float32)
