"""A Lean REPL double that answers lean-interact's requests with lean-interact's own response models.

:class:`ReplDouble` stands where lean-interact's ``LeanServer`` stands (``run(request, timeout=…)``, ``kill()``,
``get_memory_usage()``), and calling it starts a fresh process, so it is its own ``server_factory`` for
:class:`~prover.repl.ReplEnv`. Its answers are ``CommandResponse``, ``ProofStepResponse`` and ``LeanError``
built with ``model_validate`` from JSON in the REPL's own field names (``proofState``, ``pos``, ``endPos``,
``proofStatus``, ``messages`` with ``severity``/``data``); it numbers proof states from 0 in each process as the
REPL does, and breaks down as the client does: ``TimeoutError`` (the process killed), ``ConnectionAbortedError``
(the process died mid-answer), ``ChildProcessError`` (asked while dead).

A file is given as the REPL's JSON answer for it (or ``Hang``/``Crash`` when elaborating it does that), its
sorries without ``proofState`` (the double numbers them); entries whose ``pos`` equals their ``endPos`` are root goals, answered only when the request asks for
``rootGoals``. A tactic acts on the first goal of a state as ``rules`` say, keyed by (goal, tactic): new goals
for the first one (a tuple, ``()`` closes it), a whole REPL answer (a dict, its ``goals`` the new state's),
``Fail`` (the tactic throws: ``LeanError("Lean error:\\n…")``), ``Hang`` (past the time limit) or ``Crash``.

>>> from lean_interact.interface import FileCommand, ProofStep
>>> repl = ReplDouble({"A.lean": {"sorries": [sorry_entry(1, 22, "⊢ 1 = 1")]}}, {("⊢ 1 = 1", "rfl"): ()})()
>>> r = repl.run(FileCommand(path="/p/A.lean"))
>>> [(s.proof_state, s.goal) for s in r.sorries]
[(0, '⊢ 1 = 1')]
>>> repl.run(ProofStep(proof_state=0, tactic="rfl")).proof_status
'Completed'
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Union

from prover.testing import Crash, Fail, Hang

__all__ = ["ReplDouble", "sorry_entry", "root_entry", "message", "Fail", "Hang", "Crash"]

ReplEffect = Union[tuple[str, ...], dict, Fail, Hang, Crash]
"""What a tactic does to the first goal of a state."""


def sorry_entry(line: int, column: int, goal: str, length: int = 5) -> dict:
    """The REPL's JSON for a ``sorry`` at (line, 0-based column) of ``length`` characters."""
    return {"pos": {"line": line, "column": column}, "endPos": {"line": line, "column": column + length},
            "goal": goal}


def root_entry(line: int, column: int, goal: str) -> dict:
    """The REPL's JSON for a proof's root goal (``rootGoals``): ``pos`` and ``endPos`` both at its ``by``."""
    return {"pos": {"line": line, "column": column}, "endPos": {"line": line, "column": column}, "goal": goal}


def message(severity: str, line: int, column: int, data: str) -> dict:
    """The REPL's JSON for a message."""
    return {"severity": severity, "pos": {"line": line, "column": column},
            "endPos": {"line": line, "column": column + 1}, "data": data}


class ReplDouble:
    """The Lean REPL behind lean-interact's client, scripted (see the module's docstring)."""

    def __init__(self, files: Mapping[str, Mapping | Hang | Crash], rules: Mapping[tuple[str, str], ReplEffect], *,
                 memory_mb: float = 100.0) -> None:
        self.files = {path: answer if isinstance(answer, (Hang, Crash)) else dict(answer)
                      for path, answer in files.items()}
        self.rules = dict(rules)
        self.memory_mb = memory_mb
        self.starts = 0
        """Processes started."""
        self.requests: list[Any] = []
        """Every request of every process, in order."""
        self.alive = False
        self._states: list[tuple[str, ...]] = []

    def __call__(self) -> "ReplDouble":
        """Start a fresh process (the REPL's state is empty again)."""
        self.starts += 1
        self.alive, self._states = True, []
        return self

    def kill(self) -> None:
        self.alive = False

    def is_alive(self) -> bool:
        return self.alive

    def get_memory_usage(self) -> float:
        return self.memory_mb

    def file_commands(self) -> list[str]:
        """The paths of every ``FileCommand`` received."""
        return [r.path for r in self.requests if hasattr(r, "path")]

    def _record(self, goals: tuple[str, ...]) -> int:
        self._states.append(tuple(goals))
        return len(self._states) - 1

    def run(self, request: Any, *, timeout: float | None = None, verbose: bool = False) -> Any:
        from lean_interact.interface import CommandResponse, LeanError, ProofStepResponse

        if not self.alive:
            raise ChildProcessError("The Lean server is not running.")
        self.requests.append(request)
        if hasattr(request, "path"):
            key = next((k for k in self.files if request.path == k or request.path.endswith("/" + k)), None)
            if key is None:
                return LeanError.model_validate({"message": f"no such file or directory (error code: 2)\n  file: "
                                                            f"{request.path}"})
            if isinstance(self.files[key], (Hang, Crash)):
                return self._break(self.files[key], timeout)
            answer = copy.deepcopy(self.files[key])
            answer.setdefault("env", 0)
            kept = []
            for entry in answer.get("sorries", []):
                if entry["pos"] == entry["endPos"] and not request.root_goals:
                    continue
                entry["proofState"] = self._record((entry["goal"],))
                kept.append(entry)
            answer["sorries"] = kept
            return CommandResponse.model_validate(answer)
        if not 0 <= request.proof_state < len(self._states):
            return LeanError.model_validate({"message": "Unknown proof state."})
        goals = self._states[request.proof_state]
        if not goals:
            return LeanError.model_validate({"message": "Lean error:\n<input>:1:0: no goals to be proved"})
        effect = self.rules.get((goals[0], request.tactic))
        if effect is None:
            effect = Fail(f"<input>:1:0: no rule for {request.tactic!r} on {goals[0]!r}")
        if isinstance(effect, Fail):
            return LeanError.model_validate({"message": f"Lean error:\n{effect.error}"})
        if isinstance(effect, (Hang, Crash)):
            return self._break(effect, timeout)
        if isinstance(effect, dict):
            answer = copy.deepcopy(effect)
            answer["proofState"] = self._record(tuple(answer.get("goals", ())))
            return ProofStepResponse.model_validate(answer)
        rest = tuple(effect) + goals[1:]
        return ProofStepResponse.model_validate({
            "proofState": self._record(rest), "goals": list(rest),
            "proofStatus": "Incomplete: open goals remain" if rest else "Completed"})

    def _break(self, effect: Hang | Crash, timeout: float | None) -> Any:
        """What lean-interact's client does: kill the process and raise."""
        self.alive = False
        if isinstance(effect, Hang):
            raise TimeoutError(f"The Lean server did not respond in time (timeout={timeout}) and is now killed.")
        raise ConnectionAbortedError("The Lean server closed unexpectedly.")
