"""One runner for everything that executes a repository's code (lake, lean, LeanDojo tracing).

A Lean repository is untrusted: ``lake`` runs its lakefile and Lean runs its macros. :class:`Sandbox`
runs a command under bubblewrap (Debian package ``bubblewrap``): the whole filesystem read-only except the
directories it is given, a private ``/tmp`` (host paths under ``/tmp`` that a command needs, such as a
virtual environment or a checkout there, are bound into it again), no network (a fresh network namespace
has only its own loopback), its own process namespace, and limits on CPU time and memory (``setrlimit``, inherited by
every process inside) plus a wall-clock timeout that kills the whole process group.

>>> Sandbox(["/w"], bwrap="/usr/bin/bwrap").command(["lake", "build"], cwd="/w")[:4]
['/usr/bin/bwrap', '--die-with-parent', '--new-session', '--unshare-all']
"""

from __future__ import annotations

import logging
import os
import resource
import shutil
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Sandbox", "SandboxLimits", "SandboxResult", "SandboxUnavailable", "find_bwrap", "host_paths"]

log = logging.getLogger(__name__)

PRIVATE = Path("/tmp")
"""Mounted fresh inside the sandbox: host paths below it are hidden unless bound again."""


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here; the message says what to do."""


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits of one sandboxed command (0 disables a limit)."""

    cpu_seconds: int = 3600
    """CPU time per process (RLIMIT_CPU: SIGXCPU, then SIGKILL)."""
    memory_bytes: int = 16 * 2**30
    """Address space per process (RLIMIT_AS): allocations beyond it fail."""
    wall_seconds: float = 3600.0
    """Wall-clock time of the whole command; past it the process group is killed."""
    processes: int = 0
    """Processes of the user (RLIMIT_NPROC); 0 leaves it alone (it counts the whole user, not the sandbox)."""


@dataclass(frozen=True)
class SandboxResult:
    """How a sandboxed command ended."""

    returncode: int
    """Exit status; negative for a signal (``-9``: killed)."""
    stdout: str = field(repr=False)
    """Its standard output."""
    stderr: str = field(repr=False)
    """Its standard error."""
    seconds: float = field(compare=False)
    """Wall time."""
    timed_out: bool = False
    """Killed because it ran past ``wall_seconds``."""

    @property
    def ok(self) -> bool:
        """Exited with status 0."""
        return self.returncode == 0 and not self.timed_out

    @property
    def cpu_limited(self) -> bool:
        """Killed by the CPU-time limit (SIGXCPU or SIGKILL after it)."""
        return self.returncode in (-signal.SIGXCPU, -signal.SIGKILL, 128 + signal.SIGXCPU) and not self.timed_out


def find_bwrap() -> str:
    """Path of ``bwrap``, or :class:`SandboxUnavailable` saying how to install it."""
    found = shutil.which("bwrap")
    if found is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed; install it (Debian/Ubuntu: "
                                 "`apt-get install bubblewrap`): leanagent runs repository code only inside it")
    return found


def host_paths(environ: Mapping[str, str] | None = None) -> list[Path]:
    """What a sandboxed command needs to see wherever it lives: this interpreter and its (virtual)
    environment, the directories on PATH, and elan's toolchains."""
    environ = os.environ if environ is None else environ
    paths = [sys.prefix, sys.exec_prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))]
    paths += [p for p in environ.get("PATH", "").split(os.pathsep) if p]
    elan = environ.get("ELAN_HOME") or (os.path.join(environ["HOME"], ".elan") if environ.get("HOME") else "")
    return [Path(p) for p in [*paths, elan] if p]


def within(path: Path, roots: Sequence[Path]) -> bool:
    """``path`` is one of ``roots`` or below one of them.

    >>> within(Path("/a/b"), [Path("/a")]), within(Path("/ab"), [Path("/a")])
    (True, False)
    """
    return any(path == root or root in path.parents for root in roots)


def rebound(paths: Sequence[Path], writable: Sequence[Path], *, private: Path = PRIVATE,
            exists=os.path.isdir) -> list[Path]:
    """The read-only binds a sandbox needs so that ``paths`` stay visible: those under the private
    ``/tmp`` (elsewhere the root's read-only bind shows them), not already bound writable, not below
    another one kept, that exist; parents first.

    >>> rebound([Path("/tmp/ci/.venv"), Path("/usr/bin"), Path("/tmp/ci/.venv/bin"), Path("/tmp/w/x")],
    ...         [Path("/tmp/w")], exists=lambda p: True)
    [PosixPath('/tmp/ci/.venv')]
    """
    kept: list[Path] = []
    for path in sorted({Path(os.path.realpath(p)) for p in paths}, key=lambda p: len(p.parts)):
        if private in path.parents and exists(path) and not within(path, [*writable, *kept]):
            kept.append(path)
    return kept


def _write_executable(path: Path, text: str) -> None:
    """``path`` holds ``text``, mode 755: written whole to a temporary file beside it, then renamed over it
    (a reader sees the old file or the new one, never a part); left alone when it already holds ``text``."""
    try:
        if path.read_text(encoding="utf-8") == text and os.access(path, os.X_OK):
            return
    except (OSError, UnicodeDecodeError):
        pass
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            os.fchmod(f.fileno(), 0o755)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Sandbox:
    """Runs commands under bubblewrap with ``writable`` directories the only places they may write;
    ``readable`` paths (by default :func:`host_paths`) and the working directory stay visible read-only
    even where they lie under ``/tmp``."""

    def __init__(self, writable: Sequence[str | os.PathLike[str]], *, limits: SandboxLimits = SandboxLimits(),
                 network: bool = False, bwrap: str | None = None,
                 readable: Sequence[str | os.PathLike[str]] | None = None) -> None:
        self.writable = [Path(os.path.realpath(w)) for w in writable]
        self.readable = host_paths() if readable is None else [Path(r) for r in readable]
        self.limits = limits
        self.network = network
        self.bwrap = bwrap or find_bwrap()

    def _head(self) -> list[str]:
        """bubblewrap with fresh namespaces, the root read-only, its own /dev, /proc and private /tmp."""
        return [self.bwrap, "--die-with-parent", "--new-session", "--unshare-all",
                *(["--share-net"] if self.network else []),
                "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", str(PRIVATE)]

    def _binds(self, extra: Sequence[Path] = ()) -> list[str]:
        """The binds over the private /tmp: the hidden paths to show again, then the writable directories."""
        args = []
        for path in rebound([*self.readable, *extra], self.writable):
            args += ["--ro-bind", str(path), str(path)]
        for path in self.writable:  # after the read-only binds: a writable directory inside one stays writable
            args += ["--bind", str(path), str(path)]
        return args

    def command(self, argv: Sequence[str], cwd: str | os.PathLike[str]) -> list[str]:
        """The bubblewrap command line that runs ``argv`` in ``cwd`` (pure: nothing is started)."""
        return [*self._head(), *self._binds([Path(cwd)]), "--chdir", str(cwd), "--", *argv]

    def shims(self, directory: str | os.PathLike[str], tools: Mapping[str, str]) -> Path:
        """Write wrapper executables (name → real path) into ``directory`` that run the real tool inside
        this sandbox, in the caller's working directory, under the same limits; put ``directory`` first
        on PATH and every ``lake``/``lean`` a library starts (LeanDojo's tracing and REPL) is sandboxed.

        Several workers may write the same shims while others run them: each is written whole beside its place
        and renamed over it (a shim is never seen half-written), and one already the same is left as it is."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        lim = self.limits
        prefix = [shutil.which("prlimit") or "prlimit"]
        if lim.cpu_seconds:
            prefix.append(f"--cpu={lim.cpu_seconds}")
        if lim.memory_bytes:
            prefix.append(f"--as={lim.memory_bytes}")
        if lim.wall_seconds:
            prefix = ["timeout", "-s", "KILL", f"{lim.wall_seconds:g}", *prefix]
        quote = lambda args: " ".join(shlex.quote(a) for a in args)  # noqa: E731
        # The caller's directory is known only when the shim runs: under /tmp, and not inside a writable
        # directory, it is bound read-only before the writable ones (so one of those inside it stays writable).
        visible = [str(p) for p in [*self.writable, *rebound(self.readable, self.writable)]]
        patterns = "|".join(f"{shlex.quote(p)}|{shlex.quote(p)}/*" for p in visible) or "''"
        for name, real in tools.items():
            tail = quote(["--chdir", "@PWD@", "--", real]).replace("@PWD@", '"$PWD"') + ' "$@"'
            binds = quote(self._binds())
            head = quote([*prefix, "--", *self._head()])
            _write_executable(directory / name,
                              f"#!/bin/sh\n# leanagent sandbox shim for {real}\n"
                              f"case \"$PWD\" in\n"
                              f"  {patterns}) set -- {binds} {tail} ;;\n"
                              f"  {PRIVATE}/*) set -- --ro-bind \"$PWD\" \"$PWD\" {binds} {tail} ;;\n"
                              f"  *) set -- {binds} {tail} ;;\n"
                              f"esac\nexec {head} \"$@\"\n")
        return directory

    def _set_limits(self) -> None:  # runs in the child between fork and exec
        lim = self.limits
        if lim.cpu_seconds:
            resource.setrlimit(resource.RLIMIT_CPU, (lim.cpu_seconds, lim.cpu_seconds + 1))
        if lim.memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (lim.memory_bytes, lim.memory_bytes))
        if lim.processes:
            resource.setrlimit(resource.RLIMIT_NPROC, (lim.processes, lim.processes))

    def run(self, argv: Sequence[str], *, cwd: str | os.PathLike[str], env: Mapping[str, str] | None = None,
            input: str | None = None) -> SandboxResult:
        """Run ``argv`` inside the sandbox and wait for it (at most ``wall_seconds``)."""
        for path in self.writable:
            if not path.is_dir():
                raise SandboxUnavailable(f"writable directory {path} does not exist")
        started = time.monotonic()
        proc = subprocess.Popen(self.command(argv, cwd), stdin=subprocess.PIPE if input is not None else
                                subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(env) if env is not None else None, start_new_session=True,
                                preexec_fn=self._set_limits)
        timed_out = False
        try:
            out, err = proc.communicate(input, timeout=self.limits.wall_seconds or None)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)  # only the group this runner started
            out, err = proc.communicate()
        seconds = time.monotonic() - started
        if proc.returncode == 1 and err.startswith("bwrap: execvp"):
            raise SandboxUnavailable(f"{argv[0]} cannot be started inside the sandbox: {err.strip().splitlines()[0]} "
                                     "(pass its directory in readable=)")
        if proc.returncode == 1 and err.startswith("bwrap:"):
            raise SandboxUnavailable(f"bubblewrap cannot start a sandbox here: {err.strip().splitlines()[0]} "
                                     "(it needs unprivileged user namespaces or root)")
        return SandboxResult(proc.returncode, out, err, seconds, timed_out)
