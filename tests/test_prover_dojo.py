"""The LeanDojo adapter at its boundary: a ``Dojo`` double that hands back the real ``lean_dojo`` types and
raises what lean_dojo 4.20 lets through (``interaction/dojo.py``, ``data_extraction/lean.py``), and the one-line
failure of every path that needs Lean on a machine without it."""

from __future__ import annotations

import json
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from database.records import Pos, Repo, TacticStep
from extraction.traced import from_traced_repo
from leanagent.tracing import trace_repository
from prover.dojo import START_TIMEOUT, DojoEnv, open_dojo_env
from prover.env import EnvCrashed, EnvInitError, Finished, LeanUnavailable, State, TacticError
from prover.search import SearchLimits, best_first_search
from prover.testing import TableGenerator, fake_theorem
from tests.conftest import EXAMPLES

NAMES = ("Theorem", "TacticState", "ProofFinished", "ProofGivenUp", "LeanError", "DojoInitError", "DojoCrashError",
         "DojoTacticTimeoutError", "LeanGitRepo", "is_available_in_cache")


@pytest.fixture(scope="module")
def lean_dojo(tmp_path_factory):
    """The real lean_dojo, imported with its settings in a temporary directory (it reads them at import and makes
    its cache directory then); tests/conftest.py sets them for the session when a module imports it earlier."""
    with pytest.MonkeyPatch.context() as env:
        if "lean_dojo" not in sys.modules:
            root = tmp_path_factory.mktemp("lean_dojo")
            (root / "tmp").mkdir()  # its temporary directories go there (the cache it makes itself)
            env.setenv("CACHE_DIR", str(root / "cache"))
            env.setenv("TMP_DIR", str(root / "tmp"))
            env.setenv("DISABLE_REMOTE_CACHE", "1")
            env.delenv("GITHUB_ACCESS_TOKEN", raising=False)
        import lean_dojo

        yield lean_dojo


def _start_failure(name: str, ld):
    """What lean_dojo lets out of ``Dojo.__enter__`` (or ``LeanGitRepo``) for the theorem ``name``: (the exception,
    whether the REPL process was already started then)."""
    import git.exc
    import github

    def bad_json():
        return json.loads("lake: unknown executable")  # the REPL's first line is no JSON: raised as is

    return {
        "broken": (ld.DojoInitError("Cannot find the *.ast.json file"), False),
        "untraced": (AssertionError("Unable to find Lean4Repl.lean in the traced repo."), False),
        "crlf": (RuntimeError("A.lean contains Windows-style line endings."), False),
        "git": (git.exc.GitCommandError(["git", "clone", "x"], 128, b"fatal: repository not found"), False),
        "github": (github.GithubException(403, {"message": "API rate limit exceeded"}, None), False),
        "json": (bad_json, True),
        "crash": (ld.DojoCrashError("Unexpected EOF"), True),
    }.get(name)


class FakeDojo:
    """``lean_dojo.Dojo`` as the adapter uses it, scripted: answers are real lean_dojo results, and ``run_tac``
    builds its ``TacticState`` from the REPL's text as the real one does (so its assertion fires)."""

    script: dict = {}
    made: list = []
    ld = None

    def __init__(self, entry, timeout: int = 600, additional_imports=(), build_deps: bool = True):
        self.entry, self.timeout, self.build_deps = entry, timeout, build_deps
        self.exited = False
        self.path_at_enter, self.timeout_at_enter = "", 0
        FakeDojo.made.append(self)

    def __enter__(self):
        self.path_at_enter, self.timeout_at_enter = os.environ.get("PATH", ""), self.timeout
        failure = _start_failure(self.entry.full_name, self.ld)
        if failure is not None and not failure[1]:
            raise failure[0]
        self.proc = types.SimpleNamespace(timeout=self.timeout)  # pexpect.spawn(cmd, timeout=self.timeout)
        if failure is not None:
            if callable(failure[0]):
                failure[0]()
            raise failure[0]
        return self, self.ld.TacticState("n : Nat\n⊢ n + 0 = n", 0)

    def __exit__(self, *exc):
        self.proc  # the real one kills self.proc's process: AttributeError when none was started
        self.exited = True

    def run_tac(self, state, tactic):
        assert isinstance(state, self.ld.TacticState)
        answer = self.script.get((state.id, tactic), self.ld.LeanError(f"unknown tactic {tactic}"))
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, tuple):  # ("state", id, text): the REPL's answer, parsed here like run_tac does
            return self.ld.TacticState(answer[2], answer[1])
        return answer


def fake_lean_dojo(ld, **replace) -> types.SimpleNamespace:
    FakeDojo.ld = ld
    two_goals = "case zero\n⊢ 0 + 0 = 0\n\ncase succ\nn : Nat\n⊢ n + 1 + 0 = n + 1"
    FakeDojo.script = {(0, "induction n"): ld.TacticState(two_goals, 1),
                       (1, "all_goals rfl"): ld.ProofFinished(2, ""),
                       (0, "simp"): ld.ProofFinished(3, "warning: unused"),
                       (0, "sorry"): ld.ProofGivenUp(),
                       (0, "slow"): ld.DojoTacticTimeoutError(),
                       (0, "boom"): ld.DojoCrashError("OOM"),
                       (0, "unfold Sequent"): ("state", 4, "h : Γ ⊢ p\n⊢ Γ ⊢ p")}  # ⊢ inside a hypothesis
    FakeDojo.made = []
    names = {n: getattr(ld, n) for n in NAMES}
    names["LeanGitRepo"] = lambda url, commit: ("repo", url, commit)
    names["is_available_in_cache"] = lambda repo: True
    return types.SimpleNamespace(Dojo=FakeDojo, **{**names, **replace})


def test_dojo_env_maps_every_lean_dojo_answer(lean_dojo):
    env = DojoEnv(fake_lean_dojo(lean_dojo), "/repo", "c" * 40, tactic_timeout=7)
    state = env.start(fake_theorem("t", path="A/B.lean"))
    [dojo] = FakeDojo.made
    assert (dojo.entry.full_name, str(dojo.entry.file_path), dojo.build_deps) == ("t", "A/B.lean", False)
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


def test_the_start_waits_lean_dojos_600_s_and_the_tactics_their_own_limit(lean_dojo):
    env = DojoEnv(fake_lean_dojo(lean_dojo), "/repo", "c" * 40, tactic_timeout=7)
    env.start(fake_theorem("t"))
    [dojo] = FakeDojo.made
    # Dojo(timeout=) is its pexpect process's timeout, for the first answer (the file elaborated) too
    assert START_TIMEOUT == 600 and dojo.timeout_at_enter == 600
    assert dojo.proc.timeout == 7  # then each tactic's


def test_a_turnstile_inside_a_hypothesis_is_a_tactic_error_and_the_repl_goes_on(lean_dojo):
    env = DojoEnv(fake_lean_dojo(lean_dojo), "/repo", "c" * 40)
    state = env.start(fake_theorem("t"))
    with pytest.raises(AssertionError):  # lean_dojo's own TacticState refuses the text
        lean_dojo.TacticState("h : Γ ⊢ p\n⊢ Γ ⊢ p", 4)
    step = env.run_tactic(state, "unfold Sequent")
    assert isinstance(step, TacticError) and "⊢ inside a hypothesis" in step.error
    assert env.run_tactic(state, "simp") == Finished("warning: unused")  # the same Dojo still answers


@pytest.mark.parametrize("name, why", [
    ("broken", "Cannot find the *.ast.json file"),
    ("untraced", "Unable to find Lean4Repl.lean"),
    ("crlf", "Windows-style line endings"),
    ("git", "Cmd('git') failed due to: exit code(128)"),
    ("github", '403 {"message": "API rate limit exceeded"}'),
    ("json", "Expecting value: line 1 column 1"),
])
def test_every_start_up_failure_is_an_init_error_and_the_dojo_is_left(lean_dojo, name, why):
    env = DojoEnv(fake_lean_dojo(lean_dojo), "/repo", "c" * 40)
    with pytest.raises(EnvInitError) as err:
        env.start(fake_theorem(name, path="A/B.lean"))
    assert str(err.value).startswith(f"A/B.lean: LeanDojo cannot start {name}: ") and why in str(err.value)
    assert "\n" not in str(err.value)
    [dojo] = FakeDojo.made
    assert dojo.exited == _start_failure(name, lean_dojo)[1]  # a started REPL is stopped, its file removed
    with pytest.raises(EnvCrashed, match="no theorem started"):
        env.run_tactic(State("⊢ True", None), "trivial")


def test_a_crash_at_the_start_stops_the_repl(lean_dojo):
    env = DojoEnv(fake_lean_dojo(lean_dojo), "/repo", "c" * 40)
    with pytest.raises(EnvCrashed, match="Lean crashed while starting crash: Unexpected EOF"):
        env.start(fake_theorem("crash"))
    assert FakeDojo.made[0].exited


def test_lean_git_repo_of_an_exported_tree_is_an_init_error(lean_dojo, tmp_path: Path):
    exported = tmp_path / "exported"  # what acquire hands over: files, no git
    exported.mkdir()
    (exported / "lean-toolchain").write_text("leanprover/lean4:v4.9.0\n")
    with pytest.raises(ValueError, match="is not a valid URL"):
        lean_dojo.LeanGitRepo(str(exported), "c" * 40)
    env = DojoEnv(fake_lean_dojo(lean_dojo, LeanGitRepo=lean_dojo.LeanGitRepo), str(exported), "c" * 40)
    with pytest.raises(EnvInitError, match="LeanDojo cannot start t: .* is not a valid URL"):
        env.start(fake_theorem("t"))
    assert FakeDojo.made == []  # nothing started


def test_shims_are_on_path_while_the_dojo_starts_and_gone_after(lean_dojo, tmp_path: Path):
    before = os.environ["PATH"]
    env = DojoEnv(fake_lean_dojo(lean_dojo), "/repo", "c" * 40, shims=tmp_path / "bin")
    env.start(fake_theorem("t"))
    assert FakeDojo.made[0].path_at_enter == f"{tmp_path / 'bin'}{os.pathsep}{before}"
    assert os.environ["PATH"] == before
    with pytest.raises(EnvInitError):
        env.start(fake_theorem("git"))
    assert os.environ["PATH"] == before  # also when the start fails


def test_an_untraced_repository_is_not_traced_inside_a_ray_worker(lean_dojo, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", types.SimpleNamespace(is_initialized=lambda: True))
    env = DojoEnv(fake_lean_dojo(lean_dojo, is_available_in_cache=lambda repo: False), "/repo", "c" * 40)
    with pytest.raises(EnvInitError, match="not in LeanDojo's cache: trace it first"):
        env.start(fake_theorem("t"))
    assert FakeDojo.made == []  # Dojo.__enter__ would trace it, and LeanDojo's Ray pool asserts no Ray runs
    monkeypatch.setitem(sys.modules, "ray", types.SimpleNamespace(is_initialized=lambda: False))
    assert isinstance(env.start(fake_theorem("t")), State)  # outside Ray LeanDojo may trace it itself


def test_dojo_timeouts_and_crashes_are_breakdowns(lean_dojo):
    env = DojoEnv(fake_lean_dojo(lean_dojo), "/repo", "c" * 40, tactic_timeout=7)
    state = env.start(fake_theorem("t"))
    with pytest.raises(EnvCrashed, match="ran past 7 s"):
        env.run_tactic(state, "slow")
    with pytest.raises(EnvCrashed, match="no theorem started"):
        env.run_tactic(state, "simp")
    state = env.start(fake_theorem("t"))
    with pytest.raises(EnvCrashed, match="out of memory"):
        env.run_tactic(state, "boom")
    assert FakeDojo.made[-1].exited  # its edited copy of the file is removed


def test_search_over_the_dojo_adapter(lean_dojo):
    env = DojoEnv(fake_lean_dojo(lean_dojo), "/repo", "c" * 40)
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
    assert not (tmp_path / "lean_dojo").exists() and not (tmp_path / "lean").exists()  # nothing done first


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


def test_traced_repo_becomes_the_same_records(lean_dojo, tmp_path: Path):
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
                                          "start": [3, 1], "end": [4, 14], "kind": "commanddeclaration"}],
        get_traced_theorems=lambda: [thm, open_thm])
    dep = types.SimpleNamespace(path=Path(".lake/packages/batteries/B.lean"))
    traced = types.SimpleNamespace(repo="r", traced_files=[dep, own])
    repo = Repo(url="https://example.org/foo", commit="c" * 40, name="foo")
    scan = from_traced_repo(traced, repo)
    assert scan.extractor == "traced" and [f.path for f in scan.files] == ["Foo/Basic.lean"]
    assert scan.files[0].imports == ("Foo.Defs",) and scan.files[0].module == "Foo.Basic"
    [premise] = scan.premises
    assert (premise.full_name, premise.kind, premise.start, premise.end) == \
        ("Foo.add_zero'", "theorem", Pos(3, 1), Pos(4, 14))  # LeanDojo's node class name, mapped
    proved, todo = scan.theorems
    assert proved.steps == (TacticStep("simp [Nat.add_zero]", "n : Nat\n⊢ n + 0 = n", "no goals", ("Nat.add_zero",)),)
    assert proved.premises == ("Nat.add_zero",) and not proved.has_sorry and proved.extractor == "traced"
    assert todo.has_sorry and todo.num_steps == 0 and todo.start == Pos(6, 1)


def test_dojo_tree_takes_a_work_tree_at_the_commit_and_nothing_else(tmp_path: Path):
    from prover.dojo import dojo_tree
    from tests.conftest import run_git

    exported = tmp_path / "exported"  # acquire's export: files, no git
    (exported / "A").mkdir(parents=True)
    (exported / "A" / "B.lean").write_text("theorem t : True := trivial\n")
    with pytest.raises(EnvInitError, match="not a git work tree at cccccccccccc"):
        dojo_tree(exported, "c" * 40)
    run_git(exported, "init", "-q", "-b", "main")
    run_git(exported, "add", ".")
    run_git(exported, "commit", "-qm", "x")
    head = run_git(exported, "rev-parse", "HEAD")
    assert dojo_tree(exported, head) == (exported.resolve(), head)
    with pytest.raises(EnvInitError):  # a `tree-…` pseudo-commit is no commit
        dojo_tree(exported, "tree-0123456789ab")
