"""Quote selection: inside each retrieved chunk, the sentence(s) that best answer the question.

A reader should see the answer at a glance, in bold, within the verbatim passage. Each sentence
of the chunk is scored on two kinds of evidence:

* **lexical**: the question's content words (normalised, light-stemmed) found in the sentence,
  each weighted by its rarity in the chunk set (IDF), so names and numbers count most;
* **semantic**: the embedding similarity of the question to the sentence (optional: one batched
  forward pass over the sentences of the shown passages).

The best sentence is the quote; when it is very short (a heading, a fragment) it is joined with
its best neighbour so the quote reads as a statement. Offsets point into the article text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from corpus.arabic import lexical_tokens
from corpus.sentences import sentence_spans
from corpus.types import Article, Chunk
from index.embedding import Embedder
from index.passage import Quote

#: A best sentence shorter than this (characters) is joined with a neighbour.
MIN_QUOTE_CHARS = 60
#: Weight of semantic similarity relative to the (max-normalised) lexical evidence.
SEMANTIC_WEIGHT = 1.0
#: Semantic evidence costs a forward pass per sentence: spend it on the passages a reader sees.
SEMANTIC_TOP = 3


def chunk_sentences(article: Article, chunk: Chunk) -> list[tuple[int, int]]:
    """Sentence spans of the chunk, as offsets into the article."""
    return [(chunk.start + s, chunk.start + e) for s, e in sentence_spans(chunk.text)]


class QuoteSelector:
    """Picks the quote of each passage; give it an embedder to add semantic evidence."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self.embedder = embedder

    def select(self, question: str, hits: Sequence[tuple[Article, Chunk]],
               question_vector: np.ndarray | None = None) -> list[Quote]:
        """Return one quote per ``(article, chunk)`` hit, in order."""
        question_terms = set(lexical_tokens(question))
        spans_per_hit = [chunk_sentences(article, chunk) or [(chunk.start, chunk.end)]
                         for article, chunk in hits]
        sentence_terms = [[set(lexical_tokens(article.text[s:e])) for s, e in spans]
                          for (article, _), spans in zip(hits, spans_per_hit, strict=True)]
        idf = _idf(question_terms, [terms for per_hit in sentence_terms for terms in per_hit])
        semantic = self._semantic(question, hits, spans_per_hit, question_vector)
        quotes: list[Quote] = []
        offset = 0
        for (article, _), spans, terms in zip(hits, spans_per_hit, sentence_terms, strict=True):
            lexical = np.array([sum(idf.get(t, 0.0) for t in question_terms & sentence) for sentence in terms])
            if lexical.max(initial=0.0) > 0:
                lexical = lexical / lexical.max()
            score = lexical
            if semantic is not None:
                score = score + SEMANTIC_WEIGHT * semantic[offset:offset + len(spans)]
            offset += len(spans)
            quotes.append(_quote(article, spans, score))
        return quotes

    def _semantic(self, question: str, hits: Sequence[tuple[Article, Chunk]],
                  spans_per_hit: list[list[tuple[int, int]]], question_vector: np.ndarray | None) -> np.ndarray | None:
        if self.embedder is None:
            return None
        shown = sum(len(spans) for spans in spans_per_hit[:SEMANTIC_TOP])
        texts = [article.text[s:e] for (article, _), spans in zip(hits[:SEMANTIC_TOP], spans_per_hit, strict=False)
                 for s, e in spans]
        total = sum(len(spans) for spans in spans_per_hit)
        if not texts:
            return None
        query = question_vector if question_vector is not None else self.embedder.embed_query(question)
        similarities = self.embedder.embed_documents(texts) @ query
        # Rescale per search so the semantic term is comparable to the lexical one; passages
        # beyond the shown ones get no semantic term (zeros) and are ranked on lexical evidence.
        low, high = float(similarities.min()), float(similarities.max())
        scaled = (similarities - low) / (high - low) if high - low > 1e-6 else np.zeros_like(similarities)
        return np.concatenate([scaled, np.zeros(total - shown, dtype=scaled.dtype)])


def _idf(question_terms: set[str], sentences: list[set[str]]) -> dict[str, float]:
    total = len(sentences) or 1
    return {term: math.log(1 + total / (1 + sum(term in s for s in sentences))) for term in question_terms}


def _quote(article: Article, spans: list[tuple[int, int]], score: np.ndarray) -> Quote:
    best = int(np.argmax(score)) if len(score) else 0
    start, end = spans[best]
    if end - start < MIN_QUOTE_CHARS and len(spans) > 1:
        neighbours = [i for i in (best - 1, best + 1) if 0 <= i < len(spans)]
        partner = max(neighbours, key=lambda i: (score[i], i == best + 1))
        start, end = min(start, spans[partner][0]), max(end, spans[partner][1])
    return Quote(article.text[start:end], start, end)
