"""Per-query retrieval scores and paired bootstrap intervals: can a difference be told from noise?

Two rankers scored on the same queries are compared by resampling the queries (the same resample for both,
so a query that is hard for both stays hard for both): the interval of a statistic of the two means is its
2.5th and 97.5th percentiles over the resamples (percentile bootstrap, 95%).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["QueryScore", "query_score", "Interval", "bootstrap", "mean_interval", "difference", "ratio",
           "miss_rate_ratio"]


@dataclass(frozen=True)
class QueryScore:
    """One query's scores (the means over queries are Recall@1, Recall@10 and MRR)."""

    recall_at_1: float
    """Share of its positives in the top 1."""
    recall_at_10: float
    """Share of its positives in the top 10."""
    reciprocal_rank: float
    """1 / rank of the first positive (0 when none is retrieved)."""


def query_score(ranked: Sequence[str], positives: Collection[str]) -> QueryScore:
    """Scores of one ranking against a non-empty set of positives.

    >>> query_score(["x", "a", "b"], {"a", "b"})
    QueryScore(recall_at_1=0.0, recall_at_10=1.0, reciprocal_rank=0.5)
    """
    if not positives:
        raise ValueError("a query without positives has no score (ReProver skips it)")
    found = set(positives)
    first = next((1.0 / rank for rank, pid in enumerate(ranked, 1) if pid in found), 0.0)
    return QueryScore(len(found.intersection(ranked[:1])) / len(found),
                      len(found.intersection(ranked[:10])) / len(found), first)


@dataclass(frozen=True)
class Interval:
    """An estimate with its bootstrap interval."""

    estimate: float
    """The statistic on the queries as they are."""
    low: float
    """Lower end of the interval."""
    high: float
    """Upper end of the interval."""
    queries: int
    """How many queries it rests on."""

    def excludes(self, value: float) -> bool:
        """Whether ``value`` lies outside the interval (the difference is not noise at this level)."""
        return not self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.estimate:.3f} [{self.low:.3f}, {self.high:.3f}] (n = {self.queries})"


def bootstrap(statistic: Callable[..., np.ndarray], *samples: Sequence[float], resamples: int = 10_000,
              seed: int = 3407, level: float = 0.95) -> Interval:
    """Percentile bootstrap of ``statistic(mean_1, mean_2, …)`` over paired samples (one value per query each).

    ``statistic`` takes arrays of resampled means (one per sample) and returns an array, so that all
    resamples are computed at once.

    >>> bootstrap(lambda a: a, [1.0, 1.0, 1.0])
    Interval(estimate=1.0, low=1.0, high=1.0, queries=3)
    """
    arrays = [np.asarray(s, dtype=float) for s in samples]
    n = len(arrays[0])
    if n == 0 or any(len(a) != n for a in arrays):
        raise ValueError(f"paired samples must be non-empty and of one length, got {[len(a) for a in arrays]}")
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, size=(resamples, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.asarray(statistic(*[a[rows].mean(axis=1) for a in arrays]), dtype=float)
        estimate = float(statistic(*[np.asarray([a.mean()]) for a in arrays])[0])
    values = values[np.isfinite(values)]  # a ratio over a zero miss rate has no finite value
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail]) if len(values) else (np.nan, np.nan)
    return Interval(estimate, float(low), float(high), n)


def mean_interval(values: Sequence[float], **kwargs) -> Interval:
    """The mean with its bootstrap interval."""
    return bootstrap(lambda a: a, values, **kwargs)


def difference(a: Sequence[float], b: Sequence[float], **kwargs) -> Interval:
    """mean(a) − mean(b), paired; 0 inside the interval: a tie."""
    return bootstrap(lambda x, y: x - y, a, b, **kwargs)


def ratio(a: Sequence[float], b: Sequence[float], **kwargs) -> Interval:
    """mean(a) / mean(b), paired (the MRR ratio); 1 inside the interval: a tie."""
    return bootstrap(lambda x, y: x / y, a, b, **kwargs)


def miss_rate_ratio(a: Sequence[float], b: Sequence[float], **kwargs) -> Interval:
    """(1 − mean(a)) / (1 − mean(b)) for recalls, paired: below 1, ``a`` misses less than ``b``.

    >>> str(miss_rate_ratio([1.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0], resamples=2000))[:5]
    '0.333'
    """
    return bootstrap(lambda x, y: (1 - x) / (1 - y), a, b, **kwargs)
