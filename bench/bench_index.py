"""Top-k query latency of the premise index, with and without the accessibility filter.

usage: python bench/bench_index.py [--configs 200000x256 1000000x256 200000x1472] [--queries 32]
                                   [--fractions 0.01 0.1 0.5 0.9] [--k 10] [--threads N]

Synthetic corpora: random unit vectors (seeded), ids shaped like premise ids. For each allowed fraction
(a random subset of the corpus standing in for a file's import closure) it prints, in ms per query:
- ``resolve``: turning the set of premise ids into rows (``PremiseIndex.allow``), once per set;
- for each strategy (``bitmap``, ``batch`` = IDSelectorBatch, ``overfetch``): one query per call (the
  proving case; the set already resolved) and a batch of --queries queries sharing the set (evaluation);
- ``raw set``: one query per call passing the Python set itself (resolution included).
The unfiltered search is the reference. Every strategy's hits are checked equal to the others'.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from database.index import STRATEGIES, PremiseIndex  # noqa: E402


def best_ms(fn, repeat: int = 3) -> float:
    """Best wall time of ``repeat`` calls, in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best * 1e3


def random_units(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def bench(n: int, dim: int, args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    ids = [f"premise:{i:024x}" for i in range(n)]
    index = PremiseIndex(dim)
    for lo in range(0, n, 100_000):  # build in chunks: the corpus is never held twice in memory
        index.add(ids[lo:lo + 100_000], random_units(rng, min(100_000, n - lo), dim))
    queries = random_units(rng, args.queries, dim)
    single = queries[: args.single]
    print(f"\n== {n:,} premises × {dim} dims (built in {time.perf_counter() - started:.1f} s); "
          f"top-{args.k}, ms per query")
    unfiltered_1 = np.mean([best_ms(lambda q=q: index.search(q[None], args.k)) for q in single])
    unfiltered_b = best_ms(lambda: index.search(queries, args.k)) / len(queries)
    print(f"{'unfiltered':>10}: 1/call {unfiltered_1:7.2f}   {args.queries}/call {unfiltered_b:7.2f}")
    header = "".join(f" {s + ' 1/call':>16} {s + ' ' + str(args.queries) + '/call':>18}" for s in STRATEGIES)
    print(f"{'fraction':>10} {'resolve':>9}{header} {'raw set 1/call':>15}")
    for fraction in args.fractions:
        rows = rng.choice(n, max(1, int(fraction * n)), replace=False)
        ids_allowed = {ids[r] for r in rows}
        resolve = best_ms(lambda: index.allow(ids_allowed), repeat=1)
        allowed = index.allow(ids_allowed)
        line = f"{fraction:>10.2f} {resolve:>9.1f}"
        reference = None
        for strategy in STRATEGIES:
            one = np.mean([best_ms(lambda q=q: index.search(q[None], args.k, [allowed], strategy=strategy))
                           for q in single])
            many = best_ms(lambda: index.search(queries, args.k, [allowed] * len(queries), strategy=strategy),
                           repeat=2) / len(queries)
            line += f" {one:>16.2f} {many:>18.2f}"
            hits = [[h.premise_id for h in q] for q in
                    index.search(queries, args.k, [allowed] * len(queries), strategy=strategy)]
            if reference is None:
                reference = hits
            elif hits != reference:
                raise SystemExit(f"strategy {strategy} disagrees with {STRATEGIES[0]} at fraction {fraction}")
        raw = np.mean([best_ms(lambda q=q: index.search(q[None], args.k, [ids_allowed]), repeat=1)
                       for q in single])
        print(f"{line} {raw:>15.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=["200000x256", "1000000x256", "200000x1472"],
                        help="corpus sizes as NxDIM")
    parser.add_argument("--queries", type=int, default=32, help="queries in a batch")
    parser.add_argument("--single", type=int, default=3, help="queries timed one per call")
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.01, 0.1, 0.5, 0.9])
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="FAISS threads (0: its default)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import faiss

    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    print(f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads")
    started = time.perf_counter()
    for config in args.configs:
        n, dim = (int(v) for v in config.lower().split("x"))
        bench(n, dim, args)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
