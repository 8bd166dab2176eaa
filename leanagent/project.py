"""A repository made ready for Lean: a git work tree at a real commit, its Lake dependencies in place, built.

Every Lean path (the REPL environment, the whole-file checker, LeanDojo's tracing) starts here. Acquisition
gives an *exported* tree (no git) or a local tree read in place (perhaps with uncommitted edits); Lean tools
want a git work tree at a real commit (LeanDojo's ``LeanGitRepo``) with the packages of ``lake-manifest.json``
checked out at their pinned revisions (Lake runs ``git rev-parse HEAD`` in each on every load, and fetches
when it differs). So:

1. :func:`worktree`: a self-contained clone (its own objects: the sandbox hides paths under ``/tmp``, where an
   ``alternates`` file or a ``git worktree`` link could point) at the commit, fetched with ``--depth 1`` from
   the acquire cache's bare clone or the local repository; where the commit is not a real one (``tree-…``) or
   no git data holds it, a fresh repository of the files with one reproducible commit.
2. :func:`fetch_dependencies`: each git package cloned the same way, from ``--deps-dir`` mirrors, the cache,
   then the network (git only: no repository code runs while the network is on).
3. :func:`build_project`: the toolchain fetched by elan and Mathlib's prebuilt files (``lake exe cache get``)
   with network, then ``lake build`` without, each in the sandbox, writing only to the project, the workdir
   and elan's store; a marker records the finished build (:func:`prepare_project` does all three, once).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from database.records import Dependency, Repo
from leanagent.acquire import AcquireError, _clone, read_toolchain, slug
from leanagent.gitutil import GitError, git, is_git_dir
from leanagent.repos import normalise_url
from leanagent.workdir import atomic_write_text
from prover.sandbox import Sandbox, SandboxLimits, SandboxResult
from prover.toolchain import require_lean

__all__ = ["BuildResult", "BuildStep", "LeanProject", "ProjectError", "build_commands", "build_project",
           "fetch_dependencies", "is_built", "manifest_packages", "packages_dir", "prepare_project",
           "requires_mathlib", "sandbox_for", "shown", "worktree"]

log = logging.getLogger(__name__)

Runner = Callable[[Sequence[str], Path], SandboxResult]
"""Runs a command (argument list) in a directory; the boundary tests replace."""

MARKER = "leanagent-build.json"
"""Written to ``ROOT/.lake`` after a successful build: the commit and toolchain it was built at."""

SNAPSHOT_ENV = {"GIT_AUTHOR_NAME": "leanagent", "GIT_AUTHOR_EMAIL": "leanagent@localhost",
                "GIT_COMMITTER_NAME": "leanagent", "GIT_COMMITTER_EMAIL": "leanagent@localhost",
                "GIT_AUTHOR_DATE": "2000-01-01T00:00:00+0000", "GIT_COMMITTER_DATE": "2000-01-01T00:00:00+0000"}
"""Fixed identity and dates: a snapshot of the same files always gets the same commit."""

# No hook of the user's runs on our clones; fetch by hash from any local repository (protocol v2 allows it,
# the setting covers older servers' v0); never a detached-HEAD lecture.
_GIT_OPTS = ["-c", "core.hooksPath=/dev/null", "-c", "advice.detachedHead=false", "-c", "protocol.version=2",
             "-c", "uploadpack.allowAnySHA1InWant=true", "-c", "core.autocrlf=false"]
_SKIPPED_DIRS = {".git", ".lake", "lake-packages"}
_HEX = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class ProjectError(RuntimeError):
    """A repository could not be made ready for Lean; the one-line message names it, the step and what to do."""


@dataclass(frozen=True)
class LeanProject:
    """A repository ready for Lean tools."""

    root: Path
    """A git work tree at ``commit``, dependencies in ``root/.lake/packages`` (``lake-packages`` before Lean 4.3)."""
    commit: str
    """A real (40-hex) commit of that work tree."""
    toolchain: str
    """The ``lean-toolchain`` line (``leanprover/lean4:v4.9.0``); empty when the repository pins none."""
    warnings: tuple[str, ...] = field(default=(), compare=False)
    """One line per dependency that could not be brought in."""


@dataclass(frozen=True)
class BuildStep:
    """One command of a build."""

    name: str
    """``toolchain`` (elan fetches the pinned Lean), ``cache`` (Mathlib's prebuilt files) or ``build``."""
    argv: tuple[str, ...]
    """The command, run in the project's root."""
    network: bool
    """Whether its sandbox has the network."""


@dataclass(frozen=True)
class BuildResult:
    """A finished build."""

    steps: tuple[BuildStep, ...]
    """What ran, in order."""
    log: Path
    """The commands' whole output."""
    seconds: float = field(default=0.0, compare=False)
    """Wall time."""


# ---- the manifest ---------------------------------------------------------------------------------------

def manifest_packages(data: object) -> list[Dependency]:
    """The packages of a parsed ``lake-manifest.json``: git ones with their URL as written and pinned
    revision, path ones with their directory (relative to the root) and revision ``""``.

    >>> manifest_packages({"version": 7, "packages": [{"type": "git", "name": "batteries",
    ...     "url": "https://github.com/leanprover-community/batteries", "rev": "ab12"},
    ...     {"type": "path", "name": "local", "dir": "./vendor/local"}]})
    [Dependency(name='batteries', url='https://github.com/leanprover-community/batteries', rev='ab12'), \
Dependency(name='local', url='./vendor/local', rev='')]
    >>> manifest_packages({"version": 4, "packages": [{"git": {"name": "std", "url": "u.git", "rev": "cd"}}]})
    [Dependency(name='std', url='u.git', rev='cd')]
    """
    deps = []
    for entry in data.get("packages", []) if isinstance(data, dict) else []:
        if not isinstance(entry, dict):
            continue
        for kind in ("git", "path"):  # manifest versions < 7 nest each package under its type
            if isinstance(entry.get(kind), dict):
                entry = {"type": kind, **entry[kind]}
        name = str(entry.get("name", ""))
        if entry.get("type") == "path":
            deps.append(Dependency(name, str(entry.get("dir", "")), ""))
        elif entry.get("url") and name:
            deps.append(Dependency(name, str(entry["url"]), str(entry.get("rev", ""))))
    return deps


def packages_dir(data: object) -> str:
    """Where Lake keeps the packages: the manifest's ``packagesDir``, else ``.lake/packages`` (manifest
    version 7 on, Lean 4.3) or ``lake-packages`` (before).

    >>> packages_dir({"version": 7}), packages_dir({"version": 5}), packages_dir({"packagesDir": "pkgs"})
    ('.lake/packages', 'lake-packages', 'pkgs')
    """
    data = data if isinstance(data, dict) else {}
    if isinstance(data.get("packagesDir"), str) and data["packagesDir"]:
        return data["packagesDir"]
    version = data.get("version", 7)
    return "lake-packages" if isinstance(version, int) and version < 7 else ".lake/packages"


def requires_mathlib(data: object) -> bool:
    """Mathlib is among the packages (or is the project itself): ``lake exe cache get`` applies.

    >>> requires_mathlib({"packages": [{"type": "git", "name": "mathlib", "url": "u", "rev": "r"}]})
    True
    >>> requires_mathlib({"name": "mathlib", "packages": []}), requires_mathlib({"packages": []})
    (True, False)
    """
    own = isinstance(data, dict) and data.get("name") == "mathlib"
    return own or any(dep.name == "mathlib" for dep in manifest_packages(data))


def _manifest(root: Path) -> dict:
    path = root / "lake-manifest.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError as err:
        raise ProjectError(f"{path}: not valid JSON ({err.msg} at line {err.lineno}); fix the manifest "
                           "(`lake update` writes it)") from None
    return data if isinstance(data, dict) else {}


# ---- git ------------------------------------------------------------------------------------------------

def _git_env(args: list[str], cwd: Path, env: Mapping[str, str], timeout: float = 600.0) -> str:
    """``git ARGS`` with extra environment variables (gitutil's has none); :class:`GitError` on failure."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=timeout,
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0", **env})
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[-1]} timed out after {timeout:.0f} s") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.decode(errors="replace").splitlines() if line.strip()]
        raise GitError(lines[-1] if lines else f"git exited with {done.returncode}")
    return done.stdout.decode(errors="replace").strip()


def _is_repository(path: Path) -> bool:
    """A bare repository or a work tree root (never a plain directory that lies inside some other repository)."""
    return path.is_dir() and (is_git_dir(path) or (path / ".git").exists())


def _head(path: Path) -> str | None:
    """The commit checked out in the work tree ``path``, or None."""
    if not (path / ".git").exists():
        return None
    try:
        return git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd=path, timeout=30)
    except GitError:
        return None


def _has_commit(source: Path, commit: str) -> bool:
    if not _is_repository(source):
        return False
    try:
        git(["cat-file", "-e", f"{commit}^{{commit}}"], cwd=source, timeout=30)
        return True
    except GitError:
        return False


def _install(tmp: Path, dest: Path, commit: str) -> None:
    """Move the finished ``tmp`` to ``dest``, replacing a ``dest`` that is not at ``commit``."""
    if _head(dest) == commit:  # made meanwhile (another worker): keep that one
        shutil.rmtree(tmp)
        return
    if dest.is_dir() and not dest.is_symlink():
        shutil.rmtree(dest)
    elif dest.exists() or dest.is_symlink():
        dest.unlink()
    os.replace(tmp, dest)


def _checkout(source: Path, commit: str, dest: Path, *, remote: str = "", timeout: float = 1800.0) -> None:
    """``dest``: a fresh, self-contained repository holding ``commit`` of ``source`` (a local repository),
    checked out detached, with ``origin`` set to ``remote``. Written beside ``dest``, then renamed."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        git(["init", "--quiet", str(tmp)], timeout=60)
        git([*_GIT_OPTS, "fetch", "--quiet", "--no-tags", "--depth", "1", str(source.resolve()), commit],
            cwd=tmp, timeout=timeout)
        git([*_GIT_OPTS, "checkout", "--quiet", "--detach", commit], cwd=tmp, timeout=timeout)
        if remote:
            git(["remote", "add", "origin", remote], cwd=tmp, timeout=60)
        _install(tmp, dest, commit)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _source_files(src: Path) -> tuple[list[str], bool]:
    """The files of a tree a snapshot takes, relative, and whether git chose them: a work tree's tracked
    and untracked files that git does not ignore, or every file of a plain directory (but a top-level
    ``build``); never ``.git``, ``.lake`` or ``lake-packages``."""
    from_git = (src / ".git").exists()
    if from_git:
        listed = git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=src, timeout=300)
        names = [n for n in listed.split("\0") if n]
    else:
        names = []
        for dirpath, dirnames, filenames in os.walk(src):
            rel = Path(dirpath).relative_to(src)
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS and not (rel == Path(".") and
                                                                                       d == "build"))
            names += [(rel / f).as_posix() for f in filenames]
    return sorted(n for n in set(names) if not _SKIPPED_DIRS.intersection(n.split("/")[:-1])), from_git


def _snapshot(src: Path, dest_parent: Path, label: str, timeout: float = 1800.0) -> tuple[Path, str]:
    """A new repository beside ``dest_parent``'s entries holding the files of ``src`` in one commit with a
    fixed author, date and message, so the same files give the same commit: (its directory, the commit)."""
    dest_parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".snapshot.", dir=dest_parent))
    try:
        names, from_git = _source_files(src)
        for rel in names:
            source, target = src / rel, tmp / rel
            if source.is_symlink():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(os.readlink(source), target)
            elif source.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(source, target)
        git(["init", "--quiet", str(tmp)], timeout=60)
        # git chose a work tree's files (tracked ones may match .gitignore); a plain directory's .gitignore holds
        git([*_GIT_OPTS, "add", "--all", *(["--force"] if from_git else []), "."], cwd=tmp, timeout=timeout)
        _git_env([*_GIT_OPTS, "-c", "commit.gpgSign=false", "commit", "--quiet", "--no-verify", "--allow-empty",
                  "-m", f"leanagent snapshot of {label}"], tmp, SNAPSHOT_ENV, timeout)
        commit = git(["rev-parse", "HEAD"], cwd=tmp, timeout=30)
        git(["checkout", "--quiet", "--detach"], cwd=tmp, timeout=60)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp, commit


def _git_sources(repo: Repo, cache_dir: Path | None) -> list[Path]:
    """Where ``repo``'s git data may be: the acquire cache's bare clone, the local repository it names."""
    found = [cache_dir / "git" / f"{slug(repo.url)}.git"] if cache_dir is not None else []
    for text in (repo.url, repo.path):
        if text and Path(text).is_absolute():
            found.append(Path(text))
    return found


def worktree(repo: Repo, workdir: Path, *, cache_dir: Path | None = None,
             timeout: float = 1800.0) -> tuple[Path, str]:
    """A git work tree of ``repo`` at a real commit, ``workdir/lean/<slug>@<commit[:12]>``, and the commit.

    Fetched from the git data that holds ``repo.commit`` (the acquire cache, the local repository); where
    the commit is not a real one (``tree-…``: a tree with uncommitted changes) or no git data holds it, the
    files of ``repo.path`` in a new repository with one commit of fixed author and date. An existing work tree
    at the commit is reused. Raises :class:`ProjectError` naming the repository.
    """
    lean_dir = Path(workdir).resolve() / "lean"
    name = slug(repo.url)
    try:
        if _HEX.fullmatch(repo.commit):
            dest = lean_dir / f"{name}@{repo.commit[:12]}"
            if _head(dest) == repo.commit:
                return dest, repo.commit
            source = next((s for s in _git_sources(repo, cache_dir) if _has_commit(s, repo.commit)), None)
            if source is not None:
                remote = repo.url if not Path(repo.url).is_absolute() else ""
                _checkout(source, repo.commit, dest, remote=remote, timeout=timeout)
                return dest, repo.commit
            log.warning("%s: no git data here holds %s; its files are committed afresh", repo.name,
                        repo.commit[:12])
        if not repo.path or not Path(repo.path).is_dir():
            raise ProjectError(f"{repo.name}: no sources at {repo.path or '(no path)'} to make a git work tree "
                               "of; acquire the repository again")
        tmp, commit = _snapshot(Path(repo.path), lean_dir, f"{repo.name} at {repo.commit}", timeout)
        dest = lean_dir / f"{name}@{commit[:12]}"
        _install(tmp, dest, commit)
        return dest, commit
    except GitError as err:
        raise ProjectError(f"{repo.name}: cannot make a git work tree at {repo.commit[:12]}: {err} "
                           f"(check that git works and {lean_dir} is writable)") from None


# ---- dependencies -----------------------------------------------------------------------------------------

def _dependency_source(dep: Dependency, cache_dir: Path, deps_dirs: Sequence[Path]) -> Path | None:
    """A local repository holding ``dep.rev``: the ``--deps-dir`` mirrors first, then the acquire cache."""
    url = normalise_url(dep.url)
    short = url.rsplit("/", 1)[-1]
    candidates = [Path(d) / n for d in deps_dirs for n in (dep.name, short, f"{short}.git")]
    candidates.append(cache_dir / "git" / f"{slug(url)}.git")
    return next((c for c in candidates if _has_commit(c, dep.rev)), None)


def fetch_dependencies(root: Path, *, cache_dir: Path, deps_dirs: Sequence[Path] = (), offline: bool = False,
                       timeout: float = 1800.0) -> list[str]:
    """Every git package of ``root/lake-manifest.json`` cloned at its pinned revision into the packages
    directory (``root/.lake/packages/<name>``), with ``origin`` its manifest URL; one already there at that
    revision is kept. Sources: ``deps_dirs`` (``DIR/<name>``, ``DIR/<repo>``, ``DIR/<repo>.git``), the
    acquire cache's bare clones, then (unless ``offline``) the network, into that cache: git only, no code of
    the repository runs. Returns one warning line per package it could not bring in; the rest go on.
    """
    root = Path(root).resolve()
    data = _manifest(root)
    packages = root / packages_dir(data)
    warnings = []
    for dep in manifest_packages(data):
        if not dep.rev:  # a path dependency: nothing to fetch, but Lake needs it there
            if not (root / dep.url).is_dir():
                warnings.append(f"dependency {dep.name}: path {dep.url} does not exist in {root.name} "
                                "(a path dependency outside the repository cannot be brought in)")
            continue
        dest = packages / dep.name
        if _head(dest) == dep.rev:
            continue
        where = f"dependency {dep.name} ({dep.url} @ {dep.rev[:12]})"
        source = _dependency_source(dep, cache_dir, deps_dirs)
        if source is None and not offline:
            try:
                source = _clone(normalise_url(dep.url), dep.rev, cache_dir, timeout)
            except AcquireError as err:
                warnings.append(f"{where}: {err}")
                continue
        if source is None:
            warnings.append(f"{where}: not in the --deps-dir mirrors or the cache, and offline; pass --deps-dir "
                            "DIR holding a clone of it, or allow the network")
            continue
        try:
            _checkout(source, dep.rev, dest, remote=dep.url, timeout=timeout)
        except GitError as err:
            warnings.append(f"{where}: cannot check it out from {source}: {err}")
    for line in warnings:
        log.warning("%s", line)
    return warnings


# ---- building -----------------------------------------------------------------------------------------------

def build_commands(project: LeanProject, *, cache_get: bool, workdir: Path, lake: str = "lake",
                   elan: bool = False, offline: bool = False) -> list[BuildStep]:
    """What :func:`build_project` runs, in order (nothing is started; for tests and ``--dry-run``):
    ``lake --version`` with network when elan manages the toolchain (it downloads the pinned Lean; no
    repository code runs), ``lake exe cache get`` with network when Mathlib is among the packages and
    ``cache_get`` (its archives in ``workdir/mathlib-cache``), then ``lake build`` without network.
    ``offline`` drops both network steps."""
    steps = []
    if elan and project.toolchain and not offline:
        steps.append(BuildStep("toolchain", (lake, "--version"), True))
    if cache_get and not offline and requires_mathlib(_manifest(project.root)):
        workdir = Path(workdir).resolve()
        env = ("env", f"MATHLIB_CACHE_DIR={workdir / 'mathlib-cache'}", f"XDG_CACHE_HOME={workdir / 'cache'}")
        steps.append(BuildStep("cache", (*env, lake, "exe", "cache", "get"), True))
    steps.append(BuildStep("build", (lake, "build"), False))
    return steps


def shown(step: BuildStep) -> str:
    """The step's command as a person would type it: no environment settings, ``lake`` by its name.

    >>> shown(BuildStep("cache", ("env", "MATHLIB_CACHE_DIR=/w/m", "/home/u/.elan/bin/lake", "exe", "cache",
    ...                           "get"), True))
    'lake exe cache get'
    """
    argv = list(step.argv)
    if argv and argv[0] == "env":
        argv = [a for a in argv[1:] if "=" not in a]
    return " ".join([Path(argv[0]).name, *argv[1:]]) if argv else ""


def elan_home() -> Path:
    """elan's store of toolchains (``$ELAN_HOME``, else ``~/.elan``)."""
    return Path(os.environ.get("ELAN_HOME") or Path.home() / ".elan")


def sandbox_for(step: BuildStep, project: LeanProject, workdir: Path, *, timeout: float = 3600.0,
                bwrap: str | None = None) -> Sandbox:
    """The sandbox of one step: writable the project, the workdir and elan's store (where it exists), the
    network only when the step has it, a wall-clock limit (no CPU-time one: a multi-threaded Lean's CPU time
    counts every thread, and the wall clock already bounds it)."""
    writable = [project.root, Path(workdir)] + ([elan_home()] if elan_home().is_dir() else [])
    return Sandbox(writable, limits=SandboxLimits(cpu_seconds=0, wall_seconds=timeout), network=step.network,
                   bwrap=bwrap)


def _tail(output: str) -> str:
    """The line that says most about a failure: the last ``error`` line other than Lake's closing
    ``build failed``, else the last line.

    >>> _tail("✖ [3/4] Building Foo\\nerror: ./Foo.lean:2:8: unknown identifier 'x'\\nerror: build failed\\n")
    "error: ./Foo.lean:2:8: unknown identifier 'x'"
    >>> _tail("curl: (6) Could not resolve host\\n")
    'curl: (6) Could not resolve host'
    """
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower() and line.lower() != "error: build failed"]
    return (errors or lines or ["no output"])[-1][:300]


def is_built(project: LeanProject) -> bool:
    """A finished build of this commit and toolchain is recorded in the project."""
    try:
        data = json.loads((project.root / ".lake" / MARKER).read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return isinstance(data, dict) and data.get("commit") == project.commit and \
        data.get("toolchain") == project.toolchain


def _mark_built(project: LeanProject) -> None:
    atomic_write_text(project.root / ".lake" / MARKER,
                      json.dumps({"commit": project.commit, "toolchain": project.toolchain}) + "\n")


_NEXT = {"toolchain": "check the network, or install it yourself: `elan toolchain install TOOLCHAIN`",
         "cache": "check the network, or set prover.cache_get = false to build Mathlib from source (hours)",
         "build": "fix the build of the repository at this commit, or list a commit that builds"}


def build_project(project: LeanProject, workdir: Path, *, cache_get: bool = True, timeout: float = 3600.0,
                  offline: bool = False, runner: Runner | None = None) -> BuildResult:
    """Run :func:`build_commands` in the project, each step in its sandbox (:func:`sandbox_for`; ``runner``
    replaces them in tests), at most ``timeout`` seconds each; record the finished build (:func:`is_built`).

    Raises :class:`~prover.env.LeanUnavailable` before anything runs when there is no Lean, and
    :class:`ProjectError` with the telling line of the output when a step fails; the whole output is in
    ``workdir/lean/<root>.build.log``.
    """
    workdir = Path(workdir).resolve()
    lake, elan = "lake", False
    if runner is None:
        toolchain = require_lean()
        lake, elan = toolchain.lake, toolchain.elan
    steps = build_commands(project, cache_get=cache_get, workdir=workdir, lake=lake, elan=elan, offline=offline)
    logfile = workdir / "lean" / f"{project.root.name}.build.log"
    logfile.parent.mkdir(parents=True, exist_ok=True)
    if any(step.name == "cache" for step in steps):
        (workdir / "mathlib-cache").mkdir(parents=True, exist_ok=True)
        (workdir / "cache").mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with logfile.open("w", encoding="utf-8") as out:
        for step in steps:
            log.info("%s: %s", project.root.name, " ".join(step.argv))
            run = runner
            if run is None:
                sandbox = sandbox_for(step, project, workdir, timeout=timeout)
                run = lambda argv, cwd, sandbox=sandbox: sandbox.run(argv, cwd=cwd)  # noqa: E731
            result = run(list(step.argv), project.root)
            out.write(f"$ {' '.join(step.argv)}\n{result.stdout}{result.stderr}\n[exit {result.returncode}]\n")
            out.flush()
            what = f"{project.root.name} @ {project.commit[:12]}: `{shown(step)}`"
            if result.timed_out:
                raise ProjectError(f"{what} ran past {timeout:g} s (raise prover.build_timeout); output in {logfile}")
            if not result.ok:
                hint = _NEXT[step.name].replace("TOOLCHAIN", project.toolchain)
                raise ProjectError(f"{what} failed (exit {result.returncode}): "
                                   f"{_tail(result.stdout + chr(10) + result.stderr)}; {hint}; output in {logfile}")
    _mark_built(project)
    return BuildResult(tuple(steps), logfile, time.monotonic() - started)


def prepare_project(repo: Repo, workdir: Path, *, cache_dir: Path, deps_dirs: Sequence[Path] = (),
                    offline: bool = False, cache_get: bool = True, build: bool = True, timeout: float = 3600.0,
                    runner: Runner | None = None) -> LeanProject:
    """``repo`` ready for Lean: :func:`worktree`, :func:`fetch_dependencies` (a local repository's own
    ``.lake/packages`` serve as mirrors too), and, with ``build``, :func:`build_project` unless a finished
    build of the commit is recorded. Idempotent: a second call reuses everything.

    Raises :class:`~prover.env.LeanUnavailable` before any work when there is no Lean (unless ``runner`` is
    given), and :class:`ProjectError` when a step fails or, before building, a dependency is missing.
    """
    if runner is None:
        require_lean()
    workdir = Path(workdir).resolve()
    root, commit = worktree(repo, workdir, cache_dir=cache_dir)
    mirrors = list(deps_dirs)
    for text in (repo.url, repo.path):
        if text and Path(text).is_absolute():
            mirrors += [Path(text) / ".lake" / "packages", Path(text) / "lake-packages"]
    warnings = fetch_dependencies(root, cache_dir=cache_dir, deps_dirs=mirrors, offline=offline)
    project = LeanProject(root, commit, read_toolchain(root), tuple(warnings))
    if build and not is_built(project):
        if warnings:
            more = f" (and {len(warnings) - 1} more)" if len(warnings) > 1 else ""
            raise ProjectError(f"{repo.name}: not built, a dependency is missing: {warnings[0]}{more}")
        build_project(project, workdir, cache_get=cache_get, timeout=timeout, offline=offline, runner=runner)
    return project


def prepare_for_run(repo: Repo, config, wd) -> LeanProject:
    """:func:`prepare_project` with a run's settings (``config``: a :class:`~leanagent.config.Config`; ``wd``: its
    :class:`~leanagent.workdir.Workdir`): the acquire cache, ``--deps-dir`` mirrors, offline, ``prover.cache_get``
    and ``prover.build_timeout``. What proving and the REPL extractor build on."""
    return prepare_project(repo, wd.root, cache_dir=wd.cache, deps_dirs=[Path(d) for d in config.acquire.deps_dirs],
                           offline=config.acquire.offline, cache_get=config.prover.cache_get,
                           timeout=config.prover.build_timeout)
