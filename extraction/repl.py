"""The REPL extractor: the Lean REPL's ``all_tactics`` answer for each file → the static records, with a proof
state before and after every tactic and the premises each tactic uses, as the traced extractor gives them.

What the REPL gives (``FileCommand(path=…, all_tactics=True)``, lean-interact's ``CommandResponse``): per
tactic of the file, its range (``pos``/``endPos``: 1-based line, 0-based column in code points), the goals
before it (``goals``: Lean's ``ContextInfo.ppGoals``, the goals joined by one newline, ``no goals`` when
none) and ``usedConstants`` (the constants of the terms it assigned). Only "substantive" tactics come back:
the REPL leaves out ``by``, tactic sequences, ``·``, ``(…)`` and ``<;>`` themselves (their tactics are
there). A tactic run once per goal (``<;>``, ``all_goals``) comes back once per run: the first run is kept.

The mapping (:func:`from_repl`) keeps everything of the static scan (files, premises, statements, proofs)
and replaces, in each file the REPL elaborated without error, the steps of every theorem whose proof holds
tactics (a tactic belongs to the theorem whose proof span holds its start):

- ``tactic``: the tactic as written (the source between ``pos`` and ``endPos``);
- ``state_before``: its goals, one blank line between goals as in LeanDojo's traced states;
- ``state_after``: not given by the REPL; the goals before the next tactic of the same tactic block, plus
  the goal each ``·`` block between them starts with (a ``·`` focuses on one goal and must close it), or
  ``no goals`` at the end of a block (a ``by`` block, a ``·`` block, an arm ``| … =>``). Blocks are read
  from the nesting of the ranges and the layout (:func:`after_states`); exact where every block closes its
  goals, approximate inside ``all_goals``/``try``/``<;>`` (the goals of the next run);
- ``premises``: the used constants that are declarations of the corpus (the repository's premises and
  the dependencies'), ``_private`` names read as the name declared; the theorem's premises are its
  steps' (constants of term-mode parts outside any tactic are not reported by the REPL). Unlike LeanDojo's
  annotations (the names written in the tactic), these include what a tactic used unnamed (the lemmas
  ``simp`` rewrote with, an instance ``exact`` found) when the corpus declares them.

A theorem without tactics in an elaborated file (a term proof) keeps its static record. A file the REPL could
not elaborate (a ``LeanError``, a crash, a timeout, an error message) keeps its static records with one
warning line. :func:`repl_extract` runs the REPL over a repository's files through an injected
``run_file``.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from database.records import RepoScan, TacticStep, Theorem

__all__ = ["from_repl", "repl_extract", "split_goals", "public_name", "supports_version", "LocalRepl",
           "ReplUnavailable", "REPL_VERSIONS", "NO_GOALS"]

log = logging.getLogger(__name__)

NO_GOALS = "no goals"
REPL_VERSIONS = ("v4.8.0-rc1", "v4.36.0-rc1")
"""The Lean versions lean-interact 0.11 supports, both ends included (its README)."""

RunFile = Callable[[Path], Any]
"""``run_file(path)`` → lean-interact's ``CommandResponse`` of ``FileCommand(path, all_tactics=True)``, or its
``LeanError``; may raise what lean-interact's server raises (``TimeoutError``, ``ConnectionAbortedError``, …)."""


class ReplUnavailable(RuntimeError):
    """The Lean REPL could not be started on a repository (no Lean, the project does not build, …)."""


def _version_key(version: str) -> tuple[int, int, int, float] | None:
    m = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:-rc(\d+))?", version.strip().removeprefix("leanprover/lean4:"))
    if m is None:
        return None
    return int(m[1]), int(m[2]), int(m[3]), int(m[4]) if m[4] else float("inf")


def supports_version(lean_version: str) -> bool:
    """Whether lean-interact can run the REPL for a ``lean-toolchain`` (:data:`REPL_VERSIONS`).

    >>> [supports_version(v) for v in ("leanprover/lean4:v4.9.0", "v4.8.0-rc1", "v4.7.0", "leanprover/lean4:nightly")]
    [True, True, False, False]
    """
    key = _version_key(lean_version)
    low, high = (_version_key(v) for v in REPL_VERSIONS)
    return key is not None and low <= key <= high  # type: ignore[operator]


def split_goals(goals: str) -> list[str]:
    """The goals of a state Lean printed one after another (``ContextInfo.ppGoals`` joins them by one newline):
    a goal ends with its ``⊢`` line and the indented lines that continue it.

    >>> split_goals("case left\\np q : Prop\\n⊢ p\\ncase right\\np q : Prop\\n⊢ q ∧\\n    p")
    ['case left\\np q : Prop\\n⊢ p', 'case right\\np q : Prop\\n⊢ q ∧\\n    p']
    >>> split_goals("no goals"), split_goals("n : Nat\\n⊢ n = n\\n\\n⊢ True")
    ([], ['n : Nat\\n⊢ n = n', '⊢ True'])
    """
    if goals.strip() in ("", NO_GOALS):
        return []
    out: list[str] = []
    current: list[str] = []
    closed = False  # the current goal has its ⊢ line
    for line in goals.strip().splitlines():
        if not line.strip():
            continue
        if closed and not line[0].isspace():
            out.append("\n".join(current))
            current, closed = [], False
        current.append(line)
        closed = closed or line.startswith("⊢")
    if current:
        out.append("\n".join(current))
    return out


def _state(goals: str) -> str:
    """LeanDojo's shape of a state: the goals separated by a blank line, ``no goals`` when none."""
    return "\n\n".join(split_goals(goals)) or NO_GOALS


def public_name(name: str) -> str:
    """The declared name of a constant (a ``private`` one is ``_private.<module>.0.<name>`` inside Lean).

    >>> public_name("_private.Demo.Basic.0.Demo.helper"), public_name("Nat.add_zero")
    ('Demo.helper', 'Nat.add_zero')
    """
    if name.startswith("_private."):
        _, sep, rest = name.partition(".0.")
        if sep:
            return rest
    return name


class _Lines:
    """Offsets of a text's lines: REPL positions (1-based line, 0-based column) ↔ offsets in code points."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def offset(self, line: int, column: int) -> int:
        line = min(max(line, 1), len(self.starts))
        return min(self.starts[line - 1] + column, len(self.text))

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def lead(self, line: int) -> int:
        """Column of the first non-blank character of a line."""
        start = self.starts[line - 1]
        end = self.starts[line] - 1 if line < len(self.starts) else len(self.text)
        row = self.text[start:end]
        return len(row) - len(row.lstrip())


@dataclass(frozen=True)
class _Tactic:
    """One tactic of the REPL's answer, located in the file's text."""

    start: int
    end: int
    line: int
    column: int
    text: str
    state: str
    premises: tuple[str, ...]


@dataclass
class _Block:
    """A tactic block: its tactics (indices), the first one's line and column, the blocks opened inside it."""

    line: int
    column: int
    bullet: bool = False
    members: list[int] = field(default_factory=list)
    inner: dict[int, list[_Block]] = field(default_factory=dict)
    """Blocks opened before member ``k`` (after member ``k - 1``), by ``k``."""


_NAME_CHAR = re.compile(r"[\w.'!?]")


def _opener(text: str, start: int) -> tuple[str, int]:
    """What opens a block right before a tactic (``·``/``.``, ``=>``, ``by``; ``""`` for none) and where."""
    k = start - 1
    while k >= 0 and text[k].isspace():
        k -= 1
    if k < 0:
        return "", start
    if text[k] == "·" or (text[k] == "." and (k == 0 or text[k - 1].isspace())):
        return "bullet", k
    if k >= 1 and text[k - 1:k + 1] == "=>":
        return "arm", k - 1
    if k >= 1 and text[k - 1:k + 1] == "by" and (k < 2 or not _NAME_CHAR.match(text[k - 2])):
        return "by", k - 1
    return "", start


def _parents(tactics: list[_Tactic]) -> list[int]:
    """Index of the innermost tactic whose range holds each one (-1: none); ``tactics`` sorted by
    (start, -end)."""
    parents, stack = [], []
    for i, t in enumerate(tactics):
        while stack and not (tactics[stack[-1]].start <= t.start and t.end <= tactics[stack[-1]].end):
            stack.pop()
        parents.append(stack[-1] if stack else -1)
        stack.append(i)
    return parents


def _blocks(members: list[int], tactics: list[_Tactic], lines: _Lines) -> list[_Block]:
    """The blocks of one parent's tactics: a tactic after an opener starts a block; a block ends at a line
    (of a tactic or of its opener) that starts left of the block's first tactic."""
    root = _Block(line=0, column=-1)
    stack, blocks = [root], [root]
    for i in members:
        t = tactics[i]
        kind, at = _opener(lines.text, t.start)
        anchor = lines.line(at)
        lead = lines.lead(anchor)
        while len(stack) > 1 and anchor > stack[-1].line and lead < stack[-1].column:
            stack.pop()
        if kind:
            block = _Block(line=t.line, column=t.column, bullet=kind == "bullet")
            stack[-1].inner.setdefault(len(stack[-1].members), []).append(block)
            stack.append(block)
            blocks.append(block)
        stack[-1].members.append(i)
    return blocks


def after_states(tactics: list[_Tactic], lines: _Lines) -> list[str]:
    """The state after each tactic (see the module docstring), ``tactics`` sorted by (start, -end)."""
    groups: dict[int, list[int]] = defaultdict(list)
    for i, parent in enumerate(_parents(tactics)):
        groups[parent].append(i)
    after = [NO_GOALS] * len(tactics)
    for members in groups.values():
        for block in _blocks(members, tactics, lines):
            for k, i in enumerate(block.members):
                parts = [tactics[b.members[0]].state for b in block.inner.get(k + 1, ()) if b.bullet]
                if k + 1 < len(block.members):
                    parts.append(tactics[block.members[k + 1]].state)
                after[i] = "\n\n".join(p for p in parts if p != NO_GOALS) or NO_GOALS
    return after


def _tactics(response: Any, lines: _Lines, corpus: set[str]) -> list[_Tactic]:
    out, seen = [], set()
    for t in response.tactics:
        start = lines.offset(t.start_pos.line, t.start_pos.column)
        end = lines.offset(t.end_pos.line, t.end_pos.column)
        if (start, end) in seen:  # the same tactic run again on another goal: its first run is kept
            continue
        seen.add((start, end))
        premises = tuple(dict.fromkeys(n for c in t.used_constants if (n := public_name(c)) in corpus))
        line = lines.line(start)
        out.append(_Tactic(start, end, line, start - lines.starts[line - 1], lines.text[start:end] or t.tactic,
                           _state(t.goals), premises))
    return sorted(out, key=lambda t: (t.start, -t.end))


def _proof_span(theorem: Theorem, lines: _Lines) -> tuple[int, int]:
    start = lines.offset(theorem.start.line, theorem.start.column - 1)
    end = lines.offset(theorem.end.line, theorem.end.column - 1)
    at = lines.text.rfind(theorem.proof, start, end) if theorem.proof else -1
    return (at if at >= 0 else start), end


def _file_theorems(theorems: list[Theorem], response: Any, text: str, corpus: set[str]) -> dict[str, Theorem]:
    """The file's theorems that hold tactics, rebuilt with the REPL's steps, by id."""
    lines = _Lines(text)
    spans = sorted((*_proof_span(t, lines), k) for k, t in enumerate(theorems))
    starts = [s for s, _, _ in spans]
    owned: dict[int, list[_Tactic]] = defaultdict(list)
    for tactic in _tactics(response, lines, corpus):
        k = bisect.bisect_right(starts, tactic.start) - 1
        if k >= 0 and tactic.start < spans[k][1]:
            owned[spans[k][2]].append(tactic)
    out = {}
    for k, tactics in owned.items():
        steps = tuple(TacticStep(t.text, t.state, after, t.premises)
                      for t, after in zip(tactics, after_states(tactics, lines)))
        premises = tuple(dict.fromkeys(p for s in steps for p in s.premises))
        theorem = theorems[k]
        out[theorem.id] = dataclasses.replace(theorem, steps=steps, premises=premises, extractor="repl")
    return out


def _failure(response: Any) -> str | None:
    """Why a file's answer cannot be used, or None."""
    from lean_interact.interface import CommandResponse

    if not isinstance(response, CommandResponse):
        first = (str(getattr(response, "message", "")).strip().splitlines() or ["no message"])[0]
        return f"the Lean REPL failed ({first})"
    errors = response.get_errors()
    if errors:
        e = errors[0]
        first = (e.data.strip().splitlines() or [""])[0]
        return (f"Lean reports {len(errors)} error{'s' if len(errors) > 1 else ''}, the first at "
                f"{e.start_pos.line}:{e.start_pos.column + 1}: {first}")
    return None


def from_repl(scan: RepoScan, responses: Mapping[str, Any], sources: Mapping[str, str],
              corpus: Iterable[str] = (), seconds: float = 0.0) -> RepoScan:
    """The static ``scan`` with the REPL's steps (see the module docstring).

    ``responses``: per file path, the ``CommandResponse`` of ``FileCommand(all_tactics=True)`` or a
    ``LeanError``; ``sources``: the text of each such file; ``corpus``: names of the dependencies' premises
    (the repository's own are in ``scan``). Files without a response keep their static records silently.
    The scan says ``extractor="repl"`` when at least one file was elaborated.
    """
    names = {p.full_name for p in scan.premises} | set(corpus)
    by_path: dict[str, list[Theorem]] = defaultdict(list)
    for theorem in scan.theorems:
        by_path[theorem.path].append(theorem)
    warnings, rebuilt, elaborated = list(scan.warnings), {}, 0
    for path in sorted(responses):
        problem = _failure(responses[path])
        if problem is not None:
            warnings.append(f"{path}: {problem}; kept its static records")
            continue
        if path not in sources:
            raise ValueError(f"no source text given for {path}: pass the text the REPL elaborated")
        elaborated += 1
        rebuilt.update(_file_theorems(by_path[path], responses[path], sources[path], names))
    return dataclasses.replace(scan, theorems=tuple(rebuilt.get(t.id, t) for t in scan.theorems),
                               warnings=tuple(warnings), extractor="repl" if elaborated else scan.extractor,
                               seconds=scan.seconds + seconds)


def _start_errors() -> tuple[type[BaseException], ...]:
    """What starting lean-interact's server raises when it cannot: ``lake`` missing (``RuntimeError``), the
    build failing (``CalledProcessError``), the REPL not cloned (GitPython's errors; ``ImportError`` when
    GitPython finds no ``git``), a bad version (``ValueError``), a process that does not start (``OSError``)."""
    import subprocess

    errors: tuple[type[BaseException], ...] = (OSError, ValueError, RuntimeError, ImportError,
                                                subprocess.CalledProcessError)
    try:
        from git.exc import GitError
    except ImportError:  # GitPython does not load without a git executable: then nothing raises its errors
        return errors
    return (*errors, GitError)


class LocalRepl:
    """``run_file`` on one lean-interact server over the project at ``root``, started at the first file by
    ``servers()`` and started again after a file that timed out or crashed it.

    ``servers``: a factory of lean-interact servers (``run(request, timeout=)``, ``kill()``): the pipeline gives
    ``prover.repl.LeanInteractServers``, sandboxed, on the project ``leanagent.project.prepare_project`` built (there is
    no unsandboxed default: a repository's code runs only inside the sandbox).
    """

    def __init__(self, root: Path, *, servers: Callable[[], Any], timeout: float = 600.0) -> None:
        self.root, self.timeout = Path(root).resolve(), timeout
        self.servers = servers
        self.server: Any = None

    def __call__(self, path: Path) -> Any:
        from lean_interact import FileCommand

        if self.server is None:
            try:
                self.server = self.servers()
            except _start_errors() as err:
                first = (str(err).strip().splitlines() or [type(err).__name__])[0]
                raise ReplUnavailable(f"cannot start the Lean REPL on {self.root}: {first}") from err
        try:
            return self.server.run(FileCommand(path=str(Path(path).resolve()), all_tactics=True),
                                   timeout=self.timeout)
        except OSError:  # timed out or died (lean-interact killed it): a fresh server for the next file
            self.close()
            raise

    def close(self) -> None:
        """Stop the server (if one is running)."""
        if self.server is not None:
            self.server.kill()
            self.server = None


def repl_extract(scan: RepoScan, root: Path, *, run_file: RunFile,
                 corpus: Iterable[str] = ()) -> RepoScan:
    """``scan`` (the static scan of the repository at ``root``) with the REPL's steps for every file holding
    theorems; ``run_file``: a :class:`LocalRepl` on ``root`` (the caller closes it), or a test double.

    A file whose run raises what lean-interact raises for a dead, stuck or garbled REPL (``OSError``:
    timeouts, crashes; ``ValueError``: unreadable JSON; ``MemoryError``) keeps its static records with one
    warning line, logged. :class:`ReplUnavailable` (the REPL does not start) propagates.
    """
    try:
        from lean_interact.interface import LeanError
    except ImportError as err:
        raise ReplUnavailable(f"lean-interact is not installed ({err}): pip install lean-interact") from err
    started = time.perf_counter()
    runner = run_file
    responses: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for path in sorted({t.path for t in scan.theorems}):
        file = Path(root) / path
        try:
            sources[path] = file.read_text(encoding="utf-8", errors="replace")
            responses[path] = runner(file)
        except (OSError, ValueError, MemoryError) as err:
            first = (str(err).strip().splitlines() or [""])[0]
            responses[path] = LeanError(message=f"{type(err).__name__}: {first}".rstrip(": "))
    out = from_repl(scan, responses, sources, corpus, seconds=time.perf_counter() - started)
    for warning in out.warnings[len(scan.warnings):]:
        log.warning("%s", warning)
    return out
