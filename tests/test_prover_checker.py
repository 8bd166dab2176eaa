"""The whole-proof checker at its boundary: a fake ``lake env lean`` that reads the edited copy the checker
wrote, runs its tactics through the Lean test double, and answers in Lean's message format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from prover.checker import WholeProofChecker, parse_messages
from prover.env import EnvInitError, LeanUnavailable, State, TacticError
from prover.sandbox import SandboxResult
from prover.search import SearchLimits, best_first_search
from prover.testing import TableGenerator
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


# ---- the final check: the proof spliced in, #print axioms appended, the rest of the file compared ------------

NAT = EXAMPLES / "nat-basics"
NAT_GOALS = {"NatBasics.double_sub_self": "double n - n = n", "NatBasics.double_lt_double": "double m < double n"}
NAT_RULES = {("double n - n = n", "unfold NatBasics.double"): ("n + n - n = n",), ("n + n - n = n", "omega"): ()}


@pytest.fixture
def nat(tmp_path: Path):
    [theorem, _] = sorry_theorems(NAT, "NatBasics/Double.lean")
    return theorem, tmp_path


@pytest.mark.parametrize("style", ["current", "old"])
def test_verify_accepts_a_real_proof_and_never_a_sorry(nat, style):
    from prover.testing import LakeDouble

    theorem, tmp_path = nat
    lake = LakeDouble(NAT_GOALS, NAT_RULES, style=style)
    check = WholeProofChecker(NAT, tmp_path, runner=lake)
    good = check.verify(theorem, ["unfold NatBasics.double", "omega"])
    assert good.ok and good.errors == ()
    assert lake.calls[0][3].endswith(".lean") and "#print axioms NatBasics.double_sub_self" in \
        Path(lake.calls[0][3]).read_text()
    for cheat in (["sorry"], ["unfold NatBasics.double", "stop"], ["unfold NatBasics.double", "admit"]):
        verdict = check.verify(theorem, cheat)
        assert not verdict.ok and "the proof uses sorry" in verdict.errors and "its axioms include sorryAx" in verdict.errors
    partial = check.verify(theorem, ["unfold NatBasics.double"])
    assert not partial.ok and partial.errors == ("unsolved goals",) and partial.unsolved == "⊢ n + n - n = n"
    wrong = check.verify(theorem, ["simp"])
    name = "unknown identifier 'simp'" if style == "current" else "simp: no rule for goal 'double n - n = n'"
    assert not wrong.ok and name in wrong.errors


def _everything(text: str):
    """A Lean that answers every file the same way: ``text`` at every declaration, sorryAx for every name."""
    from prover.sandbox import SandboxResult

    def run(argv, cwd):
        path = argv[3]
        out = []
        for i, line in enumerate(Path(path).read_text().split("\n"), 1):
            if re.match(r"(private |protected )?(theorem|lemma|def) ", line):
                out.append(f"{path}:{i}:8: {text}")
            if line.startswith("#print axioms "):
                out.append(f"'{line.split()[-1]}' depends on axioms: [propext, sorryAx]")
        return SandboxResult(1 if "error" in text else 0, "\n".join(out) + "\n", "", 0.01)
    return run


@pytest.mark.parametrize("text", ["warning: declaration uses `sorry`", "warning: declaration uses 'sorry'",
                                  "error(lean.unknownIdentifier): unknown identifier 'x'"])
def test_a_lean_that_says_sorry_or_a_named_error_everywhere_never_passes(nat, text):
    theorem, tmp_path = nat
    check = WholeProofChecker(NAT, tmp_path, runner=_everything(text))
    verdict = check.verify(theorem, ["unfold NatBasics.double", "omega"])
    assert not verdict.ok and verdict.errors
    assert not check.check(theorem, ["unfold NatBasics.double", "omega"]).ok
    with pytest.raises(EnvInitError):  # a named error is not an empty, finished state
        check.start(theorem)


def test_only_the_last_axioms_answer_counts_and_the_rest_of_the_file_must_not_change(nat):
    from prover.sandbox import SandboxResult
    from prover.testing import LakeDouble

    theorem, tmp_path = nat
    lake = LakeDouble(NAT_GOALS, NAT_RULES)

    def trace_then_sorry(argv, cwd):  # a tactic printed a fake answer before the real one
        real = lake(argv, cwd)
        fake = "'NatBasics.double_sub_self' does not depend on any axioms\n"
        return SandboxResult(0, fake + real.stdout.replace("does not depend on any axioms",
                                                           "depends on axioms: [sorryAx]"), "", 0.01)
    verdict = WholeProofChecker(NAT, tmp_path, runner=trace_then_sorry).verify(theorem, ["unfold NatBasics.double", "omega"])
    assert verdict.errors == ("its axioms include sorryAx",)

    def loses_a_sorry(argv, cwd):  # the edit silenced another declaration's sorry
        real = lake(argv, cwd)
        if "#print axioms" not in Path(argv[3]).read_text():
            return real
        kept = [m for m in real.stdout.splitlines() if "double_lt_double" not in m and ":76:" not in m]
        return SandboxResult(0, "\n".join(kept) + "\n", "", 0.01)
    verdict = WholeProofChecker(NAT, tmp_path, runner=loses_a_sorry).verify(theorem, ["unfold NatBasics.double", "omega"])
    assert verdict.errors == ("another declaration of the file gained or lost a sorry",)

    def breaks_the_end(argv, cwd):
        real = lake(argv, cwd)
        if "#print axioms" not in Path(argv[3]).read_text():
            return real
        *before, answer = real.stdout.splitlines()  # Lean prints in file order: the answer stays last
        broken = f"{argv[3]}:81:0: error: invalid 'end', insufficient scopes"
        return SandboxResult(1, "\n".join([*before, broken, answer]) + "\n", "", 0.01)
    verdict = WholeProofChecker(NAT, tmp_path, runner=breaks_the_end).verify(theorem, ["unfold NatBasics.double", "omega"])
    assert verdict.errors == ("the edit breaks line 80: invalid 'end', insufficient scopes",)


def test_messages_of_every_lean_format():
    out = ("F.lean:2:6: error(lean.unknownIdentifier): unknown identifier 'foo'\n"
           "F.lean:1:0: error: unsolved goals\n⊢ p\n"
           "F.lean:7:8: warning: declaration uses `sorry`\n"
           "F.lean:9:8: warning: declaration uses 'sorry'\n"
           "'F.t' depends on axioms: [propext,\n Classical.choice,\n sorryAx]\n")
    named, goals, new, old = parse_messages(out)
    assert (named.severity, named.name, named.text) == ("error", "lean.unknownIdentifier", "unknown identifier 'foo'")
    assert goals.text == "unsolved goals\n⊢ p" and new.uses_sorry and old.uses_sorry and not goals.uses_sorry
    assert old.text.endswith("'sorry'\n'F.t' depends on axioms: [propext,\n Classical.choice,\n sorryAx]")  # bare info
    from prover.checker import axioms_answer

    assert axioms_answer(out) == ("propext", "Classical.choice", "sorryAx")
    [bare] = parse_messages("'t' does not depend on any axioms\n")
    assert (bare.line, bare.severity) == (0, "info")
