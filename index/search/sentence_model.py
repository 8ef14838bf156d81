"""Which sentence of a chunk holds the answer: a small learned model, and how a quote grows around it.

The model is a *conditional logit* over the sentences of one chunk: each sentence's features
(:mod:`index.search.quote_evidence`) get a linear score, and a softmax over the chunk turns the
scores into the probability that the answer is in that sentence. It is fitted on questions whose
gold answer lies inside a chunk (``bench/train_quotes.py``), learns in seconds with numpy, and is
stored as JSON (weights, standardisation, growth settings): loading it never runs code.

A quote is the most probable sentence, grown toward the more probable neighbour until the quoted
sentences hold ``mass`` of the probability (so an unsure choice quotes two sentences and a sure one
quotes one), then toward the more probable neighbour again until it reads as a quote
(``min_chars``). A sentence is not added once the quote would pass ``max_chars``, so the quote stays
a highlight of the passage.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

#: The models the retriever uses, fitted by ``bench/train_quotes.py`` on the QA sets and the reader
#: questions' news articles: lexical features only, and with the question-sentence similarity
#: (``Retriever(semantic_quotes=True)``).
LEXICAL_MODEL = "quote_model.json"
SEMANTIC_MODEL = "quote_model_semantic.json"
#: Longest quote grown from several sentences (characters); a single longer sentence is still quoted whole.
#: Held out (``bench/train_quotes.py``, growth chosen on the QA sets only), answer-in-quote for
#: xquad_ar / arcd_train / mlqa_dev_ar is 0.914 / 0.925 / 0.899 with a cap of 400, 0.948 / 0.948 /
#: 0.948 with 600 and 0.953 / 0.951 / 0.954 with none, at about the same mean length; 600 keeps the
#: longest quote to a few lines on a phone (p95 ~550, whole chunks of 3+ sentences quoted for 4-11 %
#: of the questions instead of 5-14 %).
MAX_QUOTE_CHARS = 600


class QuoteModelError(ValueError):
    """The stored quote model is unreadable or does not fit the features computed here."""


@dataclass(frozen=True, slots=True)
class SentenceModel:
    """Linear sentence scores, their softmax over a chunk, and the settings that grow a quote."""

    features: tuple[str, ...]
    weights: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    #: Probability the quoted sentences must hold before the quote stops growing.
    mass: float
    #: A quote shorter than this (characters) takes in its more probable neighbour.
    min_chars: int

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Probability that each row's sentence holds the answer (the rows of one chunk)."""
        if features.shape[1] != len(self.features):
            raise QuoteModelError(f"the quote model weighs {len(self.features)} features, got {features.shape[1]}")
        scores = ((features - self.mean) / self.scale) @ self.weights
        exp = np.exp(scores - scores.max())
        return np.asarray(exp / exp.sum())

    def quoted_sentences(self, spans: Sequence[tuple[int, int]], features: np.ndarray,
                         max_chars: int = MAX_QUOTE_CHARS) -> tuple[int, int]:
        """First and last (inclusive) sentence of the quote, given each sentence's span and features."""
        probability = self.probabilities(features)
        first = last = int(probability.argmax())
        held = float(probability[first])
        while held < self.mass or spans[last][1] - spans[first][0] < self.min_chars:
            grown = _grown(spans, probability, first, last, max_chars)
            if grown is None:
                break
            first, last, gained = grown
            held += gained
        return first, last

    def to_json(self, **extra: object) -> str:
        """The model as JSON (``extra`` records how it was fitted)."""
        return json.dumps({"features": list(self.features), "weights": self.weights.tolist(),
                           "mean": self.mean.tolist(), "scale": self.scale.tolist(), "mass": self.mass,
                           "min_chars": self.min_chars, **extra}, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str, expected_features: Sequence[str]) -> SentenceModel:
        """Read a stored model, refusing one fitted on other features than the ones computed here."""
        try:
            record = json.loads(text)
            model = cls(tuple(record["features"]), np.array(record["weights"], dtype=np.float64),
                        np.array(record["mean"], dtype=np.float64), np.array(record["scale"], dtype=np.float64),
                        float(record["mass"]), int(record["min_chars"]))
        except (ValueError, KeyError, TypeError) as error:
            raise QuoteModelError(f"unreadable quote model: {error}") from error
        if model.features != tuple(expected_features):
            raise QuoteModelError(f"the quote model was fitted on other features: {list(model.features)}")
        if not len(model.weights) == len(model.mean) == len(model.scale) == len(model.features):
            raise QuoteModelError("the quote model's weights do not match its features")
        return model

    @classmethod
    def load(cls, expected_features: Sequence[str], path: Path | None = None,
             shipped_name: str = LEXICAL_MODEL) -> SentenceModel:
        """The model at ``path``, or the one shipped with the package under ``shipped_name``."""
        if path is not None:
            return cls.from_json(path.read_text(encoding="utf-8"), expected_features)
        shipped = resources.files("index.search").joinpath("data", shipped_name)
        return cls.from_json(shipped.read_text(encoding="utf-8"), expected_features)


def fit(chunks: Sequence[tuple[np.ndarray, int]], features: Sequence[str], *, l2: float = 1e-3,
        steps: int = 400, learning_rate: float = 0.5) -> SentenceModel:
    """Fit the weights on ``(features of a chunk's sentences, index of the answer's sentence)`` pairs.

    Plain gradient descent on the mean negative log-likelihood of the softmax over each chunk, on
    standardised features, with a small L2 penalty; the loss is convex, so the result does not
    depend on a seed. Growth settings start at 0 and are chosen by the caller (``with_growth``).
    """
    usable = [(x, answer) for x, answer in chunks if 0 <= answer < len(x)]
    if not usable:
        raise QuoteModelError("no chunk to fit the quote model on")
    longest, width = max(len(x) for x, _ in usable), usable[0][0].shape[1]
    stacked = np.concatenate([x for x, _ in usable])
    mean, scale = stacked.mean(axis=0), stacked.std(axis=0) + 1e-6
    padded = np.zeros((len(usable), longest, width))
    present = np.zeros((len(usable), longest), dtype=bool)
    for row, (x, _) in enumerate(usable):
        padded[row, :len(x)] = (x - mean) / scale
        present[row, :len(x)] = True
    answers = np.array([answer for _, answer in usable])
    target = padded[np.arange(len(usable)), answers]
    weights = np.zeros(width)
    for _ in range(steps):
        scores = np.where(present, padded @ weights, -np.inf)
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        probability = exp / exp.sum(axis=1, keepdims=True)
        gradient = (np.einsum("cs,csf->f", probability, padded) - target.sum(axis=0)) / len(usable)
        weights -= learning_rate * (gradient + l2 * weights)
    return SentenceModel(tuple(features), weights, mean, scale, mass=0.0, min_chars=0)


def _grown(spans: Sequence[tuple[int, int]], probability: np.ndarray, first: int, last: int,
           max_chars: int) -> tuple[int, int, float] | None:
    """The quote one sentence longer on its more probable side, or None when it cannot grow."""
    before = float(probability[first - 1]) if first > 0 else -1.0
    after = float(probability[last + 1]) if last < len(spans) - 1 else -1.0
    if max(before, after) < 0:
        return None
    first, last = (first, last + 1) if after >= before else (first - 1, last)
    if spans[last][1] - spans[first][0] > max_chars:
        return None
    return first, last, max(before, after)


def with_growth(model: SentenceModel, mass: float, min_chars: int) -> SentenceModel:
    """The same weights with other growth settings."""
    return SentenceModel(model.features, model.weights, model.mean, model.scale, mass, min_chars)
