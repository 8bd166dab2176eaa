"""Kill a real `leanagent run` with SIGKILL at random moments, resume until it finishes, compare databases.

usage: python scripts/kill_test.py REPOS_FILE REFERENCE_WORKDIR WORKDIR [--kills N] [--seed S] [-- RUN ARGS...]

REFERENCE_WORKDIR holds an uninterrupted run of the same REPOS_FILE with the same arguments. The script
starts `leanagent run` in WORKDIR, kills it after a random delay (uniform over the reference run's
duration), N times, then lets it finish and compares every table that a run must reproduce exactly.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

TABLES = {"repos": "id", "files": "id", "premises": "id", "repo_premises": "1, 2", "theorems": "id",
          "theorem_premises": "1, 2", "evaluations": "1, 2, 3", "proof_attempts": "1, 2"}


def dump(db: Path) -> dict[str, list[tuple]]:
    """Every table a run must reproduce (dates and stage timings excluded)."""
    con = sqlite3.connect(db)
    try:
        out = {}
        for table, order in TABLES.items():
            cols = [c[1] for c in con.execute(f"PRAGMA table_info({table})")]
            # a repository's date of ingest, and its checkout directory (in a workdir's cache), may differ
            keep = [c for c in cols if not (table == "repos" and c in ("ingested_at", "path"))]
            out[table] = con.execute(f"SELECT {', '.join(keep)} FROM {table} ORDER BY {order}").fetchall()
        out["stages"] = sorted(con.execute("SELECT repo_id, stage, status FROM stages").fetchall())
        return out
    finally:
        con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repos_file")
    parser.add_argument("reference", type=Path)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-delay", type=float, default=120.0)
    parser.add_argument("run_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    extra = [a for a in args.run_args if a != "--"]
    cmd = [sys.executable, "-m", "leanagent", "run", args.repos_file, "--workdir", str(args.workdir), "-q", *extra]
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
    same = dump(args.workdir / "leanagent.db") == dump(args.reference / "leanagent.db")
    print(f"kills: {done_kills}; identical database: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
