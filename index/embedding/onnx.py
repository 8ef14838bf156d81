"""The ``onnx`` and ``onnx-int8`` engines: the SentenceTransformer pipeline run by onnxruntime.

The model is exported once into ``CACHE_DIR`` (:mod:`index.embedding.onnx_export`, where the
choices are explained); this module runs an export: the folder's own tokenizer, padded to the
longest, then one ``InferenceSession`` per thread count.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.embedding.base import BatchedEmbedder, model_prompts
from index.embedding.onnx_export import (
    MARKER_FILE,
    MODEL_FILE,
    OUTPUT_NAME,
    ensure_onnx_model,
    onnx_model_dir,
    variant_name,
)
from index.settings import DEFAULT_BATCH_SIZE

if TYPE_CHECKING:
    import onnxruntime

__all__ = ["MARKER_FILE", "MODEL_FILE", "OUTPUT_NAME", "OnnxEmbedder", "ensure_onnx_model", "onnx_model_dir",
           "variant_name"]


class OnnxEmbedder(BatchedEmbedder):
    """An :class:`~index.embedding.base.Embedder` running an export of :func:`ensure_onnx_model`.

    Args:
        folder: The export (``model.onnx``, tokenizer files, ``akhbar_onnx.json``).
        model_id: What the manifest records (the model's id, the same for every backend).
        batch_size: Texts per forward pass when embedding documents.
    """

    def __init__(self, folder: Path, model_id: str, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        from transformers import AutoTokenizer

        super().__init__(batch_size)
        self.folder = Path(folder)
        info = json.loads((self.folder / MARKER_FILE).read_text(encoding="utf-8"))
        self.model_id = model_id
        self.backend = str(info["variant"])
        self.dimension = int(info["dimension"])
        self.max_tokens = int(info["max_seq_length"])
        self.query_prompt, self.document_prompt = model_prompts(info.get("prompts"), model_id)
        self._input_names: list[str] = list(info["input_names"])
        self._tokenizer = AutoTokenizer.from_pretrained(str(self.folder))
        # Opened on first use (the export may still be checked by the caller).
        self._session: onnxruntime.InferenceSession | None = None
        self._session_lock = threading.Lock()
        self.parallel_batches = os.cpu_count() or 1

    def set_threads(self, threads: int) -> None:
        """Use ``threads`` cores (0 = all): that many single-threaded batches at once when embedding documents.

        The session itself runs on one thread, so a query (one short text) takes one core and
        keeps latency steady, and a build spreads whole batches over the cores, which is faster
        than splitting each batch's small matrices (see ``BatchedEmbedder.embed_documents``).
        ``InferenceSession.run`` is thread-safe, so the batches share one session.
        """
        self.parallel_batches = threads if threads > 0 else (os.cpu_count() or 1)

    def release_memory(self) -> None:
        """Drop the session (its arena of scratch buffers); the next batch opens a new one."""
        with self._session_lock:
            self._session = None

    def _current_session(self) -> onnxruntime.InferenceSession:
        with self._session_lock:
            if self._session is None:
                self._session = self._new_session()
            return self._session

    def _new_session(self) -> onnxruntime.InferenceSession:
        """One session on one thread; parallelism comes from running batches side by side."""
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        return onnxruntime.InferenceSession(str(self.folder / MODEL_FILE), options,
                                            providers=["CPUExecutionProvider"])

    def _run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """The graph's sentence embeddings for tokenised ``feeds`` (the runtime's part of :meth:`_encode`)."""
        return np.asarray(self._current_session().run([OUTPUT_NAME], feeds)[0], dtype=np.float32)

    def _encode(self, texts: list[str], pad_to_multiple_of: int | None = None) -> np.ndarray:
        encoded = self._tokenizer(texts, padding=True, truncation="longest_first", max_length=self.max_tokens,
                                  pad_to_multiple_of=pad_to_multiple_of, return_tensors="np")
        feeds = {name: np.asarray(encoded[name], dtype=np.int64) for name in self._input_names}
        vectors = self._run(feeds)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
