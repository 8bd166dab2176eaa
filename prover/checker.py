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

__all__ = ["LeanMessage", "CheckResult", "WholeProofChecker", "parse_messages", "axioms_answer"]

Runner = Callable[[Sequence[str], Path], SandboxResult]
"""Runs a command (argument list) in a directory; the boundary tests replace."""

_HEADER = re.compile(r"^(?P<file>[^\n]*?):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning|info)"
                     r"(?:\((?P<name>[A-Za-z0-9_.]+)\))?: ?", re.M)
"""``FILE:LINE:COL: error: ``, and since Lean 4.19 or so ``FILE:LINE:COL: error(lean.unknownIdentifier): ``."""

_SORRY = re.compile(r"declaration uses [`']sorry[`']")
"""The sorry warning, current (backticks: ``warnIfUsesSorry``) and older (quotes)."""

_AXIOMS = re.compile(r"^'(?P<name>[^\n]*)' (?:depends on axioms: \[(?P<axioms>[^\]]*)\]|does not depend on any axioms)",
                     re.M)
"""The answer to ``#print axioms NAME``, printed bare (an info message has no header); the list may wrap."""


@dataclass(frozen=True)
class LeanMessage:
    """One message of ``lean`` on a file."""

    line: int
    """1-based line (0 for a bare message: info is printed without a position)."""
    column: int
    """0-based column, as Lean prints it."""
    severity: str
    """``error``, ``warning`` or ``info``."""
    text: str
    """The message (may span lines: goals follow ``unsolved goals``)."""
    name: str = ""
    """The error's name where Lean gives one (``lean.unknownIdentifier``), else empty."""

    @property
    def goals(self) -> str:
        """The goals after the message's first line (``unsolved goals`` lists them there), else empty.

        >>> LeanMessage(3, 40, "error", "unsolved goals\\nn : Nat\\n⊢ n = n").goals
        'n : Nat\\n⊢ n = n'
        """
        return self.text.split("\n", 1)[1] if "\n" in self.text else ""

    @property
    def uses_sorry(self) -> bool:
        """The sorry warning, in either spelling.

        >>> LeanMessage(3, 8, "warning", "declaration uses `sorry`").uses_sorry
        True
        """
        return self.severity == "warning" and bool(_SORRY.search(self.text))


def parse_messages(output: str) -> list[LeanMessage]:
    """Lean's ``file:line:col: severity[(name)]: text`` messages, multi-line texts kept whole; text before the
    first header (bare info) is one ``info`` message at line 0.

    >>> parse_messages("A.lean:3:40: error: unsolved goals\\nn : Nat\\n⊢ n = n\\nA.lean:5:8: warning: declaration uses 'sorry'\\n")
    [LeanMessage(line=3, column=40, severity='error', text='unsolved goals\\nn : Nat\\n⊢ n = n', name=''), \
LeanMessage(line=5, column=8, severity='warning', text="declaration uses 'sorry'", name='')]
    >>> parse_messages("B.lean:2:6: error(lean.unknownIdentifier): unknown identifier 'foo'\\n")
    [LeanMessage(line=2, column=6, severity='error', text="unknown identifier 'foo'", name='lean.unknownIdentifier')]
    """
    heads = list(_HEADER.finditer(output))
    out = []
    lead = output[:heads[0].start() if heads else len(output)].strip("\n")
    if lead.strip():
        out.append(LeanMessage(0, 0, "info", lead.rstrip()))
    for head, nxt in zip(heads, heads[1:] + [None]):
        text = output[head.end():nxt.start() if nxt else len(output)].strip("\n")
        out.append(LeanMessage(int(head["line"]), int(head["col"]), head["sev"], text.rstrip(), head["name"] or ""))
    return out


def axioms_answer(output: str) -> tuple[str, ...] | None:
    """The axioms in the answer to the file's last command, ``#print axioms NAME``; None when the output does
    not end with such an answer (the command failed, or something else was printed after it). Only the last
    answer counts: a tactic can print any text before it (``trace``), nothing after it.

    >>> axioms_answer("'Foo.t' depends on axioms: [propext,\\n sorryAx]\\n")
    ('propext', 'sorryAx')
    >>> axioms_answer("'t' does not depend on any axioms\\n")
    ()
    >>> axioms_answer("'t' does not depend on any axioms\\nF.lean:9:0: error: unknown constant 'u'\\n") is None
    True
    """
    answers = list(_AXIOMS.finditer(output))
    if not answers:
        return None
    last = answers[-1]
    if _HEADER.search(output, last.end()) or output[last.end():].strip():
        return None
    return tuple(a.strip() for a in (last["axioms"] or "").replace("\n", " ").split(",") if a.strip())


@dataclass(frozen=True)
class CheckResult:
    """What Lean said about one proof of one theorem."""

    ok: bool
    """Lean accepted the proof: no error and no ``sorry`` in the theorem (and, from :meth:`verify`: no
    ``sorryAx`` among its axioms, the rest of the file unchanged in text and in Lean's verdict)."""
    errors: tuple[str, ...] = ()
    """Why not: errors inside the theorem (other than unsolved goals), or the check that failed."""
    unsolved: str | None = None
    """The goals left open, when the proof is incomplete but otherwise fine."""
    timed_out: bool = False
    """Lean ran past the time limit."""
    seconds: float = field(default=0.0, compare=False)
    """Wall time of Lean."""


@dataclass(frozen=True)
class _Edit:
    """A copy of a theorem's file with its proof replaced (and maybe a command appended)."""

    path: Path
    """The copy."""
    first: int
    """The theorem's first line (the same in the copy and the original)."""
    last: int
    """The proof's last line in the copy."""
    shift: int
    """Lines the copy gained (negative: lost) at the proof: a line after it moved by this much."""
    lines: int
    """Lines of the original file."""


class WholeProofChecker:
    """Checks proofs of one repository's theorems with ``lake env lean`` on an edited copy of the file.

    ``repo_dir`` is a built copy of the repository; copies go to ``workdir/check``. The runner defaults to
    :class:`~prover.sandbox.Sandbox` with ``repo_dir`` and ``workdir`` writable and a per-check timeout
    (a whole file: ``prover.check_timeout``, not the per-tactic limit).
    """

    def __init__(self, repo_dir: str | Path, workdir: str | Path, *, timeout: float = 600.0,
                 runner: Runner | None = None, lake: str | None = None) -> None:
        self.repo_dir = Path(repo_dir).resolve()
        self.scratch = Path(workdir).resolve() / "check"
        self.timeout = timeout
        if runner is None:
            toolchain = require_lean(self.repo_dir)
            lake = lake or toolchain.lake
            self.scratch.mkdir(parents=True, exist_ok=True)
            sandbox = Sandbox([self.repo_dir, self.scratch], limits=SandboxLimits(wall_seconds=timeout))
            runner = lambda argv, cwd: sandbox.run(argv, cwd=cwd)  # noqa: E731
        self.runner = runner
        self.lake = lake or "lake"
        self.theorem: Theorem | None = None
        self._baselines: dict[str, list[LeanMessage] | None] = {}

    def _write(self, theorem: Theorem, text: str, tag: str) -> Path:
        self.scratch.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(f"{theorem.id}\x1f{tag}".encode()).hexdigest()[:16]
        path = self.scratch / f"{name}.lean"
        path.write_text(text, encoding="utf-8")
        return path

    def _copy(self, theorem: Theorem, tactics: Sequence[str], *, appended: str = "") -> _Edit:
        source = (self.repo_dir / theorem.path).read_text(encoding="utf-8")
        try:
            start, end = proof_span(source, theorem)
        except ProofEditError as e:
            raise EnvInitError(str(e)) from None
        edited = replace_proofs(source, [(theorem, tactics)])
        rendered = render_proof(tactics, theorem.start.column - 1 + 2)
        # The edit is the proof span only: everything before it (the statement) and after it stays byte for byte.
        if edited[:start] != source[:start] or edited[start + len(rendered):] != source[end:]:
            raise EnvInitError(f"{theorem.path}: replacing the proof of {theorem.full_name} changed other text")
        if appended:
            edited = edited + ("" if edited.endswith("\n") else "\n") + appended + "\n"
        proof_line = source.count("\n", 0, start) + 1
        last = proof_line + rendered.count("\n")
        shift = rendered.count("\n") - source.count("\n", start, end)
        return _Edit(self._write(theorem, edited, "edit"), theorem.start.line, last, shift, source.count("\n") + 1)

    def _lean(self, path: Path) -> SandboxResult:
        return self.runner([self.lake, "env", "lean", str(path)], self.repo_dir)

    def check(self, theorem: Theorem, tactics: Sequence[str]) -> CheckResult:
        """Run Lean on the file with ``theorem``'s proof replaced by ``tactics``: the verdict on the theorem
        alone (what the search needs to read a state). The final word on a proof is :meth:`verify`."""
        edit = self._copy(theorem, tactics or ("skip",))
        result = self._lean(edit.path)
        if result.timed_out:
            return CheckResult(False, timed_out=True, seconds=result.seconds)
        messages = parse_messages(result.stdout + "\n" + result.stderr)
        mine = [m for m in messages if edit.first <= m.line <= edit.last]
        errors = tuple(m.text for m in mine if m.severity == "error" and not m.text.startswith("unsolved goals"))
        unsolved = next((m.goals for m in mine
                         if m.severity == "error" and m.text.startswith("unsolved goals")), None)
        uses_sorry = any(m.uses_sorry for m in mine)
        if not errors and unsolved is None and result.returncode != 0 and not any(m.severity == "error" for m in messages):
            errors = (_first_line(result),)  # lake itself failed (no file message): never a proof, never a state
        if uses_sorry and not errors and unsolved is None:
            errors = ("the proof uses sorry",)
        ok = not errors and unsolved is None and result.returncode == 0
        return CheckResult(ok, errors, unsolved, False, result.seconds)

    def _baseline(self, theorem: Theorem) -> list[LeanMessage] | None:
        """Lean's messages on the file as it is (once per file), None when Lean timed out on it."""
        if theorem.path not in self._baselines:
            source = (self.repo_dir / theorem.path).read_text(encoding="utf-8")
            result = self._lean(self._write(theorem, source, "original"))
            self._baselines[theorem.path] = (None if result.timed_out
                                             else parse_messages(result.stdout + "\n" + result.stderr))
        return self._baselines[theorem.path]

    def verify(self, theorem: Theorem, tactics: Sequence[str]) -> CheckResult:
        """The final word on a proof found by any environment: the proof spliced into a copy of the file,
        ``#print axioms NAME`` appended, compiled with ``lake env lean``. It passes only when there is no
        error and no sorry warning in the theorem, the axioms exclude ``sorryAx``, the rest of the file is
        byte for byte the same, and every other declaration keeps its errors and sorry warnings (compared
        with Lean on the unedited file)."""
        if not tactics:
            return CheckResult(False, ("no proof to check",))
        edit = self._copy(theorem, tactics, appended=f"#print axioms {theorem.full_name}")
        result = self._lean(edit.path)
        if result.timed_out:
            return CheckResult(False, (f"Lean ran past {self.timeout:g} s on the whole file",), timed_out=True,
                               seconds=result.seconds)
        output = result.stdout + "\n" + result.stderr
        messages = parse_messages(output)
        reasons: list[str] = []
        unsolved = None
        for m in messages:
            if edit.first <= m.line <= edit.last and m.severity == "error":
                if m.text.startswith("unsolved goals"):
                    unsolved = m.goals
                else:
                    reasons.append(m.text.split("\n", 1)[0])
            elif edit.first <= m.line <= edit.last and m.uses_sorry:
                reasons.append("the proof uses sorry")
        if unsolved is not None:
            reasons.append("unsolved goals")
        baseline = self._baseline(theorem)
        if baseline is None:
            reasons.append("Lean timed out on the unedited file, so the rest of the file cannot be compared")
        else:
            before = _elsewhere(baseline, theorem.start.line, theorem.end.line, lambda line: line)
            after = _elsewhere(messages, edit.first, edit.last,
                               lambda line: line if line < edit.first else line - edit.shift)
            if after["error"] - before["error"]:
                line, text = sorted(after["error"] - before["error"])[0]
                where = "the appended #print axioms" if line > edit.lines else f"line {line}"
                reasons.append(f"the edit breaks {where}: {text}")
            if after["sorry"] != before["sorry"]:
                reasons.append("another declaration of the file gained or lost a sorry")
        axioms = axioms_answer(output)
        if axioms is None:
            reasons.append(f"no answer to #print axioms {theorem.full_name}")
        elif "sorryAx" in axioms:
            reasons.append("its axioms include sorryAx")
        if not messages and result.returncode != 0:
            reasons.append(_first_line(result))
        reasons = list(dict.fromkeys(reasons))
        return CheckResult(not reasons, tuple(reasons), unsolved, False, result.seconds)

    # ---- LeanEnv ---------------------------------------------------------------------------------------

    def start(self, theorem: Theorem) -> State:
        self.theorem = theorem
        result = self.check(theorem, ())
        if not result.unsolved:
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
        if not result.unsolved:  # an empty state is not a finished proof, and not a state either
            return TacticError("Lean rejected the proof without naming the goals left")
        return State(result.unsolved, tactics)

    def close(self) -> None:
        self.theorem = None


def _first_line(result: SandboxResult) -> str:
    text = result.stderr.strip() or result.stdout.strip() or f"exit {result.returncode}"
    return text.splitlines()[0]


def _elsewhere(messages: Sequence[LeanMessage], first: int, last: int,
               to_original: Callable[[int], int]) -> dict[str, set[tuple[int, str]]]:
    """Errors and sorry warnings outside lines ``first``–``last``, at their line in the unedited file.

    >>> ms = [LeanMessage(2, 0, "warning", "declaration uses `sorry`"), LeanMessage(9, 0, "error", "boom"),
    ...       LeanMessage(5, 2, "error", "inside")]
    >>> _elsewhere(ms, 4, 6, lambda line: line if line < 4 else line - 1)
    {'error': {(8, 'boom')}, 'sorry': {(2, '')}}
    """
    out: dict[str, set[tuple[int, str]]] = {"error": set(), "sorry": set()}
    for m in messages:
        if m.line == 0 or first <= m.line <= last:
            continue
        if m.severity == "error":
            out["error"].add((to_original(m.line), m.text.split("\n", 1)[0]))
        elif m.uses_sorry:
            out["sorry"].add((to_original(m.line), ""))
    return out
