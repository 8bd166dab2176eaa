"""The few git operations acquisition needs: argument lists, timeouts, one-line errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ExportedTree", "GitError", "git", "git_bytes", "resolve_commit", "export_tree", "is_git_dir", "toplevel"]

DEFAULT_TIMEOUT = 600.0


class GitError(RuntimeError):
    """A git command failed; the message is git's last line of stderr."""


@dataclass(frozen=True)
class ExportedTree:
    """A commit's tree written to disk."""

    root: Path
    """The directory holding it."""
    missing: tuple[str, ...] = ()
    """Paths of files left out because the git directory lacks their objects (a partial clone)."""


def git_bytes(args: list[str], *, cwd: Path | None = None, git_dir: Path | None = None, stdin: bytes = b"",
              timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """Run ``git ARGS`` with ``stdin`` and return its raw stdout; raise :class:`GitError` on failure.

    Never prompts, and never fetches a missing object from a partial clone's promisor remote (git >= 2.44)."""
    cmd = ["git"]
    if git_dir is not None:
        cmd += ["--git-dir", str(git_dir)]
    cmd += args
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "GIT_NO_LAZY_FETCH": "1"}
    try:
        done = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} timed out after {timeout:.0f} s") from None
    except FileNotFoundError:
        raise GitError("git is not installed (install it, e.g. apt-get install git)") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.decode(errors="replace").strip().splitlines() if line.strip()]
        raise GitError(lines[-1] if lines else f"git {args[0]} exited with {done.returncode}")
    return done.stdout


def git(args: list[str], *, cwd: Path | None = None, git_dir: Path | None = None,
        timeout: float = DEFAULT_TIMEOUT) -> str:
    """Run ``git ARGS`` and return its stripped stdout; raise :class:`GitError` on failure."""
    return git_bytes(args, cwd=cwd, git_dir=git_dir, timeout=timeout).decode(errors="replace").strip()


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


def toolchain_at(git_dir: Path, commit: str) -> str:
    """The first line of ``lean-toolchain`` at ``commit`` (``""`` when the commit has none)."""
    try:
        text = git(["show", f"{commit}:lean-toolchain"], git_dir=git_dir, timeout=60)
    except GitError:
        return ""
    return (text.splitlines() or [""])[0].strip()


def is_shallow(git_dir: Path) -> bool:
    """Whether ``git_dir`` lacks history (a shallow clone)."""
    try:
        return git(["rev-parse", "--is-shallow-repository"], git_dir=git_dir, timeout=30) == "true"
    except GitError:
        return False


def compatible_commit(git_dir: Path, commit: str, supported: Callable[[str], bool]) -> str | None:
    """The newest commit at or before ``commit`` (first parents) whose ``lean-toolchain`` ``supported``
    accepts, or None when its history has none (LeanAgent's ``find_compatible_commit``).

    Only the commits that changed ``lean-toolchain`` are visited: the version before each change holds for
    every commit back to the change before it, so the parent of the newest change that leaves a supported
    version behind it is the answer.
    """
    if supported(toolchain_at(git_dir, commit)):
        return commit
    try:
        changes = git(["rev-list", "--first-parent", commit, "--", "lean-toolchain"], git_dir=git_dir,
                      timeout=300).split()
    except GitError:
        return None
    for change in changes:
        parent = resolve_commit(git_dir, f"{change}^")
        if parent is not None and supported(toolchain_at(git_dir, parent)):
            return parent
    return None


@dataclass(frozen=True)
class TreeEntry:
    """One file of a commit's tree, as ``git ls-tree`` lists it."""

    mode: str
    """Git's file mode: ``100644``, ``100755`` (executable), ``120000`` (symbolic link), ``160000`` (submodule)."""
    sha: str
    """The blob's object id."""
    path: str
    """Path inside the tree, ``/``-separated."""


def parse_ls_tree(output: bytes) -> list[TreeEntry]:
    """The entries of ``git ls-tree -r -z`` output (``MODE TYPE SHA\\tPATH\\0`` each).

    >>> parse_ls_tree(b"100644 blob 1a2b\\tA.lean\\x00160000 commit 3c4d\\tvendor\\x00")
    [TreeEntry(mode='100644', sha='1a2b', path='A.lean'), TreeEntry(mode='160000', sha='3c4d', path='vendor')]
    """
    entries = []
    for record in output.split(b"\0"):
        if record:
            meta, _, path = record.partition(b"\t")
            mode, _, sha = meta.decode().split(" ")
            entries.append(TreeEntry(mode, sha, path.decode("utf-8", errors="surrogateescape")))
    return entries


def _safe_path(root: Path, rel: str) -> Path | None:
    parts = rel.split("/")
    if rel.startswith("/") or any(part in ("", ".", "..") for part in parts):
        return None
    return root.joinpath(*parts)


CHUNK_BYTES = 64 * 2**20
"""Blob bytes read from one ``git cat-file --batch`` (bounds the memory an export holds at once)."""


def _chunks(sized: list[tuple[TreeEntry, int]], limit: int) -> list[list[TreeEntry]]:
    """Entries grouped in order so that each group's sizes add up to at most ``limit`` (or one entry).

    >>> [[e.path for e in c] for c in _chunks([(TreeEntry("100644", "a", p), n) for p, n in
    ...                                        [("x", 3), ("y", 2), ("z", 4)]], 5)]
    [['x', 'y'], ['z']]
    """
    chunks: list[list[TreeEntry]] = []
    total = limit + 1
    for entry, size in sized:
        if total + size > limit:
            chunks.append([])
            total = 0
        chunks[-1].append(entry)
        total += size
    return chunks


def _object_ids(entries: list[TreeEntry]) -> bytes:
    """``git cat-file --batch``'s input: one object id a line."""
    return b"".join(e.sha.encode() + b"\n" for e in entries)


def _write_tree(git_dir: Path, entries: list[TreeEntry], root: Path, timeout: float) -> None:
    """Write the blobs of ``entries`` under ``root`` (one ``git cat-file --batch`` for all)."""
    if not entries:
        return
    out = git_bytes(["cat-file", "--batch"], git_dir=git_dir, stdin=_object_ids(entries), timeout=timeout)
    pos = 0
    for entry in entries:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split(b" ")[2])
        data = out[header_end + 1:header_end + 1 + size]
        pos = header_end + 1 + size + 1
        path = _safe_path(root, entry.path)
        if path is None:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if entry.mode == "120000":  # a link is kept only when it points inside the tree
            target = os.fsdecode(data)
            if not target.startswith("/") and root.resolve() in (path.parent / target).resolve().parents:
                os.symlink(target, path)
            continue
        path.write_bytes(data)
        path.chmod(0o755 if entry.mode == "100755" else 0o644)


def export_tree(git_dir: Path, commit: str, dest: Path, *, timeout: float = DEFAULT_TIMEOUT) -> ExportedTree:
    """Write the tree of ``commit`` to ``dest`` atomically (temp directory, then rename).

    Files whose objects the git directory lacks (a shallow or blobless clone, a mirror without its large
    files) are left out and named in :attr:`ExportedTree.missing`; such a partial tree is exported anew
    each time, so objects fetched later are picked up. A complete ``dest`` that exists is taken as already
    exported: trees are keyed by commit, so they never change.
    """
    marker = dest.with_name(dest.name + ".missing")
    if dest.is_dir() and not marker.exists():
        return ExportedTree(dest, ())
    listing = git_bytes(["ls-tree", "-r", "-z", "--full-tree", commit], git_dir=git_dir, timeout=timeout)
    entries = [e for e in parse_ls_tree(listing) if e.mode != "160000"]  # submodules: not here
    if not entries:
        raise GitError(f"commit {commit[:12]} has an empty tree")
    status = git_bytes(["cat-file", "--batch-check"], git_dir=git_dir, stdin=_object_ids(entries),
                       timeout=timeout).decode().splitlines()
    present: list[tuple[TreeEntry, int]] = []
    missing_paths = []
    for entry, line in zip(entries, status, strict=True):
        if line.endswith(" missing"):
            missing_paths.append(entry.path)
        else:
            present.append((entry, int(line.rsplit(" ", 1)[1])))
    missing = tuple(sorted(missing_paths))
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        for chunk in _chunks(present, CHUNK_BYTES):
            _write_tree(git_dir, chunk, tmp, timeout)
        if dest.is_dir():  # a partial export before: replace it
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    if missing:
        marker.write_text("".join(f"{path}\n" for path in missing))
    elif marker.exists():
        marker.unlink()
    return ExportedTree(dest, missing)
