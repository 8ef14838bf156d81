"""Quote selection: inside each retrieved chunk, the sentence(s) that best answer the question.

A reader should see the answer at a glance, in bold, within the verbatim passage. Each sentence
of the chunk is scored on two kinds of evidence:

* **lexical**: the question's content words (normalised, light-stemmed) found in the sentence,
  each weighted by its rarity among the candidate sentences (IDF), so names and numbers count most;
* **answer shape**: a "how many" question favours a sentence with a number, a "when" question
  one with a year or month name (``ANSWER_CUES``);
* **semantic**: the embedding similarity of the question to the sentence. It costs a forward
  pass per sentence (measured: ~0.7 s per search for 4 sentences x 3 passages on 2 cores, for
  +0.01 answer-in-quote), so it only breaks the tie between the ``SEMANTIC_CANDIDATES``
  lexically strongest sentences of the first passage.

The best sentence is the quote; when it is short (under ``MIN_QUOTE_CHARS``) it is joined with
its best neighbour: a two-sentence quote contains the answer more often (xquad_ar
answer-in-quote@1 0.72 → 0.76) and still reads at a glance. Offsets point into the article text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from corpus.arabic import lexical_tokens, normalise
from corpus.sentences import sentence_spans
from corpus.types import Article, Chunk
from index.embedding import Embedder
from index.passage import Quote

#: A best sentence shorter than this (characters) is joined with a neighbour.
MIN_QUOTE_CHARS = 150
#: Weight of semantic similarity relative to the (max-normalised) lexical evidence.
SEMANTIC_WEIGHT = 1.0
#: Passages (from the top) whose sentences get semantic evidence: the ones a reader sees.
SEMANTIC_TOP = 1
#: Sentences per passage that get semantic evidence (the lexically strongest).
SEMANTIC_CANDIDATES = 2
#: Characters of a sentence given to the model (long sentences are judged by their start).
SEMANTIC_MAX_CHARS = 200


def chunk_sentences(chunk: Chunk) -> list[tuple[int, int]]:
    """Sentence spans of the chunk, as offsets into the article."""
    return [(chunk.start + s, chunk.start + e) for s, e in sentence_spans(chunk.text)] or [(chunk.start, chunk.end)]


class QuoteSelector:
    """Picks the quote of each passage; give it an embedder to add semantic evidence."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self.embedder = embedder
        #: Switch semantic evidence off (e.g. in evaluations that never look at quotes).
        self.enabled_semantic = embedder is not None

    def select(self, question: str, hits: Sequence[tuple[Article, Chunk]],
               question_vector: np.ndarray | None = None) -> list[Quote]:
        """Return one quote per ``(article, chunk)`` hit, in order."""
        question_terms = set(lexical_tokens(question))
        spans_per_hit = [chunk_sentences(chunk) for _, chunk in hits]
        terms_per_hit = [[set(lexical_tokens(article.text[s:e])) for s, e in spans]
                         for (article, _), spans in zip(hits, spans_per_hit, strict=True)]
        idf = _idf(question_terms, [terms for per_hit in terms_per_hit for terms in per_hit])
        lexical_per_hit = [_lexical_scores(question_terms, terms, idf)
                           + _cue_bonus(question, [article.text[s:e] for s, e in spans])
                           for terms, (article, _), spans in zip(terms_per_hit, hits, spans_per_hit, strict=True)]
        semantic_per_hit = self._semantic(question, hits, spans_per_hit, lexical_per_hit, question_vector)
        return [_quote(article, spans, lexical + semantic)
                for (article, _), spans, lexical, semantic
                in zip(hits, spans_per_hit, lexical_per_hit, semantic_per_hit, strict=True)]

    def _semantic(self, question: str, hits: Sequence[tuple[Article, Chunk]],
                  spans_per_hit: list[list[tuple[int, int]]], lexical_per_hit: list[np.ndarray],
                  question_vector: np.ndarray | None) -> list[np.ndarray]:
        """Semantic scores per hit (zeros where none were computed), rescaled to [0, 1] per search."""
        result = [np.zeros(len(spans), dtype=np.float32) for spans in spans_per_hit]
        if self.embedder is None or not self.enabled_semantic:
            return result
        picked: list[tuple[int, int]] = []
        for hit_number, lexical in enumerate(lexical_per_hit[:SEMANTIC_TOP]):
            order = np.argsort(-lexical, kind="stable")
            flat = lexical.max(initial=0.0) == lexical.min(initial=0.0)
            chosen = order if flat and len(order) <= 2 * SEMANTIC_CANDIDATES else order[:SEMANTIC_CANDIDATES]
            picked.extend((hit_number, int(i)) for i in chosen)
        if len(picked) < 2:
            return result
        texts = [hits[h][0].text[slice(*spans_per_hit[h][i])][:SEMANTIC_MAX_CHARS] for h, i in picked]
        query = question_vector if question_vector is not None else self.embedder.embed_query(question)
        similarities = self.embedder.embed_documents(texts) @ query
        low, high = float(similarities.min()), float(similarities.max())
        if high - low < 1e-6:
            return result
        for (hit_number, sentence), value in zip(picked, similarities, strict=True):
            result[hit_number][sentence] = SEMANTIC_WEIGHT * (value - low) / (high - low)
        return result


#: Question words and what their answer looks like: a sentence showing that shape gets a bonus.
#: (normalised question word, pattern of the answer in the original sentence).
ANSWER_CUES: tuple[tuple[frozenset[str], re.Pattern[str]], ...] = (
    (frozenset({"كم", "عدد"}), re.compile(r"[0-9٠-٩]|مليون|مليار|ألف|آلاف|مئة|مائة")),
    (frozenset({"متي", "عام", "سنه", "تاريخ"}),
     re.compile(r"\b1[0-9]{3}\b|\b20[0-9]{2}\b|[٠-٩]{4}|يناير|فبراير|مارس|أبريل|إبريل|مايو|يونيو|يوليو|أغسطس|"
                r"سبتمبر|أكتوبر|نوفمبر|ديسمبر|كانون|شباط|آذار|نيسان|أيار|حزيران|تموز|آب|أيلول|تشرين|القرن")),
)
#: Size of that bonus relative to the (max-normalised) lexical evidence.
CUE_BONUS = 0.3


def _cue_bonus(question: str, sentences: list[str]) -> np.ndarray:
    """Bonus for sentences shaped like the answer the question word asks for (a number, a date)."""
    words = set(normalise(question).split())
    bonus = np.zeros(len(sentences), dtype=np.float32)
    for cue_words, pattern in ANSWER_CUES:
        if words & cue_words:
            bonus += CUE_BONUS * np.array([bool(pattern.search(s)) for s in sentences], dtype=np.float32)
    return bonus


def _idf(question_terms: set[str], sentences: list[set[str]]) -> dict[str, float]:
    total = len(sentences) or 1
    return {term: math.log(1 + total / (1 + sum(term in s for s in sentences))) for term in question_terms}


def _lexical_scores(question_terms: set[str], sentences: list[set[str]], idf: dict[str, float]) -> np.ndarray:
    scores = np.array([sum(idf.get(t, 0.0) for t in question_terms & sentence) for sentence in sentences],
                      dtype=np.float32)
    top = scores.max(initial=0.0)
    return scores / top if top > 0 else scores


def _quote(article: Article, spans: list[tuple[int, int]], score: np.ndarray) -> Quote:
    best = int(np.argmax(score)) if len(score) else 0
    start, end = spans[best]
    if end - start < MIN_QUOTE_CHARS and len(spans) > 1:
        neighbours = [i for i in (best - 1, best + 1) if 0 <= i < len(spans)]
        partner = max(neighbours, key=lambda i: (score[i], i == best + 1))
        start, end = min(start, spans[partner][0]), max(end, spans[partner][1])
    return Quote(article.text[start:end], start, end)
