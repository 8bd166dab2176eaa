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


def test_whole_proof_cases_are_the_short_tactic_proofs_of_the_split(stored) -> None:
    from prover.tactic_data import first_tactic_cases, whole_proof_cases

    store, repos = stored
    theorems = [t for repo in repos for t in store.theorems(repo.id, sorry=False)]
    data = tactic_data(theorems, fraction=0.5)
    cases = whole_proof_cases(theorems, data, "test", max_steps=2)
    first = first_tactic_cases(theorems, data, "test")
    assert cases == [t for t in first if len(t.steps) <= 2] and 0 < len(cases) < len(first)


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


class _ByLastLine:
    """Suggests tactics by the state's last line; every state it was asked about is kept."""

    def __init__(self, table: dict[str, list[tuple[str, float]]]) -> None:
        self.table = table
        self.asked: list[str] = []

    def generate(self, requests, n):
        from prover.generators import Suggestion

        self.asked += [r.state for r in requests]
        return [[Suggestion(t, lp) for t, lp in self.table.get(r.state.splitlines()[-1], [])][:n]
                for r in requests]


def test_whole_proof_ranks_follow_the_beam_over_done_lines_and_cumulative_scores() -> None:
    from prover.tactic_data import whole_proof_ranks

    theorem = Theorem("u", "c", "A.lean", "t", Pos(1, 1), Pos(3, 1), "theorem t (n : Nat) : n + 0 = n",
                      "by\n  induction n\n  rfl", steps=(TacticStep("induction  n"), TacticStep("rfl")))
    table = {"⊢ n + 0 = n": [("simp", -0.1), ("induction n", -1.0), ("omega", -3.0)],
             "-- done: simp": [("rfl", -2.0)],
             "-- done: induction n": [("rfl", -0.2), ("simp", -0.5)]}
    generator = _ByLastLine(table)
    # two suggestions a state; proposals by summed log-probability: simp −0.1, induction n −1.0,
    # [induction n, rfl] −1.2, [induction n, simp] −1.5, [simp, rfl] −2.1, …: the human's proof third
    assert whole_proof_ranks(generator, [theorem], k=64, beam=2, depth=3) == [2]
    assert "n : Nat\n⊢ n + 0 = n\n-- done: induction n" in generator.asked  # goal_before's form
    assert whole_proof_ranks(_ByLastLine(table), [theorem], k=2, beam=2) == [None]  # outside the top 2
    # a beam of one keeps only `simp` after the first step: the proof is never reached
    assert whole_proof_ranks(_ByLastLine(table), [theorem], k=64, beam=1) == [None]
    one = Theorem("u", "c", "A.lean", "s", Pos(1, 1), Pos(2, 1), "theorem s (n : Nat) : n + 0 = n", "by simp",
                  steps=(TacticStep("simp"),))
    assert whole_proof_ranks(_ByLastLine(table), [one, theorem], k=64, beam=2) == [0, 2]
