"""Retrieval metrics as LeanDojo / ReProver define them: Recall@k and MRR over queries with a positive.

Queries whose set of positive premises is empty are skipped (ReProver's ``num_with_premises``); when no
query has a positive there is nothing to measure and the metric is ``nan``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

__all__ = ["recall_at_k", "mrr"]


def _pairs(ranked_ids: Sequence[Sequence[str]], positive_ids: Sequence[Collection[str]]):
    if len(ranked_ids) != len(positive_ids):
        raise ValueError(f"{len(ranked_ids)} rankings but {len(positive_ids)} sets of positives")
    return [(ranked, set(positives)) for ranked, positives in zip(ranked_ids, positive_ids) if positives]


def recall_at_k(ranked_ids: Sequence[Sequence[str]], positive_ids: Sequence[Collection[str]], k: int) -> float:
    """Mean over queries of the fraction of their positives found in their top ``k``.

    Query 1 has two positives and finds one in its top 2; query 2 finds its only positive at rank 1;
    query 3 has no positive and does not count: (1/2 + 1) / 2.

    >>> recall_at_k([["a", "x", "b"], ["c", "y"], ["z"]], [{"a", "b"}, {"c"}, set()], k=2)
    0.75
    >>> recall_at_k([["a", "x", "b"], ["c", "y"], ["z"]], [{"a", "b"}, {"c"}, set()], k=3)
    1.0
    """
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    pairs = _pairs(ranked_ids, positive_ids)
    if not pairs:
        return math.nan
    found = [len(positives.intersection(ranked[:k])) / len(positives) for ranked, positives in pairs]
    return sum(found) / len(pairs)


def mrr(ranked_ids: Sequence[Sequence[str]], positive_ids: Sequence[Collection[str]]) -> float:
    """Mean reciprocal rank of the first positive in each ranking (0 when none was retrieved).

    First positive at rank 2, at rank 1, never: (1/2 + 1 + 0) / 3.

    >>> mrr([["x", "a"], ["b", "a"], ["x", "y"]], [{"a"}, {"a", "b"}, {"c"}])
    0.5
    """
    pairs = _pairs(ranked_ids, positive_ids)
    if not pairs:
        return math.nan
    total = 0.0
    for ranked, positives in pairs:
        total += next((1.0 / rank for rank, pid in enumerate(ranked, 1) if pid in positives), 0.0)
    return total / len(pairs)
