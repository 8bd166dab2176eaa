"""Hybrid ranking: the dense retriever and BM25 fused, over each query's accessible premises.

Two fusions of the two rankers' top ``depth`` hits:

* ``rrf``, reciprocal-rank fusion (Cormack et al. 2009): a premise scores Σ 1 / (``rrf_k`` + its rank) over
  the rankings it appears in; no scale to tune, nothing to learn.
* ``mix``, a weighted sum of each ranker's scores min-max normalised over the query's hits (a premise the
  other ranker did not return gets 0 there); the weight is picked on validation queries
  (:func:`pick_weight`) after each repository.

Fusion is deterministic: ties keep the order of first appearance, dense hits first.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from database.index import Hit
from database.records import Premise
from retrieval.base import Retriever
from retrieval.stats import query_score

__all__ = ["HybridRetriever", "FUSIONS", "reciprocal_rank_fusion", "score_mix", "pick_weight", "pick_weight_on",
           "WEIGHTS"]

FUSIONS = ("rrf", "mix")
WEIGHTS = tuple(i / 10 for i in range(11))
"""Dense weights :func:`pick_weight` tries (1.0: dense alone, 0.0: BM25 alone)."""


def reciprocal_rank_fusion(rankings: Sequence[Sequence[Hit]], k: int, *, rrf_k: int = 60) -> list[Hit]:
    """The top ``k`` by Σ 1 / (``rrf_k`` + rank), rank counted from 1 in each ranking.

    ``p`` is third in both rankings: 2/63 beats ``x`` and ``y``, first in one each (1/61).

    >>> a = [Hit("x", 0.9), Hit("q", 0.8), Hit("p", 0.7)]
    >>> b = [Hit("y", 9.0), Hit("r", 8.0), Hit("p", 7.0)]
    >>> [h.premise_id for h in reciprocal_rank_fusion([a, b], 3)]
    ['p', 'x', 'y']
    """
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, 1):
            scores[hit.premise_id] = scores.get(hit.premise_id, 0.0) + 1.0 / (rrf_k + rank)
    order = sorted(scores, key=lambda pid: -scores[pid])  # stable: first appearance breaks ties
    return [Hit(pid, scores[pid]) for pid in order[:k]]


def _normalised(hits: Sequence[Hit]) -> dict[str, float]:
    if not hits:
        return {}
    low, high = min(h.score for h in hits), max(h.score for h in hits)
    return {h.premise_id: (h.score - low) / (high - low) if high > low else 1.0 for h in hits}


def score_mix(dense: Sequence[Hit], lexical: Sequence[Hit], k: int, weight: float) -> list[Hit]:
    """The top ``k`` by ``weight`` × dense + (1 − ``weight``) × lexical, each min-max normalised.

    >>> d = [Hit("a", 0.9), Hit("b", 0.5), Hit("c", 0.1)]
    >>> l = [Hit("c", 12.0), Hit("b", 10.0), Hit("z", 2.0)]
    >>> [(h.premise_id, round(h.score, 2)) for h in score_mix(d, l, 4, 0.5)]
    [('b', 0.65), ('a', 0.5), ('c', 0.5), ('z', 0.0)]
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"the dense weight must lie in [0, 1], got {weight}")
    dn, ln = _normalised(dense), _normalised(lexical)
    ids = list(dict.fromkeys([h.premise_id for h in dense] + [h.premise_id for h in lexical]))
    scores = {pid: weight * dn.get(pid, 0.0) + (1 - weight) * ln.get(pid, 0.0) for pid in ids}
    order = sorted(ids, key=lambda pid: -scores[pid])
    return [Hit(pid, scores[pid]) for pid in order[:k]]


def pick_weight(dense: Sequence[Sequence[Hit]], lexical: Sequence[Sequence[Hit]],
                positives: Sequence[Collection[str]], weights: Sequence[float] = WEIGHTS) -> float:
    """The dense weight with the best mean R@10 (then MRR, then the larger weight) on validation queries.

    Queries without positives do not count; with none left, the weight is 1.0 (dense alone).
    """
    best, best_key = 1.0, (-1.0, -1.0, -1.0)
    for weight in weights:
        scores = [query_score([h.premise_id for h in score_mix(d, lx, 10, weight)], pos)
                  for d, lx, pos in zip(dense, lexical, positives) if pos]
        if not scores:
            return 1.0
        key = (sum(s.recall_at_10 for s in scores), sum(s.reciprocal_rank for s in scores), weight)
        if key > best_key:
            best, best_key = weight, key
    return best


def pick_weight_on(dense: Retriever, lexical: Retriever, queries: Sequence, *, depth: int = 100) -> float:
    """:func:`pick_weight` on evaluation queries (``query``, ``allowed``, ``positives``), each ranker's top
    ``depth`` over the query's accessible premises."""
    if not queries:
        return 1.0
    texts, allowed = [q.query for q in queries], [q.allowed for q in queries]
    return pick_weight(dense.retrieve(texts, depth, allowed), lexical.retrieve(texts, depth, allowed),
                       [q.positives for q in queries])


@dataclass
class HybridRetriever:
    """A dense retriever and a lexical one (BM25) fused; a :class:`~retrieval.base.Retriever`."""

    dense: Retriever
    """The learned ranker."""
    lexical: Retriever
    """BM25."""
    fusion: str = "rrf"
    """``rrf`` or ``mix``."""
    weight: float = 0.5
    """Dense weight of the ``mix`` fusion."""
    depth: int = 100
    """Hits taken from each ranker before fusing (at least ``k``)."""
    rrf_k: int = 60
    """RRF's rank offset."""

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {self.fusion!r}: use one of {', '.join(FUSIONS)}")

    def index(self, premises: Sequence[Premise]) -> None:
        """Make ``premises`` the corpus of both rankers."""
        self.dense.index(premises)
        self.lexical.index(premises)

    def retrieve(self, queries: Sequence[str], k: int,
                 allowed: Sequence[Collection[str]] | None = None) -> list[list[Hit]]:
        """See :class:`~retrieval.base.Retriever`."""
        depth = max(k, self.depth)
        dense = self.dense.retrieve(queries, depth, allowed)
        lexical = self.lexical.retrieve(queries, depth, allowed)
        if self.fusion == "rrf":
            return [reciprocal_rank_fusion([d, lx], k, rrf_k=self.rrf_k) for d, lx in zip(dense, lexical)]
        return [score_mix(d, lx, k, self.weight) for d, lx in zip(dense, lexical)]
