"""Best-first search overhead per node, with a zero-latency Lean double (so only the search costs).

usage: python bench/bench_search.py [--expansions 2000] [--tactics 64] [--batch 1 8]

An endless proof tree (every tactic gives a new goal; nothing closes), so every search runs to its
expansion limit. Two generators: a fixed table (the search alone) and the template generator (the offline
default, without retrieval: automation and hypotheses). Prints microseconds per expanded node and per tactic.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prover.generators import TemplateGenerator  # noqa: E402
from prover.search import SearchLimits, best_first_search  # noqa: E402
from prover.testing import FakeLean, TableGenerator, fake_theorem  # noqa: E402


def endless(goal: str, tactic: str):
    """Every tactic gives one new goal named after the path: an endless, branching tree."""
    return (f"{goal}.{tactic}"[-200:],)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expansions", type=int, default=2000)
    parser.add_argument("--tactics", type=int, default=64)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args()
    table = TableGenerator(lambda goal: [(f"t{i}", -0.01 * (i + 1)) for i in range(args.tactics)])
    generators = {"table": table, "templates": TemplateGenerator()}
    print(f"{'generator':10} {'batch':>5} {'nodes':>6} {'tactics':>8} {'s':>7} {'µs/node':>9} {'µs/tactic':>10}")
    for name, generator in generators.items():
        for batch in args.batch:
            env = FakeLean({"t": "root"}, endless)
            limits = SearchLimits(timeout=0, max_expansions=args.expansions, tactics_per_node=args.tactics,
                                  frontier_batch=batch)
            started = time.perf_counter()
            result = best_first_search(env, fake_theorem("t"), generator, limits)
            seconds = time.perf_counter() - started
            print(f"{name:10} {batch:>5} {result.nodes:>6} {result.tactics:>8} {seconds:>7.2f} "
                  f"{1e6 * seconds / result.nodes:>9.0f} {1e6 * seconds / result.tactics:>10.1f}")


if __name__ == "__main__":
    main()
