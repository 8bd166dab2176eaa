"""Tracing a repository with LeanDojo, inside the sandbox: the glue between the extractor's records
(:mod:`extraction.traced`) and the Lean environment (:mod:`prover.dojo`)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from database.records import Repo, RepoScan
from extraction.traced import from_traced_repo

__all__ = ["trace_repository"]


def trace_repository(repo: Repo, workdir: str | os.PathLike[str]) -> RepoScan:
    """Trace ``repo`` (a local git checkout, ``repo.path``) with LeanDojo inside the sandbox.

    Raises :class:`~prover.env.LeanUnavailable` in one line when no Lean toolchain is installed.
    """
    from prover.dojo import import_lean_dojo

    lean_dojo = import_lean_dojo(Path(repo.path).resolve(), Path(workdir).resolve())
    started = time.monotonic()
    traced = lean_dojo.trace(lean_dojo.LeanGitRepo(str(Path(repo.path).resolve()), repo.commit), build_deps=True)
    return from_traced_repo(traced, repo, time.monotonic() - started)
