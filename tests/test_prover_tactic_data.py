"""(goal, tactic) pairs for a tactic generator: goals as the prover will see them, splits as the retriever's."""

from __future__ import annotations

import pytest

from database.records import Pos, TacticStep, Theorem
from prover.tactic_data import tactic_data, tactic_examples
from retrieval.dataset import build_dataset


@pytest.fixture(scope="module")
def stored(examples_store):
    return examples_store


def test_static_goals_are_the_statement_shaped_as_a_goal_then_the_tactics_done(stored) -> None:
    store, repos = stored
    theorem = next(t for t in store.theorems(repos[0].id) if t.full_name.endswith("double_le_double"))
    assert [(e.step, e.goal, e.tactic) for e in tactic_examples(theorem)] == [
        (0, "m n : Nat\nh : m ≤ n\n⊢ double m ≤ double n", "unfold double"),
        (1, "m n : Nat\nh : m ≤ n\n⊢ double m ≤ double n\n-- done: unfold double", "omega")]


def test_traced_goals_are_the_states_and_nothing_gives_up() -> None:
    steps = (TacticStep("constructor", "2 goals\nn : Nat\n⊢ n = n\n\n⊢ True", "⊢ True"),
             TacticStep("sorry", "⊢ True", "no goals"), TacticStep("trivial", "⊢ True", "no goals"))
    proved = Theorem("u", "c", "A.lean", "t", Pos(1, 1), Pos(4, 1), "theorem t (n : Nat) : n = n ∧ True",
                     "by\n  constructor\n  sorry", steps=steps)
    assert tactic_examples(proved) == []  # the proof gives up: a target, never training data
    fine = Theorem("u", "c", "A.lean", "t", Pos(1, 1), Pos(4, 1), "theorem t (n : Nat) : n = n ∧ True",
                   "by\n  constructor\n  rfl\n  trivial", steps=(steps[0], steps[2]))
    assert [(e.goal, e.tactic) for e in tactic_examples(fine)] == [
        ("n : Nat\n⊢ n = n\n\n⊢ True", "constructor"), ("⊢ True", "trivial")]


def test_splits_follow_the_retrievers_and_hold_no_target(stored) -> None:
    store, repos = stored
    for repo in repos:
        theorems = store.theorems(repo.id)
        data = tactic_data(theorems, seed=3407)
        split = build_dataset(store, repo, seed=3407).split
        ids = {name: {e.theorem_id for e in getattr(data, name)} for name in ("train", "validation", "test")}
        assert ids["validation"] <= set(split.validation) and ids["test"] <= set(split.test)
        assert not ids["train"] & (set(split.validation) | set(split.test))
        targets = {t.id for t in theorems if t.has_sorry}
        assert targets and not targets & (ids["train"] | ids["validation"] | ids["test"])
        assert all("sorry" not in e.tactic for e in data.train + data.validation + data.test)
        # Theorems whose proofs use no premise still teach tactics.
        assert ids["train"] - set(split.train)
    assert tactic_data(store.theorems(repos[0].id)) == tactic_data(store.theorems(repos[0].id))
