"""The reference engine: ``sentence_transformers.SentenceTransformer`` on torch (``torch``, ``torch-bf16``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from index.embedding.base import BatchedEmbedder, model_prompts
from index.settings import DEFAULT_BATCH_SIZE


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
        self.dimension = int(self._model.get_embedding_dimension() or 0)
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
        unit: np.ndarray = output / np.maximum(np.linalg.norm(output, axis=1, keepdims=True), 1e-12)
        return unit
