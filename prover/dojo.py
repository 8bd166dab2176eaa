"""LeanDojo's ``Dojo`` behind the :class:`~prover.env.LeanEnv` protocol, tactic by tactic.

Written against lean_dojo 4.20 (``lean_dojo/interaction/dojo.py``): ``Dojo(Theorem(repo, path, name),
timeout=…, build_deps=…)`` is a context manager whose ``__enter__`` returns ``(dojo, TacticState)``;
``run_tac(state, tactic)`` returns ``TacticState | ProofFinished | LeanError | ProofGivenUp`` and raises
``DojoCrashError`` / ``DojoTacticTimeoutError``; ``__enter__`` raises ``DojoInitError``. LeanDojo reads its
settings from the environment at import, so it is imported lazily, after :func:`open_dojo_env` set them.

LeanDojo starts ``lake`` and ``lean`` itself; :func:`open_dojo_env` puts sandbox shims for both first on
PATH, so the REPL and any tracing it triggers run inside bubblewrap.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import Any

from database.records import Theorem
from prover.env import EnvCrashed, EnvInitError, Finished, State, Step, TacticError
from prover.sandbox import Sandbox, SandboxLimits
from prover.toolchain import require_lean

__all__ = ["DojoEnv", "open_dojo_env", "import_lean_dojo", "lean_dojo_settings"]

log = logging.getLogger(__name__)


def lean_dojo_settings(workdir: Path, *, cpu: int = 1, memory_gb: int = 16) -> dict[str, str]:
    """Environment variables LeanDojo reads at import: its cache and its working copies (``TMP_DIR``, else
    the host's /tmp, which the sandbox hides) in the workdir, no remote cache (it would download), and the
    REPL's resources.

    >>> settings = lean_dojo_settings(Path("/w"))
    >>> settings["CACHE_DIR"], settings["TMP_DIR"]
    ('/w/lean_dojo_cache', '/w/tmp')
    """
    return {"CACHE_DIR": str(workdir / "lean_dojo_cache"), "TMP_DIR": str(workdir / "tmp"),
            "DISABLE_REMOTE_CACHE": "1",
            "TACTIC_CPU_LIMIT": str(cpu), "TACTIC_MEMORY_LIMIT": f"{memory_gb}g"}


class DojoEnv:
    """A :class:`~prover.env.LeanEnv` over LeanDojo: one ``Dojo`` (one Lean REPL) per started theorem.

    ``lean_dojo`` is the module (or a test double with the same names); ``repo`` is what
    ``LeanGitRepo`` gets as URL (a local git checkout or a remote URL).
    """

    def __init__(self, lean_dojo: Any, repo: str, commit: str, *, tactic_timeout: int = 60,
                 build_deps: bool = False) -> None:
        self.ld = lean_dojo
        self.repo, self.commit = repo, commit
        self.tactic_timeout = tactic_timeout
        self.build_deps = build_deps
        self._dojo: Any = None
        self._repo_obj: Any = None

    def _git_repo(self) -> Any:
        if self._repo_obj is None:
            self._repo_obj = self.ld.LeanGitRepo(self.repo, self.commit)
        return self._repo_obj

    def start(self, theorem: Theorem) -> State:
        self.close()
        ld = self.ld
        target = ld.Theorem(self._git_repo(), theorem.path, theorem.full_name)
        dojo = ld.Dojo(target, timeout=self.tactic_timeout, build_deps=self.build_deps)
        try:
            _, state = dojo.__enter__()
        except ld.DojoInitError as e:
            raise EnvInitError(f"{theorem.path}: LeanDojo cannot start {theorem.full_name}: {e}") from None
        except ld.DojoCrashError as e:
            raise EnvCrashed(f"Lean crashed while starting {theorem.full_name}: {e}") from None
        except (AssertionError, OSError, subprocess.CalledProcessError) as e:
            # LeanDojo asserts on a traced repository it cannot use and lets a failed build or trace through.
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise EnvInitError(f"{theorem.path}: LeanDojo cannot start {theorem.full_name}: {first}") from None
        self._dojo = dojo
        return State(state.pp, state)

    def run_tactic(self, state: State, tactic: str) -> Step:
        ld = self.ld
        if self._dojo is None:
            raise EnvCrashed("no theorem started (or the Lean REPL was closed)")
        try:
            result = self._dojo.run_tac(state.handle, tactic)
        except ld.DojoTacticTimeoutError:
            # The REPL is left mid-answer: its next reply would belong to this tactic. It cannot go on.
            self.close()
            raise EnvCrashed(f"tactic {tactic!r} ran past {self.tactic_timeout} s; the Lean REPL was stopped") from None
        except ld.DojoCrashError as e:
            self._dojo = None
            why = "out of memory" if getattr(e, "is_out_of_memory", False) else str(e)
            raise EnvCrashed(f"Lean crashed on {tactic!r}: {why}") from None
        if isinstance(result, ld.TacticState):
            return State(result.pp, result)
        if isinstance(result, ld.ProofFinished):
            return Finished(result.message or "")
        if isinstance(result, ld.ProofGivenUp):
            return TacticError("the tactic gives up (sorry/admit)")
        if isinstance(result, ld.LeanError):
            return TacticError(result.error)
        raise EnvCrashed(f"LeanDojo answered {type(result).__name__}, which this adapter does not know")

    def close(self) -> None:
        if self._dojo is not None:
            dojo, self._dojo = self._dojo, None
            try:
                dojo.__exit__(None, None, None)
            except (OSError, AttributeError) as e:  # the REPL may already be gone
                log.debug("closing the Dojo: %s", e)


def import_lean_dojo(repo_dir: Path, workdir: Path, *, memory_gb: int = 16) -> Any:
    """Check for Lean, put sandbox shims for ``lake``/``lean`` first on PATH, set LeanDojo's settings, and
    import it. Raises :class:`~prover.env.LeanUnavailable` in one line when Lean is missing."""
    toolchain = require_lean(repo_dir)
    settings = lean_dojo_settings(workdir, memory_gb=memory_gb)
    Path(settings["TMP_DIR"]).mkdir(parents=True, exist_ok=True)
    sandbox = Sandbox([workdir, repo_dir], limits=SandboxLimits(cpu_seconds=0, memory_bytes=0, wall_seconds=0))
    shims = sandbox.shims(workdir / "sandbox-bin", {"lake": toolchain.lake, "lean": toolchain.lean})
    os.environ.update(settings)
    os.environ["PATH"] = f"{shims}{os.pathsep}{os.environ.get('PATH', '')}"
    import lean_dojo  # noqa: PLC0415 - reads the settings above at import

    return lean_dojo


def open_dojo_env(repo_dir: str | Path, commit: str, workdir: str | Path, *, tactic_timeout: int = 60,
                  memory_gb: int = 16) -> DojoEnv:
    """A :class:`DojoEnv` for a local checkout, sandboxed, after checking for a toolchain."""
    repo_dir, workdir = Path(repo_dir).resolve(), Path(workdir).resolve()
    lean_dojo = import_lean_dojo(repo_dir, workdir, memory_gb=memory_gb)
    return DojoEnv(lean_dojo, str(repo_dir), commit, tactic_timeout=tactic_timeout)
