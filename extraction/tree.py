"""A repository's Lean files, scanned and assembled into a :class:`~database.records.RepoScan`."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Sequence

from database.records import THEOREM_KINDS, FileScan, Premise, Repo, RepoScan, TacticStep, Theorem
from extraction.resolve import NameIndex, resolve_identifiers
from extraction.scanner import scan_file

__all__ = ["lean_files", "scan_tree", "extract_repo"]

log = logging.getLogger(__name__)

# Build outputs and dependency checkouts are not the repository's sources.
SKIPPED_DIRS = frozenset({".lake", "lake-packages", "build", ".git"})


def lean_files(root: Path) -> list[str]:
    """Sorted ``/``-separated paths of the ``*.lean`` files under ``root``, build and hidden folders left out."""
    root = Path(root)
    out: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".")]
        rel = Path(folder).relative_to(root).as_posix()
        out.extend(name if rel == "." else f"{rel}/{name}" for name in files if name.endswith(".lean"))
    return sorted(out)


def scan_tree(root: Path, show_progress: bool = False) -> list[FileScan]:
    """Scan every Lean file under ``root``, in path order."""
    files = lean_files(root)
    if show_progress:
        from tqdm import tqdm

        files = tqdm(files, desc=f"scanning {Path(root).name}", unit="file")
    return [scan_file(Path(root), rel) for rel in files]


def extract_repo(repo: Repo, root: Path, dependency_scans: Sequence[FileScan] = (), show_progress: bool = False,
                 *, file_scans: Sequence[FileScan] | None = None) -> RepoScan:
    """Premises and theorems of the repository at ``root``; premises are resolved against the repository
    and ``dependency_scans``. ``file_scans`` skips scanning when the files were scanned already.

    Every named declaration (any kind but ``example``) is a premise; ``theorem`` and ``lemma`` are
    theorems. A name declared twice in one file is kept once, with a warning.
    """
    started = time.perf_counter()
    scans = list(file_scans) if file_scans is not None else scan_tree(root, show_progress)
    index = NameIndex.from_scans([*scans, *dependency_scans])
    premises: list[Premise] = []
    theorems: list[Theorem] = []
    warnings: list[str] = []
    seen: set[tuple[str, str]] = set()
    for scan in scans:
        warnings.extend(scan.warnings)
        for decl in scan.declarations:
            if not decl.name or decl.kind == "example":
                continue
            if (decl.path, decl.name) in seen:
                warnings.append(f"{decl.path}: {decl.name} declared again at line {decl.start.line}, "
                                "kept the first")
                continue
            seen.add((decl.path, decl.name))
            premises.append(Premise(full_name=decl.name, kind=decl.kind, path=decl.path, start=decl.start,
                                    end=decl.end, code=decl.code))
            if decl.kind in THEOREM_KINDS:
                theorems.append(Theorem(
                    url=repo.url, commit=repo.commit, path=decl.path, full_name=decl.name, start=decl.start,
                    end=decl.end, statement=decl.statement, proof=decl.proof,
                    steps=tuple(TacticStep(tactic=t) for t in decl.steps),
                    premises=resolve_identifiers(decl, index),
                    has_sorry=decl.sorry_in_proof, placeholder=decl.sorry_in_statement,
                ))
    seconds = time.perf_counter() - started
    log.debug("%s: %d files, %d premises, %d theorems in %.2fs", repo.name, len(scans), len(premises),
              len(theorems), seconds)
    return RepoScan(repo=repo, files=tuple(s.file for s in scans), premises=tuple(premises),
                    theorems=tuple(theorems), warnings=tuple(warnings), seconds=seconds)
