"""Recall@k and MRR against hand-computed values (LeanDojo / ReProver definitions)."""

from __future__ import annotations

import math

import pytest

from retrieval.metrics import mrr, recall_at_k

RANKED = [
    ["a", "b", "c", "d", "e"],  # positives {b, e}: ranks 2 and 5
    ["x", "y", "z", "w", "v"],  # positive {q}: never retrieved
    ["p", "m", "n", "o", "r"],  # positive {p}: rank 1
    ["s", "t"],                 # no positives: skipped
]
POSITIVES = [{"b", "e"}, {"q"}, {"p"}, set()]


@pytest.mark.parametrize(("k", "expected"), [
    (1, (0 + 0 + 1) / 3),      # only query 3 has a hit at rank 1
    (2, (0.5 + 0 + 1) / 3),    # query 1 finds b
    (4, (0.5 + 0 + 1) / 3),
    (5, (1.0 + 0 + 1) / 3),    # query 1 finds e too
    (100, (1.0 + 0 + 1) / 3),  # k beyond the list
])
def test_recall_at_k(k: int, expected: float) -> None:
    assert recall_at_k(RANKED, POSITIVES, k) == pytest.approx(expected)


def test_mrr() -> None:
    assert mrr(RANKED, POSITIVES) == pytest.approx((1 / 2 + 0 + 1) / 3)


def test_duplicates_in_a_ranking_count_once() -> None:
    assert recall_at_k([["a", "a", "b"]], [{"a", "c"}], 2) == 0.5


def test_edge_cases() -> None:
    assert math.isnan(recall_at_k([["a"]], [set()], 1)) and math.isnan(mrr([], []))
    with pytest.raises(ValueError, match="2 rankings but 1"):
        recall_at_k([["a"], ["b"]], [{"a"}], 1)
    with pytest.raises(ValueError, match="k must be positive"):
        recall_at_k([["a"]], [{"a"}], 0)
