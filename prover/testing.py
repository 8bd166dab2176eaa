"""A test double for Lean: :class:`FakeLean` models Lean's interface with goals as strings.

A proof state is a list of goals; a tactic acts on the first goal as a table of :data:`Rule` says: it
replaces the goal by new goals (a split; ``()`` closes it), fails with a message, runs past the time limit,
or crashes the environment. This is the boundary every search, generator and batch test runs against,
since no Lean toolchain exists on this project's machines.

>>> env = FakeLean({"two": "p ∧ q"}, {("p ∧ q", "constructor"): ("p", "q"), ("p", "exact hp"): (),
...                                   ("q", "exact hq"): ()})
>>> s = env.start(fake_theorem("two"))
>>> s = env.run_tactic(s, "constructor"); s.pp
'⊢ p\\n\\n⊢ q'
>>> env.run_tactic(s, "exact hq")
TacticError(error="exact hq: no rule for goal 'p'")
>>> env.run_tactic(env.run_tactic(s, "exact hp"), "exact hq")
Finished(message='')
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Union

from database.records import Pos, Theorem
from prover.env import EnvCrashed, EnvInitError, Finished, State, Step, TacticError, TacticTimeout

__all__ = ["FakeLean", "CoinLean", "coin_rule", "Fail", "Hang", "Stall", "Crash", "Bug", "Die", "Rule",
           "TableGenerator", "fake_theorem"]


@dataclass(frozen=True)
class Fail:
    """The tactic fails with ``error``."""

    error: str = "tactic failed"
    """Lean's message."""


@dataclass(frozen=True)
class Hang:
    """The tactic runs past the environment's per-tactic time limit."""


@dataclass(frozen=True)
class Crash:
    """The Lean process dies: this call and every later one raise :class:`EnvCrashed`."""


@dataclass(frozen=True)
class Stall:
    """The tactic blocks for ``seconds`` (a Lean that stopped answering), then fails."""

    seconds: float
    """How long it blocks."""


@dataclass(frozen=True)
class Bug:
    """The environment itself fails with an unexpected exception (a bug in an adapter)."""

    message: str = "unexpected"
    """The exception's message."""


@dataclass(frozen=True)
class Die:
    """The whole worker process dies at once (``os._exit``), as when Lean takes the machine's memory."""


Effect = Union[tuple[str, ...], Fail, Hang, Stall, Crash, Bug, Die]
"""What a tactic does to the first goal: new goals (``()`` closes it), or a failure."""

Rule = Callable[[str, str], "Effect | None"]
"""A rule as a function of (first goal, tactic); ``None`` means the tactic does not apply."""


def fake_theorem(name: str, path: str = "Fake.lean", line: int = 1) -> Theorem:
    """A sorry theorem record for :class:`FakeLean` (the fake looks theorems up by full name)."""
    return Theorem(url="https://example.org/fake", commit="0" * 40, path=path, full_name=name,
                   start=Pos(line, 1), end=Pos(line, 30), statement=f"theorem {name} : True",
                   proof="by\n  sorry", has_sorry=True)


def _pp(goals: tuple[str, ...]) -> str:
    return "\n\n".join(f"⊢ {g}" for g in goals)


class FakeLean:
    """A :class:`~prover.env.LeanEnv` whose theorems are goals and whose tactics are table entries.

    ``goals`` maps a theorem's full name to its initial goal (a missing name gives :class:`EnvInitError`);
    ``rules`` maps (goal, tactic) to an :data:`Effect`, or is a function of them. ``latency`` seconds are
    slept per tactic (to model Lean's cost); every call is counted in :attr:`calls`.
    """

    def __init__(self, goals: Mapping[str, str], rules: Mapping[tuple[str, str], Effect] | Rule, *,
                 latency: float = 0.0, tactic_timeout: float = 5.0) -> None:
        self.goals = dict(goals)
        self.rules = rules
        self.latency = latency
        self.tactic_timeout = tactic_timeout
        self.calls = 0
        self.crashed = False
        self.closed = False

    def _effect(self, goal: str, tactic: str) -> Effect | None:
        if callable(self.rules):
            return self.rules(goal, tactic)
        return self.rules.get((goal, tactic))

    def _alive(self) -> None:
        if self.crashed:
            raise EnvCrashed("fake Lean crashed earlier; start a new environment")

    def start(self, theorem: Theorem) -> State:
        self._alive()
        if theorem.full_name not in self.goals:
            raise EnvInitError(f"{theorem.full_name}: not found in the fake repository")
        goals = (self.goals[theorem.full_name],)
        return State(_pp(goals), goals)

    def run_tactic(self, state: State, tactic: str) -> Step:
        self._alive()
        self.calls += 1
        if self.latency:
            time.sleep(self.latency)
        goals: tuple[str, ...] = state.handle
        effect = self._effect(goals[0], tactic)
        if effect is None:
            return TacticError(f"{tactic}: no rule for goal {goals[0]!r}")
        if isinstance(effect, Fail):
            return TacticError(effect.error)
        if isinstance(effect, Hang):
            return TacticTimeout(self.tactic_timeout)
        if isinstance(effect, Crash):
            self.crashed = True
            raise EnvCrashed(f"fake Lean crashed on {tactic!r}")
        if isinstance(effect, Die):
            os._exit(17)
        if isinstance(effect, Bug):
            raise ValueError(effect.message)
        if isinstance(effect, Stall):
            time.sleep(effect.seconds)
            return TacticError(f"{tactic}: stalled")
        rest = tuple(effect) + goals[1:]
        if not rest:
            return Finished()
        return State(_pp(rest), rest)

    def close(self) -> None:
        self.closed = True


def coin_rule(goal: str, tactic: str, rate: float = 1 / 64) -> Effect:
    """A tactic closes a goal when a hash of the two falls under ``rate``, else fails: a Lean with no
    semantics but the same answer in every process (the hash is SHA-256, not Python's salted ``hash``)."""
    import hashlib

    digest = hashlib.sha256(f"{goal}\x1f{tactic}".encode()).digest()
    return () if int.from_bytes(digest[:8], "big") < rate * 2 ** 64 else Fail(f"{tactic}: no proof here")


class CoinLean(FakeLean):
    """A :class:`FakeLean` for any repository: a theorem's goal is its statement (whitespace folded), and
    :func:`coin_rule` decides every tactic. For runs of real repositories without Lean (kill tests)."""

    def __init__(self, rate: float = 1 / 64, **kwargs) -> None:
        import functools

        super().__init__({}, functools.partial(coin_rule, rate=rate), **kwargs)

    def start(self, theorem: Theorem) -> State:
        self._alive()
        goal = " ".join(theorem.statement.split())
        return State(_pp((goal,)), (goal,))


class TableGenerator:
    """A :class:`~prover.generators.TacticGenerator` for tests: fixed suggestions by first goal.

    ``table`` maps a goal to ``(tactic, logprob)`` pairs, or is a function of the goal; ``batches`` records
    the size of every call, so tests can see how generation was batched.
    """

    def __init__(self, table: Mapping[str, Sequence[tuple[str, float]]] | Callable[[str], Sequence]) -> None:
        self.table = table
        self.batches: list[int] = []

    def generate(self, requests, n: int):
        from prover.generators import Suggestion

        self.batches.append(len(requests))
        out = []
        for r in requests:
            goal = r.state.split("\n\n")[0].removeprefix("⊢ ")
            row = self.table(goal) if callable(self.table) else self.table.get(goal, ())
            out.append([Suggestion(t, lp) for t, lp in sorted(row, key=lambda x: -x[1])[:n]])
        return out
