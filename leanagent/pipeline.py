"""The lifelong loop: ingest → curriculum → for each repository, easiest first: train, embed, evaluate, prove.

Every (repository, stage) is recorded in the database when it finishes; a run killed at any moment and
started again skips what is recorded and redoes only the unfinished stage. Checkpoints and the index are
published atomically, so a half-written artefact is never taken for a finished one.
"""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from curriculum import build_curriculum
from database.records import Repo, RepoScan
from database.store import Store
from leanagent.config import Config, ConfigError, RetrieverConfig, dump_config, load_config
from leanagent.repos import read_repos_file
from leanagent.scanning import ScanError, ScanOptions, ScanResult, scan_repository
from leanagent.workdir import Workdir, atomic_write_text

__all__ = ["NothingStored", "RunResult", "run", "run_problems", "nothing_to_learn", "STAGES", "recall_matrix",
           "lifelong_matrix", "stored_repos"]

log = logging.getLogger(__name__)

# Evaluation searches the index that "embed" just rebuilt, so the corpus is embedded once per checkpoint.
STAGES = ("train", "embed", "evaluate", "prove")
RUN = ""  # repo id of run-wide stages


@dataclass
class RunResult:
    """What a run did: the learning order, failures, and seconds per stage."""

    order: list[Repo] = field(default_factory=list)
    """Repositories in learning order."""
    failures: list[str] = field(default_factory=list)
    """One line per repository or line that failed or gave nothing to learn (the rest went on)."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per stage, summed over repositories."""
    on_failure: Callable[[str], None] = field(default=lambda line: None, repr=False, compare=False)
    """Told each failure the moment it is found (the CLI prints it before any further work)."""

    def fail(self, line: str) -> None:
        """Record one failure and tell ``on_failure``."""
        self.failures.append(line)
        self.on_failure(line)


def _say(result: RunResult, stage: str, seconds: float, what: str, echo: Callable[[str], None]) -> None:
    result.timings[stage] = round(result.timings.get(stage, 0.0) + seconds, 3)
    echo(f"{stage:9} {what} ({seconds:.1f} s)")


def _ingest(store: Store, config: Config, repos_file: Path, wd: Workdir, result: RunResult,
            echo: Callable[[str], None]) -> list[Repo]:
    specs, errors = read_repos_file(repos_file)
    for error in errors:
        result.fail(error)
    options = ScanOptions(cache_dir=wd.cache, dependencies=config.acquire.dependencies,
                          deps_dirs=tuple(Path(d) for d in config.acquire.deps_dirs),
                          allow_network=not config.acquire.offline, show_progress=not config.quiet,
                          compatible=config.acquire.compatible)
    reported: set[str] = set()
    repos: list[Repo] = []
    for spec in specs:
        started = time.perf_counter()
        try:
            scanned = scan_repository(spec, options, reported)
        except ScanError as err:
            result.fail(f"{spec.where}: {err}")
            continue
        for problem in scanned.problems:
            log.warning("%s", problem)
        scanned = _traced(scanned, config, wd, result, spec.where)
        for dep in scanned.dependencies:
            store.ingest(dep, role="dependency")
        store.ingest(scanned.scan)
        seconds = time.perf_counter() - started
        store.mark_stage(scanned.scan.repo.id, "ingest", {"source": spec.source, "seconds": round(seconds, 3)})
        repos.append(scanned.scan.repo)
        _say(result, "ingest", seconds,
             f"{scanned.scan.repo.name}: {len(scanned.scan.theorems)} theorems, "
             f"{len(scanned.scan.premises)} premises", echo)
    return repos


class NothingStored(ValueError):
    """A run asked to learn the stored repositories of a workdir that holds none."""


def stored_repos(store: Store) -> list[Repo]:
    """The repositories a workdir has read (not its dependencies), in the order they were first stored."""
    ingested = {s.repo_id for s in store.stages() if s.stage == "ingest"}
    return [repo for repo in store.repos() if repo.id in ingested]


def extractor_for(setting: str, lean_version: str) -> str:
    """The extractor that runs for ``acquire.extractor = setting`` on a repository pinning ``lean_version``:
    ``auto`` is ``repl`` where Lean is installed and lean-interact supports the version, ``traced`` where Lean is
    installed but lean-interact does not support it, ``static`` without Lean; any other setting is itself."""
    if setting != "auto":
        return setting
    from extraction.repl import supports_version
    from prover.toolchain import find_toolchain

    if find_toolchain() is None:
        return "static"
    return "repl" if supports_version(lean_version) else "traced"


def _repl(scanned: ScanResult, config: Config, wd: Workdir, result: RunResult, where: str) -> ScanResult:
    """The scan with the Lean REPL's steps (files it cannot elaborate keep their static records, one warning
    each in the scan); a repository that does not build, or a REPL that does not start, is reported in one line
    and the static scan kept. The REPL runs on the project :func:`leanagent.project.prepare_project` made (a git
    work tree at the commit, Lake's packages at their pinned revisions, built), inside the sandbox."""
    from extraction.repl import LocalRepl, ReplUnavailable, repl_extract
    from prover.env import EnvInitError, LeanUnavailable
    from leanagent.project import ProjectError, prepare_for_run
    from prover.repl import LeanInteractServers
    from prover.sandbox import SandboxUnavailable

    repo, p = scanned.scan.repo, config.prover
    corpus = [premise.full_name for dep in scanned.dependencies for premise in dep.premises]
    try:
        project = prepare_for_run(repo, config, wd)
        scratch = wd.root / "prover"
        run_file = LocalRepl(project.root, timeout=p.check_timeout, servers=LeanInteractServers(
            project.root, scratch, memory_mb=p.repl_memory_mb, cache_dir=scratch / "lean-interact"))
        try:
            return dataclasses.replace(scanned, scan=repl_extract(scanned.scan, project.root, run_file=run_file,
                                                                  corpus=corpus))
        finally:
            run_file.close()
    except (ReplUnavailable, ProjectError, LeanUnavailable, EnvInitError, SandboxUnavailable) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        result.fail(f"{where}: {first}; kept the static extractor's records")
        return scanned


def _traced(scanned: ScanResult, config: Config, wd: Workdir, result: RunResult, where: str) -> ScanResult:
    """The scan with LeanDojo's traced records when ``acquire.extractor`` asks for them and Lean can give them;
    otherwise the static scan (a repository that cannot be traced is reported in one line)."""
    wanted = extractor_for(config.acquire.extractor, scanned.scan.repo.lean_version)
    if wanted == "static":
        return scanned
    if wanted == "repl":
        return _repl(scanned, config, wd, result, where)
    from leanagent.tracing import TraceFailed, trace_repository
    from prover.env import LeanUnavailable

    try:  # LeanDojo's cache in WORKDIR/lean_dojo, where the dojo prover looks
        return dataclasses.replace(scanned, scan=trace_repository(scanned.scan.repo, wd.root))
    except (LeanUnavailable, TraceFailed, OSError, subprocess.CalledProcessError, AssertionError, RuntimeError) as err:
        # trace_repository turns LeanDojo's start-up and trace errors (ValueError, git's and GitHub's among
        # them) into TraceFailed; the static records still let the run go on.
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        result.fail(f"{where}: cannot trace {scanned.scan.repo.name} ({first}); "
                    "kept the static extractor's records")
        return scanned


def nothing_to_learn(store: Store, repo: Repo, settings: RetrieverConfig) -> str | None:
    """Why ``repo`` gives the retriever nothing to learn or to be measured on, or None when it gives both
    training examples and test queries (a column of the lifelong matrix needs a test score)."""
    from leanagent.learner import repo_dataset

    data = repo_dataset(store, repo, settings)
    if data.train and data.test:
        return None
    theorems = store.theorems(repo.id, sorry=False)
    if not theorems:
        return "nothing to train on: no theorem with a proof was found"
    if not (data.train or data.validation or data.test):
        return (f"nothing to train on: none of its {len(theorems)} proved theorems uses a premise of the corpus "
                "(its own declarations and the dependencies scanned)")
    return (f"nothing to train on: {len(data.train)} training examples and {len(data.test)} test queries "
            "(too few theorems whose proofs use a premise of the corpus for a test split)")


def _learnable(store: Store, config: Config, repos: list[Repo], result: RunResult) -> list[Repo]:
    """The repositories that give something to learn; the others get every stage marked skipped with the
    reason (kept: a resumed run does not look again) and one failure line each."""
    kept = []
    for repo in repos:
        train = next((s for s in store.stages(repo.id) if s.stage == "train"), None)
        if train is not None and train.status == "skipped":
            reason = train.info.get("skipped", "")
        elif train is not None:
            reason = None
        else:
            reason = nothing_to_learn(store, repo, config.retriever)
            if reason is not None:
                for stage in STAGES:
                    store.mark_stage(repo.id, stage, {"skipped": reason, "summary": f"skipped ({reason})"},
                                     status="skipped")
        if reason is None:
            kept.append(repo)
        else:
            result.fail(f"{repo.name}: {reason}; not learned")
    return kept


def _order(store: Store, config: Config, repos: list[Repo]) -> list[Repo]:
    """The curriculum, decided once per workdir and kept (a resumed run never reorders)."""
    saved = next((s for s in store.stages(RUN) if s.stage == "curriculum"), None)
    ids = [r.id for r in repos]
    if saved is not None and sorted(saved.info.get("order", [])) == sorted(ids):
        by_id = {r.id: r for r in repos}
        return [by_id[i] for i in saved.info["order"]]
    scans = [RepoScan(repo=r, files=(), premises=(), theorems=tuple(store.theorems(r.id))) for r in repos]
    plan = build_curriculum(scans, strategy=config.curriculum.order, seed=config.curriculum.seed)
    order = [entry.repo for entry in plan.order]
    store.mark_stage(RUN, "curriculum", {"order": [r.id for r in order], "strategy": plan.strategy,
                                         "counts": {e.repo.id: [e.easy, e.medium, e.hard, e.sorry_theorems]
                                                    for e in plan.order}})
    return order


def run_problems(store: Store) -> list[str]:
    """The failure lines of the latest run in ``store`` (repositories dropped, unfetchable or empty)."""
    saved = next((s for s in store.stages(RUN) if s.stage == "problems"), None)
    return list(saved.info.get("problems", [])) if saved is not None else []


def checkpoint_name(position: int, repo: Repo) -> str:
    """Directory name of the checkpoint after learning ``repo`` at ``position`` (0-based).

    >>> checkpoint_name(0, Repo("https://github.com/a/b", "c", "a/b"))
    '01-a+b'
    """
    return f"{position + 1:02d}-{repo.name.replace('/', '+')}"


def lifelong_matrix(cells: dict[tuple[str, str, str], float], order: list[Repo], checkpoints: list[str]
                    ) -> tuple[list[list[float | None]], list[float]]:
    """From ``(checkpoint, repo id, split) → figure``: the test matrix (row i after learning i, column j ≤ i) and
    the validation figure on each repository right after learning it (0 where missing)."""
    matrix = [[cells.get((checkpoints[i], order[j].id, "test")) if j <= i else None for j in range(len(order))]
              for i in range(len(checkpoints))]
    validation = [cells.get((checkpoints[i], order[i].id, "validation"), 0.0) for i in range(len(checkpoints))]
    return matrix, validation


def recall_matrix(store: Store, order: list[Repo], checkpoints: list[str]) -> tuple[list[list[float | None]],
                                                                                  list[float]]:
    """Test R@10 matrix (row i after learning i, column j) and validation R@10 on each repo after learning it."""
    return lifelong_matrix({(e.checkpoint, e.repo_id, e.split): e.recall_at_10 for e in store.evaluations()},
                           order, checkpoints)


LEARNING_SECTIONS = ("curriculum", "retriever", "prover")
"""Config sections whose change half-way makes a run's repositories learned differently."""


def _saved_config(wd: Workdir) -> Config | None:
    """The settings the run in ``wd`` was last started with; None when there is none or it cannot be read."""
    if not wd.config.is_file():
        return None
    try:
        return load_config(wd.config)
    except ConfigError:  # unreadable: nothing to compare, it is overwritten
        return None


def _warn_changed_settings(store: Store, wd: Workdir, before: Config | None, config: Config) -> None:
    """One warning line when a run already under way (a train stage done) goes on with other learning settings."""
    if before is None or not any(s.stage == "train" and s.status == "done" for s in store.stages()):
        return
    changed = [f"{section}.{key} {old!r} → {new!r}" for section in LEARNING_SECTIONS
               for key, old in vars(getattr(before, section)).items()
               if (new := getattr(getattr(config, section), key)) != old]
    if changed:
        log.warning("%s: the run goes on with other settings than it started with (%s); the repositories "
                    "still to learn use the new ones", wd.root, "; ".join(changed))


def run(config: Config, repos_file: Path | None, *, until: str = "prove",
        echo: Callable[[str], None] = lambda line: None,
        on_failure: Callable[[str], None] = lambda line: None) -> RunResult:
    """Run the lifelong loop over ``repos_file`` in ``config.workdir``; stages after ``until`` are skipped
    (``until="ingest"``: the repositories are read and stored, nothing is learned). ``repos_file`` None: the
    repositories already stored in the workdir's database, their sources not read again (a workdir ingested on
    one machine and trained on another).

    Each failure (a bad line, a repository that cannot be fetched, read or traced, or that gives nothing to
    learn) goes to ``on_failure`` when it is found and is stored with the run (:func:`run_problems`)."""
    from leanagent.learner import Learner
    from prover.batch import ray_kept

    wd = Workdir(Path(config.workdir))
    result = RunResult(on_failure=on_failure)
    with wd.lock():
        before = _saved_config(wd)
        atomic_write_text(wd.config, dump_config(config))
        with Store.open(wd.database) as store:
            _warn_changed_settings(store, wd, before, config)
            if repos_file is None:
                stored = stored_repos(store)
                if not stored:
                    raise NothingStored(f"{wd.root}: no repository is stored in this workdir yet; give a "
                                        "repositories file")
            else:
                stored = _ingest(store, config, Path(repos_file), wd, result, echo)
            repos = [] if until == "ingest" else _learnable(store, config, stored, result)
            store.mark_stage(RUN, "problems", {"problems": result.failures})
            if not repos:
                return result
            result.order = _order(store, config, repos)
            echo("order     " + " → ".join(r.name for r in result.order))
            learner = Learner(config, store, wd)
            seen: list[Repo] = []
            with ray_kept():  # one local Ray for every prove stage of the run, started by the first
                for position, repo in enumerate(result.order):
                    seen.append(repo)
                    name = checkpoint_name(position, repo)
                    for stage in STAGES:
                        if STAGES.index(stage) > STAGES.index(until):
                            break
                        if store.stage_done(repo.id, stage):
                            continue
                        started = time.perf_counter()
                        info = learner.stage(stage, repo, name, seen)
                        seconds = time.perf_counter() - started
                        store.mark_stage(repo.id, stage, {**info, "seconds": round(seconds, 3)})
                        learner.finished(stage, name)  # recorded: its state kept against a kill can go
                        _say(result, stage, seconds, f"{repo.name}: {info.get('summary', '')}", echo)
    return result

