"""Tracing a repository with LeanDojo, inside the sandbox: the glue between the extractor's records
(:mod:`extraction.traced`) and the Lean environment (:mod:`prover.dojo`).

LeanDojo gets a git work tree at a real commit, :func:`leanagent.project.worktree`'s (``WORKDIR/lean/…``,
the one :func:`leanagent.project.prepare_project` gives the prover: LeanDojo's cache key is its name and the
commit); its cache is the run's ``WORKDIR/lean_dojo``, the one the ``dojo`` prover reads. It clones the
repository afresh and ``lake build`` fetches the dependencies, so its ``lake`` and ``lean`` run in a sandbox
with network (writes confined to that directory); its Python side asks GitHub's API about them (with
``GITHUB_TOKEN`` when set).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from database.records import Repo, RepoScan
from extraction.traced import from_traced_repo

__all__ = ["TraceFailed", "trace_repository"]


class TraceFailed(RuntimeError):
    """LeanDojo could not trace a repository; one line naming it and why (the static records stay usable)."""


def trace_repository(repo: Repo, workdir: str | os.PathLike[str], *, cache_dir: str | os.PathLike[str] | None = None,
                     lean_dojo: Any = None) -> RepoScan:
    """Trace ``repo`` (its sources at ``repo.path``) with LeanDojo, in the run directory ``workdir``;
    ``cache_dir``: acquire's cache holding its git data (default ``WORKDIR/cache``, as a run keeps it).

    Raises :class:`~prover.env.LeanUnavailable` in one line when no Lean toolchain is installed, and
    :class:`TraceFailed` when LeanDojo cannot trace it. ``lean_dojo``: the module (a test double), else
    imported with the run's settings.
    """
    from leanagent.workdir import Workdir
    from prover.dojo import import_lean_dojo, lean_dojo_shims, on_path, startup_errors
    from leanagent.project import worktree
    from prover.toolchain import require_lean

    workdir = Path(workdir).resolve()
    cache_dir = Path(cache_dir) if cache_dir is not None else Workdir(workdir).cache
    toolchain = require_lean(Path(repo.path).resolve())
    ld = lean_dojo if lean_dojo is not None else import_lean_dojo(workdir, github=True)
    started = time.monotonic()
    try:
        tree, commit = worktree(repo, workdir, cache_dir=cache_dir)
        with on_path(lean_dojo_shims(toolchain, workdir, network=True)):
            traced = ld.trace(ld.LeanGitRepo(str(tree), commit), build_deps=True)
    except startup_errors(ld) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise TraceFailed(f"{repo.name}: LeanDojo cannot trace it ({type(err).__name__}: {first})") from None
    return from_traced_repo(traced, repo, time.monotonic() - started)
