"""Static extraction on one big file: seconds per MB as the file grows, and the fitted slope.

usage: python bench/bench_big_files.py [--sizes 1 2 4 7.5]

Two shapes, each written to a temporary repository and extracted whole (scan + premise resolution):
``distinct`` (many different theorems) and ``repeated`` (one theorem repeated, the same name each time:
it was quadratic in the name index). The slope of log(seconds) on log(MB) is 1 for linear time. The
largest size stays under the per-file cap (8,000,000 bytes; bigger files are skipped with a warning).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from database.records import Repo  # noqa: E402
from extraction import extract_repo  # noqa: E402

UNIT = ("theorem foo{i} (n : Nat) (h : n > 0) : n + 0 = n := by\n  induction n with\n  | zero => rfl\n"
        "  | succ k ih => simp [Nat.add_zero, foo{j}]\n\n")


def source(shape: str, megabytes: float) -> str:
    n = int(megabytes * 2**20 / len(UNIT))
    if shape == "repeated":
        return UNIT.format(i="", j="") * n
    return "".join(UNIT.format(i=i, j=max(i - 1, 0)) for i in range(n))


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of log(seconds) against log(MB)."""
    xs, ys = [math.log(x) for x, _ in points], [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 2, 4, 7.3])
    args = parser.parse_args()
    print(f"{'shape':9} {'MB':>6} {'declarations':>12} {'seconds':>8} {'s/MB':>6}")
    for shape in ("distinct", "repeated"):
        points = []
        for mb in args.sizes:
            with tempfile.TemporaryDirectory() as tmp:
                text = source(shape, mb)
                Path(tmp, "Big.lean").write_text(text)
                started = time.perf_counter()
                scan = extract_repo(Repo("bench", "c", "bench"), Path(tmp))
                seconds = time.perf_counter() - started
            size = len(text.encode()) / 2**20
            points.append((size, seconds))
            print(f"{shape:9} {size:>6.2f} {len(scan.premises):>12} {seconds:>8.2f} {seconds / size:>6.2f}")
        print(f"{shape:9} slope {slope(points):.2f} (1.00 = linear)")


if __name__ == "__main__":
    main()
