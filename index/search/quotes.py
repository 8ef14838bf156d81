"""Quote selection: inside each retrieved chunk, the sentence(s) that best answer the question.

A reader should see the answer at a glance, in bold, within the verbatim passage. Candidates are
*windows* of one to ``MAX_WINDOW_SENTENCES`` consecutive sentences, at most ``MAX_QUOTE_CHARS``
long (a single longer sentence is still a candidate), scored on:

* **lexical coverage**: the question's content words (normalised, light-stemmed) found anywhere
  in the window, each weighted by its rarity among the candidate sentences (IDF), so names and
  numbers count most. Coverage, not a per-sentence score, because a question often borrows its
  words from one sentence while the answer sits in the next ("... married Börte. She bore a son
  ... named Jochi");
* **answer shape**: a "how many" question favours a window with a number, a "when" question one
  with a year or month name (``ANSWER_CUES``);
* **proclitics**: a sentence's «بأفغانستان» matches the question's «أفغانستان» (and the other way
  round): the light stemmer keeps one-letter proclitics (ب ل ف ك). Over the cached hybrid top
  passages, answer-in-quote@1 / R@1: xquad_ar 0.882 → 0.888, arcd_train 0.910 → 0.912,
  mlqa_dev_ar 0.870 → 0.872, quote length unchanged (no constant fitted);
* a small cost per extra sentence (``EXTRA_SENTENCE_COST``), so a window only grows for evidence;
* **semantic** (optional, off by default): the embedding similarity of the question to the
  ``SEMANTIC_CANDIDATES`` lexically best windows of the first passage. Measured on the first 400
  questions of xquad_ar / arcd_train: 0.838 / 0.800 without it, 0.838 / 0.797 with weight 0.5 or
  1.0, for ~0.1-0.2 s more per search on 2 cores: the e5 bi-encoder does not separate windows of
  one passage better than the lexical evidence, so the retriever leaves it off
  (``Retriever(semantic_quotes=True)`` turns it on, e.g. for a stronger model).

The winning window is then extended forward (else backward) to ``MIN_QUOTE_CHARS`` so that a
terse fragment still reads as a quote. Measured with the harness over the cached top-3 passages
of xquad_ar / arcd_train / mlqa_dev_ar (answer-in-quote@1, mean quote length in characters):
best single sentence joined with one neighbour under 150 chars: 0.776 / 0.756 / 0.623 (230 chars);
coverage windows with ``MIN_QUOTE_CHARS`` 150: 0.787 / 0.759 / 0.627 (233); 200: 0.813 / 0.781 /
0.650 (285). A quote of ~2 sentences / ~280 characters is a fifth to a third of a chunk: still
a highlight, not the passage. The harness reports the mean quote length next to the score, so a
"better" figure bought with longer quotes shows. Offsets point into the article text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from corpus.arabic import lexical_tokens, normalise
from corpus.sentences import sentence_spans
from corpus.types import Article, Chunk
from index.embedding.base import Embedder
from index.search.passage import Quote

#: A chosen window shorter than this (characters) is extended with its neighbours.
MIN_QUOTE_CHARS = 200
#: Longest window of several sentences considered as a quote (characters).
MAX_QUOTE_CHARS = 400
#: Most sentences in one candidate window.
MAX_WINDOW_SENTENCES = 4
#: Score cost of each sentence beyond the first, relative to full lexical coverage (1.0).
EXTRA_SENTENCE_COST = 0.05
#: Weight of semantic similarity (rescaled to [0, 1] among the compared windows).
SEMANTIC_WEIGHT = 0.5
#: Passages (from the top) whose windows get semantic evidence: the ones a reader sees first.
SEMANTIC_TOP = 1
#: Windows per passage that get semantic evidence (the lexically strongest).
SEMANTIC_CANDIDATES = 2
#: Characters of a window given to the model.
SEMANTIC_MAX_CHARS = 400


def chunk_sentences(chunk: Chunk) -> list[tuple[int, int]]:
    """Sentence spans of the chunk, as offsets into the article."""
    return [(chunk.start + s, chunk.start + e) for s, e in sentence_spans(chunk.text)] or [(chunk.start, chunk.end)]


@dataclass(slots=True)
class _Window:
    """Sentences ``first..last`` (inclusive) of one passage and their evidence score."""

    first: int
    last: int
    score: float


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
        variants = _clitic_variants(question_terms)
        spans_per_hit = [chunk_sentences(chunk) for _, chunk in hits]
        terms_per_hit = [[_matched_terms(article.text[s:e], variants) for s, e in spans]
                         for (article, _), spans in zip(hits, spans_per_hit, strict=True)]
        idf = _idf(question_terms, [terms for per_hit in terms_per_hit for terms in per_hit])
        windows_per_hit = [
            _ranked_windows(spans, terms, idf, _cue_bonus(question, [article.text[s:e] for s, e in spans]))
            for (article, _), spans, terms in zip(hits, spans_per_hit, terms_per_hit, strict=True)]
        self._add_semantic(question, hits, spans_per_hit, windows_per_hit, question_vector)
        return [_quote(article, spans, max(windows, key=lambda w: w.score))
                for (article, _), spans, windows in zip(hits, spans_per_hit, windows_per_hit, strict=True)]

    def _add_semantic(self, question: str, hits: Sequence[tuple[Article, Chunk]],
                      spans_per_hit: list[list[tuple[int, int]]], windows_per_hit: list[list[_Window]],
                      question_vector: np.ndarray | None) -> None:
        """Add rescaled question-window similarity to the lexically best windows of the top passages."""
        if self.embedder is None or not self.enabled_semantic:
            return
        picked: list[tuple[int, _Window]] = []
        for hit_number, windows in enumerate(windows_per_hit[:SEMANTIC_TOP]):
            strongest = sorted(windows, key=lambda w: -w.score)[:SEMANTIC_CANDIDATES]
            picked.extend((hit_number, window) for window in strongest)
        if len(picked) < 2:
            return
        texts = [hits[h][0].text[spans_per_hit[h][w.first][0]:spans_per_hit[h][w.last][1]][:SEMANTIC_MAX_CHARS]
                 for h, w in picked]
        query = question_vector if question_vector is not None else self.embedder.embed_query(question)
        similarities = self.embedder.embed_documents(texts) @ query
        low, high = float(similarities.min()), float(similarities.max())
        if high - low < 1e-6:
            return
        for (_, window), value in zip(picked, similarities, strict=True):
            window.score += SEMANTIC_WEIGHT * (float(value) - low) / (high - low)


#: One-letter proclitics the light stemmer leaves on (بـ with, لـ for, فـ so, كـ like): «بأفغانستان»
#: stems to «بافغانس», «أفغانستان» to «افغانس»; the quote matcher accepts either form.
CLITICS = frozenset("بلفك")
#: Shortest token a clitic is stripped from (a 3-letter token is usually a root: «بحر», «لحم»).
_MIN_CLITIC_TOKEN = 4


def _clitic_variants(question_terms: set[str]) -> dict[str, str]:
    """Every form a question term may take in a sentence → the term (with or without a proclitic)."""
    variants = {term: term for term in question_terms}
    for term in question_terms:
        if len(term) >= _MIN_CLITIC_TOKEN and term[0] in CLITICS:
            variants.setdefault(term[1:], term)
    return variants


def _matched_terms(sentence: str, variants: dict[str, str]) -> set[str]:
    """The question terms a sentence holds, a token with a one-letter proclitic matching its bare form."""
    matched: set[str] = set()
    for token in lexical_tokens(sentence):
        term = variants.get(token)
        if term is None and len(token) >= _MIN_CLITIC_TOKEN and token[0] in CLITICS:
            term = variants.get(token[1:])
        if term is not None:
            matched.add(term)
    return matched


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


def _ranked_windows(spans: list[tuple[int, int]], terms: list[set[str]], idf: dict[str, float],
                    cue: np.ndarray) -> list[_Window]:
    """Every candidate window of the passage with its lexical + answer-shape score."""
    full = sum(idf.values()) or 1.0
    windows: list[_Window] = []
    for first in range(len(spans)):
        covered: set[str] = set()
        shape = 0.0
        for last in range(first, min(len(spans), first + MAX_WINDOW_SENTENCES)):
            if last > first and spans[last][1] - spans[first][0] > MAX_QUOTE_CHARS:
                break
            covered |= terms[last]
            shape = max(shape, float(cue[last]))
            coverage = sum(idf[term] for term in covered) / full
            windows.append(_Window(first, last, coverage + shape - EXTRA_SENTENCE_COST * (last - first)))
    return windows


def _quote(article: Article, spans: list[tuple[int, int]], window: _Window) -> Quote:
    """The window's text, extended forward (else backward) until it reads as a quote."""
    first, last = window.first, window.last
    while spans[last][1] - spans[first][0] < MIN_QUOTE_CHARS and (first > 0 or last < len(spans) - 1):
        if last < len(spans) - 1:
            last += 1
        else:
            first -= 1
    start, end = spans[first][0], spans[last][1]
    return Quote(article.text[start:end], start, end)
