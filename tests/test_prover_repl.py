"""The Lean REPL environment (lean-interact) at its boundary: a double that answers with lean-interact's own
response models (``CommandResponse``, ``ProofStepResponse``, ``LeanError`` built from the REPL's JSON), theorem
records from the real static scanner, and the real best-first search."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from database.records import Repo, Theorem
from extraction.tree import extract_repo
from prover.env import EnvCrashed, EnvInitError, Finished, State, TacticError, TacticTimeout
from prover.repl import ReplEnv, ReplHandle, repl_config
from prover.repl_double import Crash, Fail, Hang, ReplDouble, message, root_entry, sorry_entry
from prover.search import SearchLimits, best_first_search
from prover.testing import TableGenerator

BASIC = """\
theorem t_add (n : Nat) : n + 0 = n := by
  sorry

theorem t_and (p q : Prop) (hp : p) (hq : q) : q ∧ p := by
  sorry

theorem t_term (n : Nat) : n = n := sorry

theorem t_two (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  constructor
  · sorry
  · sorry

theorem t_bad (n : Nat) : n = undefined_thing := by
  sorry

theorem t_none : 1 = 1 := by
  sorry
"""

OTHER = "theorem t_other : 2 = 2 := by\n  sorry\n"

ADD = "n : Nat\n⊢ n + 0 = n"
AND = "p q : Prop\nhp : p\nhq : q\n⊢ q ∧ p"
LEFT = "case left\np q : Prop\nhp : p\nhq : q\n⊢ q"
RIGHT = "case right\np q : Prop\nhp : p\nhq : q\n⊢ p"
TERM = "n : Nat\n⊢ n = n"
TWO = "p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q"


def at(text: str, line: int, needle: str) -> tuple[int, int]:
    """Lean's (line, 0-based column) of ``needle`` on 1-based ``line`` of ``text``."""
    return line, text.split("\n")[line - 1].index(needle)


def basic_answer(*, root_goals: bool = True) -> dict:
    """The REPL's JSON answer for P/Basic.lean (``root_goals=False``: a REPL without ``rootGoals``)."""
    t = BASIC
    roots = [root_entry(*at(t, 1, "by"), ADD), root_entry(*at(t, 4, "by"), AND), root_entry(*at(t, 9, "by"), TWO),
             root_entry(*at(t, 14, "by"), "n : Nat\n⊢ n = sorry")]
    sorries = [sorry_entry(2, 2, ADD), sorry_entry(5, 2, AND), sorry_entry(*at(t, 7, "sorry"), TERM),
               sorry_entry(11, 4, "case left\np q : Prop\nhp : p\nhq : q\n⊢ p"),
               sorry_entry(12, 4, "case right\np q : Prop\nhp : p\nhq : q\n⊢ q"),
               sorry_entry(15, 2, "n : Nat\n⊢ n = sorry")]  # t_none's sorry is missing: "no sorry found"
    return {"env": 0, "sorries": (roots if root_goals else []) + sorries,
            "messages": [message("error", *at(t, 14, "undefined_thing"), "unknown identifier 'undefined_thing'"),
                         message("warning", 1, 8, "declaration uses `sorry`")]}


def sorry_step(goal: str) -> dict:
    return {"goals": [], "proofStatus": "Incomplete: contains sorry",
            "sorries": [sorry_entry(1, 0, goal) | {"proofState": 99}]}


RULES = {
    (ADD, "simp"): (),
    (ADD, "omega"): Hang(),
    (ADD, "decide"): Crash(),
    (ADD, "stop"): {"goals": [], "proofStatus": "Incomplete: contains sorry"},
    (ADD, "exact bad"): {"goals": [], "proofStatus": "Incomplete: contains sorry",
                         "messages": [message("error", 1, 6, "unknown identifier 'bad'")]},
    (ADD, "exact?"): {"goals": [], "proofStatus": "Completed", "sorries": [sorry_entry(1, 0, ADD)]},
    (ADD, "warned"): {"goals": [], "proofStatus": "Completed",
                      "messages": [message("warning", 1, 0, "declaration uses 'sorry'")]},
    (ADD, "refine ?_"): {"goals": [], "proofStatus": "Incomplete: contains metavariable(s)"},
    (ADD, "induction n"): ("case zero\n⊢ 0 + 0 = 0", "case succ\nn : Nat\n⊢ n + 1 + 0 = n + 1"),
    (AND, "constructor"): (LEFT, RIGHT),
    (AND, "refine ⟨?_, ?_⟩"): (LEFT, RIGHT),
    (AND, "apply And.intro"): {"goals": [LEFT, RIGHT], "proofStatus": "Incomplete: open goals remain",
                               "messages": [message("error", 1, 0, "unsolved goals\n" + LEFT)]},
    (AND, "omega"): Hang(),
    (AND, "slow"): Fail("<input>:1:0: (deterministic) timeout at `whnf`, maximum number of heartbeats"),
    (AND, "(constructor\n · exact hq\n · exact hp\n)"): (),  # a whole proof, as the REPL must get it
    (LEFT, "exact hq"): (),
    (RIGHT, "exact hp"): (),
    (TERM, "rfl"): (),
    (TWO, "exact ⟨hp, hq⟩"): (),
    ("⊢ 2 = 2", "rfl"): (),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "P").mkdir(parents=True)
    (root / "P" / "Basic.lean").write_text(BASIC, encoding="utf-8")
    (root / "P" / "Other.lean").write_text(OTHER, encoding="utf-8")
    (root / "lean-toolchain").write_text("leanprover/lean4:v4.19.0\n")
    return root


def theorems(root: Path) -> dict[str, Theorem]:
    scan = extract_repo(Repo("https://example.org/p", "c" * 40, "p"), root)
    return {t.full_name: t for t in scan.theorems}


def make_env(root: Path, double: ReplDouble, **kwargs) -> ReplEnv:
    return ReplEnv(root, root.parent / "work", server_factory=double, **kwargs)


def double(**kwargs) -> ReplDouble:
    return ReplDouble({"P/Basic.lean": basic_answer(), "P/Other.lean": {"sorries": [
        root_entry(1, OTHER.index("by"), "⊢ 2 = 2"), sorry_entry(2, 2, "⊢ 2 = 2")]}}, RULES, **kwargs)


def test_best_first_search_proves_a_theorem_through_the_repl(project: Path) -> None:
    repl = double()
    env = make_env(project, repl)
    generator = TableGenerator({AND: [("exact hq", -3.0), ("constructor", -0.5), ("sorry", -0.1)],
                                LEFT: [("exact hq", -0.1)], RIGHT: [("exact hp", -0.1)]})
    result = best_first_search(env, theorems(project)["t_and"], generator, SearchLimits(timeout=60))
    assert (result.outcome, result.proof) == ("proved", ("constructor", "exact hq", "exact hp"))
    # the REPL saw the file once and only the tactics the env let through (never `sorry`)
    assert repl.file_commands() == [str(project / "P" / "Basic.lean")]
    assert [r.tactic for r in repl.requests if hasattr(r, "tactic")] == ["constructor", "exact hq", "exact hq",
                                                                          "exact hp"]


def test_goals_are_one_state_merged_by_their_text(project: Path) -> None:
    env = make_env(project, double())
    start = env.start(theorems(project)["t_and"])
    assert start == State(AND) and start.handle == ReplHandle(0, 1, ())  # the root goal, not the sorry's entry
    one, two = env.run_tactic(start, "constructor"), env.run_tactic(start, "refine ⟨?_, ?_⟩")
    assert one == two == State(f"{LEFT}\n\n{RIGHT}") and one.num_goals == 2
    assert one.handle.proof_state != two.handle.proof_state  # two REPL states, one search node
    generator = TableGenerator({AND: [("constructor", -0.1), ("refine ⟨?_, ?_⟩", -0.2)], LEFT: [("exact hq", -1.0)],
                                RIGHT: [("exact hp", -1.0)]})
    result = best_first_search(env, theorems(project)["t_and"], generator, SearchLimits(timeout=60))
    assert result.outcome == "proved" and result.nodes == 3  # root, the merged split, the right goal


@pytest.mark.parametrize("tactic, error", [
    ("sorry", "the tactic uses sorry"),  # refused before Lean sees it
    ("admit", "the tactic uses sorry"),
    ("  exact (sorry)", "the tactic uses sorry"),
    ("stop", "the tactic uses sorry"),  # Lean closes the goal with sorry: `Incomplete: contains sorry`
    ("exact bad", "unknown identifier 'bad'"),  # error recovery: the goal closed by sorry, an error logged
    ("exact?", "the tactic uses sorry"),  # `Completed` but the step reports a sorry
    ("warned", "the tactic uses sorry"),  # `Completed` with the sorry warning (old quoting)
    ("refine ?_", "no goal is left but Lean does not accept the proof: Incomplete: contains metavariable(s)"),
    ("unknown_tactic x", "<input>:1:0: no rule for 'unknown_tactic x' on 'n : Nat\\n⊢ n + 0 = n'"),
    ("", "empty tactic"),
])
def test_a_step_that_gives_up_or_fails_is_never_finished(project: Path, tactic: str, error: str) -> None:
    env = make_env(project, double())
    start = env.start(theorems(project)["t_add"])
    assert env.run_tactic(start, tactic) == TacticError(error)
    assert env.run_tactic(start, "simp") == Finished()  # the state is unchanged and usable


def test_a_block_of_tactics_is_one_parenthesized_tactic_for_the_repl(project: Path) -> None:
    repl = double()
    env = make_env(project, repl)
    assert env.run_tactic(env.start(theorems(project)["t_and"]), "constructor\n· exact hq\n· exact hp") == Finished()
    assert repl.requests[-1].tactic == "(constructor\n · exact hq\n · exact hp\n)"


def test_an_error_message_beside_open_goals_is_an_error(project: Path) -> None:
    env = make_env(project, double())
    step = env.run_tactic(env.start(theorems(project)["t_and"]), "apply And.intro")
    assert step == TacticError("unsolved goals\n" + LEFT)


def test_a_search_offered_only_ways_to_give_up_fails(project: Path) -> None:
    env = make_env(project, double())
    generator = TableGenerator({ADD: [("sorry", -0.1), ("admit", -0.2), ("stop", -0.3), ("exact bad", -0.4),
                                      ("exact?", -0.5), ("warned", -0.6)]})
    result = best_first_search(env, theorems(project)["t_add"], generator, SearchLimits(timeout=60))
    assert result.outcome == "failed" and result.proof == ()


def test_each_file_is_elaborated_once_for_all_its_theorems(project: Path) -> None:
    repl = double()
    env = make_env(project, repl)
    found = theorems(project)
    assert env.start(found["t_add"]) == State(ADD)
    assert env.start(found["t_and"]) == State(AND)
    assert env.start(found["t_term"]) == State(TERM)  # term-mode `:= sorry` has a proof state too
    assert env.start(found["t_other"]) == State("⊢ 2 = 2")
    assert env.start(found["t_add"]) == State(ADD)
    assert repl.file_commands() == [str(project / "P" / "Basic.lean"), str(project / "P" / "Other.lean")]
    assert all(r.root_goals for r in repl.requests if hasattr(r, "path"))
    assert repl.starts == 1 and env.notes == {}


def test_term_mode_sorry_is_proved_from_its_state(project: Path) -> None:
    env = make_env(project, double())
    assert env.run_tactic(env.start(theorems(project)["t_term"]), "rfl") == Finished()


def test_several_sorries_start_at_the_root_goal_else_the_first_sorry_with_a_note(project: Path) -> None:
    t_two = theorems(project)["t_two"]
    env = make_env(project, double())
    assert env.start(t_two) == State(TWO) and env.notes == {}
    assert env.run_tactic(env.start(t_two), "exact ⟨hp, hq⟩") == Finished()
    older = ReplDouble({"P/Basic.lean": basic_answer(root_goals=False)}, RULES)  # a REPL without rootGoals
    env = make_env(project, older)
    assert env.start(t_two) == State("case left\np q : Prop\nhp : p\nhq : q\n⊢ p")
    assert "first sorry at 11:5 (2 in the proof)" in env.notes[t_two.id]
    assert env.start(theorems(project)["t_add"]) == State(ADD) and len(env.notes) == 1  # `by\n  sorry`: the statement


def test_a_statement_that_does_not_elaborate_or_no_sorry_cannot_start(project: Path) -> None:
    env = make_env(project, double())
    found = theorems(project)
    with pytest.raises(EnvInitError, match=r"^P/Basic.lean: the statement of t_bad does not elaborate: "
                                           r"unknown identifier 'undefined_thing'$"):
        env.start(found["t_bad"])
    with pytest.raises(EnvInitError, match=r"^P/Basic.lean: the Lean REPL reports no sorry in the proof of t_none "
                                           r"\(17:1–18:8\); Lean's first error: unknown identifier"):
        env.start(found["t_none"])
    assert env.start(found["t_add"]) == State(ADD)  # the env goes on


def test_a_file_the_repl_cannot_read_fails_once_and_fast(project: Path) -> None:
    repl = ReplDouble({}, RULES)
    env = make_env(project, repl)
    found = theorems(project)
    for name in ("t_add", "t_and"):
        with pytest.raises(EnvInitError, match=r"^P/Basic.lean: the Lean REPL cannot elaborate it: no such file"):
            env.start(found[name])
    assert len(repl.file_commands()) == 1


def test_the_file_changed_since_it_was_scanned(project: Path) -> None:
    t_add = theorems(project)["t_add"]
    (project / "P" / "Basic.lean").write_text("-- moved\n" + BASIC, encoding="utf-8")
    with pytest.raises(EnvInitError, match="the file changed since it was scanned"):
        make_env(project, double()).start(t_add)


def test_a_crash_is_env_crashed_and_the_next_theorem_gets_a_new_repl(project: Path) -> None:
    repl = double()
    env = make_env(project, repl)
    found = theorems(project)
    start = env.start(found["t_add"])
    with pytest.raises(EnvCrashed, match="the Lean REPL died on 'decide': The Lean server closed unexpectedly"):
        env.run_tactic(start, "decide")
    assert not repl.alive
    assert env.run_tactic(env.start(found["t_and"]), "constructor") == State(f"{LEFT}\n\n{RIGHT}")
    assert repl.starts == 2 and len(repl.file_commands()) == 2  # a new process elaborates the file again


def test_a_timeout_restarts_the_repl_and_the_search_goes_on_from_rebuilt_states(project: Path) -> None:
    repl = double()
    env = make_env(project, repl, tactic_timeout=7)
    start = env.start(theorems(project)["t_and"])
    split = env.run_tactic(start, "constructor")
    assert env.run_tactic(start, "omega") == TacticTimeout(7)  # lean-interact killed the process
    assert not repl.alive
    # The old state's id would name another state in the new process (ids restart at 0): it is replayed.
    right = env.run_tactic(split, "exact hq")
    assert right == State(RIGHT) and right.handle.generation == 1
    assert env.run_tactic(right, "exact hp") == Finished()
    assert repl.starts == 2 and len(repl.file_commands()) == 2
    assert [r.tactic for r in repl.requests if hasattr(r, "tactic")] == [
        "constructor", "omega", "constructor", "exact hq", "exact hp"]
    assert env.run_tactic(start, "constructor") == State(f"{LEFT}\n\n{RIGHT}")  # the root, rebuilt once
    assert len(repl.file_commands()) == 2


def test_search_survives_a_timeout(project: Path) -> None:
    env = make_env(project, double())
    generator = TableGenerator({AND: [("omega", -0.1), ("constructor", -0.5)], LEFT: [("exact hq", -0.1)],
                                RIGHT: [("exact hp", -0.1)]})
    result = best_first_search(env, theorems(project)["t_and"], generator, SearchLimits(timeout=60))
    assert (result.outcome, result.proof) == ("proved", ("constructor", "exact hq", "exact hp"))


def test_a_repl_that_died_while_idle_is_replaced_and_its_states_rebuilt(project: Path) -> None:
    repl = double()
    env = make_env(project, repl)
    split = env.run_tactic(env.start(theorems(project)["t_and"]), "constructor")
    repl.kill()  # out of memory, or killed, between two requests
    assert env.run_tactic(split, "exact hq") == State(RIGHT)
    assert repl.starts == 2 and [r.tactic for r in repl.requests if hasattr(r, "tactic")] == [
        "constructor", "constructor", "exact hq"]


def test_a_replay_that_gives_another_answer_is_env_crashed(project: Path) -> None:
    repl = double()
    env = make_env(project, repl)
    start = env.start(theorems(project)["t_and"])
    split = env.run_tactic(start, "constructor")
    assert env.run_tactic(start, "omega") == TacticTimeout(60)
    repl.rules[(AND, "constructor")] = (LEFT,)  # a Lean that is not deterministic
    with pytest.raises(EnvCrashed, match="replaying 'constructor' after the Lean REPL restarted gave another answer"):
        env.run_tactic(split, "exact hq")


@pytest.mark.parametrize("effect, why", [(Crash(), "died elaborating it: The Lean server closed unexpectedly"),
                                         (Hang(), "did not elaborate it within 600 s")])
def test_a_file_that_kills_or_hangs_the_repl_fails_its_theorems_only(project: Path, effect, why: str) -> None:
    repl = ReplDouble({"P/Basic.lean": effect, "P/Other.lean": {"sorries": [sorry_entry(2, 2, "⊢ 2 = 2")]}}, RULES)
    env = make_env(project, repl)
    found = theorems(project)
    for name in ("t_add", "t_and"):
        with pytest.raises(EnvInitError, match=f"^P/Basic.lean: the Lean REPL {why}"):
            env.start(found[name])
    assert env.run_tactic(env.start(found["t_other"]), "rfl") == Finished()
    assert repl.file_commands() == [str(project / "P" / "Basic.lean"), str(project / "P" / "Other.lean")]


def test_a_lost_proof_state_is_env_crashed(project: Path) -> None:
    env = make_env(project, double())
    env.start(theorems(project)["t_add"])
    with pytest.raises(EnvCrashed, match="lost proof state 999"):
        env.run_tactic(State(ADD, ReplHandle(0, 999, ())), "simp")


def test_a_repl_that_cannot_be_set_up_fails_each_theorem_in_one_line_without_retrying(project: Path) -> None:
    calls = []

    def broken():
        calls.append(1)
        raise RuntimeError("Failed to build the REPL at /cache/repl\n--------\nstdout: ...")

    env = ReplEnv(project, project.parent / "work", server_factory=broken)
    for name in ("t_add", "t_other"):
        with pytest.raises(EnvInitError, match=r"^cannot start the Lean REPL for .*: Failed to build the REPL at "
                                               r"/cache/repl$"):
            env.start(theorems(project)[name])
    assert calls == [1]


def test_a_repl_over_its_memory_is_restarted_at_a_file_boundary(project: Path) -> None:
    repl = double(memory_mb=800)
    env = make_env(project, repl, memory_mb=1000)
    found = theorems(project)
    env.start(found["t_add"])
    env.start(found["t_and"])  # same file: no restart mid-file
    assert repl.starts == 1
    assert env.run_tactic(env.start(found["t_other"]), "rfl") == Finished()
    assert repl.starts == 2


def test_close_kills_the_repl_and_is_safe_twice(project: Path) -> None:
    repl = double()
    env = make_env(project, repl)
    start = env.start(theorems(project)["t_add"])
    env.close()
    env.close()
    assert not repl.alive
    with pytest.raises(EnvCrashed, match="no theorem started"):
        env.run_tactic(start, "simp")


# ---- the real client's set-up, without Lean: what lean-interact is given ----------------------------------


class Recorder:
    """lean-interact's ``LeanREPLConfig``, recording its arguments (the real one clones and builds)."""

    made: list = []

    def __init__(self, **kwargs) -> None:
        self.kwargs = kwargs
        Recorder.made.append(self)


@pytest.fixture
def fake_toolchain(monkeypatch, tmp_path: Path):
    from prover import toolchain

    tc = toolchain.Toolchain(lake=str(tmp_path / "elan" / "lake"), lean=str(tmp_path / "elan" / "lean"), elan=True)
    monkeypatch.setattr(toolchain, "find_toolchain", lambda: tc)
    Recorder.made = []
    return tc


def test_repl_config_runs_every_lake_through_a_sandbox_shim_and_leaves_path_alone(
        project: Path, tmp_path: Path, fake_toolchain, monkeypatch) -> None:
    import lean_interact

    monkeypatch.setattr(lean_interact, "LeanREPLConfig", Recorder)
    path_before = os.environ.get("PATH")
    work = tmp_path / "work"
    repl_config(project, work, memory_mb=4096, bwrap="/usr/bin/bwrap")
    assert os.environ.get("PATH") == path_before
    (config,) = Recorder.made
    lake = work.resolve() / "sandbox-bin" / f"repl-{os.getpid()}" / "lake"
    assert config.kwargs["lake_path"] == str(lake)
    assert config.kwargs["memory_hard_limit_mb"] == 4096
    assert config.kwargs["cache_dir"] == str(work.resolve() / "lean-interact")
    project_cfg = config.kwargs["project"]
    assert (project_cfg.directory, project_cfg.auto_build, project_cfg.lake_path) == (str(project.resolve()), False,
                                                                                     str(lake))
    shim = lake.read_text()
    assert "/usr/bin/bwrap" in shim and "--unshare-all" in shim and "--share-net" not in shim
    assert fake_toolchain.lake in shim and f"--bind {project.resolve()} {project.resolve()}" in shim


def test_repl_config_failures_are_one_line(project: Path, tmp_path: Path, fake_toolchain, monkeypatch) -> None:
    import lean_interact
    from git.exc import GitCommandError

    def offline(**kwargs):
        raise GitCommandError(["git", "clone", "https://github.com/augustepoiroux/repl"], 128, "Could not resolve host")

    monkeypatch.setattr(lean_interact, "LeanREPLConfig", offline)
    with pytest.raises(EnvInitError, match=r"^cannot prepare the Lean REPL \(lean-interact\) for .*: Cmd\('git'\) "
                                           r"failed"):
        repl_config(project, tmp_path / "work", bwrap="/usr/bin/bwrap")


def test_the_default_env_starts_lean_interacts_server_on_that_config(
        project: Path, tmp_path: Path, fake_toolchain, monkeypatch) -> None:
    import lean_interact

    from prover import sandbox

    repl = double()
    started = []
    monkeypatch.setattr(lean_interact, "LeanREPLConfig", Recorder)
    monkeypatch.setattr(lean_interact, "LeanServer", lambda config: started.append(config) or repl())
    monkeypatch.setattr(sandbox, "find_bwrap", lambda: "/usr/bin/bwrap")
    env = ReplEnv(project, tmp_path / "work", tactic_timeout=5, memory_mb=2048)
    assert env.run_tactic(env.start(theorems(project)["t_add"]), "simp") == Finished()
    assert started == Recorder.made and Recorder.made[0].kwargs["memory_hard_limit_mb"] == 2048


def test_without_lean_the_default_env_fails_at_once_in_one_line(project: Path, monkeypatch, tmp_path: Path) -> None:
    from prover.env import LeanUnavailable

    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("ELAN_HOME", str(tmp_path / "none"))
    with pytest.raises(LeanUnavailable, match="no Lean toolchain on this machine"):
        ReplEnv(project, tmp_path / "work")


def test_the_repl_recipe_builds_a_repl_env(project: Path, tmp_path: Path, fake_toolchain) -> None:
    from leanagent.proving import EnvRecipe

    env = EnvRecipe("repl", str(project), "c" * 40, str(tmp_path / "work"), 9)()
    assert isinstance(env, ReplEnv) and env.tactic_timeout == 9 and env.root == project.resolve()


# ---- the Lean versions lean-interact supports, as scan, status and prove say ------------------------------


@pytest.mark.parametrize("toolchain, supported", [
    ("leanprover/lean4:v4.8.0-rc1", True),
    ("leanprover/lean4:v4.19.0\n", True),
    ("leanprover/lean4:v4.36.0-rc1", True),
    ("leanprover/lean4:v4.7.0", False),
    ("leanprover/lean4:v4.36.0", False),
    ("leanprover/lean4:4.9.0", False),  # lean-interact's parse_lean_version wants the `v`
    ("leanprover/lean4:nightly-2024-01-01", False),
    ("leanprover-community/lean:3.51.1", False),
    ("", False),
])
def test_lean_interact_support(toolchain: str, supported: bool) -> None:
    from leanagent.versions import lean_interact_support

    verdict = lean_interact_support(toolchain)
    assert verdict.supported == supported
    refusals = ("not supported by lean-interact 0.11.6", "is not read by lean-interact 0.11.6", "no lean-toolchain")
    assert any(r in verdict.why for r in refusals) == (not supported)


def test_the_range_is_the_installed_lean_interacts_own(monkeypatch) -> None:
    from leanagent.versions import LEAN_INTERACT_RANGE, lean_interact_range

    from lean_interact.utils import parse_lean_version

    assert lean_interact_range() == ("0.11.6", *LEAN_INTERACT_RANGE)
    for bad in ("4.9.0", "nightly-2024-01-01"):  # what our verdict refuses, lean-interact cannot read either
        with pytest.raises(ValueError):
            parse_lean_version(f"leanprover/lean4:{bad}")


def test_scan_says_whether_the_repl_supports_the_lean_version(tmp_path: Path, capsys) -> None:
    import json

    from leanagent.cli import main

    old = tmp_path / "old"
    (old / "Old").mkdir(parents=True)
    (old / "lean-toolchain").write_text("leanprover/lean4:v4.7.0\n")
    (old / "Old" / "A.lean").write_text("theorem a : 1 = 1 := by\n  sorry\n")
    assert main(["scan", str(old), "--json", "--workdir", str(tmp_path / "w"), "-q"]) == 0
    verdict = json.loads(capsys.readouterr().out)["lean_interact"]
    assert verdict["version"] == "v4.7.0" and not verdict["supported"]
    assert main(["scan", str(old), "--workdir", str(tmp_path / "w"), "-q"]) == 0
    assert ("proving (REPL)       Lean v4.7.0: not supported by lean-interact 0.11.6 (it supports v4.8.0-rc1 to "
            "v4.36.0-rc1)") in capsys.readouterr().out
