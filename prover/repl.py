"""The Lean REPL through lean-interact behind the :class:`~prover.env.LeanEnv` protocol: each file is elaborated
once, and tactics run on the proof states the REPL hands back.

Written against lean-interact 0.11.6 (``lean_interact/server.py``, ``interface.py``) and the REPL it builds
(``augustepoiroux/repl`` v1.3.19, ``REPL/Main.lean``, ``REPL/JSON.lean``):

- ``FileCommand(path=…, root_goals=True)`` answers a ``CommandResponse`` whose ``sorries`` hold every ``sorry``
  of the file (``pos``/``endPos``, ``goal``, ``proofState``, a term-mode ``:= sorry`` included) and, with
  ``rootGoals``, the initial goal of every tactic proof as an entry whose ``pos`` equals its ``endPos`` (at the
  ``by``). Positions are Lean's: line 1-based, column 0-based in code points.
- ``ProofStep(proof_state=…, tactic=…)`` answers a ``ProofStepResponse``: ``goals`` (one string per goal),
  ``messages``, ``sorries`` and ``proofStatus``: ``Completed``, ``Incomplete: open goals remain``,
  ``Incomplete: contains sorry``, ``Incomplete: contains metavariable(s)``, ``Error: …``, ``Not verified: …``.
  A tactic that throws comes back as ``LeanError("Lean error:\\n…")``; an id the REPL does not hold as
  ``LeanError("Unknown proof state.")``.
- ``LeanServer.run`` raises ``TimeoutError`` past its ``timeout`` (having killed the process),
  ``ConnectionAbortedError`` when the process dies mid-answer, ``ChildProcessError`` when it is not running,
  ``json.JSONDecodeError`` (a ``ValueError``) on output that is not JSON.

A new REPL process numbers its proof states from 0 again, so an id from before a restart would silently name
another state. Every state handle therefore carries the generation of the process it came from; a state of
an earlier generation is rebuilt by elaborating its file again and replaying its tactics. That is how a
tactic that runs past its time limit is a :class:`~prover.env.TacticTimeout` (the search goes on) although
lean-interact kills the process. We use ``LeanServer``, not ``AutoLeanServer``: the latter restarts on its own
(memory, a dead process) and its session cache does not keep the sorries' proof states, so the ids would go
stale unseen.

The REPL runs as ``lake env …/repl`` in the project directory; lean-interact starts every ``lake`` from its
``lake_path`` setting, which :func:`repl_config` points at a sandbox shim (no network, writes only to the
project, the workdir and the REPL cache). ``PATH`` is left alone.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from database.records import Theorem
from prover.env import EnvCrashed, EnvInitError, Finished, State, Step, TacticError, TacticTimeout
from prover.patch import ProofEditError, proof_span

__all__ = ["ReplEnv", "ReplHandle", "step_outcome", "pick_start", "repl_position", "repl_tactic", "repl_config",
           "LeanInteractServers", "SORRY_WARNINGS"]

log = logging.getLogger(__name__)

ServerFactory = Callable[[], Any]
"""Starts a REPL process: lean-interact's ``LeanServer`` or a double with ``run(request, timeout=)`` and
``kill()`` (``get_memory_usage()`` when it can tell)."""

SORRY_WARNINGS = ("declaration uses 'sorry'", "declaration uses `sorry`")
"""Lean's warning for a declaration that uses ``sorry``: older versions quote it, current ones use backticks."""

_GIVES_UP = re.compile(r"(?<![\w.'])(sorry|admit)(?![\w'!?])")
"""A tactic that names ``sorry`` or ``admit`` (not as part of a longer name) gives up, whatever Lean says."""


def first_line(text: object) -> str:
    """The first non-empty line of a message.

    >>> first_line("\\nunknown identifier 'x'\\nmore")
    "unknown identifier 'x'"
    """
    return next((line.strip() for line in str(text).splitlines() if line.strip()), "")


def repl_position(text: str, offset: int) -> tuple[int, int]:
    """Lean's position of a string offset: (line 1-based, column 0-based in code points).

    >>> repl_position("ab\\ncd", 4)
    (2, 1)
    """
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1)


def repl_tactic(tactic: str) -> str:
    """The tactic as the REPL must get it: its ``runString`` parses one ``tactic`` (the category), so a block of
    several lines or of ``;``-separated tactics goes in parentheses, its lines kept in one column and the
    closing parenthesis on a line of its own (a trailing ``--`` comment cannot swallow it).

    >>> repl_tactic("simp")
    'simp'
    >>> repl_tactic("intro h\\nexact h")
    '(intro h\\n exact h\\n)'
    """
    tactic = tactic.strip("\n")
    if "\n" not in tactic and ";" not in tactic:
        return tactic
    return "(" + tactic.replace("\n", "\n ") + "\n)"


def _at(pos: Any) -> tuple[int, int] | None:
    """A lean-interact ``Pos`` as (line, column), or None."""
    return None if pos is None else (pos.line, pos.column)


@dataclass(frozen=True)
class ReplHandle:
    """Where a :class:`~prover.env.State` lives in the REPL."""

    generation: int
    """The REPL process it belongs to (the env counts restarts)."""
    proof_state: int
    """The REPL's proof state id in that process."""
    path: tuple[str, ...]
    """The tactics from the theorem's start state to it (replayed after a restart)."""


def pick_start(response: Any, text: str, start: int, end: int) -> tuple[Any, str]:
    """The REPL entry a theorem's search starts from, given the file's ``CommandResponse``, the file's text
    and the proof's offsets ``[start, end)``; (entry or None, a note when it is not the statement's goal).

    The root goal of a tactic proof (an entry at the proof's first character with ``pos == endPos``) is the
    statement; else a ``sorry`` with nothing but ``by`` before it in the proof (``:= sorry``, ``:= by sorry``)
    is; else the first ``sorry`` of the proof, said in the note (its goal is not the whole statement).

    >>> from lean_interact.interface import CommandResponse
    >>> text = "theorem t : 1 = 1 := by\\n  sorry\\n"
    >>> r = CommandResponse.model_validate({"env": 0, "sorries": [{"pos": {"line": 2, "column": 2},
    ...     "endPos": {"line": 2, "column": 7}, "goal": "⊢ 1 = 1", "proofState": 0}]})
    >>> entry, note = pick_start(r, text, 21, 31)
    >>> entry.proof_state, note
    (0, '')
    """
    first, last = repl_position(text, start), repl_position(text, end)
    inside = [s for s in response.sorries if s.proof_state is not None and s.start_pos is not None
              and s.end_pos is not None and first <= _at(s.start_pos) and _at(s.end_pos) <= last]
    roots = [s for s in inside if _at(s.start_pos) == first and s.start_pos == s.end_pos]
    if roots:
        return roots[0], ""
    sorries = sorted((s for s in inside if s.start_pos != s.end_pos), key=lambda s: _at(s.start_pos))
    if not sorries:
        return None, ""
    entry = sorries[0]
    line, column = _at(entry.start_pos)
    offset = text.rfind("\n", 0, start) + 1  # the proof's line, then down to the sorry's
    for _ in range(line - first[0]):
        offset = text.index("\n", offset) + 1
    before = text[start:offset + column].strip()
    if before in ("", "by") and len(sorries) == 1:
        return entry, ""
    return entry, (f"searching from its first sorry at {line}:{column + 1} ({len(sorries)} in the proof): a proof "
                   "found there proves that sorry's goal, not the whole statement")


def step_outcome(response: Any) -> Step | list[str]:
    """What a ``ProofStep`` answer means: the new goals (a list), or :class:`~prover.env.Finished` /
    :class:`~prover.env.TacticError`. A step that uses ``sorry`` (its ``sorries``, an ``Incomplete: contains
    sorry`` status, a sorry warning) is never finished.

    >>> from lean_interact.interface import LeanError, ProofStepResponse
    >>> step_outcome(ProofStepResponse.model_validate({"proofState": 1, "goals": [], "proofStatus": "Completed"}))
    Finished(message='')
    >>> step_outcome(ProofStepResponse.model_validate({"proofState": 2, "goals": [],
    ...                                                "proofStatus": "Incomplete: contains sorry"}))
    TacticError(error='the tactic uses sorry')
    >>> step_outcome(LeanError.model_validate({"message": "Lean error:\\n<input>:1:0: unknown tactic"}))
    TacticError(error='<input>:1:0: unknown tactic')
    """
    if not hasattr(response, "proof_status"):  # lean-interact's LeanError: the tactic threw
        return TacticError(response.message.removeprefix("Lean error:").strip() or "the Lean REPL refused the tactic")
    errors = [m.data for m in response.messages if m.severity == "error"]
    if errors:
        return TacticError(errors[0])
    status = response.proof_status
    if response.sorries or "sorry" in status or any(m.data.strip() in SORRY_WARNINGS for m in response.messages):
        return TacticError("the tactic uses sorry")
    if status.startswith("Error"):
        return TacticError(status)
    if response.goals:
        return list(response.goals)
    if status == "Completed":
        return Finished("\n".join(m.data for m in response.messages if m.severity == "warning"))
    return TacticError(f"no goal is left but Lean does not accept the proof: {status}")


class ReplEnv:
    """A :class:`~prover.env.LeanEnv` over the Lean REPL for one built project at ``root``: one REPL process,
    each file elaborated once for all its theorems, restarted after a crash or a timeout (and, at a file
    boundary, when its memory passes 70% of ``memory_mb``). Not thread safe: one per worker.

    ``server_factory`` starts a REPL process (tests pass a double); by default lean-interact's ``LeanServer``
    on :func:`repl_config`, prepared on first use, with its REPL cache in ``cache_dir`` (``workdir/lean-interact``).
    """

    def __init__(self, root: str | Path, workdir: str | Path, *, tactic_timeout: float = 60,
                 memory_mb: int = 32768, file_timeout: float = 600.0, cache_dir: str | Path | None = None,
                 server_factory: ServerFactory | None = None) -> None:
        self.root, self.workdir = Path(root).resolve(), Path(workdir).resolve()
        self.tactic_timeout, self.memory_mb, self.file_timeout = tactic_timeout, memory_mb, file_timeout
        if server_factory is None:
            from prover.toolchain import require_lean

            require_lean(self.root)  # one line now, not one per theorem later
            cache = Path(cache_dir) if cache_dir else self.workdir / "lean-interact"
            server_factory = LeanInteractServers(self.root, self.workdir, memory_mb=memory_mb, cache_dir=cache)
        self.factory = server_factory
        self.notes: dict[str, str] = {}
        """Theorem id → how its start state was chosen, where it is not the statement's goal."""
        self._server: Any = None
        self._broken = ""  # why no REPL can be started (said once per theorem, tried once)
        self._generation = 0
        self._files: dict[str, Any] = {}  # path → CommandResponse, this generation
        self._failed: dict[str, str] = {}  # path → why it cannot be elaborated
        self._theorem: Theorem | None = None
        self._revived: dict[tuple[str, ...], int] = {}  # tactic path → proof state, this generation
        self._revived_generation = -1

    # ---- the REPL process ------------------------------------------------------------------------------

    def _server_now(self) -> Any:
        if self._broken:
            raise EnvInitError(self._broken)
        if self._server is None:
            try:
                self._server = self.factory()
            except EnvInitError as e:
                self._broken = str(e)
                raise
            except (OSError, ValueError, RuntimeError, AssertionError) as e:  # lean-interact's set-up failures
                self._broken = f"cannot start the Lean REPL for {self.root}: {first_line(e) or type(e).__name__}"
                raise EnvInitError(self._broken) from None
        return self._server

    def _lost(self) -> None:
        """The process is gone or useless: kill it; the next request starts a new one, a new generation."""
        server, self._server = self._server, None
        if server is not None:
            try:
                server.kill()
            except OSError as e:
                log.debug("killing the Lean REPL: %s", e)
        self._generation += 1
        self._files.clear()

    def _check_alive(self) -> None:
        """A process that died while idle (killed, out of memory) took its states with it: a new generation."""
        alive = getattr(self._server, "is_alive", None)
        if self._server is not None and alive is not None and not alive():
            log.info("the Lean REPL process is gone: starting a new one")
            self._lost()

    def _make_room(self) -> None:
        """At a file boundary: restart a REPL that holds too much memory (it never frees a state)."""
        usage = getattr(self._server, "get_memory_usage", None)
        if self._server is None or not self._files or not self.memory_mb or usage is None:
            return
        if usage() > 0.7 * self.memory_mb:
            log.info("the Lean REPL uses %.0f MB (limit %d MB): restarting it", usage(), self.memory_mb)
            self._lost()

    def _elaborate(self, path: str) -> Any:
        """The REPL's answer for ``path``, elaborated once per process."""
        from lean_interact.interface import FileCommand

        if path in self._failed:
            raise EnvInitError(self._failed[path])
        if path in self._files:
            return self._files[path]
        self._check_alive()
        self._make_room()
        server = self._server_now()
        try:
            response = server.run(FileCommand(path=str(self.root / path), root_goals=True), timeout=self.file_timeout)
        except TimeoutError:
            self._lost()
            self._failed[path] = f"{path}: the Lean REPL did not elaborate it within {self.file_timeout:g} s"
            raise EnvInitError(self._failed[path]) from None
        except (OSError, ValueError) as e:  # the file kills the REPL (memory, a bug): its theorems cannot start
            self._lost()
            self._failed[path] = f"{path}: the Lean REPL died elaborating it: {first_line(e) or type(e).__name__}"
            raise EnvInitError(self._failed[path]) from None
        if not hasattr(response, "sorries"):  # LeanError: the file could not be read or processed
            self._failed[path] = f"{path}: the Lean REPL cannot elaborate it: {first_line(response.message)}"
            raise EnvInitError(self._failed[path])
        self._files[path] = response
        return response

    def _step(self, proof_state: int, tactic: str) -> Any:
        """Run one tactic; the raw answer. Raises :class:`TimeoutError` (the process is restarted) or
        :class:`~prover.env.EnvCrashed`."""
        from lean_interact.interface import ProofStep

        request = ProofStep(proof_state=proof_state, tactic=repl_tactic(tactic))
        server = self._server_now()
        try:
            response = server.run(request, timeout=self.tactic_timeout)
        except TimeoutError:
            self._lost()
            raise
        except (OSError, ValueError) as e:
            self._lost()
            raise EnvCrashed(f"the Lean REPL died on {tactic!r}: {first_line(e) or type(e).__name__}") from None
        if not hasattr(response, "proof_status") and response.message.startswith("Unknown proof state"):
            self._lost()
            raise EnvCrashed(f"the Lean REPL lost proof state {proof_state} (it was restarted)")
        return response

    # ---- LeanEnv ---------------------------------------------------------------------------------------

    def _start_entry(self, theorem: Theorem) -> tuple[str, int]:
        """(goal, proof state) where ``theorem``'s search starts, in the current process."""
        try:
            text = (self.root / theorem.path).read_text(encoding="utf-8")
            start, end = proof_span(text, theorem)
        except (OSError, ProofEditError) as e:
            raise EnvInitError(f"{theorem.path}: cannot start {theorem.full_name}: {e}") from None
        response = self._elaborate(theorem.path)
        decl, first = (theorem.start.line, theorem.start.column - 1), repl_position(text, start)
        errors = [m for m in response.messages if m.severity == "error"]
        in_statement = [m for m in errors if decl <= _at(m.start_pos) < first]
        if in_statement:
            raise EnvInitError(f"{theorem.path}: the statement of {theorem.full_name} does not elaborate: "
                               f"{first_line(in_statement[0].data)}")
        entry, note = pick_start(response, text, start, end)
        if entry is None:
            why = f"; Lean's first error: {first_line(errors[0].data)}" if errors else ""
            raise EnvInitError(f"{theorem.path}: the Lean REPL reports no sorry in the proof of {theorem.full_name} "
                               f"({theorem.start}–{theorem.end}){why}")
        if note:
            self.notes[theorem.id] = note
            log.info("%s: %s", theorem.full_name, note)
        return entry.goal, entry.proof_state

    def start(self, theorem: Theorem) -> State:
        self._theorem = theorem
        goal, proof_state = self._start_entry(theorem)
        self._revived, self._revived_generation = {(): proof_state}, self._generation
        return State(goal, ReplHandle(self._generation, proof_state, ()))

    def _current(self, state: State) -> int:
        """The proof state of ``state`` in the current process, rebuilt after a restart."""
        handle: ReplHandle = state.handle
        if handle.generation == self._generation:
            return handle.proof_state
        assert self._theorem is not None
        try:
            if self._revived_generation != self._generation:
                goal, root = self._start_entry(self._theorem)
                if not handle.path and goal != state.pp:
                    raise EnvCrashed("the restarted Lean REPL gives the theorem another start state")
                self._revived, self._revived_generation = {(): root}, self._generation
            done = max(n for n in range(len(handle.path) + 1) if handle.path[:n] in self._revived)
            proof_state = self._revived[handle.path[:done]]
            for n in range(done, len(handle.path)):
                response = self._step(proof_state, handle.path[n])
                outcome = step_outcome(response)
                last = n == len(handle.path) - 1
                if not isinstance(outcome, list) or (last and "\n\n".join(outcome) != state.pp):
                    raise EnvCrashed(f"replaying {handle.path[n]!r} after the Lean REPL restarted gave another answer")
                proof_state = response.proof_state
                self._revived[handle.path[:n + 1]] = proof_state
        except (TimeoutError, EnvInitError) as e:
            raise EnvCrashed(f"cannot rebuild a proof state after the Lean REPL restarted: "
                             f"{first_line(e) or 'a replayed tactic ran past the time limit'}") from None
        return proof_state

    def run_tactic(self, state: State, tactic: str) -> Step:
        handle = state.handle
        if self._theorem is None or not isinstance(handle, ReplHandle):
            raise EnvCrashed("no theorem started in this Lean REPL environment (or it was closed)")
        if not tactic.strip():
            return TacticError("empty tactic")
        if _GIVES_UP.search(tactic):
            return TacticError("the tactic uses sorry")
        self._check_alive()
        proof_state = self._current(state)
        try:
            response = self._step(proof_state, tactic)
        except TimeoutError:
            return TacticTimeout(self.tactic_timeout)
        outcome = step_outcome(response)
        if isinstance(outcome, list):
            return State("\n\n".join(outcome), ReplHandle(self._generation, response.proof_state,
                                                          (*handle.path, tactic)))
        return outcome

    def close(self) -> None:
        if self._server is not None:
            self._lost()
        self._theorem = None


def repl_config(root: str | Path, workdir: str | Path, *, memory_mb: int = 32768,
                cache_dir: str | Path | None = None, bwrap: str | None = None) -> Any:
    """lean-interact's ``LeanREPLConfig`` for the built project at ``root``, every ``lake`` it runs a sandbox
    shim (the project's own build is not touched: ``LocalProject(auto_build=False)``).

    On first use per Lean version lean-interact clones its REPL (``augustepoiroux/repl``, git: the one
    network access, no repository code) into ``cache_dir`` and builds it with the project's toolchain, inside
    the sandbox. lean-interact recommends one config per machine before starting workers: call this once
    beforehand and the workers find the REPL built. Raises :class:`~prover.env.LeanUnavailable` without a
    toolchain and :class:`~prover.env.EnvInitError` (one line) when the REPL cannot be prepared.
    """
    from prover.sandbox import Sandbox, SandboxLimits
    from prover.toolchain import require_lean

    root, workdir = Path(root).resolve(), Path(workdir).resolve()
    cache = Path(cache_dir).resolve() if cache_dir else workdir / "lean-interact"
    toolchain = require_lean(root)
    cache.mkdir(parents=True, exist_ok=True)
    # The REPL lives as long as the worker: no CPU or wall-clock limit on the process (lean-interact times
    # each request), its memory limit set by lean-interact (RLIMIT_AS, inherited by lake and the REPL).
    sandbox = Sandbox([root, workdir, cache], limits=SandboxLimits(cpu_seconds=0, memory_bytes=0, wall_seconds=0),
                      bwrap=bwrap)
    # One directory per process: workers starting together never run a shim another one is writing.
    shims = sandbox.shims(workdir / "sandbox-bin" / f"repl-{os.getpid()}", {"lake": toolchain.lake,
                                                                             "lean": toolchain.lean})
    lake = str(shims / "lake")
    import lean_interact
    from git.exc import GitError

    try:
        return lean_interact.LeanREPLConfig(
            project=lean_interact.LocalProject(directory=str(root), lake_path=lake, auto_build=False),
            cache_dir=str(cache), lake_path=lake, memory_hard_limit_mb=memory_mb or None, verbose=False)
    except (GitError, OSError, ValueError, RuntimeError) as e:
        raise EnvInitError(f"cannot prepare the Lean REPL (lean-interact) for {root}: "
                           f"{first_line(e) or type(e).__name__}") from None


class LeanInteractServers:
    """Starts lean-interact ``LeanServer`` processes for one project, its :func:`repl_config` made once."""

    def __init__(self, root: Path, workdir: Path, *, memory_mb: int, cache_dir: Path) -> None:
        self.root, self.workdir, self.memory_mb, self.cache_dir = root, workdir, memory_mb, cache_dir
        self.config: Any = None

    def __call__(self) -> Any:
        from lean_interact import LeanServer

        if self.config is None:
            self.config = repl_config(self.root, self.workdir, memory_mb=self.memory_mb, cache_dir=self.cache_dir)
        return LeanServer(self.config)
