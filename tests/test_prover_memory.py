"""Proof memory: nearest proved steps, their tactics adapted (binders renamed, premises replaced)."""

from __future__ import annotations

import pytest

from database.records import Pos, Premise, TacticStep, Theorem
from prover.generators import GenRequest
from prover.memory import DenseNeighbours, LexicalNeighbours, ProofMemory, adapt, rename


def theorem(name: str, statement: str, tactics: list[str], premises: tuple[str, ...] = (),
            sorry: bool = False) -> Theorem:
    return Theorem("u", "c", "A.lean", name, Pos(1, 1), Pos(3, 1), statement, "by " + "; ".join(tactics),
                   steps=tuple(TacticStep(t) for t in tactics), premises=premises, has_sorry=sorry)


def premise(name: str, kind: str = "theorem") -> Premise:
    return Premise(name, kind, "A.lean", Pos(1, 1), Pos(1, 9), f"{kind} {name} : True")


class Fixed:
    """A premise source that always answers the same premises."""

    def __init__(self, premises: list[Premise]) -> None:
        self.given = premises

    def premises(self, requests, k):
        return [self.given[:k] for _ in requests]


PROVED = [
    theorem("add_zero'", "theorem add_zero' (n : Nat) : n + 0 = n", ["simp"]),
    theorem("swap", "theorem swap (a b : Nat) (h : a = b) : b = a", ["rw [h]"]),
    theorem("mul_swap", "theorem mul_swap (x y : Nat) : x * y = y * x", ["rw [Nat.mul_comm]"],
            premises=("Nat.mul_comm",)),
    theorem("given_up", "theorem given_up (x y : Nat) : x * y = y * x + 0", ["sorry"], sorry=True),
]


def test_binders_are_renamed_position_by_position() -> None:
    assert rename("rw [h] at h2", ["a", "b", "h"], ["x", "y", "hxy"]) == "rw [hxy] at h2"
    assert rename("exact h.symm", ["h"], ["e"]) == "exact e.symm"  # a dotted use of a hypothesis
    assert rename("exact foo.h", ["h"], ["e"]) == "exact foo.h"  # a name that merely ends like one
    assert rename("simp", ["a"], ["a"]) == "simp"


def test_premises_are_replaced_by_current_ones_of_the_same_kind() -> None:
    current = [premise("Nat.add_comm"), premise("double", "def"), premise("Nat.mul_comm"), premise("Nat.mul_assoc")]
    kinds = {"Nat.mul_comm": "theorem", "square": "def"}
    variants = adapt("rw [mul_comm]", [], [], ["Nat.mul_comm"], kinds, current)
    # the original first, then the theorems in the current premises' order; the def and the original itself skipped
    assert sorted(variants, key=variants.get) == ["rw [mul_comm]", "rw [Nat.add_comm]", "rw [Nat.mul_assoc]"]
    assert variants["rw [Nat.add_comm]"] < variants["rw [Nat.mul_assoc]"]
    defs = adapt("unfold square", [], [], ["square"], kinds, current)
    assert set(defs) == {"unfold square", "unfold double"}
    assert adapt("rw [foo]", [], [], ["Nat.mul_comm"], kinds, current) == {"rw [foo]": 0.0}  # not a used premise


def test_memory_suggests_the_nearest_proofs_tactic_adapted_to_the_state() -> None:
    entries = ProofMemory.remember(PROVED)
    assert [e.tactic for e in entries] == ["simp", "rw [h]", "rw [Nat.mul_comm]"]  # the sorry theorem is not kept
    memory = ProofMemory(entries, LexicalNeighbours(), premises=Fixed([premise("Nat.add_comm")]),
                         kinds={"Nat.mul_comm": "theorem"})
    target = theorem("swap'", "theorem swap' (p q : Nat) (e : p = q) : q = p", ["sorry"], sorry=True)
    [row] = memory.generate([GenRequest("p q : Nat\ne : p = q\n⊢ q = p", target)], 8)
    tactics = [s.tactic for s in row]
    assert tactics[0] == "rw [e]"  # swap's tactic, its hypothesis h renamed to e
    assert "rw [h]" in tactics and tactics.index("rw [h]") > 0
    assert all(s.logprob <= 0 for s in row) and [s.logprob for s in row] == sorted((s.logprob for s in row),
                                                                                    reverse=True)
    [row] = memory.generate([GenRequest("x y : Nat\n⊢ y * x = x * y", target)], 8)
    tactics = [s.tactic for s in row]
    assert tactics[:2] == ["rw [Nat.mul_comm]", "rw [Nat.add_comm]"]  # then the premise swapped in


def test_held_out_and_own_proofs_are_never_suggested() -> None:
    entries = ProofMemory.remember(PROVED, exclude={PROVED[1].id})
    assert "rw [h]" not in {e.tactic for e in entries}
    memory = ProofMemory(ProofMemory.remember(PROVED), LexicalNeighbours())
    [row] = memory.generate([GenRequest("a b : Nat\nh : a = b\n⊢ b = a", PROVED[1])], 8)
    assert "rw [h]" not in {s.tactic for s in row}
    assert memory.generate([], 8) == [] and memory.generate([GenRequest("⊢ True", PROVED[0])], 0) == [[]]


def test_dense_neighbours_find_an_identical_goal_first() -> None:
    from retrieval.encoder import DualEncoder

    neighbours = DenseNeighbours(DualEncoder.tiny_byt5(seed=0), max_length=256)
    goals = ["n : Nat\n⊢ n + 0 = n", "a b : Nat\nh : a = b\n⊢ b = a", "x y : Nat\n⊢ x * y = y * x"]
    neighbours.fit(goals)
    for i, goal in enumerate(goals):
        [near] = neighbours.nearest([goal], 3)
        assert near[0][0] == i and near[0][1] == pytest.approx(1.0, abs=1e-5)
        assert [s for _, s in near] == sorted((s for _, s in near), reverse=True)


def test_memory_on_the_example_projects_suggests_real_tactics(examples_store) -> None:
    from prover.tactic_data import tactic_data

    store, repos = examples_store
    theorems = [t for r in repos for t in store.theorems(r.id, sorry=False)]
    held = {e.theorem_id for r in repos for e in tactic_data(store.theorems(r.id, sorry=False)).test}
    memory = ProofMemory(ProofMemory.remember(theorems, exclude=held), LexicalNeighbours())
    remembered = {e.tactic for e in memory.entries}
    assert held and not held & {e.theorem_id for e in memory.entries}
    by_id = {t.id: t for t in theorems}
    rows = memory.generate([GenRequest(by_id[t].statement, by_id[t]) for t in sorted(held)], 16)
    assert all(rows) and all(s.tactic in remembered or s.tactic.split()[0] in {x.split()[0] for x in remembered}
                             for row in rows for s in row)
