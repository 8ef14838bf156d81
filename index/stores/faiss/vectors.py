"""``vectors.faiss``: the chunk vectors, row ``i`` = chunk with ``vector_id`` ``i``.

Inner product over L2-normalised vectors (= cosine). Exact search (``IndexFlatIP``) while it is
fast enough; from ``HNSW_MIN_VECTORS`` vectors on, an HNSW graph over the same flat storage
(``IndexHNSWFlat``), whose recall@10 against exact search ``bench/perf_query.py`` measures.
Exact search over the whole 30k-article archive (86k chunks) streams 133 MB: ~8 ms on one core,
and concurrent questions share one pass (:class:`BatchedExactSearch`), so the archive stays exact;
the graph is for archives several times larger. Files are FAISS's own binary format
(``faiss.write_index``), which loading cannot turn into code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

from index._groupcommit import GroupCommit
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
#: Vectors handed to FAISS per ``add`` while writing (6 MB of float32 at 384 dimensions).
ADD_SLICE_ROWS = 4096
__all__ = ["BatchedExactSearch", "HNSW_EF_CONSTRUCTION", "HNSW_EF_SEARCH", "HNSW_M", "HNSW_MIN_VECTORS", "VECTORS_NAME",
           "VectorIndexKind", "chosen_kind", "read_vectors", "search_vectors", "write_vectors"]


def write_vectors(path: Path, rows: np.ndarray | Sequence[np.ndarray], kind: VectorIndexKind = "auto",
                  dimension: int | None = None) -> str:
    """Write ``rows`` (unit float32 vectors) as an inner-product index; returns its kind for the manifest.

    ``rows`` may be the build's list of per-chunk vectors: they are added in slices of
    :data:`ADD_SLICE_ROWS`, so the write holds FAISS's own copy and one slice, not also a stacked
    matrix and its float32 copy (+266 MB over the whole archive). ``dimension`` is needed only
    when ``rows`` is empty.
    """
    if dimension is None:
        dimension = int(np.shape(rows)[-1]) if isinstance(rows, np.ndarray) else int(np.shape(rows[0])[-1])
    index: faiss.Index
    if chosen_kind(kind, len(rows)) == "hnsw":
        graph = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index, label = graph, f"HNSW{HNSW_M}"
    else:
        index, label = faiss.IndexFlatIP(dimension), "Flat"
    for start in range(0, len(rows), ADD_SLICE_ROWS):
        # No copy for a float32 matrix's slice; a slice of the build's list is stacked (one slice).
        index.add(np.ascontiguousarray(rows[start:start + ADD_SLICE_ROWS], dtype=np.float32).reshape(-1, dimension))
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


#: Questions from which one matrix product over the float vectors (all of them read once for the
#: batch) beats a search of the 8-bit copy per question (on one core: 8 questions 26 ms together,
#: 3.9 ms each apart).
SHARED_PASS_FROM = 8


class BatchedExactSearch:
    """Inner-product search over a flat index's vectors that spares the memory bus.

    Why: a single query against a flat index streams every vector through memory (133 MB for the
    whole archive's 86k chunks: ~8 ms on one core, and two cores doing it at once slow each other),
    and FAISS below 20 queries scans once per query. So questions asked at the same moment are
    gathered (:class:`index._groupcommit.GroupCommit`): from :data:`SHARED_PASS_FROM` of them,
    one matrix product reads the vectors once for all; fewer are each searched in an 8-bit copy
    (33 MB) for twice the candidates asked plus 32, which the float vectors then score exactly.
    Scores are always exact; the ids equal :func:`search_vectors`' but where the 8-bit copy misses
    a candidate near the pool's cut (1 question in 160 over the archive, at the edge of its top 50).

    Args:
        index: A flat inner-product index (its storage is read in place, not copied).
        max_batch: Most questions per pass.
    """

    def __init__(self, index: faiss.Index, max_batch: int = 16) -> None:
        if not self.supports(index):
            raise TypeError(f"batched exact search needs a flat inner-product index, not {type(index).__name__}")
        self._index = index  # keeps the storage below alive
        storage = index.get_xb()  # type: ignore[attr-defined]  # IndexFlat's, checked by supports()
        self._matrix = faiss.rev_swig_ptr(storage, index.ntotal * index.d).reshape(index.ntotal, index.d)
        # An 8-bit copy (a quarter of the memory traffic) finds a few more candidates than asked,
        # which the float vectors then score exactly: over the archive's 86k chunks 3.9 against
        # 8.1 ms a question, and the same top 50 for 159 of the 160 reader questions.
        self._coarse = faiss.IndexScalarQuantizer(index.d, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        self._coarse.train(self._matrix)
        self._coarse.add(self._matrix)
        self._batcher: GroupCommit[tuple[np.ndarray, int], tuple[np.ndarray, np.ndarray]] = \
            GroupCommit(self._run, max_batch=max_batch)

    @classmethod
    def supports(cls, index: faiss.Index) -> bool:
        """Only exact flat indexes hold their vectors as one plain matrix (an empty one holds none)."""
        return (isinstance(index, faiss.IndexFlat) and index.metric_type == faiss.METRIC_INNER_PRODUCT
                and index.ntotal > 0)

    def _one(self, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """One question: candidates from the 8-bit copy (a quarter of the bytes), scored exactly."""
        count = min(count, self._index.ntotal)
        _, found = self._coarse.search(query.reshape(1, -1), min(self._index.ntotal, 2 * count + 32))
        candidates = found[0][found[0] >= 0]
        scores = self._matrix[candidates] @ query
        order = np.lexsort((candidates, -scores))[:count]
        return scores[order].astype(np.float32), candidates[order].astype(np.int64)

    def rows(self, keys: Sequence[int]) -> np.ndarray:
        """The stored vectors of ``keys`` (a copy), read straight from the matrix."""
        return np.array(self._matrix[np.asarray(keys, dtype=np.int64)], dtype=np.float32)

    def search(self, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``count`` ``(scores, ids)`` for one query, best first (ties: lower id first)."""
        return self._batcher.submit((np.asarray(query, dtype=np.float32).reshape(-1), count))

    def _run(self, requests: list[tuple[np.ndarray, int]]) -> list[tuple[np.ndarray, np.ndarray]]:
        if len(requests) < SHARED_PASS_FROM:
            return [self._one(query, count) for query, count in requests]
        queries = np.stack([query for query, _ in requests])
        # One pass over the vectors for the whole batch; (vectors × d) @ (d × questions) is the faster
        # BLAS layout here (measured 28 vs 41 ms for 16 questions over 86k vectors on one core).
        scores = np.ascontiguousarray((self._matrix @ queries.T).T)
        found: list[tuple[np.ndarray, np.ndarray]] = []
        for row, (_, count) in zip(scores, requests, strict=True):
            count = min(count, len(row))
            if count <= 0:
                found.append((np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)))
                continue
            top = np.argpartition(-row, count - 1)[:count]
            order = top[np.lexsort((top, -row[top]))]
            found.append((row[order].astype(np.float32), order.astype(np.int64)))
        return found
