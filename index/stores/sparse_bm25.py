"""BM25 as sparse vectors, so Milvus scores the lexical side exactly as :mod:`index.stores.lexical` does.

Each chunk's vector holds, per term, the BM25 weight bm25s precomputes (idf × saturated term
frequency, ``k1``/``b`` of :mod:`index.stores.lexical`, over our Arabic-normalised, light-stemmed tokens);
the question's vector holds its term counts. Their inner product — what Milvus's
``SPARSE_INVERTED_INDEX`` with metric ``IP`` computes — is bm25s's score of the chunk.

Why not Milvus's own BM25 function: its analyzers do not normalise Arabic like
:mod:`corpus.arabic`, and (fed our tokens instead) Milvus Lite keeps counting deleted and
upserted rows in its statistics (measured: after an in-place update, scores drifted ~5% from a
rebuild's and the ranking changed), so an update would not equal a rebuild. The price of exact
weights is that idf and the mean chunk length depend on the whole corpus: an update rewrites the
``sparse`` field of every row (a partial upsert, no vectors sent).

Term ids are a 32-bit hash of the term (Milvus's sparse dimensions are 32-bit), so neither side
needs a vocabulary table; two terms sharing an id (rare: ~1 pair in 10⁴ for a 10⁵-term
vocabulary) are merged, which shifts scores by a hair.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence

import bm25s
import numpy as np

from corpus.arabic import lexical_tokens
from index.stores.lexical import BM25_B, BM25_K1

#: Sparse dimensions Milvus accepts: 0 … 2³² − 2.
_DIMENSIONS = 2**32 - 1
EMPTY_DOCUMENT = "\u2205"


def term_id(term: str) -> int:
    """The sparse dimension of ``term`` (stable across builds and processes)."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest(), "big") % _DIMENSIONS


def query_terms(question: str) -> dict[int, float]:
    """The question's term counts (a term asked twice counts twice, as in bm25s)."""
    counts: Counter[int] = Counter(term_id(token) for token in lexical_tokens(question))
    return {key: float(value) for key, value in counts.items()}


def document_vectors(texts: Sequence[str]) -> Iterator[dict[int, float]]:
    """Each text's BM25 weights, in order, over the corpus ``texts`` (one per chunk)."""
    if not texts:
        return
    tokens = [lexical_tokens(text) or [EMPTY_DOCUMENT] for text in texts]
    model = bm25s.BM25(k1=BM25_K1, b=BM25_B)
    model.index(tokens, show_progress=False)
    data, indices, indptr = (np.asarray(model.scores[name]) for name in ("data", "indices", "indptr"))
    ids = np.zeros(max(len(indptr) - 1, max(model.vocab_dict.values(), default=-1) + 1), dtype=np.int64)
    for term, position in model.vocab_dict.items():
        ids[position] = term_id(term)
    ids = ids[:len(indptr) - 1]  # bm25s may list a term (its empty-string filler) that has no column
    # bm25s keeps a term-major (CSC) matrix: regroup its entries by document.
    terms = np.repeat(ids, np.diff(indptr))
    order = np.argsort(indices, kind="stable")
    documents, terms, weights = indices[order], terms[order], data[order]
    bounds = np.searchsorted(documents, np.arange(len(texts) + 1))
    for document in range(len(texts)):
        vector: dict[int, float] = {}
        for key, weight in zip(terms[bounds[document]:bounds[document + 1]].tolist(),
                               weights[bounds[document]:bounds[document + 1]].tolist(), strict=True):
            if weight > 0:
                vector[key] = vector.get(key, 0.0) + weight
        yield vector or {term_id(EMPTY_DOCUMENT): 0.0}
