"""The lexical side of search: BM25 (bm25s) over Arabic-normalised, light-stemmed chunk text.

Dense embeddings blur rare names, numbers and exact terms; BM25 finds them. The index is saved
next to the vectors as bm25s's plain files (JSON + ``.npy`` loaded with ``allow_pickle=False``).
Scores for all chunks come back as one array, so filters are a mask, not a post-filter.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Iterable
from pathlib import Path

import bm25s
import numpy as np

from corpus.arabic import lexical_tokens
from index.errors import IndexCorrupt

logger = logging.getLogger(__name__)

LEXICAL_DIR = "lexical"
#: BM25 parameters: the classic Robertson defaults suit short news chunks.
BM25_K1 = 1.2
BM25_B = 0.75
#: The one term of a chunk with no word (bm25s needs every document to hold a term).
EMPTY_DOCUMENT_TERM = "\u2205"


class LexicalIndex:
    """BM25 over chunks in vector order (document ``i`` = chunk with ``vector_id`` ``i``)."""

    def __init__(self, model: bm25s.BM25 | None, size: int) -> None:
        self._model = model
        self.size = size

    @classmethod
    def build(cls, texts: Iterable[str]) -> LexicalIndex:
        """Index ``texts`` (one per chunk), tokenising one at a time.

        Each chunk's terms are kept as a compact array of term ids (4 bytes a term), not as lists
        of strings and then of Python ints, which bm25s's own path holds both of at once. Ids are
        numbered in order of first appearance (bm25s numbers its own in set order, which the hash
        seed shuffles), so the same chunks always give the same files.
        """
        vocabulary: dict[str, int] = {}
        documents: list[array[int]] = []
        for text in texts:
            terms = lexical_tokens(text) or [EMPTY_DOCUMENT_TERM]
            documents.append(array("i", (vocabulary.setdefault(term, len(vocabulary)) for term in terms)))
        if not documents:
            return cls(None, 0)
        model = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        model.index((documents, vocabulary), show_progress=False)
        return cls(model, len(documents))

    def save(self, folder: Path) -> None:
        """Write the index files into ``folder`` (no pickle)."""
        folder.mkdir(parents=True, exist_ok=True)
        if self._model is not None:
            self._model.save(str(folder), allow_pickle=False)
        (folder / "size.txt").write_text(str(self.size), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Read an index written by :meth:`save`.

        Raises:
            IndexCorrupt: files missing or unreadable.
        """
        try:
            size = int((folder / "size.txt").read_text(encoding="utf-8"))
            model = bm25s.BM25.load(str(folder), allow_pickle=False, mmap=False) if size else None
        except (OSError, ValueError) as error:
            raise IndexCorrupt(str(folder.parent), f"lexical index cannot be read: {error}") from None
        return cls(model, size)

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every chunk for ``question`` (zeros when no term is known)."""
        if self._model is None:
            return np.zeros(self.size, dtype=np.float32)
        vocabulary = self._model.vocab_dict
        terms = [token for token in lexical_tokens(question) if token in vocabulary]
        if not terms:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._model.get_scores(terms), dtype=np.float32)
