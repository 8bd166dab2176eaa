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
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Union

from database.records import Pos, Theorem
from prover.env import EnvCrashed, EnvInitError, Finished, State, Step, TacticError, TacticTimeout

__all__ = ["FakeLean", "CoinLean", "coin_rule", "Fail", "Hang", "Stall", "Crash", "Bug", "Die", "Rule",
           "TableGenerator", "fake_theorem", "LakeDouble", "ReplayVerifier"]


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


_DECL = re.compile(r"^(?:@\[[^\]]*\]\s*)?(?:(?:private|protected|noncomputable|nonrec)\s+)*"
                   r"(?P<kw>theorem|lemma|def|example|instance|abbrev)\b\s*(?P<name>[^\s:({\[]*)")


class LakeDouble:
    """``lake env lean FILE`` for tests, answering exactly in Lean's message formats: each declaration of FILE
    whose full name ends with a name of ``goals`` has its ``by`` block played on :class:`FakeLean`'s ``rules``;
    any other declaration whose body says ``sorry`` gets the sorry warning; ``#print axioms NAME`` is answered
    bare, with ``sorryAx`` for a declaration that used ``sorry``. ``style="current"`` prints today's Lean
    (``declaration uses `sorry` ``, named errors such as ``error(lean.unknownIdentifier)``), ``"old"`` the
    quoted ``'sorry'`` and no names. Every call's argument list is kept in :attr:`calls`."""

    def __init__(self, goals: Mapping[str, str], rules: Mapping[tuple[str, str], Effect] | Rule, *,
                 style: str = "current") -> None:
        self.goals, self.rules, self.style = dict(goals), rules, style
        self.calls: list[list[str]] = []

    def _sorry(self) -> str:
        return "declaration uses `sorry`" if self.style == "current" else "declaration uses 'sorry'"

    def _key(self, name: str) -> str | None:
        return next((k for k in self.goals if name and (k == name or k.endswith("." + name))), None)

    def _play(self, key: str, tactics: list[tuple[int, int, str]], by: tuple[int, int], path: str
              ) -> tuple[list[str], bool]:
        """Messages for one played proof, and whether it used sorry."""
        env = FakeLean(self.goals, self.rules)
        state: State | None = env.start(fake_theorem(key))
        for line, col, tactic in tactics:
            if tactic == "skip":
                continue
            if state is None:
                return [f"{path}:{line}:{col}: error: no goals to be proved"], False
            if tactic in ("sorry", "admit", "stop"):  # `stop` is `repeat sorry`: the rest is skipped
                return [], True
            step = env.run_tactic(state, tactic)
            if isinstance(step, TacticError):
                if self.style == "current" and "no rule" in step.error:
                    ident = tactic.split()[0]
                    return [f"{path}:{line}:{col}: error(lean.unknownIdentifier): unknown identifier '{ident}'"], False
                return [f"{path}:{line}:{col}: error: {step.error}"], False
            if isinstance(step, TacticTimeout):
                return [f"{path}:{line}:{col}: error: (deterministic) timeout at `whnf`, maximum number of "
                        "heartbeats (200000) has been reached"], False
            state = None if isinstance(step, Finished) else step
        if state is not None:
            return [f"{path}:{by[0]}:{by[1]}: error: unsolved goals\n{state.pp}"], False
        return [], False

    def __call__(self, argv: Sequence[str], cwd: object):
        from prover.sandbox import SandboxResult

        self.calls.append(list(argv))
        assert list(argv[1:3]) == ["env", "lean"], argv
        path = argv[3]
        lines = open(path, encoding="utf-8").read().split("\n")
        out: list[str] = []
        used_sorry: dict[str, bool] = {}
        starts = [i for i, text in enumerate(lines) if _DECL.match(text) or (text and not text[0].isspace())]
        for i in starts:
            head = _DECL.match(lines[i])
            if lines[i].startswith("#print axioms "):
                name = lines[i].removeprefix("#print axioms ").strip()
                known = next((k for k in used_sorry if k == name or name.endswith("." + k) or k.endswith("." + name)), None)
                if known is None:
                    named = "(lean.unknownConstant)" if self.style == "current" else ""
                    out.append(f"{path}:{i + 1}:15: error{named}: unknown constant '{name}'")
                elif used_sorry[known]:
                    out.append(f"'{name}' depends on axioms: [sorryAx]")
                else:
                    out.append(f"'{name}' does not depend on any axioms")
                continue
            if head is None:
                continue
            end = next((j for j in range(i + 1, len(lines)) if lines[j] and not lines[j][0].isspace()), len(lines))
            body = lines[i:end]
            name = head["name"]
            by = next((j for j in range(i, end) if lines[j].rstrip().endswith(":= by")), None)
            key = self._key(name)
            if key is not None and by is not None:
                tactics = [(j + 1, len(lines[j]) - len(lines[j].lstrip()), lines[j].strip())
                           for j in range(by + 1, end) if lines[j].strip()]
                messages, sorry = self._play(key, tactics, (by + 1, len(lines[by].rstrip()) - 2), path)
            else:
                messages, sorry = [], any(re.search(r"\bsorry\b", b) for b in body)
            if sorry:
                out.append(f"{path}:{i + 1}:{head.start('name')}: warning: {self._sorry()}")
            out += messages
            if name:
                used_sorry[name] = sorry
        code = 1 if any(re.match(r"^[^\n]*:\d+:\d+: error", m) for m in out) else 0
        return SandboxResult(code, "".join(m + "\n" for m in out), "", 0.01)


class ReplayVerifier:
    """The final check for tests of batch mechanics: replays a found proof on a fresh :class:`FakeLean` of
    the same table, and accepts it only when it finishes there (``sorry`` and ``admit`` never do)."""

    def __init__(self, goals: Mapping[str, str], rules: Mapping[tuple[str, str], Effect] | Rule) -> None:
        self.goals, self.rules = dict(goals), rules

    def verify(self, theorem: Theorem, tactics: Sequence[str]):
        from prover.checker import CheckResult

        env = FakeLean(self.goals, self.rules)
        state: Step = env.start(theorem)
        for tactic in tactics:
            if tactic in ("sorry", "admit") or not isinstance(state, State):
                return CheckResult(False, ("replay: the proof uses sorry or runs past its end",))
            state = env.run_tactic(state, tactic)
        return CheckResult(isinstance(state, Finished), () if isinstance(state, Finished) else ("replay failed",))
