"""The FAISS store (default): one directory per index, read into the serving process.

``layout`` (the directory, atomic switch, locks), ``vectors`` (``vectors.faiss``), ``metadata``
(``chunks.sqlite``), ``store`` (writing builds) and ``reader`` (serving one).
"""

from index.stores.faiss.store import FaissStore

__all__ = ["FaissStore"]
