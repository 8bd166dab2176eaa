"""Per-query scores and paired bootstrap intervals on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.metrics import mrr, recall_at_k
from retrieval.stats import QueryScore, difference, mean_interval, miss_rate_ratio, query_score, ratio


def test_query_scores_average_to_the_metrics() -> None:
    ranked = [["x", "a", "b"], ["c", "y"], ["z", "w"]]
    positives = [{"a", "b"}, {"c"}, {"q"}]
    scores = [query_score(r, p) for r, p in zip(ranked, positives)]
    assert scores == [QueryScore(0.0, 1.0, 0.5), QueryScore(1.0, 1.0, 1.0), QueryScore(0.0, 0.0, 0.0)]
    assert np.mean([s.recall_at_10 for s in scores]) == pytest.approx(recall_at_k(ranked, positives, 10))
    assert np.mean([s.reciprocal_rank for s in scores]) == pytest.approx(mrr(ranked, positives))
    with pytest.raises(ValueError, match="without positives"):
        query_score(["a"], set())


def test_a_sure_difference_and_a_tie() -> None:
    sure = difference([1.0] * 20, [0.0] * 20)
    assert (sure.estimate, sure.low, sure.high, sure.queries) == (1.0, 1.0, 1.0, 20) and sure.excludes(0.0)
    same = difference([1.0, 0.0] * 10, [1.0, 0.0] * 10)  # paired: every resample gives 0
    assert (same.low, same.high) == (0.0, 0.0) and not same.excludes(0.0)
    # One query of 20 differs: a tie at 95% (0 inside the interval).
    tie = difference([1.0] + [0.5] * 19, [0.0] + [0.5] * 19)
    assert tie.estimate == pytest.approx(0.05) and not tie.excludes(0.0)


def test_the_interval_of_a_mean_matches_the_normal_approximation() -> None:
    values = [1.0, 0.0] * 200  # p = 0.5, n = 400: 0.5 ± 1.96 · 0.025
    interval = mean_interval(values)
    assert interval.estimate == 0.5
    assert interval.low == pytest.approx(0.451, abs=0.006) and interval.high == pytest.approx(0.549, abs=0.006)
    assert mean_interval(values) == interval  # seeded
    spread = np.random.default_rng(0).random(50).tolist()
    assert mean_interval(spread, seed=1) != mean_interval(spread) == mean_interval(spread)


def test_ratios_of_paired_means() -> None:
    # MRR 0.75 vs 0.5: ratio 1.5; recalls 0.75 vs 0.25: miss rates 0.25 / 0.75 = 1/3.
    assert ratio([1.0, 0.5, 1.0, 0.5], [0.5, 0.5, 0.5, 0.5]).estimate == pytest.approx(1.5)
    assert miss_rate_ratio([1.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]).estimate == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="one length"):
        difference([1.0], [1.0, 0.0])
