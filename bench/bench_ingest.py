"""Does ingesting repository k into a grown database cost what ingesting it first costs?

usage: python bench/bench_ingest.py REPOS_FILE [--deps-dir DIR ...] [--no-deps] [--cache DIR] [--repeat 3]

Every repository of REPOS_FILE (and its Lake dependencies) is scanned once, outside the timings (the scan
does not depend on what the database holds). Then, for each repository k in the file's order:
- ``grown``: ``Store.ingest`` of its dependencies and itself into the one database that already holds
  repositories 1 … k−1 (the lifelong case);
- ``first``: the same into a fresh, empty database.
Each is the best of --repeat tries (the grown one is measured on a copy of the database after k−1, so the
tries see the same state). It prints both in seconds, their ratio, and the database's size before k;
then the median and the worst ratio, and the ratio of the totals.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from database.store import Store  # noqa: E402
from leanagent.repos import read_repos_file  # noqa: E402
from leanagent.scanning import ScanOptions, scan_repository  # noqa: E402


def ingest_seconds(db: Path, scanned) -> float:
    store = Store.open(db)
    try:
        started = time.perf_counter()
        for dep in scanned.dependencies:
            store.ingest(dep, role="dependency")
        store.ingest(scanned.scan)
        return time.perf_counter() - started
    finally:
        store.close()


def best_of(repeat: int, base: Path | None, scanned, tmp: Path) -> float:
    best = float("inf")
    for i in range(repeat):
        db = tmp / f"try{i}.sqlite"
        db.unlink(missing_ok=True)
        if base is not None:
            shutil.copyfile(base, db)
        best = min(best, ingest_seconds(db, scanned))
        db.unlink()
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos_file", type=Path)
    parser.add_argument("--deps-dir", action="append", default=[], type=Path)
    parser.add_argument("--no-deps", action="store_true")
    parser.add_argument("--cache", type=Path, default=None, help="scan cache (default: a temporary directory)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    specs, errors = read_repos_file(args.repos_file)
    for error in errors:
        print(error, file=sys.stderr)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        options = ScanOptions(cache_dir=args.cache or tmp / "cache", dependencies=not args.no_deps,
                              deps_dirs=tuple(args.deps_dir), allow_network=False)
        reported: set[str] = set()
        scans = []
        started = time.perf_counter()
        for spec in specs:
            scanned = scan_repository(spec, options, reported)
            for problem in scanned.problems:
                print(f"  {problem}", file=sys.stderr)
            scans.append(scanned)
        print(f"scanned {len(scans)} repositories in {time.perf_counter() - started:.1f} s")

        grown = tmp / "grown.sqlite"
        print(f"{'#':>3} {'repository':<40} {'premises':>9} {'theorems':>9} {'db before (MB)':>15} "
              f"{'first (s)':>10} {'grown (s)':>10} {'ratio':>6}")
        ratios, first_total, grown_total = [], 0.0, 0.0
        for k, scanned in enumerate(scans, 1):
            first = best_of(args.repeat, None, scanned, tmp)
            size = grown.stat().st_size / 2**20 if grown.exists() else 0.0
            later = best_of(args.repeat, grown if grown.exists() else None, scanned, tmp)
            ingest_seconds(grown, scanned)  # the lifelong database takes repository k
            ratio = later / first
            ratios.append(ratio)
            first_total += first
            grown_total += later
            scan = scanned.scan
            print(f"{k:>3} {scan.repo.name[:40]:<40} {len(scan.premises):>9} {len(scan.theorems):>9} "
                  f"{size:>15.1f} {first:>10.3f} {later:>10.3f} {ratio:>6.2f}")
        print(f"ratio grown/first: median {statistics.median(ratios):.2f}, worst {max(ratios):.2f}, "
              f"totals {grown_total:.2f} s / {first_total:.2f} s = {grown_total / first_total:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
