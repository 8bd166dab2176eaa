"""The few git operations acquisition needs: argument lists, timeouts, one-line errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

__all__ = ["GitError", "git", "resolve_commit", "export_tree", "is_git_dir", "toplevel"]

DEFAULT_TIMEOUT = 600.0


class GitError(RuntimeError):
    """A git command failed; the message is git's last line of stderr."""


def git(args: list[str], *, cwd: Path | None = None, git_dir: Path | None = None,
        timeout: float = DEFAULT_TIMEOUT) -> str:
    """Run ``git ARGS`` and return its stripped stdout; raise :class:`GitError` on failure."""
    cmd = ["git"]
    if git_dir is not None:
        cmd += ["--git-dir", str(git_dir)]
    cmd += args
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env,
                              errors="replace")
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} timed out after {timeout:.0f} s") from None
    except FileNotFoundError:
        raise GitError("git is not installed (install it, e.g. apt-get install git)") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise GitError(lines[-1] if lines else f"git {args[0]} exited with {done.returncode}")
    return done.stdout.strip()


def is_git_dir(path: Path) -> bool:
    """True if ``path`` is a bare repository or a ``.git`` directory."""
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


def toplevel(path: Path) -> Path | None:
    """The work tree root containing ``path``, or None if it is not inside a git work tree."""
    try:
        return Path(git(["rev-parse", "--show-toplevel"], cwd=path, timeout=30))
    except GitError:
        return None


def resolve_commit(git_dir: Path, revision: str | None) -> str | None:
    """Full hash of ``revision`` (HEAD when None) in ``git_dir``, or None if it is not there."""
    try:
        return git(["rev-parse", "--verify", "--quiet", f"{revision or 'HEAD'}^{{commit}}"],
                   git_dir=git_dir, timeout=30)
    except GitError:
        return None


def _safe_member(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """Tar's ``data`` filter, skipping (not failing on) members it rejects, e.g. links out of the tree."""
    try:
        return tarfile.data_filter(member, dest)
    except tarfile.FilterError:
        return None


def export_tree(git_dir: Path, commit: str, dest: Path, *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Write the tree of ``commit`` to ``dest`` atomically (temp directory, then rename); return ``dest``.

    An existing ``dest`` is taken as already exported: trees are keyed by commit, so they never change.
    """
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    cmd = ["git", "--git-dir", str(git_dir), "archive", "--format=tar", commit]
    try:
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
            assert proc.stdout is not None
            with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
                archive.extractall(tmp, filter=_safe_member)
            stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            rc = proc.wait(timeout=timeout)
        if rc != 0:
            raise GitError(stderr.strip().splitlines()[-1] if stderr.strip() else f"git archive exited {rc}")
        os.replace(tmp, dest)
    except tarfile.TarError as err:
        raise GitError(f"git archive of {commit[:12]} produced no readable tree: {err}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest
