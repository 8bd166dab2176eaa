"""Fuzzing campaign of the static extractor: mutants of this project's Lean files, never a crash, linear time.

Each input is a seed file (examples/ and tests/oracle, or the files under --seeds), or several of them
joined to reach a target size, after 1–6 random edits (:func:`extraction.fuzz.mutate`). Every input is
scanned and extracted as one repository; an exception is a failure (its input is written to --failures).
Time: the slope of log(seconds) on log(bytes) over the inputs of the size ladder (1 is linear) and the worst
seconds per megabyte.

    python bench/fuzz_scanner.py --inputs 100000 --seed 1
"""

from __future__ import annotations

import argparse
import math
import random
import time
from pathlib import Path

from extraction.fuzz import check, mutate, seed_sources

ROOT = Path(__file__).resolve().parent.parent


def _slope(points: list[tuple[int, float]]) -> float:
    xs = [math.log(b) for b, _ in points]
    ys = [math.log(max(s, 1e-7)) for _, s in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", nargs="*", type=Path, default=[ROOT / "examples", ROOT / "tests" / "oracle"],
                        help="directories whose .lean files seed the mutants")
    parser.add_argument("--failures", type=Path, default=Path("fuzz-failures"))
    parser.add_argument("--ladder", type=int, nargs="*", default=[2_000, 20_000, 200_000, 2_000_000],
                        help="target sizes in bytes for the linearity check (8 inputs each)")
    args = parser.parse_args()
    seeds = seed_sources(args.seeds)
    rng = random.Random(args.seed)
    failures, total_bytes, started, worst = 0, 0, time.perf_counter(), (0.0, 0)
    for i in range(args.inputs):
        text = mutate(rng.choice(seeds), rng)
        t0 = time.perf_counter()
        try:
            check(text)
        except Exception as err:  # noqa: BLE001 — a fuzzer records every crash and goes on
            failures += 1
            args.failures.mkdir(exist_ok=True)
            (args.failures / f"mutant-{i}.lean").write_text(text, encoding="utf-8", errors="surrogatepass")
            print(f"mutant {i}: {type(err).__name__}: {err}")
        seconds = time.perf_counter() - t0
        worst = max(worst, (seconds, len(text.encode("utf-8", "surrogatepass"))))
        total_bytes += len(text)
    wall = time.perf_counter() - started
    print(f"{args.inputs} mutants, {total_bytes / 1e6:.1f} MB, {failures} raised, {wall:.0f} s "
          f"({wall / args.inputs * 1e3:.2f} ms each); slowest {worst[0] * 1e3:.1f} ms ({worst[1]} bytes)")
    ladder = []
    for size in args.ladder:
        for _ in range(8):
            parts = []
            while sum(map(len, parts)) < size:
                parts.append(rng.choice(seeds))
            text = mutate("\n".join(parts)[:size], rng)
            t0 = time.perf_counter()
            check(text)
            ladder.append((len(text.encode("utf-8", "surrogatepass")), time.perf_counter() - t0))
    per_mb = max(s / (b / 1e6) for b, s in ladder if b >= 100_000) if any(b >= 100_000 for b, _ in ladder) else 0
    print(f"size ladder {args.ladder}: slope of log(seconds) on log(bytes) {_slope(ladder):.2f}; worst "
          f"{per_mb:.2f} s/MB at 100 kB and more")
    for size in args.ladder:
        row = [s for b, s in ladder if 0.5 * size <= b <= 2 * size]
        if row:
            median = sorted(row)[len(row) // 2]
            print(f"  ~{size:>9} bytes: median {median * 1e3:8.1f} ms, max {max(row) * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
