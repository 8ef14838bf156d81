"""Fusing the dense (FAISS) and lexical (BM25) rankings into one.

Three known ways, and when each is right:

* **Reciprocal rank fusion** (RRF, Cormack et al. 2009): ``Σ w / (k + rank)``. Needs no score
  calibration, but throws away how *much* better the top hit is, so a confident dense hit and
  a marginal one count the same.
* **Convex combination of normalised scores**: ``α·dense' + (1-α)·bm25'`` where each score is
  rescaled on the candidate pool. Keeps confidence, but min-max scaling is fragile when a pool
  is flat.
* **Both** (our default): a weighted convex combination of min-max-normalised scores (dense
  1.25 : lexical 1) plus weighted RRF. With ``score_weight=4`` the score term dominates and RRF
  acts as an agreement bonus and tie-breaker.

The default was chosen with ``bench/tune_fusion.py`` on all development sets together: it
maximises the *worst* margin over the best single method across xquad_ar, arcd_train,
mlqa_dev_ar and the sample300 headline task, and sits on a broad plateau (dense weight
1.0–1.5, ``rrf_k`` 5–60, ``score_weight`` 2–100 all within ±0.01 R@1), so it is not fitted to
one set. Change it only with the harness run on all sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FusionWeights:
    """Parameters of :func:`fuse`.

    Attributes:
        dense: Weight of the dense ranking in RRF.
        lexical: Weight of the BM25 ranking in RRF.
        rrf_k: RRF's rank offset (larger flattens the head of each list).
        score_weight: Weight of the normalised-score term added to the RRF sum.
    """

    dense: float = 1.25
    lexical: float = 1.0
    rrf_k: float = 60.0
    score_weight: float = 4.0


def normalise_scores(scores: Mapping[int, float]) -> dict[int, float]:
    """Rescale a pool's scores to [0, 1] by its maximum and minimum (flat pools become 1)."""
    if not scores:
        return {}
    high, low = max(scores.values()), min(scores.values())
    spread = high - low
    return {key: (value - low) / spread if spread > 1e-9 else 1.0 for key, value in scores.items()}


def fuse(dense: Mapping[int, float], lexical: Mapping[int, float],
         weights: FusionWeights = FusionWeights()) -> dict[int, float]:
    """Combine two ``id → score`` pools (higher is better) into fused scores.

    An id absent from one pool simply gets nothing from it.
    """
    fused: dict[int, float] = {}
    for pool, weight in ((dense, weights.dense), (lexical, weights.lexical)):
        if weight == 0 or not pool:
            continue
        ranked = sorted(pool, key=pool.__getitem__, reverse=True)
        for rank, key in enumerate(ranked, start=1):
            fused[key] = fused.get(key, 0.0) + weight / (weights.rrf_k + rank)
        if weights.score_weight:
            for key, value in normalise_scores(pool).items():
                fused[key] += weights.score_weight * weight * value / (weights.rrf_k + 1)
    return fused
