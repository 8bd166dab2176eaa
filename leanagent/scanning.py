"""Acquire + extract one repository and the Lake dependencies it pins: the foundation's unit of work."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

from database.records import Dependency, FileScan, Repo, RepoScan
from leanagent.acquire import AcquireError, acquire, find_dependency, read_toolchain
from extraction import extract_repo, lean_files, scan_tree
from leanagent.repos import RepoSpec

__all__ = ["ScanError", "ScanOptions", "ScanResult", "scan_repository"]

log = logging.getLogger(__name__)


class ScanError(RuntimeError):
    """A repository could not be scanned (not found, not Lean, ...); the message is one line.

    ``bad_input``: the fault is in what was asked for (a missing path, a directory without Lean files, a
    commit a local repository lacks), not in fetching it."""

    def __init__(self, message: str, *, bad_input: bool = False) -> None:
        super().__init__(message)
        self.bad_input = bad_input


@dataclass(frozen=True)
class ScanOptions:
    """How repositories are brought in and scanned."""

    cache_dir: Path
    """Where clones and exported trees live (``WORKDIR/cache``)."""
    dependencies: bool = True
    """Also scan the Lake dependencies pinned in ``lake-manifest.json`` (their premises join the corpus)."""
    deps_dirs: tuple[Path, ...] = ()
    """Extra directories holding dependency checkouts or git repositories, by package or repository name."""
    allow_network: bool = True
    """Fetch what is not found locally."""
    show_progress: bool = False
    """Show progress bars."""
    compatible: bool = False
    """When LeanDojo cannot trace a repository's Lean version, use the newest commit before it that it can."""


@dataclass(frozen=True)
class ScanResult:
    """A scanned repository with its scanned dependencies."""

    scan: RepoScan
    """The repository's files, premises and theorems."""
    dependencies: tuple[RepoScan, ...] = ()
    """Each dependency found, scanned as a repository of its own (premises only matter)."""
    problems: tuple[str, ...] = field(default=())
    """One line per dependency that could not be found (reported once per (url, rev) in a run)."""


def _dependency_scans(repo: Repo, root: Path, options: ScanOptions, reported: set[str]
                      ) -> tuple[list[RepoScan], list[FileScan], list[str]]:
    scans: list[RepoScan] = []
    files: list[FileScan] = []
    missing: list[str] = []
    for dep in repo.dependencies:
        key = f"{dep.url}@{dep.rev}"
        try:
            dep_root = find_dependency(dep, root, options.cache_dir, options.deps_dirs,
                                       allow_network=options.allow_network)
        except AcquireError as err:
            log.debug("%s: %s", repo.name, err)  # the detail; the user gets one line for them all
            if key not in reported:
                reported.add(key)
                missing.append(dep.name)
            continue
        dep_files = scan_tree(dep_root, show_progress=options.show_progress)
        dep_repo = _dependency_repo(dep, dep_root)
        scans.append(extract_repo(dep_repo, dep_root, file_scans=dep_files))
        files.extend(dep_files)
    return scans, files, [missing_dependencies_line(repo.name, missing, options.allow_network)] if missing else []


def missing_dependencies_line(repo: str, names: list[str], allow_network: bool) -> str:
    """One line for all the Lake dependencies of ``repo`` that could not be found, with what to do.

    >>> missing_dependencies_line("pfr", ["mathlib", "batteries"], False)
    'pfr: 2 Lake dependencies not found (mathlib, batteries), their premises left out; pass --deps-dir DIR where their checkouts are, or --no-deps not to look (-v shows why each failed)'
    """
    hint = "pass --deps-dir DIR where their checkouts are, " + ("--offline not to try the network, "
                                                               if allow_network else "") + "or --no-deps not to look"
    return (f"{repo}: {len(names)} Lake dependenc{'y' if len(names) == 1 else 'ies'} not found ({', '.join(names)}), "
            f"their premises left out; {hint} (-v shows why each failed)")


def _dependency_repo(dep: Dependency, root: Path) -> Repo:
    return Repo(url=dep.url, commit=dep.rev or "path", name=dep.name, lean_version=read_toolchain(root),
                path=str(root))


def scan_repository(spec: RepoSpec, options: ScanOptions, reported: set[str] | None = None) -> ScanResult:
    """Acquire ``spec`` and extract it (with its dependencies when asked); raise :class:`ScanError`.

    ``reported`` collects the dependencies already reported missing, so a run reports each once.
    """
    try:
        checkout = acquire(spec, options.cache_dir, compatible=options.compatible)
    except AcquireError as err:
        raise ScanError(str(err), bad_input=not spec.is_url) from None
    repo, root = checkout.repo, checkout.root
    if not lean_files(root):
        raise ScanError(f"{repo.name} @ {repo.commit[:12]}: no .lean files (is this a Lean 4 repository?)",
                        bad_input=True)
    dep_scans: list[RepoScan] = []
    dep_files: list[FileScan] = []
    problems: list[str] = []
    if options.dependencies:
        dep_scans, dep_files, problems = _dependency_scans(repo, root, options, reported if reported is not None
                                                           else set())
    scan = extract_repo(repo, root, dependency_scans=dep_files, show_progress=options.show_progress)
    if checkout.warnings:
        scan = replace(scan, warnings=checkout.warnings + scan.warnings)
    for warning in scan.warnings:
        log.warning("%s", warning)
    return ScanResult(scan, tuple(dep_scans), tuple(problems))
