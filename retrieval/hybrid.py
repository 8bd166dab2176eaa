"""Hybrid ranking: the dense retriever and BM25 fused, over each query's accessible premises.

Two fusions of the two rankers' top ``depth`` hits:

* ``rrf``, reciprocal-rank fusion (Cormack et al. 2009): a premise scores Σ 1 / (``rrf_k`` + its rank) over
  the rankings it appears in; no scale to tune, nothing to learn.
* ``mix``, a weighted sum of each ranker's scores min-max normalised over the query's hits (a premise the
  other ranker did not return gets 0 there), plus, with :class:`~retrieval.priors.PremisePriors`, weighted
  usage, locality and imported priors; the weights are picked on validation queries (:func:`pick_mix`) after
  each repository.

Fusion is deterministic: ties keep the order of first appearance, dense hits first.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from database.index import Hit
from database.records import Premise
from retrieval.base import Retriever
from retrieval.priors import Origin, PremisePriors

__all__ = ["HybridRetriever", "FUSIONS", "Mix", "reciprocal_rank_fusion", "score_mix", "pick_mix", "pick_mix_on",
           "WEIGHTS", "PRIOR_WEIGHTS"]

FUSIONS = ("rrf", "mix")
WEIGHTS = tuple(i / 10 for i in range(11))
"""Dense weights :func:`pick_mix` tries (1.0: dense alone, 0.0: BM25 alone)."""
PRIOR_WEIGHTS = (0.0, 0.2, 0.4, 0.6, 0.8)
"""Weights of each prior :func:`pick_mix` tries (0: the prior unused)."""


@dataclass(frozen=True)
class Mix:
    """The score mix's weights."""

    dense: float = 0.5
    """Weight of the encoder's normalised score; BM25's is 1 − it."""
    usage: float = 0.0
    """Weight of the usage prior (:class:`~retrieval.priors.PremisePriors`)."""
    locality: float = 0.0
    """Weight of the locality prior."""
    imported: float = 0.0
    """Weight of the imported prior."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.dense <= 1.0:
            raise ValueError(f"the dense weight must lie in [0, 1], got {self.dense}")
        if min(self.usage, self.locality, self.imported) < 0:
            raise ValueError(f"prior weights must not be negative, got {self.usage}, {self.locality}, "
                             f"{self.imported}")

    @property
    def uses_priors(self) -> bool:
        """Whether any prior counts."""
        return self.usage > 0 or self.locality > 0 or self.imported > 0

    def describe(self) -> str:
        """``dense weight 0.7``, then the priors' weights when they count.

        >>> Mix(0.7).describe(), Mix(0.7, 0.6, 0.4).describe(), Mix(0.7, 0, 0.8, 0.4).describe()
        ('dense weight 0.7', 'dense weight 0.7, usage 0.6, locality 0.4', 'dense weight 0.7, usage 0.0, locality 0.8, imported 0.4')
        """
        said = f"dense weight {self.dense:.1f}"
        if not self.uses_priors:
            return said
        return said + f", usage {self.usage:.1f}, locality {self.locality:.1f}" + (
            f", imported {self.imported:.1f}" if self.imported > 0 else "")


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


def score_mix(dense: Sequence[Hit], lexical: Sequence[Hit], k: int, weight: float,
              prior: Callable[[str], float] | None = None) -> list[Hit]:
    """The top ``k`` by ``weight`` × dense + (1 − ``weight``) × lexical, each min-max normalised, plus
    ``prior(premise id)`` when given.

    >>> d = [Hit("a", 0.9), Hit("b", 0.5), Hit("c", 0.1)]
    >>> l = [Hit("c", 12.0), Hit("b", 10.0), Hit("z", 2.0)]
    >>> [(h.premise_id, round(h.score, 2)) for h in score_mix(d, l, 4, 0.5)]
    [('b', 0.65), ('a', 0.5), ('c', 0.5), ('z', 0.0)]
    >>> [h.premise_id for h in score_mix(d, l, 4, 0.5, {"z": 0.7}.get)]
    ['z', 'b', 'a', 'c']
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"the dense weight must lie in [0, 1], got {weight}")
    dn, ln = _normalised(dense), _normalised(lexical)
    ids = list(dict.fromkeys([h.premise_id for h in dense] + [h.premise_id for h in lexical]))
    scores = {pid: weight * dn.get(pid, 0.0) + (1 - weight) * ln.get(pid, 0.0) for pid in ids}
    if prior is not None:
        scores = {pid: s + (prior(pid) or 0.0) for pid, s in scores.items()}
    order = sorted(ids, key=lambda pid: -scores[pid])
    return [Hit(pid, scores[pid]) for pid in order[:k]]


def _prior_of(mix: Mix, priors: PremisePriors | None, origin: Origin | None) -> Callable[[str], float] | None:
    if priors is None or not mix.uses_priors:
        return None
    return lambda pid: (mix.usage * priors.usage(pid) + mix.locality * priors.locality(pid, origin)
                        + mix.imported * priors.imported(pid, origin))


def pick_mix(dense: Sequence[Sequence[Hit]], lexical: Sequence[Sequence[Hit]],
             positives: Sequence[Collection[str]], *, priors: PremisePriors | None = None,
             origins: Sequence[Origin | None] | None = None, weights: Sequence[float] = WEIGHTS,
             prior_weights: Sequence[float] = PRIOR_WEIGHTS) -> Mix:
    """The weights with the best mean R@10 (then mean reciprocal rank in the top 10, then the larger dense
    weight, then the smaller prior weights) on validation queries, every combination of ``weights`` and
    ``prior_weights`` for each of the three priors tried (only the dense weights without ``priors``).

    Each combination ranks a query's hits as :func:`score_mix` does (the same sums, the same stable order).
    Queries without positives do not count; with none left, the mix is dense alone.
    """
    each = prior_weights if priors else (0.0,)
    grid = [(w, u, f, m) for w in weights for u in each for f in each for m in each]
    w, u, f, m = (np.array(c, dtype=np.float64) for c in zip(*grid))
    r10, rr, counted = np.zeros(len(grid)), np.zeros(len(grid)), 0
    origins = origins if origins is not None else [None] * len(dense)
    for d, lx, pos, origin in zip(dense, lexical, positives, origins):
        if not pos:
            continue
        counted += 1
        dn, ln = _normalised(d), _normalised(lx)
        ids = list(dict.fromkeys([h.premise_id for h in d] + [h.premise_id for h in lx]))
        if not ids:
            continue
        x = np.array([[dn.get(pid, 0.0), ln.get(pid, 0.0)] for pid in ids])
        p = np.array(priors.features(ids, origin)) if priors else np.zeros((len(ids), 3))
        # score_mix's order of sums, so that ties break alike
        scores = (x[:, :1] * w + x[:, 1:] * (1 - w)) + (p[:, :1] * u + p[:, 1:2] * f + p[:, 2:] * m)
        top = np.argsort(-scores, axis=0, kind="stable")[:10]  # (≤ 10, combinations)
        hit = np.isin(np.array(ids)[top], list(pos))
        r10 += hit.sum(axis=0) / len(pos)
        first = np.where(hit.any(axis=0), hit.argmax(axis=0), -1)
        rr += np.where(first >= 0, 1.0 / np.maximum(first + 1, 1), 0.0)
    if not counted:
        return Mix(1.0)
    best = max(range(len(grid)), key=lambda i: (r10[i], rr[i], grid[i][0], -grid[i][1], -grid[i][2], -grid[i][3]))
    return Mix(*grid[best])


def pick_mix_on(dense: Retriever, lexical: Retriever, queries: Sequence, *, priors: PremisePriors | None = None,
                depth: int = 100, weights: Sequence[float] = WEIGHTS) -> Mix:
    """:func:`pick_mix` on evaluation queries (``query``, ``allowed``, ``positives``, ``origin``), each
    ranker's top ``depth`` over the query's accessible premises."""
    if not queries:
        return Mix(1.0)
    texts, allowed = [q.query for q in queries], [q.allowed for q in queries]
    return pick_mix(dense.retrieve(texts, depth, allowed), lexical.retrieve(texts, depth, allowed),
                    [q.positives for q in queries], priors=priors, origins=[q.origin for q in queries],
                    weights=weights)


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
    priors: PremisePriors | None = None
    """Usage, locality and imported priors of the ``mix`` fusion (None: none)."""
    usage_weight: float = 0.0
    """Weight of the usage prior in the ``mix``."""
    locality_weight: float = 0.0
    """Weight of the locality prior in the ``mix`` (it needs the queries' ``origins``)."""
    imported_weight: float = 0.0
    """Weight of the imported prior in the ``mix`` (it needs the queries' ``origins`` with their imports)."""
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

    @classmethod
    def mixing(cls, dense: Retriever, lexical: Retriever, mix: Mix, priors: PremisePriors | None = None,
               **kw) -> HybridRetriever:
        """The ``mix`` fusion with ``mix``'s weights."""
        return cls(dense, lexical, fusion="mix", weight=mix.dense, priors=priors, usage_weight=mix.usage,
                   locality_weight=mix.locality, imported_weight=mix.imported, **kw)

    def retrieve(self, queries: Sequence[str], k: int, allowed: Sequence[Collection[str]] | None = None,
                 origins: Sequence[Origin | None] | None = None) -> list[list[Hit]]:
        """See :class:`~retrieval.base.Retriever`."""
        depth = max(k, self.depth)
        dense = self.dense.retrieve(queries, depth, allowed)
        lexical = self.lexical.retrieve(queries, depth, allowed)
        if self.fusion == "rrf":
            return [reciprocal_rank_fusion([d, lx], k, rrf_k=self.rrf_k) for d, lx in zip(dense, lexical)]
        mix = Mix(self.weight, self.usage_weight, self.locality_weight, self.imported_weight)
        origins = origins if origins is not None else [None] * len(queries)
        return [score_mix(d, lx, k, self.weight, _prior_of(mix, self.priors, origin))
                for d, lx, origin in zip(dense, lexical, origins)]
