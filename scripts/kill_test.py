"""Kill a real `leanagent run` with SIGKILL at random moments, resume until it finishes, compare databases.

usage: python scripts/kill_test.py REPOS_FILE REFERENCE_WORKDIR WORKDIR [--kills N] [--seed S] [--test-lean]
                                  [-- RUN ARGS...]

REFERENCE_WORKDIR holds an uninterrupted run of the same REPOS_FILE with the same arguments. The script
starts `leanagent run` in WORKDIR, kills it after a random delay (uniform over the reference run's
duration), N times, then lets it finish and compares every table that a run must reproduce exactly.
``--test-lean`` runs it through ``scripts/run_with_test_lean.py``, so the prove stage runs on a Lean test
double (make the reference run the same way).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from database.store import Store  # noqa: E402

# Dates, timings and stage notes differ between runs; everything else must not.
VOLATILE = ("ingested_at", "finished_at", "info", "applied_at", "seconds")


def dump(db: Path, workdir: Path | None = None) -> dict[str, list[str]]:
    """Every table a run must reproduce; where a repository's checkout lies inside ``workdir`` (its cache),
    the workdir's own name is written ``<workdir>``: two runs in two directories store two paths."""
    with Store.open(db) as store:
        tables = store.content(skip_columns=VOLATILE)
    if workdir is not None:
        tables["repos"] = sorted(row.replace(str(workdir), "<workdir>") for row in tables.get("repos", []))
    return tables


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repos_file")
    parser.add_argument("reference", type=Path)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-delay", type=float, default=120.0)
    parser.add_argument("--test-lean", action="store_true", help="prove on the Lean test double")
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    extra = argv[split + 1:]  # passed on to `leanagent run`
    runner = [str(Path(__file__).resolve().parent / "run_with_test_lean.py")] if args.test_lean else ["-m", "leanagent"]
    cmd = [sys.executable, *runner, "run", args.repos_file, "--workdir", str(args.workdir), "-q", *extra]
    rng = random.Random(args.seed)
    done_kills = 0
    for _ in range(args.kills):
        delay = rng.uniform(1.0, args.max_delay)
        child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            child.wait(timeout=delay)
            print(f"run finished before the kill at {delay:.1f} s")
            break
        except subprocess.TimeoutExpired:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            done_kills += 1
            print(f"killed after {delay:.1f} s", flush=True)
    started = time.perf_counter()
    final = subprocess.run(cmd, capture_output=True, text=True)
    print(f"final run: exit {final.returncode} after {time.perf_counter() - started:.1f} s")
    if final.returncode != 0:
        print(final.stderr[-2000:])
        return 1
    ours = dump(args.workdir / "leanagent.db", args.workdir)
    reference = dump(args.reference / "leanagent.db", args.reference)
    same = ours == reference
    print(f"kills: {done_kills}; identical database: {same}; rows: "
          + ", ".join(f"{table} {len(rows)}" for table, rows in sorted(ours.items())))
    for table in sorted(set(ours) | set(reference)):
        if ours.get(table) != reference.get(table):
            print(f"  {table} differs")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
