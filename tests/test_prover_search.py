"""Best-first search against the Lean test double: proofs that need several steps and backtracking,
merged states, every limit, and breakdowns of the environment."""

from __future__ import annotations

import pytest

from prover.env import EnvCrashed, EnvInitError
from prover.generators import TemplateGenerator
from prover.search import SearchLimits, SearchResult, best_first_search
from prover.testing import Crash, Fail, FakeLean, Hang, TableGenerator, fake_theorem

# A: the likelier tactic t1 leads to a dead end B; t2 splits A into C and D, closed one after the other.
GOALS = {"thm": "A"}
RULES = {("A", "t1"): ("B",), ("A", "t2"): ("C", "D"), ("B", "b"): Fail("no"), ("C", "c"): (), ("D", "d"): ()}
TABLE = {"A": [("t1", -0.1), ("t2", -1.0)], "B": [("b", -0.1)], "C": [("c", -0.1)], "D": [("d", -0.1)]}


def search(env, generator, **limits) -> SearchResult:
    return best_first_search(env, fake_theorem("thm"), generator, SearchLimits(**{"timeout": 10, **limits}))


def test_backtracks_out_of_a_dead_end_and_proves_in_three_steps():
    env = FakeLean(GOALS, RULES)
    result = search(env, TableGenerator(TABLE))
    assert (result.outcome, result.proof) == ("proved", ("t2", "c", "d"))
    assert (result.nodes, result.depth, result.tactics) == (4, 3, 5)  # A, B (dead end), C∧D, D
    assert env.calls == 5
    attempt = result.to_attempt("tid", "ckpt")
    assert (attempt.outcome, attempt.proof, attempt.nodes) == ("proved", "t2\nc\nd", 4)


def test_expands_in_order_of_cumulative_logprob():
    # Two chains: x1 (−0.5) then x2 (−3.0) = −3.5 versus y1 (−1.0) then y2 (−1.0) = −2.0: y's path wins
    # although its first step is less likely.
    rules = {("A", "x1"): ("X",), ("X", "x2"): (), ("A", "y1"): ("Y",), ("Y", "y2"): ("Z",), ("Z", "z"): ()}
    table = {"A": [("x1", -0.5), ("y1", -1.0)], "X": [("x2", -3.0)], "Y": [("y2", -1.0)], "Z": [("z", -0.1)]}
    env = FakeLean(GOALS, {**rules, ("X", "x2"): ("W",), ("W", "w"): ()})
    table["W"] = [("w", -0.1)]
    result = search(env, TableGenerator(table))
    assert result.proof == ("y1", "y2", "z")


def test_repeated_states_are_merged_and_expanded_once():
    rules = {("A", "p"): ("B",), ("A", "q"): ("B",), ("B", "loop"): ("A",), ("B", "done"): ()}
    table = {"A": [("p", -0.1), ("q", -0.2)], "B": [("loop", -0.1), ("done", -0.5)]}
    generator = TableGenerator(table)
    result = search(FakeLean(GOALS, rules), generator)
    assert result.proof == ("p", "done")
    assert result.nodes == 2 and sum(generator.batches) == 2  # A and B once each; q's B and loop's A merged


def test_gives_up_when_every_tactic_fails():
    result = search(FakeLean(GOALS, {("A", "t"): Fail("type mismatch")}), TableGenerator({"A": [("t", 0.0)]}))
    assert (result.outcome, result.proof, result.nodes) == ("failed", (), 1)
    assert result.message == "no tactic left to try"


def chain(goal: str, tactic: str):
    """An endless chain: goal n becomes n+1, never closed."""
    return (str(int(goal) + 1),) if tactic == "next" else None


def endless():
    return FakeLean({"thm": "0"}, chain), TableGenerator(lambda goal: [("next", -0.1), ("other", -0.2)])


def test_expansion_limit():
    env, generator = endless()
    result = search(env, generator, max_expansions=7)
    assert (result.outcome, result.nodes) == ("failed", 7)
    assert result.message == "expansion limit (7) reached"


def test_depth_limit():
    env, generator = endless()
    result = search(env, generator, max_depth=5)
    assert (result.outcome, result.depth, result.nodes) == ("failed", 5, 5)
    assert result.message == "depth limit (5) reached"


def test_tactics_per_node_limit():
    env = FakeLean(GOALS, {})
    table = {"A": [(f"t{i}", -0.01 * i) for i in range(10)]}
    result = search(env, TableGenerator(table), tactics_per_node=3)
    assert result.outcome == "failed" and env.calls == 3 == result.tactics


def test_time_limit_with_a_slow_environment():
    env, generator = endless()
    env.latency = 0.01
    result = search(env, generator, timeout=0.3)
    assert result.outcome == "timeout"
    assert 0.3 <= result.seconds < 0.6
    assert result.message == "search time limit (0.3 s) reached"


def test_time_limit_on_a_fake_clock_is_exact():
    ticks = iter(range(1000))
    env, generator = endless()
    result = best_first_search(env, fake_theorem("thm"), generator, SearchLimits(timeout=10),
                               clock=lambda: float(next(ticks)))
    assert result.outcome == "timeout" and result.seconds == 10 + 1  # checked before each tactic


def test_a_tactic_timeout_is_a_failed_tactic_not_the_end():
    rules = {("A", "slow"): Hang(), ("A", "fast"): ()}
    result = search(FakeLean(GOALS, rules), TableGenerator({"A": [("slow", -0.1), ("fast", -0.2)]}))
    assert result.proof == ("fast",)


def test_a_crash_and_a_missing_theorem_are_breakdowns():
    crashing = FakeLean(GOALS, {("A", "boom"): Crash()})
    with pytest.raises(EnvCrashed):
        search(crashing, TableGenerator({"A": [("boom", 0.0)]}))
    with pytest.raises(EnvCrashed):  # a crashed environment stays dead
        crashing.start(fake_theorem("thm"))
    with pytest.raises(EnvInitError, match="other: not found"):
        best_first_search(FakeLean(GOALS, RULES), fake_theorem("other"), TableGenerator(TABLE), SearchLimits())


@pytest.mark.parametrize("batch", [1, 2, 4])
def test_frontier_batching_finds_the_same_proof(batch):
    generator = TableGenerator(TABLE)
    result = search(FakeLean(GOALS, RULES), generator, frontier_batch=batch)
    assert result.proof == ("t2", "c", "d")
    assert max(generator.batches) <= batch
    if batch > 1:
        assert max(generator.batches) == 2  # B and C∧D were open together


def test_templates_prove_a_goal_needing_split_and_a_hypothesis():
    # (h : p) ⊢ p ∧ p: constructor, then exact h twice; nothing else applies.
    goal = "h : p\n⊢ p ∧ p"
    rules = {("p ∧ p", "constructor"): ("p", "p"), ("p", "exact h"): ()}
    env = FakeLean({"thm": "p ∧ p"}, rules)

    class WithHyp(TemplateGenerator):
        def generate(self, requests, n):
            return super().generate([type(r)(goal, r.theorem) for r in requests], n)

    result = search(env, WithHyp())
    assert result.proof == ("constructor", "exact h", "exact h")


def test_limits_are_validated():
    with pytest.raises(ValueError, match="frontier_batch"):
        SearchLimits(frontier_batch=0)
    with pytest.raises(ValueError, match="timeout"):
        SearchLimits(timeout=-1)


def test_a_likelier_way_to_a_known_state_moves_it_up():
    # A --a(-0.1)--> X --x(-3.0)--> M (cum -3.1), later A --b(-0.2)--> Y --y(-0.1)--> M (cum -0.3).
    # M is first found through X; the likelier path through Y re-prioritises it and becomes its proof path.
    rules = {("A", "a"): ("X",), ("A", "b"): ("Y",), ("X", "x"): ("M",), ("Y", "y"): ("M",),
             ("M", "m"): (), ("X", "slow"): ("Z",)}
    table = {"A": [("a", -0.1), ("b", -0.2)], "X": [("x", -3.0), ("slow", -0.5)], "Y": [("y", -0.1)],
             "M": [("m", -2.0)], "Z": []}
    result = search(FakeLean(GOALS, rules), TableGenerator(table))
    assert result.proof == ("b", "y", "m")


def test_coin_lean_answers_alike_in_every_process_at_its_rate():
    import subprocess
    import sys
    from pathlib import Path

    from prover.testing import CoinLean, coin_rule

    pairs = [(f"goal {i % 97}", f"tactic {i}") for i in range(20_000)]
    closed = [coin_rule(g, t) == () for g, t in pairs]
    assert 0.010 < sum(closed) / len(closed) < 0.022  # about 1/64
    assert all(isinstance(coin_rule(g, t), Fail) for (g, t), c in zip(pairs, closed) if not c)
    # The same answers in a fresh interpreter (no salted hash).
    code = ("from prover.testing import coin_rule; "
            "print(''.join('1' if coin_rule(f'goal {i % 97}', f'tactic {i}') == () else '0' for i in range(2000)))")
    root = Path(__file__).resolve().parent.parent
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root,
                           env={"PYTHONHASHSEED": "123", "PATH": "/usr/bin:/bin"})
    assert other.stdout.strip() == "".join("1" if c else "0" for c in closed[:2000])
    env = CoinLean(rate=1.0)  # every tactic closes: a proof of one step
    theorem = fake_theorem("t")
    state = env.start(theorem)
    assert state.pp == "⊢ theorem t : True"
    result = best_first_search(env, theorem, TableGenerator(lambda goal: [("simp", -0.1)]), SearchLimits(timeout=5))
    assert (result.outcome, result.proof) == ("proved", ("simp",))
