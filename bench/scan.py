"""Static extraction throughput: files, lines, MB, seconds and lines/s per repository.

usage: python bench/scan.py PATH [PATH ...] [--repeat N]

Each PATH is a Lean repository: a work tree, or a bare git directory (exported at HEAD to a temporary
cache first, not timed). Timed: walking the tree, scanning every file, resolving premises (no
dependencies). The best of --repeat runs is printed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from leanagent.acquire import acquire  # noqa: E402
from extraction import extract_repo, lean_files  # noqa: E402
from leanagent.repos import RepoSpec  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'repository':32} {'files':>6} {'lines':>9} {'MB':>7} {'seconds':>8} {'lines/s':>9} "
          f"{'theorems':>8} {'sorry':>6} {'premises':>8}")
    with tempfile.TemporaryDirectory() as cache:
        for path in args.paths:
            checkout = acquire(RepoSpec(str(path.resolve()), None), Path(cache))
            files = lean_files(checkout.root)
            size = sum((checkout.root / f).stat().st_size for f in files)
            best, scan = float("inf"), None
            for _ in range(args.repeat):
                started = time.perf_counter()
                scan = extract_repo(checkout.repo, checkout.root)
                best = min(best, time.perf_counter() - started)
            assert scan is not None
            lines = sum(f.lines for f in scan.files)
            print(f"{checkout.repo.name[:32]:32} {len(files):>6} {lines:>9} {size / 1e6:>7.2f} {best:>8.2f} "
                  f"{lines / best:>9.0f} {len(scan.theorems):>8} {sum(t.has_sorry for t in scan.theorems):>6} "
                  f"{len(scan.premises):>8}")


if __name__ == "__main__":
    main()
