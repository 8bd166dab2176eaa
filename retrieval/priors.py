"""Three priors the score mix adds to the encoder's and BM25's scores, each in [0, 1].

* **usage**: how many training units of the repositories learned so far use the premise, as
  log(1 + n) / log(1 + the most any premise has): what proofs reach for often (``simp`` lemmas, a file's
  main definitions) is likelier to be reached for again.
* **locality**: a premise defined in the query's own file, above the theorem, scores
  exp(−lines between them / ``decay``); any other premise 0. In the 22 learned repositories of
  ``repos.txt`` about half the premises a proof uses are defined so (docs/benchmarks.md).
* **imported**: 1 for a premise of a module the query's file imports directly (``import`` lines), else 0.
  On the validation queries of four repositories' ``novel_premises`` split (premises no training proof used), a
  third of the right premises sit in such a module, which holds a tenth of the candidates (docs/benchmarks.md).

Neither needs a model: the counts come from the database, the positions from the records. Their weights in
the mix are picked on validation queries with the dense weight (:func:`retrieval.hybrid.pick_mix`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from database.datasets import module_of
from database.records import Premise

__all__ = ["Origin", "PremisePriors", "DECAY"]

DECAY = 200.0
"""Lines over which the locality prior falls by a factor e (50, 200 and 400 tie on validation)."""


@dataclass(frozen=True)
class Origin:
    """Where a query comes from: the theorem whose proof it serves."""

    path: str
    """The theorem's file, relative to its repository."""
    line: int
    """The line its declaration starts at."""
    imports: frozenset[str] = frozenset()
    """Modules its file imports directly (empty: not known, and the imported prior counts for nothing)."""


class PremisePriors:
    """The usage, locality and imported priors over a corpus.

    >>> from database.records import Pos
    >>> a = Premise("a", "theorem", "F.lean", Pos(10, 1), Pos(10, 9), "theorem a : True")
    >>> b = Premise("b", "theorem", "G.lean", Pos(1, 1), Pos(1, 9), "theorem b : True")
    >>> priors = PremisePriors([a, b], {a.id: 3, b.id: 1})
    >>> priors.usage(a.id), round(priors.usage(b.id), 3)
    (1.0, 0.5)
    >>> round(priors.locality(a.id, Origin("F.lean", 210)), 3), priors.locality(a.id, Origin("F.lean", 5))
    (0.368, 0.0)
    >>> priors.locality(b.id, Origin("F.lean", 210)), priors.locality(a.id, None)
    (0.0, 0.0)
    >>> priors.imported(b.id, Origin("F.lean", 210, frozenset({"G"}))), priors.imported(b.id, Origin("F.lean", 210))
    (1.0, 0.0)
    """

    def __init__(self, premises: Iterable[Premise], usage: Mapping[str, int], *, decay: float = DECAY) -> None:
        if decay <= 0:
            raise ValueError(f"the locality decay must be positive, got {decay}")
        self.where = {p.id: (p.path, p.start.line) for p in premises}
        self.module = {pid: module_of(path) for pid, (path, _) in self.where.items()}
        self.counts = {pid: n for pid, n in usage.items() if n > 0}
        self._top = math.log1p(max(self.counts.values(), default=0))
        self.decay = decay

    @classmethod
    def of(cls, premises: Iterable[Premise], usages: Iterable[Mapping[str, int]], **kw) -> PremisePriors:
        """Priors whose usage counts are the sums of ``usages`` (one per repository learned)."""
        total: Counter[str] = Counter()
        for usage in usages:
            total.update(usage)
        return cls(premises, total, **kw)

    def usage(self, premise_id: str) -> float:
        """log(1 + uses) / log(1 + the most uses), 0 for a premise no training unit uses."""
        return math.log1p(self.counts.get(premise_id, 0)) / self._top if self._top > 0 else 0.0

    def locality(self, premise_id: str, origin: Origin | None) -> float:
        """exp(−lines / decay) for a premise above ``origin`` in its file, else 0."""
        where = self.where.get(premise_id)
        if origin is None or where is None or where[0] != origin.path or where[1] >= origin.line:
            return 0.0
        return math.exp(-(origin.line - where[1]) / self.decay)

    def imported(self, premise_id: str, origin: Origin | None) -> float:
        """1 for a premise of a module ``origin``'s file imports directly, else 0."""
        return 1.0 if origin is not None and self.module.get(premise_id) in origin.imports else 0.0

    def features(self, premise_ids: Sequence[str], origin: Origin | None) -> list[tuple[float, float, float]]:
        """(usage, locality, imported) of each premise, for one query."""
        return [(self.usage(pid), self.locality(pid, origin), self.imported(pid, origin)) for pid in premise_ids]
