"""Quote selection: inside each retrieved chunk, the sentence(s) that hold the answer to the question.

A reader should see the answer at a glance, in bold, within the verbatim passage. Each sentence of
the chunk gets the lexical features of :mod:`index.search.quote_evidence` (IDF-weighted coverage of
the question's words, clitic-aware, its neighbours' coverage, its place, the answer's shape), a
learned model (:mod:`index.search.sentence_model`) turns them into the probability that the
sentence holds the answer, and the quote is the most probable sentence grown until it holds enough
of that probability and reads as a quote (at most ``MAX_QUOTE_CHARS`` of several sentences).

Why a learned model: chunks hold only 2.5-4 sentences, so choosing the quote is choosing among a
few long sentences, and the hand-weighted coverage windows it replaces missed mostly by one
sentence (the answer just after or before the quoted one). Tuning their constants only moved along
the length curve (a longer quote holds the answer more often). Fitted on three of four sets and
scored on the fourth, on the chunk that holds the gold answer (``bench/train_quotes.py``), the
answer is in the quote for xquad_ar / arcd_train / mlqa_dev_ar / the reader questions over news
0.943 / 0.943 / 0.938 / 0.969 of the questions against 0.903 / 0.929 / 0.882 / 0.912 for the
windows. The shipped fit (all four sets) quotes 0.96-1.14× as many characters as the windows did.

Semantic evidence (``QuoteSelector(embedder)``, off by default in the retriever): the cosine of the
question to each sentence of the *first* passage, weighed by a model fitted with it. Held out it
lifts the answer-in-quote rate to 0.943 / 0.951 / 0.948 / 0.988, but embedding a chunk's sentences
costs ~0.12 s on 2 cores, several times the question's own embedding, so it is opt-in
(``Retriever(semantic_quotes=True)``). Offsets point into the article text; nothing is rewritten.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from corpus.sentences import sentence_spans
from corpus.types import Article, Chunk
from index.embedding.base import Embedder
from index.search.passage import Quote
from index.search.quote_evidence import FEATURE_NAMES, SEMANTIC_FEATURE_NAMES, sentence_features
from index.search.sentence_model import MAX_QUOTE_CHARS, SEMANTIC_MODEL, SentenceModel

__all__ = ["MAX_QUOTE_CHARS", "QuoteSelector", "chunk_sentences"]

#: Passages (from the top) whose sentences get semantic evidence: the ones a reader sees first.
SEMANTIC_TOP = 1


def chunk_sentences(chunk: Chunk) -> list[tuple[int, int]]:
    """Sentence spans of the chunk, as offsets into the article."""
    return [(chunk.start + s, chunk.start + e) for s, e in sentence_spans(chunk.text)] or [(chunk.start, chunk.end)]


class QuoteSelector:
    """Picks the quote of each passage; give it an embedder to add semantic evidence to the first."""

    def __init__(self, embedder: Embedder | None = None, model: SentenceModel | None = None,
                 semantic_model: SentenceModel | None = None) -> None:
        self.embedder = embedder
        self.model = model or SentenceModel.load(FEATURE_NAMES)
        self.semantic_model = semantic_model
        if embedder is not None and semantic_model is None:
            self.semantic_model = SentenceModel.load((*FEATURE_NAMES, *SEMANTIC_FEATURE_NAMES),
                                                     shipped_name=SEMANTIC_MODEL)
        #: Switch semantic evidence off (e.g. in evaluations that never look at quotes).
        self.enabled_semantic = embedder is not None

    def select(self, question: str, hits: Sequence[tuple[Article, Chunk]],
               question_vector: np.ndarray | None = None) -> list[Quote]:
        """Return one quote per ``(article, chunk)`` hit, in order."""
        semantic = self.semantic_model if self.enabled_semantic and self.embedder is not None else None
        quotes: list[Quote] = []
        for position, (article, chunk) in enumerate(hits):
            spans = chunk_sentences(chunk)
            sentences = [article.text[start:end] for start, end in spans]
            model, similarities = self.model, None
            if semantic is not None and position < SEMANTIC_TOP and len(spans) > 1:
                similarities = self._similarities(question, sentences, question_vector)
                model = semantic
            first, last = model.quoted_sentences(spans, sentence_features(question, sentences, similarities))
            start, end = spans[first][0], spans[last][1]
            quotes.append(Quote(article.text[start:end], start, end))
        return quotes

    def _similarities(self, question: str, sentences: list[str], question_vector: np.ndarray | None) -> np.ndarray:
        """Cosine of the question to each sentence (the embedder's vectors are unit length)."""
        assert self.embedder is not None
        query = question_vector if question_vector is not None else self.embedder.embed_query(question)
        return np.asarray(self.embedder.embed_documents(sentences) @ query, dtype=np.float64)
