"""One protocol for Lean environments: start a theorem, run tactics on states, close.

Every adapter (LeanDojo's ``Dojo``, the whole-proof checker, the test double in :mod:`prover.testing`)
speaks this protocol, so the search, the generators and batch proving never see which Lean is behind it.

Outcomes of a tactic are values (:data:`Step`); breakdowns of the environment itself are exceptions
(:class:`LeanUnavailable` before anything runs, :class:`EnvInitError` when a theorem cannot be started,
:class:`EnvCrashed` when the Lean process dies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Union, runtime_checkable

from database.records import Theorem

__all__ = [
    "State",
    "Finished",
    "TacticError",
    "TacticTimeout",
    "Step",
    "LeanEnv",
    "LeanUnavailable",
    "EnvInitError",
    "EnvCrashed",
]


@dataclass(frozen=True)
class State:
    """A proof state: the goals still open after some tactics."""

    pp: str
    """The goals pretty-printed as Lean shows them (LeanDojo's ``TacticState.pp``); the key for merging."""
    handle: object = field(default=None, compare=False)
    """The environment's own handle for this state (a LeanDojo ``TacticState``, a tactic prefix, ...)."""

    @property
    def num_goals(self) -> int:
        """Number of goals, counted as Lean prints them (one ``⊢`` per goal).

        >>> State("x : Nat\\n⊢ x = x\\n\\ny : Nat\\n⊢ y = y").num_goals
        2
        """
        return self.pp.count("⊢")


@dataclass(frozen=True)
class Finished:
    """The tactic closed the last goal: the proof is complete (Lean accepted it)."""

    message: str = ""
    """Lean's messages (warnings), if any."""


@dataclass(frozen=True)
class TacticError:
    """Lean rejected the tactic; the state it ran on is unchanged."""

    error: str
    """Lean's error message."""


@dataclass(frozen=True)
class TacticTimeout:
    """The tactic ran past the environment's per-tactic time limit."""

    seconds: float
    """The limit it ran past."""


Step = Union[State, Finished, TacticError, TacticTimeout]
"""What running one tactic can give."""


class LeanUnavailable(RuntimeError):
    """No Lean toolchain (or no LeanDojo support) on this machine; the message says how to get one."""


class EnvInitError(RuntimeError):
    """The environment could not start this theorem (file does not build, theorem not found, ...)."""


class EnvCrashed(RuntimeError):
    """The Lean process died or stopped answering; the environment cannot be used any more."""


@runtime_checkable
class LeanEnv(Protocol):
    """A Lean environment for one repository. Not thread safe: one per worker."""

    def start(self, theorem: Theorem) -> State:
        """Open ``theorem`` (a ``sorry`` theorem of this repository) and return its initial state.

        Raises :class:`EnvInitError` or :class:`EnvCrashed`.
        """
        ...

    def run_tactic(self, state: State, tactic: str) -> Step:
        """Run ``tactic`` on ``state`` (a state this environment returned for the current theorem)."""
        ...

    def close(self) -> None:
        """Release the Lean process(es); safe to call twice."""
        ...
