"""The whole-proof checker: Lean itself (``lake env lean``) on a copy of the file in which the theorem's
``sorry`` proof is replaced, inside the sandbox.

It serves two purposes: :meth:`WholeProofChecker.check` is the final word on a found proof (a proof counts
only when Lean accepts it), and the checker is a :class:`~prover.env.LeanEnv` of its own that needs no
LeanDojo: the state after a tactic prefix is read from Lean's ``unsolved goals`` error. It re-elaborates the
file for every tactic, so it is slow, but it needs nothing beyond a toolchain and a built repository.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from database.records import Theorem
from prover.env import EnvInitError, Finished, State, Step, TacticError, TacticTimeout
from prover.patch import ProofEditError, proof_span, render_proof, replace_proofs
from prover.sandbox import Sandbox, SandboxLimits, SandboxResult
from prover.toolchain import require_lean

__all__ = ["LeanMessage", "CheckResult", "WholeProofChecker", "parse_messages"]

Runner = Callable[[Sequence[str], Path], SandboxResult]
"""Runs a command (argument list) in a directory; the boundary tests replace."""

_HEADER = re.compile(r"^(?P<file>[^\n]*?):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning|info): ?", re.M)


@dataclass(frozen=True)
class LeanMessage:
    """One message of ``lean`` on a file."""

    line: int
    """1-based line."""
    column: int
    """0-based column, as Lean prints it."""
    severity: str
    """``error``, ``warning`` or ``info``."""
    text: str
    """The message (may span lines: goals follow ``unsolved goals``)."""


def parse_messages(output: str) -> list[LeanMessage]:
    """Lean's ``file:line:col: severity: text`` messages, multi-line texts kept whole.

    >>> parse_messages("A.lean:3:40: error: unsolved goals\\nn : Nat\\n⊢ n = n\\nA.lean:5:8: warning: declaration uses 'sorry'\\n")
    [LeanMessage(line=3, column=40, severity='error', text='unsolved goals\\nn : Nat\\n⊢ n = n'), \
LeanMessage(line=5, column=8, severity='warning', text="declaration uses 'sorry'")]
    """
    heads = list(_HEADER.finditer(output))
    out = []
    for head, nxt in zip(heads, heads[1:] + [None]):
        text = output[head.end():nxt.start() if nxt else len(output)].strip("\n")
        out.append(LeanMessage(int(head["line"]), int(head["col"]), head["sev"], text.rstrip()))
    return out


@dataclass(frozen=True)
class CheckResult:
    """What Lean said about one proof of one theorem."""

    ok: bool
    """Lean accepted the proof: no error and no ``sorry`` in the theorem."""
    errors: tuple[str, ...] = ()
    """Errors inside the theorem (other than unsolved goals)."""
    unsolved: str | None = None
    """The goals left open, when the proof is incomplete but otherwise fine."""
    timed_out: bool = False
    """Lean ran past the time limit."""
    seconds: float = field(default=0.0, compare=False)
    """Wall time of Lean."""


class WholeProofChecker:
    """Checks proofs of one repository's theorems with ``lake env lean`` on an edited copy of the file.

    ``repo_dir`` is a built copy of the repository; copies go to ``workdir/check``. The runner defaults to
    :class:`~prover.sandbox.Sandbox` with ``repo_dir`` and ``workdir`` writable and a per-check timeout.
    """

    def __init__(self, repo_dir: str | Path, workdir: str | Path, *, timeout: float = 300.0,
                 runner: Runner | None = None, lake: str | None = None) -> None:
        self.repo_dir = Path(repo_dir).resolve()
        self.scratch = Path(workdir).resolve() / "check"
        self.timeout = timeout
        if runner is None:
            toolchain = require_lean(self.repo_dir)
            lake = lake or toolchain.lake
            sandbox = Sandbox([self.repo_dir, self.scratch.parent], limits=SandboxLimits(wall_seconds=timeout))
            runner = lambda argv, cwd: sandbox.run(argv, cwd=cwd)  # noqa: E731
        self.runner = runner
        self.lake = lake or "lake"
        self.theorem: Theorem | None = None

    def _copy(self, theorem: Theorem, tactics: Sequence[str]) -> tuple[Path, int, int]:
        source = (self.repo_dir / theorem.path).read_text(encoding="utf-8")
        try:
            start, _ = proof_span(source, theorem)
        except ProofEditError as e:
            raise EnvInitError(str(e)) from None
        edited = replace_proofs(source, [(theorem, tactics)])
        proof_line = source.count("\n", 0, start) + 1
        last = proof_line + render_proof(tactics, 0).count("\n")
        self.scratch.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(theorem.id.encode()).hexdigest()[:16]
        path = self.scratch / f"{name}.lean"
        path.write_text(edited, encoding="utf-8")
        return path, theorem.start.line, last

    def check(self, theorem: Theorem, tactics: Sequence[str]) -> CheckResult:
        """Run Lean on the file with ``theorem``'s proof replaced by ``tactics``."""
        path, first, last = self._copy(theorem, tactics or ("skip",))
        result = self.runner([self.lake, "env", "lean", str(path)], self.repo_dir)
        if result.timed_out:
            return CheckResult(False, timed_out=True, seconds=result.seconds)
        mine = [m for m in parse_messages(result.stdout + "\n" + result.stderr) if first <= m.line <= last]
        errors = tuple(m.text for m in mine if m.severity == "error" and not m.text.startswith("unsolved goals"))
        unsolved = next((m.text.split("\n", 1)[1] if "\n" in m.text else "" for m in mine
                         if m.severity == "error" and m.text.startswith("unsolved goals")), None)
        uses_sorry = any(m.severity == "warning" and "declaration uses 'sorry'" in m.text for m in mine)
        if not errors and unsolved is None and result.returncode != 0 and not mine:
            first_line = (result.stderr.strip() or result.stdout.strip() or f"exit {result.returncode}")
            errors = (first_line.splitlines()[0],)
        ok = not errors and unsolved is None and not uses_sorry and result.returncode == 0
        if uses_sorry and not errors and unsolved is None:
            errors = ("the proof uses sorry",)
        return CheckResult(ok, errors, unsolved, False, result.seconds)

    # ---- LeanEnv ---------------------------------------------------------------------------------------

    def start(self, theorem: Theorem) -> State:
        self.theorem = theorem
        result = self.check(theorem, ())
        if result.unsolved is None:
            why = result.errors[0] if result.errors else "Lean reported no goal"
            raise EnvInitError(f"{theorem.path}: cannot start {theorem.full_name}: {why}")
        return State(result.unsolved, ())

    def run_tactic(self, state: State, tactic: str) -> Step:
        assert self.theorem is not None, "start() a theorem first"
        tactics = (*state.handle, tactic)
        result = self.check(self.theorem, tactics)
        if result.timed_out:
            return TacticTimeout(self.timeout)
        if result.ok:
            return Finished()
        if result.errors:
            return TacticError(result.errors[0])
        return State(result.unsolved or "", tactics)

    def close(self) -> None:
        self.theorem = None
