"""LeanDojo's ``Dojo`` behind the :class:`~prover.env.LeanEnv` protocol, tactic by tactic.

Written against lean_dojo 4.20 (``lean_dojo/interaction/dojo.py``): ``Dojo(Theorem(repo, path, name),
timeout=…, build_deps=…)`` is a context manager whose ``__enter__`` returns ``(dojo, TacticState)``;
``run_tac(state, tactic)`` returns ``TacticState | ProofFinished | LeanError | ProofGivenUp`` and raises
``DojoCrashError`` / ``DojoTacticTimeoutError``; ``__enter__`` raises ``DojoInitError``. LeanDojo reads its
settings from the environment at import (and makes its cache directory then), so it is imported lazily, by
:func:`import_lean_dojo`, after they are set.

Tracing and proving share one LeanDojo directory per run, ``WORKDIR/lean_dojo`` (:func:`lean_dojo_dir`): its
cache of traced repositories (a theorem whose repository is not there would be traced again inside the Dojo,
inside a Ray worker where LeanDojo's own Ray pool cannot start), its temporary clones and the sandbox shims.
``LeanGitRepo`` gets a git work tree at a real commit (:func:`dojo_tree`). LeanDojo starts ``lake`` and
``lean`` itself: while it runs, :func:`on_path` puts sandbox shims for both first on PATH (network on for
tracing, which clones dependencies; off for proving), and PATH is as it was afterwards.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from database.records import Theorem
from prover.env import EnvCrashed, EnvInitError, Finished, State, Step, TacticError
from prover.sandbox import Sandbox, SandboxLimits
from prover.toolchain import Toolchain, require_lean

__all__ = ["DojoEnv", "open_dojo_env", "import_lean_dojo", "lean_dojo_settings", "lean_dojo_dir", "lean_dojo_shims",
           "on_path", "dojo_tree", "startup_errors", "START_TIMEOUT"]

log = logging.getLogger(__name__)

START_TIMEOUT = 600
"""Seconds the Dojo waits for its first answer (the file elaborated up to the theorem): LeanDojo's own default
for ``Dojo(timeout=)``, which is also the per-read timeout of its ``pexpect`` process; the tactics get theirs
once the theorem has started."""


def lean_dojo_dir(workdir: Path) -> Path:
    """The run's one LeanDojo directory, for tracing and proving alike.

    >>> lean_dojo_dir(Path("/w"))
    PosixPath('/w/lean_dojo')
    """
    return workdir / "lean_dojo"


def lean_dojo_settings(workdir: Path, *, cpu: int = 1, memory_gb: int = 16, github: bool = False,
                       environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variables LeanDojo reads at import: its cache and its working copies (``TMP_DIR``, else
    the host's /tmp, which the sandbox hides) in :func:`lean_dojo_dir`, no remote cache (it would download),
    and the REPL's resources. ``github`` (tracing, which asks GitHub's API about dependencies): LeanDojo's
    ``GITHUB_ACCESS_TOKEN`` from ``GITHUB_TOKEN`` when only the latter is set.

    >>> settings = lean_dojo_settings(Path("/w"))
    >>> settings["CACHE_DIR"], settings["TMP_DIR"], "GITHUB_ACCESS_TOKEN" in settings
    ('/w/lean_dojo/cache', '/w/lean_dojo/tmp', False)
    >>> "GITHUB_ACCESS_TOKEN" in lean_dojo_settings(Path("/w"), github=True, environ={"GITHUB_TOKEN": "t"})
    True
    """
    environ = os.environ if environ is None else environ
    root = lean_dojo_dir(workdir)
    settings = {"CACHE_DIR": str(root / "cache"), "TMP_DIR": str(root / "tmp"), "DISABLE_REMOTE_CACHE": "1",
                "TACTIC_CPU_LIMIT": str(cpu), "TACTIC_MEMORY_LIMIT": f"{memory_gb}g"}
    if github and not environ.get("GITHUB_ACCESS_TOKEN") and environ.get("GITHUB_TOKEN"):
        settings["GITHUB_ACCESS_TOKEN"] = environ["GITHUB_TOKEN"]
    return settings


def import_lean_dojo(workdir: Path, *, memory_gb: int = 16, github: bool = False) -> Any:
    """Set LeanDojo's settings (:func:`lean_dojo_settings`), then import it. Raises
    :class:`~prover.env.EnvInitError` in one line when it was imported earlier in this process with other
    settings (it reads them once), or when its import fails asking GitHub about a token."""
    from github import GithubException

    settings = lean_dojo_settings(workdir, memory_gb=memory_gb, github=github)
    Path(settings["TMP_DIR"]).mkdir(parents=True, exist_ok=True)
    os.environ.update(settings)
    try:
        import lean_dojo  # noqa: PLC0415 - reads the settings above at import
    except (GithubException, OSError) as e:  # with a token, its import asks GitHub whose it is
        why = f"GitHub answered {e.status}" if isinstance(e, GithubException) else type(e).__name__
        raise EnvInitError(f"cannot import LeanDojo: it checks GITHUB_ACCESS_TOKEN with GitHub at import ({why}); "
                           "fix or unset the token (GITHUB_TOKEN is passed on to it for tracing)") from None
    constants = sys.modules["lean_dojo.constants"]
    for name in ("CACHE_DIR", "TMP_DIR"):
        if getattr(constants, name) != Path(settings[name]).absolute():
            raise EnvInitError(f"LeanDojo was imported before leanagent set its settings ({name} is "
                               f"{getattr(constants, name)}, not {settings[name]}); it reads them once per process: "
                               "use one workdir per process")
    return lean_dojo


def lean_dojo_shims(toolchain: Toolchain, workdir: Path, *, network: bool) -> Path:
    """Sandbox shims for ``lake`` and ``lean`` (writes confined to :func:`lean_dojo_dir`): ``network`` for
    tracing, whose ``lake build`` clones the dependencies; none for proving. Their directory."""
    root = lean_dojo_dir(workdir)
    root.mkdir(parents=True, exist_ok=True)
    sandbox = Sandbox([root], network=network, limits=SandboxLimits(cpu_seconds=0, memory_bytes=0, wall_seconds=0))
    return sandbox.shims(root / ("bin-net" if network else "bin"), {"lake": toolchain.lake, "lean": toolchain.lean})


@contextmanager
def on_path(directory: Path) -> Iterator[None]:
    """``directory`` first on PATH within the block; PATH as it was afterwards (no shim left for later
    commands, which would run a sandbox inside a sandbox)."""
    before = os.environ.get("PATH")
    os.environ["PATH"] = f"{directory}{os.pathsep}{before or ''}"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = before


def dojo_tree(repo_dir: str | os.PathLike[str], commit: str) -> tuple[Path, str]:
    """``repo_dir`` and ``commit`` when ``repo_dir`` is the root of a git work tree at ``commit``: what
    ``LeanGitRepo`` accepts (an exported tree is no git repository, a ``tree-…`` commit no commit), and what
    :func:`leanagent.project.prepare_project` gives the prover (the very tree tracing used: LeanDojo's cache key is
    its name and the commit). Anything else is an :class:`~prover.env.EnvInitError` saying so."""
    path = Path(repo_dir).resolve()
    head = ""
    if (path / ".git").exists():
        try:
            done = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd=path,
                                  capture_output=True, text=True, timeout=30)
            head = done.stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            head = ""
    if head != commit:
        raise EnvInitError(f"{path}: not a git work tree at {commit[:12]}, which LeanDojo needs (leanagent prove "
                           "and the run prepare one: leanagent.project.prepare_project)")
    return path, commit


def startup_errors(lean_dojo: Any) -> tuple[type[BaseException], ...]:
    """What LeanDojo lets through when it cannot start (``LeanGitRepo`` of a bad path or commit, a failed git
    clone, GitHub's API, a failed build, an answer that is no JSON, its own assertions)."""
    import pexpect
    from git.exc import GitError
    from github import GithubException

    return (lean_dojo.DojoInitError, ValueError, RuntimeError, AssertionError, OSError, subprocess.CalledProcessError,
            GitError, GithubException, pexpect.ExceptionPexpect)


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _exit(dojo: Any) -> None:
    """Leave a Dojo, whatever state its start left it in (its ``__exit__`` assumes a process was started)."""
    try:
        dojo.__exit__(None, None, None)
    except (OSError, AttributeError) as e:  # never started, or the REPL is already gone
        log.debug("closing the Dojo: %s", e)


class DojoEnv:
    """A :class:`~prover.env.LeanEnv` over LeanDojo: one ``Dojo`` (one Lean REPL) per started theorem.

    ``lean_dojo`` is the module (or a test double with the same names); ``repo`` is what ``LeanGitRepo`` gets
    as URL (a git work tree at ``commit``, :func:`dojo_tree`); ``shims``: put first on PATH while a Dojo starts.
    """

    def __init__(self, lean_dojo: Any, repo: str, commit: str, *, tactic_timeout: int = 60,
                 start_timeout: int = START_TIMEOUT, build_deps: bool = False, shims: Path | None = None) -> None:
        self.ld = lean_dojo
        self.repo, self.commit = repo, commit
        self.tactic_timeout = tactic_timeout
        self.start_timeout = start_timeout
        self.build_deps = build_deps
        self.shims = shims
        self._dojo: Any = None
        self._repo_obj: Any = None

    def _git_repo(self) -> Any:
        if self._repo_obj is None:
            repo = self.ld.LeanGitRepo(self.repo, self.commit)
            ray = sys.modules.get("ray")
            if ray is not None and ray.is_initialized() and not self.ld.is_available_in_cache(repo):
                # Dojo.__enter__ would trace it here, and LeanDojo's tracing asserts that no Ray is running.
                raise EnvInitError(f"{self.repo} @ {self.commit[:12]} is not in LeanDojo's cache: trace it first "
                                   "(acquire.extractor = traced, or `leanagent scan --traced` with this workdir)")
            self._repo_obj = repo
        return self._repo_obj

    def start(self, theorem: Theorem) -> State:
        self.close()
        ld = self.ld
        dojo = None
        try:
            with on_path(self.shims) if self.shims is not None else nullcontext():
                target = ld.Theorem(self._git_repo(), theorem.path, theorem.full_name)
                # Dojo's timeout is its pexpect process's: LeanDojo's 600 s for the first answer, which comes
                # once the file is elaborated up to the theorem; the tactics' own limit is set after.
                dojo = ld.Dojo(target, timeout=max(self.start_timeout, self.tactic_timeout),
                               build_deps=self.build_deps)
                _, state = dojo.__enter__()
        except ld.DojoCrashError as e:
            if dojo is not None:
                _exit(dojo)
            raise EnvCrashed(f"Lean crashed while starting {theorem.full_name}: {e}") from None
        except startup_errors(ld) as e:
            if dojo is not None:
                _exit(dojo)
            raise EnvInitError(f"{theorem.path}: LeanDojo cannot start {theorem.full_name}: {_first_line(e)}") \
                from None
        dojo.timeout = self.tactic_timeout
        dojo.proc.timeout = self.tactic_timeout
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
            self.close()  # its edited copy of the file is removed, what is left of the process killed
            why = "out of memory" if getattr(e, "is_out_of_memory", False) else str(e)
            raise EnvCrashed(f"Lean crashed on {tactic!r}: {why}") from None
        except AssertionError:
            # TacticState.__post_init__ asserts one goal per ⊢, so a state with ⊢ inside a hypothesis (a
            # sequent-valued term) cannot be represented; Lean answered in full, so the REPL goes on.
            return TacticError(f"LeanDojo cannot read the state {tactic!r} leads to (a ⊢ inside a hypothesis?)")
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
            _exit(dojo)


def open_dojo_env(repo_dir: str | Path, commit: str, workdir: str | Path, *, tactic_timeout: int = 60,
                  memory_gb: int = 16, lean_dojo: Any = None) -> DojoEnv:
    """A :class:`DojoEnv` for a local checkout, sandboxed without network, after checking for a toolchain.
    ``workdir`` is the run directory: LeanDojo's cache there is the one tracing filled. ``lean_dojo``: the
    module (a test double), else imported with the run's settings."""
    workdir = Path(workdir).resolve()
    toolchain = require_lean(Path(repo_dir).resolve())
    tree, real_commit = dojo_tree(repo_dir, commit)
    shims = lean_dojo_shims(toolchain, workdir, network=False)
    ld = lean_dojo if lean_dojo is not None else import_lean_dojo(workdir, memory_gb=memory_gb)
    return DojoEnv(ld, str(tree), real_commit, tactic_timeout=tactic_timeout, shims=shims)
