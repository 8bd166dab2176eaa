"""The whole-proof checker at its boundary: a fake ``lake env lean`` that reads the edited copy the checker
wrote, runs its tactics through the Lean test double, and answers in Lean's message format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from prover.checker import WholeProofChecker, parse_messages
from prover.env import EnvInitError, Finished, LeanUnavailable, State, TacticError
from prover.sandbox import SandboxResult
from prover.search import SearchLimits, best_first_search
from prover.testing import FakeLean, TableGenerator
from tests.conftest import EXAMPLES
from tests.test_prover_patch import sorry_theorems

REL = "ListLemmas/Reverse.lean"
GOAL = "myLength (myReverse (myAppend xs ys)) = myLength xs + myLength ys"
RULES = {(GOAL, "rw [myReverse_append]"): ("myLength (myAppend (myReverse ys) (myReverse xs)) = myLength xs + myLength ys",),
         ("myLength (myAppend (myReverse ys) (myReverse xs)) = myLength xs + myLength ys", "simp [myLength_append]"): ()}


class FakeLake:
    """``lake env lean FILE``: finds the theorem's ``by`` block in FILE and plays it on :class:`FakeLean`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[list[str]] = []

    def __call__(self, argv, cwd) -> SandboxResult:
        self.calls.append(list(argv))
        assert argv[1:3] == ["env", "lean"] and Path(cwd).is_dir()
        path = argv[3]
        lines = Path(path).read_text().split("\n")
        out = [f"{path}:36:4: warning: declaration uses 'sorry'"]  # another theorem's sorry, elsewhere
        head = next(i for i, l in enumerate(lines) if l.startswith(f"theorem {self.name} "))
        by = next(i for i in range(head, len(lines)) if lines[i].endswith(":= by"))
        tactics = []
        for i in range(by + 1, len(lines)):
            if not lines[i].startswith("  "):
                break
            tactics.append((i + 1, lines[i].strip()))
        goals = (GOAL,)
        for line, tactic in tactics:
            if tactic == "skip":
                continue
            if tactic == "sorry":
                out.append(f"{path}:{head + 1}:8: warning: declaration uses 'sorry'")
                goals = ()
                break
            effect = RULES.get((goals[0], tactic))
            if effect is None:
                out.append(f"{path}:{line}:2: error: unknown tactic or failed: {tactic}")
                return SandboxResult(1, "\n".join(out) + "\n", "", 0.01)
            goals = tuple(effect) + goals[1:]
        if goals:
            pp = "\n\n".join(f"α : Type u_1\nxs ys : List α\n⊢ {g}" for g in goals)
            out.append(f"{path}:{by + 1}:86: error: unsolved goals\n{pp}")
            return SandboxResult(1, "\n".join(out) + "\n", "", 0.01)
        return SandboxResult(0, "\n".join(out) + "\n", "", 0.01)


@pytest.fixture
def checker(tmp_path: Path):
    [theorem] = [t for t in sorry_theorems(EXAMPLES / "list-lemmas", REL) if "myLength_reverse_append" in t.full_name]
    lake = FakeLake("myLength_reverse_append")
    return WholeProofChecker(EXAMPLES / "list-lemmas", tmp_path, runner=lake), theorem, lake


def test_check_accepts_a_complete_proof_and_rejects_the_rest(checker):
    check, theorem, lake = checker
    assert check.check(theorem, ["rw [myReverse_append]", "simp [myLength_append]"]).ok
    partial = check.check(theorem, ["rw [myReverse_append]"])
    assert not partial.ok and partial.unsolved.endswith("⊢ myLength (myAppend (myReverse ys) (myReverse xs)) = "
                                                       "myLength xs + myLength ys")
    wrong = check.check(theorem, ["simp"])
    assert not wrong.ok and wrong.errors == ("unknown tactic or failed: simp",)
    cheat = check.check(theorem, ["sorry"])
    assert not cheat.ok and cheat.errors == ("the proof uses sorry",)
    assert lake.calls[0][:3] == ["lake", "env", "lean"]


def test_the_checker_is_a_lean_environment_the_search_can_drive(checker):
    check, theorem, _ = checker
    state = check.start(theorem)
    assert state == State(f"α : Type u_1\nxs ys : List α\n⊢ {GOAL}")
    assert isinstance(check.run_tactic(state, "omega"), TacticError)
    table = {GOAL: [("omega", -0.1), ("rw [myReverse_append]", -0.5)],
             "myLength (myAppend (myReverse ys) (myReverse xs)) = myLength xs + myLength ys":
                 [("simp [myLength_append]", -0.2)]}

    class ByGoal(TableGenerator):  # the real state has hypotheses first: key by the goal after ⊢
        def generate(self, requests, n):
            return super().generate([type(r)("⊢ " + r.state.split("⊢ ")[-1], r.theorem) for r in requests], n)

    result = best_first_search(check, theorem, ByGoal(table), SearchLimits(timeout=30))
    assert result.proof == ("rw [myReverse_append]", "simp [myLength_append]")


def test_a_theorem_that_moved_cannot_start(checker, tmp_path: Path):
    check, theorem, _ = checker
    moved = type(theorem)(theorem.url, theorem.commit, theorem.path, theorem.full_name,
                          type(theorem.start)(theorem.start.line + 1, 1), type(theorem.end)(theorem.end.line + 1, 8),
                          theorem.statement, theorem.proof, has_sorry=True)
    with pytest.raises(EnvInitError, match="changed since it was scanned"):
        check.start(moved)


def test_without_lean_the_checker_says_so(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("ELAN_HOME", str(tmp_path / "none"))
    with pytest.raises(LeanUnavailable, match="elan"):
        WholeProofChecker(EXAMPLES / "list-lemmas", tmp_path)


def test_messages_keep_multi_line_goals():
    out = "F.lean:1:0: error: unsolved goals\nh : p\n⊢ p\n\n⊢ q\nF.lean:9:2: info: ok\n"
    [err, info] = parse_messages(out)
    assert err.text == "unsolved goals\nh : p\n⊢ p\n\n⊢ q" and (info.line, info.severity) == (9, "info")
