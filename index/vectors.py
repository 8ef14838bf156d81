"""``vectors.faiss``: the chunk vectors, row ``i`` = chunk with ``vector_id`` ``i``.

Inner product over L2-normalised vectors (= cosine). Exact search (``IndexFlatIP``) is the
default; it is what every other index is measured against. Files are FAISS's own binary
format (``faiss.write_index``), which loading cannot turn into code execution.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from index.errors import IndexCorrupt

VECTORS_NAME = "vectors.faiss"


def write_vectors(path: Path, matrix: np.ndarray) -> str:
    """Write ``matrix`` (n × d float32, unit rows) as an exact inner-product index; returns its kind."""
    index = faiss.IndexFlatIP(int(matrix.shape[1]))
    if len(matrix):
        index.add(np.ascontiguousarray(matrix, dtype=np.float32))
    faiss.write_index(index, str(path))
    return "Flat"


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
