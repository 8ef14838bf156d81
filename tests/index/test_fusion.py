"""Fusion of dense and BM25 rankings."""

from __future__ import annotations

import pytest

from index.search.fusion import FusionWeights, fuse, normalise_scores


def test_rrf_rewards_agreement_between_the_two_rankings() -> None:
    dense = {1: 0.91, 2: 0.90, 3: 0.80}
    lexical = {3: 12.0, 4: 9.0, 1: 1.0}
    fused = fuse(dense, lexical, FusionWeights(dense=1.0, rrf_k=60, score_weight=0.0))
    assert max(fused, key=fused.__getitem__) == 1  # ranked 1st and 3rd beats 1st-only
    assert fused[3] > fused[2]
    assert fused[3] > fused[4]
    assert set(fused) == {1, 2, 3, 4}


def test_weights_shift_the_balance() -> None:
    dense = {1: 0.9, 2: 0.5}
    lexical = {2: 10.0, 1: 1.0}
    towards_dense = fuse(dense, lexical, FusionWeights(dense=2.0, lexical=1.0, score_weight=0.0))
    towards_lexical = fuse(dense, lexical, FusionWeights(dense=1.0, lexical=2.0, score_weight=0.0))
    assert towards_dense[1] > towards_dense[2]
    assert towards_lexical[2] > towards_lexical[1]


def test_score_term_keeps_confidence() -> None:
    dense = {1: 0.95, 2: 0.40, 3: 0.39}
    lexical = {2: 5.0, 1: 4.9, 3: 4.8}
    plain = fuse(dense, lexical, FusionWeights(dense=1.0, score_weight=0.0))
    confident = fuse(dense, lexical, FusionWeights(dense=1.0, score_weight=2.0))
    assert plain[1] == pytest.approx(plain[2])  # RRF alone sees ranks 1+2 vs 2+1: a tie
    assert confident[1] > confident[2]  # the dense margin breaks it


def test_normalise_scores_handles_flat_pools() -> None:
    assert normalise_scores({1: 3.0, 2: 3.0}) == {1: 1.0, 2: 1.0}
    assert normalise_scores({1: 2.0, 2: 1.0, 3: 0.0}) == {1: 1.0, 2: 0.5, 3: 0.0}
    assert fuse({}, {}) == {}


def test_default_fusion_prefers_a_confident_dense_hit_over_a_marginal_lexical_one() -> None:
    dense = {1: 0.92, 2: 0.81, 3: 0.80}
    lexical = {2: 7.1, 3: 7.0, 1: 6.9}
    fused = fuse(dense, lexical)
    assert max(fused, key=fused.__getitem__) == 1
