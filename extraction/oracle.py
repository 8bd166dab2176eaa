"""Premises against ground truth: a hand-checked oracle (``tests/oracle``) or LeanDojo's traced premises.

>>> a = compare_premises({"t": ["x", "y"], "u": []}, {"t": ["x", "z"], "u": []})
>>> (a.true_positives, a.false_positives, a.false_negatives, a.precision, a.recall, a.wrong)
(1, 1, 1, 0.5, 0.5, ('t',))
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from extraction.resolve import NameIndex, resolve_identifiers
from extraction.tree import scan_tree

__all__ = ["Agreement", "compare_premises", "load_oracle", "static_declarations"]


@dataclass(frozen=True)
class Agreement:
    """How the premises found agree with the true ones, over the declarations the truth names."""

    declarations: int
    """Declarations compared."""
    true_positives: int
    """Premises found that are true."""
    false_positives: int
    """Premises found that are not (phantoms)."""
    false_negatives: int
    """True premises not found."""
    wrong: tuple[str, ...] = ()
    """Declarations whose premises differ (missing ones count as found empty)."""

    @property
    def precision(self) -> float:
        """Share of the premises found that are true (1.0 when none was found)."""
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        """Share of the true premises found (1.0 when there are none)."""
        true = self.true_positives + self.false_negatives
        return self.true_positives / true if true else 1.0


def compare_premises(found: Mapping[str, Sequence[str]], truth: Mapping[str, Sequence[str]]) -> Agreement:
    """Premise sets of ``found`` against ``truth``, declaration by declaration (those of ``truth``)."""
    tp = fp = fn = 0
    wrong = []
    for name in sorted(truth):
        got, want = set(found.get(name, ())), set(truth[name])
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
        if got != want:
            wrong.append(name)
    return Agreement(len(truth), tp, fp, fn, tuple(wrong))


def static_declarations(root: Path) -> dict[str, tuple[tuple[str, ...], int]]:
    """Every named declaration of the Lean files under ``root``: (premises, tactic steps) as the static
    extractor finds them (resolved over the same files, imports followed)."""
    scans = scan_tree(Path(root))
    index = NameIndex.from_scans(scans)
    return {d.name: (resolve_identifiers(d, index), len(d.steps))
            for scan in scans for d in scan.declarations if d.name}


def load_oracle(path: Path) -> dict[str, dict]:
    """The ``declarations`` of an oracle file (``tests/oracle/expected.json``): name → premises, steps, why."""
    return json.loads(Path(path).read_text())["declarations"]
