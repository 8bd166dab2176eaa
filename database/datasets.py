"""Dataset views: accessible premises, train / validation / test splits, retrieval examples.

A theorem may only use what Lean lets it see: the premises of its own file declared before it, and every
premise of the modules its file imports, transitively (dependencies' modules included when their sources
were scanned). Candidates are restricted to that set so that nothing defined later leaks into training
or evaluation.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Literal, Sequence

import networkx as nx

from database.records import Premise, SourceFile, Theorem

__all__ = [
    "AccessIndex", "Split", "SplitName", "module_of", "split_theorems", "novel_premise_split",
]

SplitName = Literal["train", "validation", "test"]


def module_of(path: str) -> str:
    """The Lean module a file defines.

    >>> module_of("Mathlib/Data/Nat/Basic.lean")
    'Mathlib.Data.Nat.Basic'
    """
    return path.removesuffix(".lean").replace("/", ".")


class AccessIndex:
    """Which premises are accessible from where: the import graph over modules plus premises by module."""

    def __init__(self, files: Iterable[SourceFile], premises: Iterable[Premise]) -> None:
        self.graph = nx.DiGraph()
        for f in files:
            self.graph.add_node(f.module)
            for imported in f.imports:
                self.graph.add_edge(f.module, imported)
        self._by_module: dict[str, list[Premise]] = defaultdict(list)
        for p in premises:
            self._by_module[module_of(p.path)].append(p)
        self._closure: dict[str, frozenset[str]] = {}

    def imported_modules(self, module: str) -> frozenset[str]:
        """Modules reachable through imports from ``module`` (itself excluded), memoised."""
        if module not in self._closure:
            reach = nx.descendants(self.graph, module) if module in self.graph else set()
            self._closure[module] = frozenset(reach - {module})
        return self._closure[module]

    def accessible(self, theorem: Theorem) -> list[Premise]:
        """Premises ``theorem`` may use: earlier ones in its file, all of its import closure."""
        module = module_of(theorem.path)
        result = [p for p in self._by_module.get(module, ()) if p.start < theorem.start
                  and p.full_name != theorem.full_name]
        for imported in sorted(self.imported_modules(module)):
            result.extend(self._by_module.get(imported, ()))
        return result

    def imports_of(self, theorem: Theorem) -> frozenset[str]:
        """Modules ``theorem``'s file imports directly."""
        module = module_of(theorem.path)
        return frozenset(self.graph.successors(module)) if module in self.graph else frozenset()

    def accessible_ids(self, theorem: Theorem) -> frozenset[str]:
        """Ids of :meth:`accessible`."""
        return frozenset(p.id for p in self.accessible(theorem))


@dataclass(frozen=True)
class Split:
    """A repository's theorems divided into train / validation / test (by theorem id)."""

    train: tuple[str, ...]
    """Ids of training theorems."""
    validation: tuple[str, ...]
    """Ids of validation theorems."""
    test: tuple[str, ...]
    """Ids of test theorems."""
    strategy: str
    """``random`` or ``novel_premises``."""

    def of(self, theorem_id: str) -> SplitName | None:
        """Which split holds ``theorem_id`` (None if it is in none)."""
        for name in ("train", "validation", "test"):
            if theorem_id in getattr(self, name):
                return name  # type: ignore[return-value]
        return None


def _sizes(n: int, fraction: float) -> int:
    """Validation/test size: ``fraction`` of n, at least 1 from 5 theorems and 2 from 10 (tiny repositories
    would otherwise be judged on a single theorem).

    >>> [_sizes(n, 0.1) for n in (0, 4, 5, 12, 30, 100)]
    [0, 0, 1, 2, 3, 10]
    """
    if n < 5:
        return 0
    return max(1 if n < 10 else 2, round(n * fraction))


def _key(seed: int, theorem_id: str) -> str:
    return hashlib.sha256(f"{seed}\x1f{theorem_id}".encode()).hexdigest()


def split_theorems(theorems: Sequence[Theorem], *, seed: int = 3407, fraction: float = 0.1) -> Split:
    """LeanDojo's ``random`` split, made deterministic: order theorems by a seeded hash of their id.

    Only theorems usable as training data (a proof without sorry, at least one premise) are split.
    The order does not depend on the input order, and adding a theorem moves no other one.
    """
    usable = sorted((t for t in theorems if not t.has_sorry and t.premises), key=lambda t: _key(seed, t.id))
    n_eval = _sizes(len(usable), fraction)
    ids = [t.id for t in usable]
    return Split(train=tuple(ids[2 * n_eval:]), validation=tuple(ids[:n_eval]),
                 test=tuple(ids[n_eval:2 * n_eval]), strategy="random")


def novel_premise_split(theorems: Sequence[Theorem], *, seed: int = 3407, fraction: float = 0.1) -> Split:
    """LeanDojo's ``novel_premises`` split: each evaluation theorem uses a premise that no training one uses.

    Premises are visited in a seeded order; all theorems using a visited premise go to evaluation
    (alternating validation / test) until both are full, overshooting rather than splitting a premise's
    users; the rest is training.
    """
    usable = sorted((t for t in theorems if not t.has_sorry and t.premises), key=lambda t: _key(seed, t.id))
    n_eval = _sizes(len(usable), fraction)
    users: dict[str, list[Theorem]] = defaultdict(list)
    for t in usable:
        for name in t.premises:
            users[name].append(t)
    chosen: list[str] = []
    taken: set[str] = set()
    for name in sorted(users, key=lambda n: _key(seed, n)):
        if len(chosen) >= 2 * n_eval:
            break
        for t in users[name]:
            if t.id not in taken:  # every user of the premise, even past the target size: it stays novel
                taken.add(t.id)
                chosen.append(t.id)
    train = tuple(t.id for t in usable if t.id not in taken)
    return Split(train=train, validation=tuple(chosen[0::2]), test=tuple(chosen[1::2]),
                 strategy="novel_premises")
