"""Bringing repositories (and their Lake dependencies) onto disk at the right commit.

Cache layout under ``cache_dir``: ``git/<slug>.git`` holds one bare clone per URL, ``src/<slug>@<commit>``
one exported tree per (repository, commit), shared by every repository and every run that uses the cache.
A local work tree listed without a commit is read in place.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from database.records import Dependency, Repo
from leanagent.gitutil import (ExportedTree, GitError, compatible_commit, export_tree, git, is_git_dir, is_shallow,
                               resolve_commit, toolchain_at, toplevel)
from leanagent.repos import RepoSpec, local_name, normalise_url

__all__ = ["AcquireError", "Checkout", "acquire", "find_dependency", "read_toolchain", "read_manifest"]

log = logging.getLogger(__name__)

# Files that identify a Lean package; hashed to give an uncommitted tree a stable identity.
_PACKAGE_FILES = ("lean-toolchain", "lakefile.lean", "lakefile.toml", "lake-manifest.json")


class AcquireError(RuntimeError):
    """A repository could not be brought onto disk; the message names it and says what to do."""


@dataclass(frozen=True)
class Checkout:
    """A repository at one commit, with the directory that holds its sources."""

    repo: Repo
    """The repository record."""
    root: Path
    """Directory of its sources at ``repo.commit``."""
    warnings: tuple[str, ...] = ()
    """One line per problem met bringing it in (files a partial clone lacks), for the scan's warnings."""


def slug(source: str) -> str:
    """A file-system-safe name for a URL or path.

    >>> slug("https://github.com/teorth/pfr")
    'github.com+teorth+pfr'
    """
    text = re.sub(r"^[a-z]+://|^[^@/]+@", "", source).replace(":", "/")
    parts = [re.sub(r"[^\w.-]", "_", p) for p in text.split("/") if p and p not in (".", "..")]
    return "+".join(parts)[-120:] or "repo"


def read_toolchain(root: Path) -> str:
    """The ``lean-toolchain`` line (``leanprover/lean4:v4.8.0``), or ``""`` when there is none."""
    try:
        return (root / "lean-toolchain").read_text(errors="replace").strip().splitlines()[0].strip()
    except (OSError, IndexError):
        return ""


def read_manifest(root: Path) -> tuple[Dependency, ...]:
    """Dependencies pinned in ``lake-manifest.json`` (every manifest version Lake has written).

    Raises :class:`AcquireError` on a manifest that is not JSON; returns ``()`` when there is none.
    """
    path = root / "lake-manifest.json"
    if not path.is_file():
        return ()
    try:
        data = json.loads(path.read_text(errors="replace"))
    except json.JSONDecodeError as err:
        raise AcquireError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from None
    deps = []
    for entry in data.get("packages", []) if isinstance(data, dict) else []:
        if not isinstance(entry, dict):
            continue
        # Manifest versions < 7 nest each package under its type: {"git": {...}} or {"path": {...}}.
        if "git" in entry and isinstance(entry["git"], dict):
            entry = {"type": "git", **entry["git"]}
        elif "path" in entry and isinstance(entry["path"], dict):
            entry = {"type": "path", **entry["path"]}
        name = str(entry.get("name", ""))
        if entry.get("type") == "path":
            deps.append(Dependency(name, str((root / str(entry.get("dir", ""))).resolve()), ""))
        elif entry.get("url"):
            deps.append(Dependency(name, normalise_url(str(entry["url"])), str(entry.get("rev", ""))))
    return tuple(deps)


def tree_digest(root: Path) -> str:
    """A content hash of a tree's ``.lean`` files and package files: the identity of an uncommitted tree."""
    digest = hashlib.sha256()
    files = sorted(p for p in root.rglob("*.lean") if not _ignored(p.relative_to(root)))
    files += [root / name for name in _PACKAGE_FILES if (root / name).is_file()]
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _ignored(rel: Path) -> bool:
    return any(part.startswith(".") or part in ("lake-packages", "build") for part in rel.parts[:-1])


def _make_repo(url: str, commit: str, name: str, root: Path | ExportedTree, notes: tuple[str, ...] = ()) -> Checkout:
    tree = root if isinstance(root, ExportedTree) else ExportedTree(root)
    repo = Repo(url=url, commit=commit, name=name, lean_version=read_toolchain(tree.root), path=str(tree.root),
                dependencies=read_manifest(tree.root))
    return Checkout(repo, tree.root, notes + missing_warnings(url, commit, tree.missing))


def _compatible(git_dir: Path, commit: str, source: str) -> tuple[str, tuple[str, ...]]:
    """The newest commit at or before ``commit`` that LeanDojo can trace, and a line saying so if it moved."""
    from leanagent.versions import lean_dojo_support

    found = compatible_commit(git_dir, commit, lambda toolchain: lean_dojo_support(toolchain).supported)
    asked = toolchain_at(git_dir, commit) or "no lean-toolchain"
    if found is None:
        hint = ("; the clone is shallow, so its history is not here: clone it fully and list the local path"
                if is_shallow(git_dir) else "")
        raise AcquireError(f"{source}: no commit at or before {commit[:12]} has a Lean version LeanDojo supports "
                           f"({commit[:12]} has {asked}){hint}")
    if found == commit:
        return commit, ()
    return found, (f"{source}: {commit[:12]} has {asked}, which LeanDojo cannot trace; using {found[:12]}, the "
                   f"newest commit before it with a supported version ({toolchain_at(git_dir, found)})",)


def _export(git_dir: Path, revision: str | None, cache_dir: Path, source: str,
            compatible: bool = False) -> tuple[str, ExportedTree, tuple[str, ...]]:
    commit = resolve_commit(git_dir, revision)
    if commit is None:
        raise AcquireError(f"{source}: commit {revision or 'HEAD'} not found "
                           "(check the commit in the repositories file, or fetch it into that repository)")
    notes: tuple[str, ...] = ()
    if compatible:
        commit, notes = _compatible(git_dir, commit, source)
    try:
        tree = export_tree(git_dir, commit, cache_dir / "src" / f"{slug(source)}@{commit[:12]}")
    except GitError as err:
        raise AcquireError(f"{source}: cannot export commit {commit[:12]}: {err}") from None
    check_readable(source, commit, tree)
    return commit, tree, notes


MAX_NAMED = 10
"""Missing files named one line each; past this many, one line counts the rest."""


def missing_warnings(source: str, commit: str, missing: Sequence[str]) -> tuple[str, ...]:
    """One line per file a partial clone could not give, and one counting those past :data:`MAX_NAMED`.

    >>> missing_warnings("r", "0123456789abcdef", ["A.lean"])
    ('r @ 0123456789ab: A.lean is missing from the git data (partial clone?); skipped',)
    """
    lines = [f"{source} @ {commit[:12]}: {path} is missing from the git data (partial clone?); skipped"
             for path in missing[:MAX_NAMED]]
    if len(missing) > MAX_NAMED:
        lines.append(f"{source} @ {commit[:12]}: {len(missing) - MAX_NAMED} more files are missing from the "
                     "git data; skipped")
    return tuple(lines)


def check_readable(source: str, commit: str, tree: ExportedTree) -> None:
    """Raise :class:`AcquireError` when a partial clone gave none of its Lean files."""
    lean_missing = [p for p in tree.missing if p.endswith(".lean")]
    if lean_missing and not any(tree.root.rglob("*.lean")):
        raise AcquireError(f"{source} @ {commit[:12]}: none of its {len(lean_missing)} Lean files can be read from "
                           "the git data (a partial clone: fetch the missing objects, e.g. `git fetch --unshallow` "
                           "or `git fetch --refetch`)")


def _clone(url: str, revision: str | None, cache_dir: Path, timeout: float) -> Path:
    """A bare clone of ``url`` in the cache that holds ``revision``, fetching only what is missing."""
    git_dir = cache_dir / "git" / f"{slug(url)}.git"
    if not is_git_dir(git_dir):
        git_dir.parent.mkdir(parents=True, exist_ok=True)
        git(["init", "--bare", "--quiet", str(git_dir)], timeout=60)
        git(["remote", "add", "origin", url], git_dir=git_dir, timeout=60)
    if revision is not None and resolve_commit(git_dir, revision) is not None:
        return git_dir
    try:
        # Fetching one commit by hash keeps a Mathlib-sized history off the disk.
        git(["fetch", "--quiet", "--depth", "1", "origin", revision or "HEAD"], git_dir=git_dir,
            timeout=timeout)
        git(["update-ref", "HEAD" if revision is None else f"refs/leanagent/{revision}", "FETCH_HEAD"],
            git_dir=git_dir, timeout=60)
    except GitError as err:
        raise AcquireError(f"{url}: cannot fetch {revision or 'HEAD'}: {err} "
                           "(no network? clone it yourself and list the local path instead)") from None
    return git_dir


def _deepen(git_dir: Path, url: str, timeout: float) -> None:
    """Fetch the history of a shallow clone, so that earlier commits can be looked at."""
    try:
        git(["fetch", "--quiet", "--unshallow", "origin"], git_dir=git_dir, timeout=timeout)
    except GitError as err:
        log.warning("%s: cannot fetch its history to look for a compatible commit: %s", url, err)


def acquire(spec: RepoSpec, cache_dir: Path, *, timeout: float = 1800.0, compatible: bool = False) -> Checkout:
    """Bring the repository of ``spec`` onto disk at its commit; raise :class:`AcquireError` if impossible.

    ``compatible``: when LeanDojo cannot trace the commit's Lean version, the newest commit before it that it
    can is used instead (its history fetched for a URL), and a line of the checkout's warnings says so.

    - URL: a bare clone in the cache (fetched once), the commit exported to ``src/``.
    - Bare git directory: the commit (HEAD by default) exported to ``src/``.
    - Work tree with a commit: that commit exported from its git data.
    - Work tree (or plain directory) without a commit: read in place; its commit is HEAD when git says
      the tree is clean, else ``tree-<content hash>``, so an edited tree never poses as a commit.
    """
    checkout = _acquire(spec, cache_dir, timeout=timeout, compatible=compatible)
    if spec.textbook:
        checkout = dataclasses.replace(checkout, repo=dataclasses.replace(checkout.repo, textbook=True))
    return checkout


def _acquire(spec: RepoSpec, cache_dir: Path, *, timeout: float, compatible: bool) -> Checkout:
    if spec.is_url:
        git_dir = _clone(spec.source, spec.commit, cache_dir, timeout)
        if compatible and is_shallow(git_dir):
            _deepen(git_dir, spec.source, timeout)
        commit, tree, notes = _export(git_dir, spec.commit, cache_dir, spec.source, compatible)
        return _make_repo(spec.source, commit, spec.name, tree, notes)
    path = Path(spec.source)
    if not path.exists():
        raise AcquireError(f"{path}: no such directory")
    if not path.is_dir():
        raise AcquireError(f"{path}: not a directory (give a Lean repository's root directory)")
    name = local_name(path)
    if is_git_dir(path):
        commit, tree, notes = _export(path, spec.commit, cache_dir, str(path), compatible)
        return _make_repo(str(path), commit, name, tree, notes)
    top = toplevel(path)
    is_root = top is not None and top.resolve() == path.resolve()
    if spec.commit is not None:
        if not is_root:
            raise AcquireError(f"{path}: not the root of a git repository, so commit {spec.commit} "
                               "cannot be checked out (drop the commit to read the directory as it is)")
        commit, tree, notes = _export(path / ".git", spec.commit, cache_dir, str(path), compatible)
        return _make_repo(str(path), commit, name, tree, notes)
    if compatible and is_root:
        from leanagent.versions import lean_dojo_support

        if not lean_dojo_support(read_toolchain(path)).supported:  # walk the work tree's history instead
            commit, tree, notes = _export(path / ".git", None, cache_dir, str(path), compatible)
            return _make_repo(str(path), commit, name, tree, notes)
    commit = f"tree-{tree_digest(path)}"
    if is_root:
        try:
            if not git(["status", "--porcelain", "--untracked-files=no"], cwd=path, timeout=120):
                commit = git(["rev-parse", "HEAD"], cwd=path, timeout=30)
        except GitError:
            pass  # a repository without commits: keep the content hash
    return _make_repo(str(path), commit, name, path)


def find_dependency(dep: Dependency, repo_root: Path, cache_dir: Path, search_dirs: Sequence[Path] = (),
                    *, allow_network: bool = True, timeout: float = 1800.0) -> Path:
    """The directory holding ``dep``'s sources at its pinned revision; raise :class:`AcquireError` if none.

    Looks, in order, at: a path dependency's directory; the repository's own ``.lake/packages/NAME`` or
    ``lake-packages/NAME``; ``DIR/NAME`` and ``DIR/<repo name>`` of each search directory (a checked-out
    package, or a git repository holding the pinned revision); the cache; then the network.
    """
    if not dep.rev:  # a path dependency
        path = Path(dep.url)
        if path.is_dir():
            return path
        raise AcquireError(f"dependency {dep.name}: path {path} does not exist")
    short = dep.url.rstrip("/").rsplit("/", 1)[-1]
    candidates = [repo_root / ".lake" / "packages" / dep.name, repo_root / "lake-packages" / dep.name]
    for directory in search_dirs:
        candidates += [Path(directory) / dep.name, Path(directory) / short, Path(directory) / f"{short}.git"]
    for cand in candidates:
        if is_git_dir(cand) or is_git_dir(cand / ".git"):
            git_dir = cand if is_git_dir(cand) else cand / ".git"
            if resolve_commit(git_dir, dep.rev) is not None:
                return _dependency_tree(git_dir, dep, cache_dir)
        elif cand.is_dir() and any(cand.glob("*.lean")):
            return cand  # a package as Lake checks it out; its revision is trusted to be the pinned one
    cached = cache_dir / "src" / f"{slug(dep.url)}@{dep.rev[:12]}"
    if cached.is_dir():
        return cached
    if not allow_network:
        raise AcquireError(f"dependency {dep.name} ({dep.url} @ {dep.rev[:12]}) not found locally "
                           "(run `lake exe cache get` in the repository, or pass --deps-dir)")
    return _dependency_tree(_clone(dep.url, dep.rev, cache_dir, timeout), dep, cache_dir)


def _dependency_tree(git_dir: Path, dep: Dependency, cache_dir: Path) -> Path:
    commit, tree, _ = _export(git_dir, dep.rev, cache_dir, dep.url)
    for line in missing_warnings(f"dependency {dep.name} ({dep.url})", commit, tree.missing):
        log.warning("%s", line)
    return tree.root
