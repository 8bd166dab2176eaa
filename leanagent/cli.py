"""The ``leanagent`` command line: one subcommand per task, each a few lines around one library call.

Exit codes: 0 all well; 1 some repositories failed and the rest was done; 2 usage or input errors
(bad arguments, an unreadable repositories file, a missing Lean toolchain).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2
DEFAULT_WORKDIR = "leanagent-work"


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def _scan_options(args: argparse.Namespace):
    from leanagent.scanning import ScanOptions

    return ScanOptions(
        cache_dir=Path(args.workdir) / "cache",
        dependencies=not args.no_deps,
        deps_dirs=tuple(Path(p) for p in args.deps_dir),
        allow_network=not args.offline,
        show_progress=not args.quiet and sys.stderr.isatty(),
    )


def _scan_summary(result) -> dict:
    scan = result.scan
    theorems = scan.theorems
    return {
        "repo": scan.repo.name,
        "url": scan.repo.url,
        "commit": scan.repo.commit,
        "lean_version": scan.repo.lean_version,
        "extractor": scan.extractor,
        "files": len(scan.files),
        "lines": sum(f.lines for f in scan.files),
        "theorems": len(theorems),
        "sorry_theorems": sum(t.has_sorry for t in theorems),
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
        print(f"leanagent scan: {err}", file=sys.stderr)
        return EXIT_PARTIAL
    summary = _scan_summary(result)
    summary["seconds_total"] = round(time.perf_counter() - started, 3)
    for problem in result.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{summary['repo']} @ {summary['commit'][:12]}  ({summary['lean_version'] or 'no lean-toolchain'})")
        for key in ("files", "lines", "theorems", "sorry_theorems", "placeholders", "premises",
                    "tactic_steps", "dependency_premises"):
            print(f"  {key:20} {summary[key]}")
        if summary["warnings"]:
            print(f"  {'warnings':20} {len(summary['warnings'])} (first: {summary['warnings'][0]})")
        print(f"  {'seconds':20} {summary['seconds']}")
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
    plan = build_curriculum(scans, strategy=args.order, seed=args.seed)
    rows = [
        {"position": i + 1, "repo": r.repo.name, "url": r.repo.url, "commit": r.repo.commit,
         "easy": r.easy, "medium": r.medium, "hard": r.hard, "no_difficulty": r.no_difficulty,
         "sorry_theorems": r.sorry_theorems, "placeholders": r.placeholders}
        for i, r in enumerate(plan.order)
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        if plan.thresholds is not None:
            print(f"order: {plan.strategy}; easy: S ≤ {plan.thresholds.log_p33:.2f}, "
                  f"hard: S > {plan.thresholds.log_p67:.2f} (S = tactic steps, difficulty e^S)")
        print(f"{'#':>3}  {'repository':40} {'easy':>6} {'medium':>6} {'hard':>6} {'sorry':>6}")
        for row in rows:
            print(f"{row['position']:>3}  {row['repo'][:40]:40} {row['easy']:>6} {row['medium']:>6} "
                  f"{row['hard']:>6} {row['sorry_theorems']:>6}")
    return EXIT_PARTIAL if failed else EXIT_OK


def _progress(items: Sequence, desc: str, args: argparse.Namespace):
    if args.quiet or not sys.stderr.isatty():
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="repo", file=sys.stderr)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workdir", default=DEFAULT_WORKDIR,
                        help=f"run directory for caches and databases (default: ./{DEFAULT_WORKDIR})")
    parser.add_argument("--deps-dir", action="append", default=[], metavar="DIR",
                        help="directory holding dependency checkouts (by package name); repeatable")
    parser.add_argument("--no-deps", action="store_true", help="do not scan Lake dependencies")
    parser.add_argument("--offline", action="store_true", help="never use the network")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subparser per command (each with an example in its help)."""
    parser = argparse.ArgumentParser(
        prog="leanagent", description="A lifelong-learning theorem prover for Lean 4.",
        epilog="example: leanagent curriculum examples/repos.txt",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands: dict[str, tuple[Callable[[argparse.Namespace], int], str, str]] = {
        "scan": (cmd_scan, "what a repository holds: theorems, sorry theorems, premises",
                 "examples:\n  leanagent scan examples/arith --json\n"
                 "  leanagent scan https://github.com/teorth/pfr --commit fa398a5b"),
        "curriculum": (cmd_curriculum, "the order in which repositories will be learned (easiest first)",
                       "example:\n  leanagent curriculum examples/repos.txt --json"),
    }
    for name, (func, help_text, example) in commands.items():
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=example,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if name == "scan":
            p.add_argument("source", metavar="PATH_OR_URL", help="local repository (work tree or bare git "
                           "directory) or git URL")
            p.add_argument("--commit", help="commit, tag or branch (default: HEAD / the work tree as it is)")
        else:
            p.add_argument("repos_file", metavar="REPOS_FILE", help="file of 'URL-or-path [commit]' lines")
            p.add_argument("--order", choices=("easy-first", "random"), default="easy-first",
                           help="easy-first (LeanAgent) or a seeded random order (baseline)")
            p.add_argument("--seed", type=int, default=3407, help="seed of the random order (default 3407)")
        p.add_argument("--json", action="store_true", help="print JSON")
        _add_common(p)
        p.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``leanagent`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return args.func(args)
    except UsageError as err:
        print(f"leanagent {args.command}: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"leanagent {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # the CLI edge: one line, not a traceback (use -v for the traceback)
        if args.verbose:
            raise
        from leanagent.repos import ReposFileError

        code = EXIT_USAGE if isinstance(err, ReposFileError) else EXIT_PARTIAL
        print(f"leanagent {args.command}: {err}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
