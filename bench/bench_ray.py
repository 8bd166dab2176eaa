"""Ray speedup of batch proving: N workers against 1, with a Lean double that sleeps per tactic.

usage: python bench/bench_ray.py [--theorems 8] [--latency 0.1] [--workers 1 2] [--ray-address ADDR]

Each theorem needs a few expansions (every tactic but the right one fails, the right one comes last), so a
theorem costs about ``tactics × latency`` seconds of Lean time. Ray is started once before timing; the
times are of ``prove_batch`` alone. The speedup is a ratio measured in the same run.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prover.batch import BatchOptions, init_ray, prove_batch  # noqa: E402
from prover.search import SearchLimits  # noqa: E402
from prover.testing import FakeLean, TableGenerator, fake_theorem  # noqa: E402

# Three steps, each after three failing tactics: 12 tactics per theorem.
RULES = {("G", "step1"): ("H",), ("H", "step2"): ("I",), ("I", "step3"): ()}
TABLE = {g: [("bad1", -0.1), ("bad2", -0.2), ("bad3", -0.3), (s, -0.4)]
         for g, s in (("G", "step1"), ("H", "step2"), ("I", "step3"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--theorems", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--ray-address", default="")
    args = parser.parse_args()
    theorems = [fake_theorem(f"t{i}", line=i + 1) for i in range(args.theorems)]
    env = functools.partial(FakeLean, {t.full_name: "G" for t in theorems}, RULES, latency=args.latency)
    generator = functools.partial(TableGenerator, TABLE)
    init_ray(max(args.workers), args.ray_address)  # started once, outside the timings
    times = {}
    for workers in args.workers:
        options = BatchOptions(checkpoint=f"bench-{workers}", workers=workers, ray_address=args.ray_address,
                               limits=SearchLimits(timeout=60))
        started = time.perf_counter()
        summary = prove_batch(theorems, env, generator, options)
        times[workers] = time.perf_counter() - started
        assert summary.count("proved") == len(theorems), summary
        lean = len(theorems) * 12 * args.latency
        print(f"workers {workers}: {times[workers]:.2f} s for {len(theorems)} theorems "
              f"({lean:.1f} s of Lean time, efficiency {lean / (workers * times[workers]):.0%})")
    base = times[args.workers[0]]
    for workers in args.workers[1:]:
        print(f"speedup {workers} over {args.workers[0]}: {base / times[workers]:.2f}x")


if __name__ == "__main__":
    main()
