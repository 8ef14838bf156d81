"""What one sentence of a passage shows of the answer to a question: the features the quote model weighs.

Each sentence of a chunk gets one row of ``FEATURE_NAMES``. They are lexical and cheap (a chunk's
sentences take well under a millisecond), because the quote is chosen for every passage of every
answer. A chunk holds ~2.5-4 sentences, so the choice is "which of a few long sentences": the
features say how much of the question a sentence covers, how much its neighbours cover (a question
often borrows its words from one sentence while the answer sits in the next: "... married Börte.
She bore a son ... named Jochi"), where it stands, and whether it has the shape of the answer a
"how many" or "when" question asks for. :mod:`index.search.sentence_model` weighs them.

The optional semantic rows (``SEMANTIC_FEATURE_NAMES``) add the embedding similarity of the
question to each sentence; they cost one embedding of the chunk's sentences (~0.12 s on 2 cores).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from corpus.arabic import lexical_tokens, normalise
from corpus.dialect import question_type

#: One-letter proclitics the light stemmer leaves on (بـ with, لـ for, فـ so, كـ like): «بأفغانستان»
#: stems to «بافغانس», «أفغانستان» to «افغانس»; the quote matcher accepts either form.
CLITICS = frozenset("بلفك")
#: Shortest token a clitic is stripped from (a 3-letter token is usually a root: «بحر», «لحم»).
_MIN_CLITIC_TOKEN = 4

#: Question words asking for a number, and what a number looks like in the original sentence.
HOW_MANY_WORDS = frozenset({"كم", "عدد"})
NUMBER = re.compile(r"[0-9٠-٩]|مليون|مليار|ألف|آلاف|مئة|مائة")
#: Question words asking for a time, and what a date looks like in the original sentence.
WHEN_WORDS = frozenset({"متي", "عام", "سنه", "تاريخ"})
DATE = re.compile(r"\b1[0-9]{3}\b|\b20[0-9]{2}\b|[٠-٩]{4}|يناير|فبراير|مارس|أبريل|إبريل|مايو|يونيو|يوليو|أغسطس|"
                  r"سبتمبر|أكتوبر|نوفمبر|ديسمبر|كانون|شباط|آذار|نيسان|أيار|حزيران|تموز|آب|أيلول|تشرين|القرن")
QUOTE_MARKS = re.compile("[«\"“]")
#: What a reason looks like in a sentence, for a "why" question (MSA and dialect why-words alike,
#: :func:`corpus.dialect.question_type`): a causal connective or a motive noun as a word of its own (with
#: «و»/«ف» before it and a pronoun after it: «لأنه»، «وبسبب»), never inside one («الأنباء»، «الملكية»).
CAUSE = re.compile(r"(?<!\w)[وف]?(?:بسبب|لأن|لان|نتيجة|إثر|اثر|جراء|بهدف|لكي|احتجاجا|احتجاجًا|بتهمة|بتهم)\w{0,3}(?!\w)"
                   r"|من أجل|ردا على|ردًا على|على خلفية|بعد أن")

#: The lexical features of one sentence, in the order of a row.
FEATURE_NAMES: tuple[str, ...] = (
    "coverage",            # IDF-weighted share of the question's terms the sentence holds
    "is_best_coverage",    # no sentence of the chunk covers more
    "previous_coverage",   # the sentence before it (0 for the first)
    "next_coverage",       # the sentence after it (0 for the last)
    "follows_best",        # it comes right after the best-covering sentence
    "precedes_best",       # it comes right before it
    "is_first",            # the chunk's first sentence
    "log_chars",           # log(1 + its length)
    "how_many_and_number",  # a "how many" question and a number in the sentence
    "when_and_date",       # a "when" question and a date in the sentence
    "has_number",
    "has_date",
    "coverage_squared",
    "has_quote_mark",      # reported speech: «...» or "..."
    "why_and_cause",       # a "why" question and a causal connective («بسبب»، «لأن»، «إثر»…)
)
#: The semantic features, appended to a row when similarities are given.
SEMANTIC_FEATURE_NAMES: tuple[str, ...] = (
    "similarity",           # cosine of the question and the sentence embeddings
    "similarity_below_best",  # its cosine minus the best of the chunk (0 for the best)
    "is_most_similar",
    "previous_below_best",  # the sentence before it (-1 for the first)
    "next_below_best",      # the sentence after it (-1 for the last)
)


def clitic_variants(question_terms: set[str]) -> dict[str, str]:
    """Every form a question term may take in a sentence → the term (with or without a proclitic)."""
    variants = {term: term for term in question_terms}
    for term in question_terms:
        if len(term) >= _MIN_CLITIC_TOKEN and term[0] in CLITICS:
            variants.setdefault(term[1:], term)
    return variants


def matched_terms(sentence: str, variants: dict[str, str]) -> set[str]:
    """The question terms a sentence holds, a token with a one-letter proclitic matching its bare form."""
    matched: set[str] = set()
    for token in lexical_tokens(sentence):
        term = variants.get(token)
        if term is None and len(token) >= _MIN_CLITIC_TOKEN and token[0] in CLITICS:
            term = variants.get(token[1:])
        if term is not None:
            matched.add(term)
    return matched


def coverage(question: str, sentences: Sequence[str]) -> np.ndarray:
    """Share of the question's terms each sentence holds, each term weighted by its rarity in the chunk.

    Rarity among the chunk's own sentences (IDF), so names and numbers count most, and a passage's
    quote never depends on which other passages were retrieved with it. The sums are exact
    (``math.fsum``): summed in set order, which the hash seed shuffles, two sentences holding the
    same terms could differ in the last bit, and the quote of one question change from run to run.
    """
    asked = _question_side(question)
    return np.array(idf_coverage(asked.terms, [matched_terms(sentence, asked.variants) for sentence in sentences]),
                    dtype=np.float64)


def idf_coverage(terms: Collection[str], held: Sequence[Collection[str]]) -> list[float]:
    """Share of ``terms`` each of ``held`` holds, each term weighted by its IDF among ``held``; exact sums.

    The quotes weigh a chunk's sentences with it (:func:`coverage`), ``bench/rerank_signals.py`` a
    question's candidate titles and chunks.
    """
    total = len(held) or 1
    idf = {term: math.log(1 + total / (1 + sum(term in h for h in held))) for term in terms}
    full = math.fsum(idf.values()) or 1.0
    return [math.fsum(weight for term, weight in idf.items() if term in h) / full for h in held]


def sentence_features(question: str, sentences: Sequence[str],
                      similarities: np.ndarray | None = None) -> np.ndarray:
    """One row of features per sentence (``FEATURE_NAMES``, then ``SEMANTIC_FEATURE_NAMES`` if given)."""
    count = len(sentences)
    covered = coverage(question, sentences)
    best, top = (int(covered.argmax()), float(covered.max())) if count else (0, 0.0)
    asked = _question_side(question)
    rows: list[list[float]] = []
    for i, sentence in enumerate(sentences):
        has_number, has_date = bool(NUMBER.search(sentence)), bool(DATE.search(sentence))
        rows.append([
            covered[i], float(covered[i] == top),
            covered[i - 1] if i > 0 else 0.0, covered[i + 1] if i < count - 1 else 0.0,
            float(i == best + 1), float(i == best - 1), float(i == 0), math.log1p(len(sentence)),
            float(asked.how_many and has_number), float(asked.when and has_date), float(has_number), float(has_date),
            covered[i] ** 2, float(bool(QUOTE_MARKS.search(sentence))),
            float(asked.why and bool(CAUSE.search(sentence))),
        ])
    features = np.array(rows, dtype=np.float64).reshape(count, len(FEATURE_NAMES))
    if similarities is None:
        return features
    return np.hstack([features, semantic_features(np.asarray(similarities, dtype=np.float64))])


@dataclass(frozen=True, slots=True)
class _QuestionSide:
    """What the features need of the question: the same for every passage of one answer."""

    terms: frozenset[str]
    variants: dict[str, str]  # shared by the cache: read, never changed
    how_many: bool
    when: bool
    why: bool


@lru_cache(maxsize=256)
def _question_side(question: str) -> _QuestionSide:
    """The question's terms and answer type, worked out once per question, not once per passage."""
    terms = frozenset(lexical_tokens(question))
    words = set(normalise(question).split())
    return _QuestionSide(terms, clitic_variants(set(terms)), bool(words & HOW_MANY_WORDS),
                         bool(words & WHEN_WORDS), question_type(question) == "why")


def semantic_features(similarities: np.ndarray) -> np.ndarray:
    """The ``SEMANTIC_FEATURE_NAMES`` rows of a chunk, from its sentences' cosines to the question."""
    below = similarities - similarities.max() if len(similarities) else similarities
    previous = np.concatenate([[-1.0], below[:-1]]) if len(below) else below
    following = np.concatenate([below[1:], [-1.0]]) if len(below) else below
    return np.column_stack([similarities, below, (below == 0).astype(np.float64), previous, following])
