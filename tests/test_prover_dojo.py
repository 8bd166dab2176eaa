"""The LeanDojo adapters at their boundary: ``Dojo`` and ``TracedRepo`` doubles that hand back the real
``lean_dojo`` types, and the one-line failure of every path that needs Lean on a machine without it."""

from __future__ import annotations

import types
from dataclasses import dataclass
from pathlib import Path

import lean_dojo
import pytest

from database.records import Pos, Repo, TacticStep
from extraction.traced import from_traced_repo
from leanagent.tracing import trace_repository
from prover.dojo import DojoEnv, open_dojo_env
from prover.env import EnvCrashed, EnvInitError, Finished, LeanUnavailable, State, TacticError
from prover.search import SearchLimits, best_first_search
from prover.testing import TableGenerator, fake_theorem
from tests.conftest import EXAMPLES


class FakeDojo:
    """``lean_dojo.Dojo`` as the adapter uses it, scripted: answers are real lean_dojo results."""

    script: dict = {}
    entered: list = []

    def __init__(self, entry, timeout: int = 600, additional_imports=(), build_deps: bool = True):
        self.entry, self.timeout, self.build_deps = entry, timeout, build_deps
        self.exited = False

    def __enter__(self):
        if self.entry.full_name == "broken":
            raise lean_dojo.DojoInitError("Cannot find the *.ast.json file")
        if self.entry.full_name == "untraced":
            raise AssertionError("Unable to find Lean4Repl.lean in the traced repo.")
        FakeDojo.entered.append(self)
        return self, lean_dojo.TacticState("n : Nat\n⊢ n + 0 = n", 0)

    def __exit__(self, *exc):
        self.exited = True

    def run_tac(self, state, tactic):
        assert isinstance(state, lean_dojo.TacticState)
        answer = self.script.get((state.id, tactic), lean_dojo.LeanError(f"unknown tactic {tactic}"))
        if isinstance(answer, Exception):
            raise answer
        return answer


def fake_lean_dojo(**script) -> types.SimpleNamespace:
    FakeDojo.script = {(0, "induction n"): lean_dojo.TacticState("case zero\n⊢ 0 + 0 = 0\n\ncase succ\nn : Nat\n⊢ n + 1 + 0 = n + 1", 1),
                       (1, "all_goals rfl"): lean_dojo.ProofFinished(2, ""),
                       (0, "simp"): lean_dojo.ProofFinished(3, "warning: unused"),
                       (0, "sorry"): lean_dojo.ProofGivenUp(),
                       (0, "slow"): lean_dojo.DojoTacticTimeoutError(),
                       (0, "boom"): lean_dojo.DojoCrashError("OOM")}
    FakeDojo.entered = []
    names = ("Theorem", "TacticState", "ProofFinished", "ProofGivenUp", "LeanError", "DojoInitError",
             "DojoCrashError", "DojoTacticTimeoutError")
    return types.SimpleNamespace(Dojo=FakeDojo, LeanGitRepo=lambda url, commit: ("repo", url, commit),
                                 **{n: getattr(lean_dojo, n) for n in names})


def test_dojo_env_maps_every_lean_dojo_answer():
    env = DojoEnv(fake_lean_dojo(), "/repo", "c" * 40, tactic_timeout=7)
    state = env.start(fake_theorem("t", path="A/B.lean"))
    [dojo] = FakeDojo.entered
    assert (dojo.entry.full_name, str(dojo.entry.file_path), dojo.timeout, dojo.build_deps) == ("t", "A/B.lean", 7, False)
    assert dojo.entry.repo == ("repo", "/repo", "c" * 40)
    assert state.pp == "n : Nat\n⊢ n + 0 = n" and isinstance(state.handle, lean_dojo.TacticState)
    after = env.run_tactic(state, "induction n")
    assert isinstance(after, State) and after.num_goals == 2
    assert env.run_tactic(after, "all_goals rfl") == Finished("")
    assert env.run_tactic(state, "simp") == Finished("warning: unused")
    assert env.run_tactic(state, "sorry") == TacticError("the tactic gives up (sorry/admit)")
    assert env.run_tactic(state, "ring") == TacticError("unknown tactic ring")
    env.close()
    assert dojo.exited


def test_dojo_timeouts_and_crashes_are_breakdowns():
    env = DojoEnv(fake_lean_dojo(), "/repo", "c" * 40, tactic_timeout=7)
    state = env.start(fake_theorem("t"))
    with pytest.raises(EnvCrashed, match="ran past 7 s"):
        env.run_tactic(state, "slow")
    with pytest.raises(EnvCrashed, match="no theorem started"):
        env.run_tactic(state, "simp")
    state = env.start(fake_theorem("t"))
    with pytest.raises(EnvCrashed, match="out of memory"):
        env.run_tactic(state, "boom")
    with pytest.raises(EnvInitError, match="LeanDojo cannot start broken"):
        env.start(fake_theorem("broken"))
    with pytest.raises(EnvInitError, match="cannot start untraced: Unable to find Lean4Repl.lean"):
        env.start(fake_theorem("untraced"))


def test_search_over_the_dojo_adapter():
    env = DojoEnv(fake_lean_dojo(), "/repo", "c" * 40)
    table = {"n + 0 = n": [("ring", -0.1), ("induction n", -0.5)], "0 + 0 = 0": [("all_goals rfl", -0.1)]}

    class Firstgoal(TableGenerator):
        def generate(self, requests, n):
            return super().generate([type(r)("⊢ " + r.state.split("⊢ ")[1].split("\n")[0], r.theorem)
                                     for r in requests], n)

    result = best_first_search(env, fake_theorem("t"), Firstgoal(table), SearchLimits(timeout=10))
    assert result.proof == ("induction n", "all_goals rfl")


def no_lean(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("ELAN_HOME", str(tmp_path / "none"))


def test_without_lean_dojo_and_tracing_fail_in_one_line(monkeypatch, tmp_path: Path):
    no_lean(monkeypatch, tmp_path)
    with pytest.raises(LeanUnavailable) as err:
        open_dojo_env(EXAMPLES / "nat-basics", "c" * 40, tmp_path)
    assert "\n" not in str(err.value) and "elan" in str(err.value)
    repo = Repo(url="https://example.org/nat-basics", commit="c" * 40, name="nat-basics",
                path=str(EXAMPLES / "nat-basics"))
    with pytest.raises(LeanUnavailable, match="leanprover/lean4"):
        trace_repository(repo, tmp_path)


# ---- traced extractor: a TracedRepo double with lean_dojo's own Pos ---------------------------------------

@dataclass
class Tac:
    tactic: str
    state_before: str
    state_after: str
    names: tuple

    def get_annotated_tactic(self):
        return self.tactic, [{"full_name": n, "def_path": "X.lean", "def_pos": [1, 1], "def_end_pos": [1, 2]}
                             for n in self.names]


def test_traced_repo_becomes_the_same_records(tmp_path: Path):
    P = lean_dojo.Pos
    thm = types.SimpleNamespace(
        theorem=types.SimpleNamespace(full_name="Foo.add_zero'"), start=P(3, 1), end=P(4, 14),
        get_theorem_statement=lambda: "theorem add_zero' (n : Nat) : n + 0 = n",
        get_tactic_proof=lambda: "by\n  simp [Nat.add_zero]", get_premise_full_names=lambda: ["Nat.add_zero", "Nat.add_zero"],
        get_traced_tactics=lambda: [Tac("simp [Nat.add_zero]", "n : Nat\n⊢ n + 0 = n", "no goals", ("Nat.add_zero",))])
    open_thm = types.SimpleNamespace(
        theorem=types.SimpleNamespace(full_name="Foo.todo"), start=P(6, 1), end=P(6, 30),
        get_theorem_statement=lambda: "theorem todo : 1 = 1", get_tactic_proof=lambda: "by sorry",
        get_premise_full_names=lambda: [], get_traced_tactics=lambda: [])
    own = types.SimpleNamespace(
        path=Path("Foo/Basic.lean"), lean_file=types.SimpleNamespace(code=["line"] * 6),
        get_direct_dependencies=lambda repo: [("Init", Path("x")), ("Foo.Defs", Path("Foo/Defs.lean"))],
        get_premise_definitions=lambda: [{"full_name": "Foo.add_zero'", "code": "theorem add_zero' (n : Nat) : n + 0 = n",
                                          "start": [3, 1], "end": [4, 14], "kind": "theorem"}],
        get_traced_theorems=lambda: [thm, open_thm])
    dep = types.SimpleNamespace(path=Path(".lake/packages/batteries/B.lean"))
    traced = types.SimpleNamespace(repo="r", traced_files=[dep, own])
    repo = Repo(url="https://example.org/foo", commit="c" * 40, name="foo")
    scan = from_traced_repo(traced, repo)
    assert scan.extractor == "traced" and [f.path for f in scan.files] == ["Foo/Basic.lean"]
    assert scan.files[0].imports == ("Foo.Defs",) and scan.files[0].module == "Foo.Basic"
    [premise] = scan.premises
    assert (premise.full_name, premise.start, premise.end) == ("Foo.add_zero'", Pos(3, 1), Pos(4, 14))
    proved, todo = scan.theorems
    assert proved.steps == (TacticStep("simp [Nat.add_zero]", "n : Nat\n⊢ n + 0 = n", "no goals", ("Nat.add_zero",)),)
    assert proved.premises == ("Nat.add_zero",) and not proved.has_sorry and proved.extractor == "traced"
    assert todo.has_sorry and todo.num_steps == 0 and todo.start == Pos(6, 1)
