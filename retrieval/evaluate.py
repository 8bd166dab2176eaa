"""Retrieval quality on evaluation queries: Recall@1, Recall@10 and MRR (ReProver's definitions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from retrieval.base import Retriever
from retrieval.dataset import EvalQuery
from retrieval.metrics import mrr, recall_at_k
from retrieval.stats import QueryScore, query_score

__all__ = ["Scores", "evaluate", "score_queries"]


@dataclass(frozen=True)
class Scores:
    """Quality of one retriever on one set of queries."""

    recall_at_1: float
    """Recall@1."""
    recall_at_10: float
    """Recall@10."""
    mrr: float
    """Mean reciprocal rank of the first positive within the top ``depth``."""
    queries: int
    """Number of queries."""


def evaluate(retriever: Retriever, queries: Sequence[EvalQuery], *, depth: int = 100) -> Scores | None:
    """Score ``retriever`` on ``queries``, each restricted to its accessible premises; None if no query."""
    if not queries:
        return None
    hits = retriever.retrieve([q.query for q in queries], depth, [q.allowed for q in queries],
                              [q.origin for q in queries])
    ranked = [[h.premise_id for h in row] for row in hits]
    positives = [q.positives for q in queries]
    return Scores(recall_at_k(ranked, positives, 1), recall_at_k(ranked, positives, 10), mrr(ranked, positives),
                  len(queries))


def score_queries(retriever: Retriever, queries: Sequence[EvalQuery], *, depth: int = 100) -> list[QueryScore]:
    """Each query's scores (for intervals and paired comparisons), in the order of ``queries``."""
    hits = retriever.retrieve([q.query for q in queries], depth, [q.allowed for q in queries],
                              [q.origin for q in queries]) if queries else []
    return [query_score([h.premise_id for h in row], q.positives) for row, q in zip(hits, queries)]
