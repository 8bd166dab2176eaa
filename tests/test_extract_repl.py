"""The REPL extractor on a Lean project written here, with the REPL's answers built from lean-interact's own
models (``CommandResponse.model_validate`` on JSON in the REPL's field names: ``tactics``, ``goals``,
``proofState``, ``usedConstants``, ``pos``, ``endPos``). Positions and goals are what the REPL prints for
this source: 1-based lines, 0-based columns in code points, the goals of a state joined by one newline
(Lean's ``ContextInfo.ppGoals``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from database.records import Dependency, Pos, Premise, Repo, RepoScan, SourceFile, TacticStep
from database.store import Store
from extraction import extract_repo
from extraction.repl import LocalRepl, from_repl, repl_extract

interface = pytest.importorskip("lean_interact.interface")
CommandResponse, LeanError = interface.CommandResponse, interface.LeanError

LEMMAS = """import Core.Nat

namespace Demo

theorem id_of (p : Prop) (h : p) : p := h

end Demo
"""

BASIC = """import Demo.Lemmas

namespace Demo

private theorem mine (p : Prop) (hp : p) : p := hp

theorem and_swap (p q : Prop) (hp : p) (hq : q) : q ∧ p := by
  constructor
  · exact hq
  · have h : p := by
      exact id_of p hp
    exact h

theorem both (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  constructor
  exact mine p hp
  exact hq

theorem add_zero' (n : Nat) : n + 0 = n := by
  rw [Nat.add_zero]

theorem term_proof (n : Nat) : n = n := rfl

theorem todo (n : Nat) : n * 1 = n := by
  sorry

end Demo
"""

BAD = """import Demo.Lemmas

theorem Demo.bad : 1 = 2 := by
  rfl
"""

CRASH = """theorem Demo.crash (n : Nat) : n = n := by
  rfl
"""

ODD = """theorem Demo.odd (n : Nat) : n = n := by
  rfl
"""

HYPS = "p q : Prop\nhp : p\nhq : q"


def _tactic(line: int, col: int, end_line: int, end_col: int, goals: str, tactic: str, state: int,
            used: list[str]) -> dict:
    return {"pos": {"line": line, "column": col}, "endPos": {"line": end_line, "column": end_col},
            "goals": goals, "tactic": tactic, "proofState": state, "usedConstants": used}


BASIC_RESPONSE = {
    "env": 0,
    "messages": [{"severity": "warning", "pos": {"line": 24, "column": 8}, "endPos": {"line": 24, "column": 12},
                  "data": "declaration uses `sorry`"}],
    "sorries": [{"pos": {"line": 25, "column": 2}, "endPos": {"line": 25, "column": 7},
                 "goal": "n : Nat\n⊢ n * 1 = n", "proofState": 10}],
    "tactics": [
        _tactic(8, 2, 8, 13, f"{HYPS}\n⊢ q ∧ p", "constructor", 0, ["And.intro"]),
        _tactic(9, 4, 9, 12, f"case left\n{HYPS}\n⊢ q", "exact hq", 1, []),
        _tactic(10, 4, 11, 22, f"case right\n{HYPS}\n⊢ p", "have h : p := by exact id_of p hp", 2, ["letFun"]),
        _tactic(11, 6, 11, 22, f"{HYPS}\n⊢ p", "exact id_of p hp", 3, ["Demo.id_of"]),
        _tactic(12, 4, 12, 11, f"case right\n{HYPS}\nh : p\n⊢ p", "exact h", 4, []),
        _tactic(15, 2, 15, 13, f"{HYPS}\n⊢ p ∧ q", "constructor", 5, ["And.intro"]),
        _tactic(16, 2, 16, 17, f"case left\n{HYPS}\n⊢ p\ncase right\n{HYPS}\n⊢ q", "exact mine p hp", 6,
                ["_private.Demo.Basic.0.Demo.mine"]),
        _tactic(17, 2, 17, 10, f"case right\n{HYPS}\n⊢ q", "exact hq", 7, []),
        _tactic(20, 2, 20, 19, "n : Nat\n⊢ n + 0 = n", "rw [Nat.add_zero]", 8,
                ["Eq.mpr", "congrArg", "Nat.add_zero", "id", "HAdd.hAdd", "Eq", "Nat", "instHAdd", "instAddNat",
                 "OfNat.ofNat", "instOfNatNat", "Eq.refl"]),
        _tactic(25, 2, 25, 7, "n : Nat\n⊢ n * 1 = n", "sorry", 9, ["sorryAx", "Bool.false"]),
    ],
}

BAD_RESPONSE = {
    "env": 1,
    "messages": [{"severity": "error", "pos": {"line": 4, "column": 2}, "endPos": {"line": 4, "column": 5},
                  "data": "The rfl tactic failed. Possible reasons:\n- The goal is not a reflexive relation"}],
    "tactics": [_tactic(4, 2, 4, 5, "⊢ 1 = 2", "rfl", 0, [])],
}

NAT = Repo(url="https://example.org/core", commit="c" * 40, name="core")
NAT_ADD_ZERO = Premise("Nat.add_zero", "theorem", "Core/Nat.lean", Pos(1, 1), Pos(1, 40),
                       "theorem Nat.add_zero (n : Nat) : n + 0 = n")
NAT_SCAN = RepoScan(repo=NAT, files=(SourceFile("Core/Nat.lean", "Core.Nat"),), premises=(NAT_ADD_ZERO,), theorems=())


@pytest.fixture()
def project(tmp_path: Path) -> tuple[Path, RepoScan]:
    root = tmp_path / "demo"
    for rel, text in {"Demo/Lemmas.lean": LEMMAS, "Demo/Basic.lean": BASIC, "Demo/Bad.lean": BAD,
                      "Demo/Crash.lean": CRASH, "Demo/Odd.lean": ODD}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    repo = Repo(url="https://example.org/demo", commit="d" * 40, name="demo", path=str(root),
                dependencies=(Dependency("core", NAT.url, NAT.commit),))
    return root, extract_repo(repo, root)


def _answers() -> dict:
    """The REPL's answer per file (Crash.lean has none: the server dies on it)."""
    return {"Demo/Basic.lean": CommandResponse.model_validate(BASIC_RESPONSE),
            "Demo/Lemmas.lean": CommandResponse.model_validate({"env": 2}),
            "Demo/Bad.lean": CommandResponse.model_validate(BAD_RESPONSE),
            "Demo/Odd.lean": LeanError.model_validate({"message": "no such file or directory (error code: 2)"})}


def _run_file(root: Path):
    """The REPL as ``run_file`` sees it: an answer per file, a crash for Crash.lean."""
    answers = _answers()
    asked = []

    def run_file(path: Path):
        rel = Path(path).relative_to(root).as_posix()
        asked.append(rel)
        if rel == "Demo/Crash.lean":
            raise ConnectionAbortedError("The Lean server closed unexpectedly.\nstdout: ...")
        return answers[rel]

    return run_file, asked


def _by_name(scan: RepoScan) -> dict:
    return {t.full_name: t for t in scan.theorems}


def test_steps_carry_states_before_and_after_and_the_corpus_premises(project) -> None:
    root, static = project
    run_file, asked = _run_file(root)
    scan = repl_extract(static, root, run_file=run_file, corpus=["Nat.add_zero"])
    assert sorted(asked) == ["Demo/Bad.lean", "Demo/Basic.lean", "Demo/Crash.lean", "Demo/Lemmas.lean",
                             "Demo/Odd.lean"]
    got = _by_name(scan)
    left, right = f"case left\n{HYPS}\n⊢ q", f"case right\n{HYPS}\n⊢ p"
    and_swap = got["Demo.and_swap"]
    assert and_swap.steps == (
        # after constructor: the goal each `·` block starts with
        TacticStep("constructor", f"{HYPS}\n⊢ q ∧ p", f"{left}\n\n{right}", ()),
        TacticStep("exact hq", left, "no goals", ()),
        TacticStep("have h : p := by\n      exact id_of p hp", right, f"case right\n{HYPS}\nh : p\n⊢ p", ()),
        TacticStep("exact id_of p hp", f"{HYPS}\n⊢ p", "no goals", ("Demo.id_of",)),
        TacticStep("exact h", f"case right\n{HYPS}\nh : p\n⊢ p", "no goals", ()),
    )
    assert and_swap.premises == ("Demo.id_of",) and and_swap.extractor == "repl"
    two = f"case left\n{HYPS}\n⊢ p\n\ncase right\n{HYPS}\n⊢ q"  # LeanDojo's shape: a blank line between goals
    assert got["Demo.both"].steps == (
        TacticStep("constructor", f"{HYPS}\n⊢ p ∧ q", two, ()),
        TacticStep("exact mine p hp", two, f"case right\n{HYPS}\n⊢ q", ("Demo.mine",)),  # a private premise
        TacticStep("exact hq", f"case right\n{HYPS}\n⊢ q", "no goals", ()),
    )
    # of rw's twelve constants only the dependency's lemma is a premise of the corpus
    assert got["Demo.add_zero'"].steps == (
        TacticStep("rw [Nat.add_zero]", "n : Nat\n⊢ n + 0 = n", "no goals", ("Nat.add_zero",)),)
    assert got["Demo.add_zero'"].premises == ("Nat.add_zero",)
    todo = got["Demo.todo"]
    assert todo.steps == (TacticStep("sorry", "n : Nat\n⊢ n * 1 = n", "no goals", ()),)
    assert todo.has_sorry and todo.is_target and todo.premises == ()
    static_by_name = _by_name(static)
    for name in ("Demo.term_proof", "Demo.mine", "Demo.id_of"):  # term proofs: no tactics, static records
        assert got[name] == static_by_name[name] and got[name].extractor == "static"
    for name in ("Demo.and_swap", "Demo.both", "Demo.add_zero'", "Demo.todo"):  # the rest of the record stays
        assert got[name].statement == static_by_name[name].statement
        assert got[name].proof == static_by_name[name].proof and got[name].start == static_by_name[name].start
    assert scan.premises == static.premises and scan.files == static.files and scan.extractor == "repl"


def test_each_failing_file_is_one_warning_and_keeps_its_static_records(project, caplog) -> None:
    root, static = project
    run_file, _ = _run_file(root)
    with caplog.at_level("WARNING", logger="extraction.repl"):
        scan = repl_extract(static, root, run_file=run_file, corpus=["Nat.add_zero"])
    new = scan.warnings[len(static.warnings):]
    assert new == (
        "Demo/Bad.lean: Lean reports 1 error, the first at 4:3: The rfl tactic failed. Possible reasons:; "
        "kept its static records",
        "Demo/Crash.lean: the Lean REPL failed (ConnectionAbortedError: The Lean server closed unexpectedly.); "
        "kept its static records",
        "Demo/Odd.lean: the Lean REPL failed (no such file or directory (error code: 2)); kept its static records",
    )
    assert [r.getMessage() for r in caplog.records] == list(new)
    static_by_name, got = _by_name(static), _by_name(scan)
    for name in ("Demo.bad", "Demo.crash", "Demo.odd"):
        assert got[name] == static_by_name[name] and got[name].extractor == "static"
        assert got[name].steps == (TacticStep("rfl"),)  # the static step, no state


def test_nothing_elaborated_leaves_the_scan_static(project) -> None:
    root, static = project
    scan = repl_extract(static, root, run_file=lambda path: LeanError(message="Unknown environment."))
    assert scan.extractor == "static" and scan.theorems == static.theorems
    assert len(scan.warnings) == len(static.warnings) + 5


def test_the_mapping_is_pure_and_needs_the_source_of_what_it_maps(project) -> None:
    root, static = project
    response = CommandResponse.model_validate(BASIC_RESPONSE)
    with pytest.raises(ValueError, match="no source text given for Demo/Basic.lean"):
        from_repl(static, {"Demo/Basic.lean": response}, {})
    once = from_repl(static, {"Demo/Basic.lean": response}, {"Demo/Basic.lean": BASIC}, ["Nat.add_zero"])
    assert once == from_repl(static, {"Demo/Basic.lean": response}, {"Demo/Basic.lean": BASIC}, ["Nat.add_zero"])
    # without the dependency in the corpus, rw's lemma is not a premise
    bare = from_repl(static, {"Demo/Basic.lean": response}, {"Demo/Basic.lean": BASIC})
    assert _by_name(bare)["Demo.add_zero'"].steps[0].premises == ()


def test_a_tactic_run_once_per_goal_is_one_step(project) -> None:
    """``constructor <;> exact hq`` runs its second tactic on each goal: the REPL lists it twice, at one range."""
    root, static = project
    text = BASIC.replace("  constructor\n  exact mine p hp\n  exact hq\n", "  constructor <;> exact hq\n\n\n")
    tactics = [_tactic(15, 2, 15, 13, f"{HYPS}\n⊢ p ∧ q", "constructor", 0, ["And.intro"]),
               _tactic(15, 18, 15, 26, f"case left\n{HYPS}\n⊢ p", "exact hq", 1, []),
               _tactic(15, 18, 15, 26, f"case right\n{HYPS}\n⊢ q", "exact hq", 2, [])]
    response = CommandResponse.model_validate({"env": 0, "tactics": tactics})
    assert text.splitlines()[14][18:26] == "exact hq"
    scan = from_repl(static, {"Demo/Basic.lean": response}, {"Demo/Basic.lean": text})
    both = _by_name(scan)["Demo.both"]
    assert [(s.tactic, s.state_before) for s in both.steps] == [
        ("constructor", f"{HYPS}\n⊢ p ∧ q"), ("exact hq", f"case left\n{HYPS}\n⊢ p")]


def test_repl_records_store_and_give_state_queries_with_their_premises(project, tmp_path: Path) -> None:
    from retrieval.base import premise_text
    from retrieval.dataset import build_dataset

    root, static = project
    run_file, _ = _run_file(root)
    scan = repl_extract(static, root, run_file=run_file, corpus=["Nat.add_zero"])
    with Store.open(tmp_path / "db.sqlite") as store:
        store.ingest(NAT_SCAN, role="dependency")
        store.ingest(scan)
        back = store.scan(scan.repo.id)
        assert back.extractor == "repl" and back.warnings == scan.warnings
        assert {t.id: t for t in back.theorems} == {t.id: t for t in scan.theorems}
        data = build_dataset(store, scan.repo, seed=3407)
        texts = {p.full_name: premise_text(p) for p in [*store.premises(scan.repo.id), NAT_ADD_ZERO]}
    # three theorems with premises: all train (too few for a held-out split); one query per tactic with a
    # premise, the state before it, its own premises as positives
    assert len(data.split.train) == 3 and not data.validation and not data.test
    assert {(ex.query, ex.positive) for ex in data.train} == {
        (f"{HYPS}\n⊢ p", texts["Demo.id_of"]),
        (f"case left\n{HYPS}\n⊢ p\n\ncase right\n{HYPS}\n⊢ q", texts["Demo.mine"]),
        ("n : Nat\n⊢ n + 0 = n", texts["Nat.add_zero"]),
    }
    assert all(ex.all_positives == (ex.positive,) for ex in data.train)


def test_auto_is_repl_where_lean_supports_the_version(monkeypatch) -> None:
    from leanagent.pipeline import extractor_for
    from prover.toolchain import Toolchain

    monkeypatch.setattr("prover.toolchain.find_toolchain", lambda: None)
    assert extractor_for("auto", "leanprover/lean4:v4.9.0") == "static"
    assert extractor_for("repl", "leanprover/lean4:v4.9.0") == "repl"  # asked for: tried, reported if Lean lacks
    monkeypatch.setattr("prover.toolchain.find_toolchain", lambda: Toolchain("/x/lake", "/x/lean", elan=True))
    assert extractor_for("auto", "leanprover/lean4:v4.9.0") == "repl"
    assert extractor_for("auto", "leanprover/lean4:v4.3.0") == "traced"  # older than lean-interact supports
    assert extractor_for("static", "leanprover/lean4:v4.9.0") == "static"


def test_the_pipeline_gives_the_repl_the_dependencies_premises(project, monkeypatch) -> None:
    from leanagent.pipeline import RunResult, _repl
    from leanagent.scanning import ScanResult

    root, static = project
    run_file, asked = _run_file(root)
    closed = []

    class Double:
        def __init__(self, where: Path, *, servers, timeout: float) -> None:
            assert Path(where) == root and type(servers).__name__ == "LeanInteractServers"  # the sandboxed one

        __call__ = staticmethod(run_file)

        def close(self) -> None:
            closed.append(True)

    from leanagent.config import load_config
    from leanagent.workdir import Workdir
    from leanagent.project import LeanProject

    prepared = []
    monkeypatch.setattr("leanagent.project.prepare_project",
                        lambda repo, workdir, **kw: prepared.append(repo.name) or LeanProject(root, "0" * 40, "v4.9.0"))
    monkeypatch.setattr("extraction.repl.LocalRepl", Double)
    result = RunResult()
    wd = Workdir(root.parent / "run")
    out = _repl(ScanResult(scan=static, dependencies=(NAT_SCAN,)), load_config(None, {}), wd, result, "demo")
    assert prepared == [static.repo.name]  # built (work tree, packages, lake build) before the REPL reads it
    assert result.failures == [] and closed == [True] and len(asked) == 5
    assert out.dependencies == (NAT_SCAN,) and out.scan.extractor == "repl"
    assert _by_name(out.scan)["Demo.add_zero'"].premises == ("Nat.add_zero",)


def test_without_lake_the_pipeline_says_so_once_and_keeps_the_static_scan(project, monkeypatch, tmp_path) -> None:
    from leanagent.pipeline import RunResult, _repl
    from leanagent.scanning import ScanResult

    root, static = project
    from leanagent.config import load_config
    from leanagent.workdir import Workdir

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("ELAN_HOME", str(tmp_path / "no-elan"))
    result = RunResult()
    scanned = ScanResult(scan=static)
    wd = Workdir(tmp_path / "run")
    assert _repl(scanned, load_config(None, {}), wd, result, "demo") is scanned
    assert len(result.failures) == 1 and not wd.root.exists()  # said before anything is written
    assert result.failures[0].startswith("demo: no Lean toolchain on this machine")
    assert result.failures[0].endswith("; kept the static extractor's records")


def test_local_repl_runs_each_file_once_and_restarts_a_dead_server(project) -> None:
    """``LocalRepl`` on a server factory shaped like lean-interact's ``LeanServer`` (``run(request, timeout=)``,
    ``kill()``): the server that crashed on Crash.lean is killed and the next file gets a new one."""
    from lean_interact.interface import FileCommand

    root, static = project
    answers, servers, requests = _answers(), [], []

    class Server:
        def __init__(self) -> None:
            self.killed = False
            servers.append(self)

        def run(self, request, *, timeout):
            requests.append((request, timeout))
            rel = Path(request.path).relative_to(root.resolve()).as_posix()
            if rel == "Demo/Crash.lean":
                raise ConnectionAbortedError("The Lean server closed unexpectedly.\nstdout: ...")
            return answers[rel]

        def kill(self) -> None:
            self.killed = True

    repl = LocalRepl(root, servers=Server, timeout=30.0)
    scan = repl_extract(static, root, run_file=repl, corpus=["Nat.add_zero"])
    run_file, _ = _run_file(root)
    assert scan == repl_extract(static, root, run_file=run_file, corpus=["Nat.add_zero"])
    assert [type(r) for r, _ in requests] == [FileCommand] * 5
    assert all(r.all_tactics and Path(r.path).is_absolute() and t == 30.0 for r, t in requests)
    assert len(servers) == 2 and servers[0].killed and not servers[1].killed
    repl.close()
    assert servers[1].killed and repl.server is None


IND = """theorem Demo.ind (n : Nat) : 0 + n = n := by
  induction n with
  | zero => rfl
  | succ n ih =>
    rw [Nat.add_succ]
    rw [ih]
"""


def test_each_arm_is_a_block_that_ends_with_no_goals(tmp_path: Path) -> None:
    (tmp_path / "Demo").mkdir()
    (tmp_path / "Demo" / "Ind.lean").write_text(IND, encoding="utf-8")
    static = extract_repo(Repo(url="https://example.org/ind", commit="e" * 40, name="ind"), tmp_path)
    succ = "case succ\nn : Nat\nih : 0 + n = n\n⊢ "
    response = CommandResponse.model_validate({"env": 0, "tactics": [
        _tactic(2, 2, 6, 11, "n : Nat\n⊢ 0 + n = n",
                "induction n with\n| zero => rfl\n| succ n ih =>\n  rw [Nat.add_succ]\n  rw [ih]", 0, ["Nat.rec"]),
        _tactic(3, 12, 3, 15, "case zero\n⊢ 0 + 0 = 0", "rfl", 1, ["Eq.refl"]),
        _tactic(5, 4, 5, 21, f"{succ}0 + (n + 1) = n + 1", "rw [Nat.add_succ]", 2, ["Nat.add_succ"]),
        _tactic(6, 4, 6, 11, f"{succ}(0 + n).succ = n + 1", "rw [ih]", 3, [])]})
    scan = from_repl(static, {"Demo/Ind.lean": response}, {"Demo/Ind.lean": IND}, ["Nat.add_succ"])
    (ind,) = scan.theorems
    assert [(s.tactic.split("\n")[0], s.state_after) for s in ind.steps] == [
        ("induction n with", "no goals"),  # its arms are inside it: nothing follows it in its block
        ("rfl", "no goals"),  # the end of the `zero` arm, not the `succ` arm's first state
        ("rw [Nat.add_succ]", f"{succ}(0 + n).succ = n + 1"),
        ("rw [ih]", "no goals"),
    ]
    assert ind.premises == ("Nat.add_succ",)
