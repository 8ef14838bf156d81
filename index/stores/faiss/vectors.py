"""``vectors.faiss``: the chunk vectors, row ``i`` = chunk with ``vector_id`` ``i``.

Inner product over L2-normalised vectors (= cosine). Exact search (``IndexFlatIP``) while it is
fast enough; from ``HNSW_MIN_VECTORS`` vectors on, an HNSW graph over the same flat storage
(``IndexHNSWFlat``), whose recall@10 against exact search ``bench/perf_query.py`` measures.
Exact search over 100k chunks (the whole 30k-article archive) takes a few milliseconds on one
core, so the archive itself stays exact; the graph is for archives several times larger. Files
are FAISS's own binary format (``faiss.write_index``), which loading cannot turn into code.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from index.errors import IndexCorrupt
from index.settings import (  # re-exported: the kinds are settings; FAISS applies them
    HNSW_EF_CONSTRUCTION,
    HNSW_EF_SEARCH,
    HNSW_M,
    HNSW_MIN_VECTORS,
    VectorIndexKind,
    chosen_kind,
)

VECTORS_NAME = "vectors.faiss"
__all__ = ["HNSW_EF_CONSTRUCTION", "HNSW_EF_SEARCH", "HNSW_M", "HNSW_MIN_VECTORS", "VECTORS_NAME", "VectorIndexKind",
           "chosen_kind", "read_vectors", "search_vectors", "write_vectors"]


def write_vectors(path: Path, matrix: np.ndarray, kind: VectorIndexKind = "auto") -> str:
    """Write ``matrix`` (n × d float32, unit rows) as an inner-product index; returns its kind for the manifest."""
    dimension = int(matrix.shape[1])
    index: faiss.Index
    if chosen_kind(kind, len(matrix)) == "hnsw":
        graph = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index, label = graph, f"HNSW{HNSW_M}"
    else:
        index, label = faiss.IndexFlatIP(dimension), "Flat"
    if len(matrix):
        index.add(np.ascontiguousarray(matrix, dtype=np.float32))
    faiss.write_index(index, str(path))
    return label


def search_vectors(index: faiss.Index, query: np.ndarray, count: int,
                   allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top ``count`` ``(scores, ids)`` for one query, restricted to ``allowed`` ids when given."""
    selector = faiss.IDSelectorBatch(allowed) if allowed is not None else None
    params: faiss.SearchParameters | None = None
    if isinstance(index, faiss.IndexHNSW):
        hnsw = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]  # in faiss, missing from its stubs
        hnsw.efSearch = max(HNSW_EF_SEARCH, count)
        params = hnsw
    elif selector is not None:
        params = faiss.SearchParameters()
    if params is not None and selector is not None:
        params.sel = selector
    scores, ids = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), count, params=params)
    return scores[0], ids[0]


def read_vectors(path: Path) -> faiss.Index:
    """Load the vector index.

    Raises:
        IndexCorrupt: the file is missing or not a FAISS index.
    """
    try:
        return faiss.read_index(str(path))
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable"
        raise IndexCorrupt(str(path.parent), f"{path.name} cannot be read: {first_line}") from None
