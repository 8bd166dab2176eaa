"""Top-k query latency of the premise index, with and without the accessibility filter.

usage: python bench/bench_index.py [--configs 200000x256 1000000x256 200000x1472] [--queries 32]
                                   [--fractions 0.01 0.1 0.5 0.9] [--k 10] [--threads N] [--partition-recall]
       python bench/bench_index.py --real WORKDIR [--size 1000000] [--fractions ...] [--threads 2]

``--real WORKDIR``: the partitioned (inverted-file) search against the exact one, on a run's real premise
embeddings (WORKDIR/index, embedded by the checkpoint its manifest names) and real queries (theorems of
the run's repositories, embedded by that checkpoint). The corpus is grown to ``--size``
premises on the real embeddings' own neighbourhoods: each new one lies between a real premise and one of
its ten nearest (a random point of the segment, renormalised), in the "module" of the first, one copy of
each module per pass (as another repository of the same shape would add). Queries: ``--split``'s theorems
(choose on ``validation``, report ``test``). Allowed sets are random rows and random whole modules (as an
import closure is). For each fraction it prints ms per query (one per call)
of the exact scan and of the partitioned search, and the partitioned search's recall@10 against the exact
one with its 95% bootstrap interval and the number of queries; then the partition's build time and the cost
of adding one more repository of the real corpus's size to it.

Synthetic corpora (``--configs``, every search exact): random unit vectors (seeded), ids shaped like
premise ids. For each allowed fraction (a random subset of the corpus standing in for a file's import
closure) it prints, in ms per query:
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

from database.index import ANN_MIN, STRATEGIES, PremiseIndex, cells_to_scan  # noqa: E402
from retrieval.stats import mean_interval  # noqa: E402


def best_ms(fn, repeat: int = 3) -> float:
    """Best wall time of ``repeat`` calls, in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best * 1e3


def overlap(found: list[list[str]], exact: list[list[str]]) -> list[float]:
    """Per query, the share of the exact top k that ``found`` holds (recall@k against exact search)."""
    return [len(set(f) & set(e)) / len(e) for f, e in zip(found, exact)]


def random_units(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def bench(n: int, dim: int, args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    ids = [f"premise:{i:024x}" for i in range(n)]
    index = PremiseIndex(dim, ann_min=None)  # random vectors have no neighbourhoods to partition
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
    if args.partition_recall:  # what the partition would make of vectors without neighbourhoods
        partitioned = PremiseIndex(dim, ann_min=1)
        partitioned.add(list(index.ids), index.embeddings())
        exact = [[h.premise_id for h in q] for q in index.search(queries, args.k)]
        found = [[h.premise_id for h in q] for q in partitioned.search(queries, args.k)]
        share = np.mean(overlap(found, exact))
        print(f"partitioned (as from {ANN_MIN:,} premises), unfiltered: recall@{args.k} {share:.3f} "
              f"of the exact top {args.k} ({len(queries)} queries)")


def real_corpus(workdir: Path, size: int, n_queries: int, seed: int, split: str = "test"
                ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, int]:
    """Ids, vectors and modules of the grown corpus, the query vectors, and how many premises are real."""
    import faiss

    from database.store import Store
    from retrieval.dataset import build_dataset
    from retrieval.encoder import DualEncoder

    real = PremiseIndex.load(workdir / "index")
    x = np.array(real.embeddings())
    store = Store.open(workdir / "leanagent.db")
    texts = [q.query for repo in store.repos("target") for q in getattr(build_dataset(store, repo), split)
             if q.allowed & set(real.ids)]
    rng = np.random.default_rng(seed)
    texts = [texts[i] for i in sorted(rng.choice(len(texts), min(n_queries, len(texts)), replace=False))]
    queries = DualEncoder.load(workdir / "checkpoints" / real.checkpoint).embed(texts).numpy()
    path = dict(store.db.execute("SELECT id, path FROM premises"))
    files = {f: i for i, f in enumerate(sorted({path[p] for p in real.ids}))}
    module = np.array([files[path[p]] for p in real.ids], dtype=np.int64)
    n = len(x)
    flat = faiss.IndexFlatIP(x.shape[1])
    flat.add(x)
    near = flat.search(x, 11)[1][:, 1:]  # each premise's ten nearest others
    source = rng.integers(0, n, size - n)
    other = near[source, rng.integers(0, near.shape[1], len(source))]
    a = rng.uniform(0, 1, (len(source), 1)).astype(np.float32)
    grown = a * x[source] + (1 - a) * x[other]
    grown += 0.01 * rng.standard_normal(grown.shape, dtype=np.float32)
    grown /= np.linalg.norm(grown, axis=1, keepdims=True)
    copy = np.arange(len(source)) // n + 1
    modules = np.concatenate([module, module[source] + (module.max() + 1) * copy])
    ids = list(real.ids) + [f"premise:grown{i:08d}" for i in range(len(source))]
    return ids, np.concatenate([x, grown]), modules, queries, n


def bench_real(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    ids, x, modules, queries, n_real = real_corpus(Path(args.real), args.size, args.real_queries, args.seed,
                                                   args.split)
    n, dim = x.shape
    print(f"\n== {n:,} premises × {dim} dims ({n_real:,} real, the rest grown on their neighbourhoods; "
          f"{len(queries)} real {args.split} queries; prepared in {time.perf_counter() - started:.0f} s)")
    rest = n - n_real  # the last repository-sized slice is added after the build, as a new repository would be
    exact = PremiseIndex(dim, ann_min=None)
    fast = PremiseIndex(dim, ann_min=min(ANN_MIN, rest))  # a smaller --size still measures the partition
    for index in (exact, fast):
        index.add(ids[:rest], x[:rest])
    started = time.perf_counter()
    cells = fast._partition()
    build = time.perf_counter() - started
    started = time.perf_counter()
    fast.add(ids[rest:], x[rest:])
    exact.add(ids[rest:], x[rest:])
    grow = time.perf_counter() - started
    assert fast._partition() is cells
    print(f"partition: {cells.nlist} cells, built in {build:.1f} s over {rest:,}; adding {n_real:,} more: "
          f"{grow:.2f} s (exact index included)")
    rng = np.random.default_rng(args.seed + 1)
    print(f"{'allowed':>22} {'cells':>6} {'exact ms':>9} {'partitioned ms':>15} {'recall@10 [95% CI]':>24} "
          f"{'queries':>8}")
    for kind in ("rows", "modules"):
        for fraction in [1.0, *args.fractions]:
            if fraction >= 1.0:
                allowed = None
            elif kind == "rows":
                allowed = {ids[r] for r in rng.choice(n, int(fraction * n), replace=False)}
            else:
                chosen = rng.permutation(modules.max() + 1)[: int(fraction * (modules.max() + 1))]
                mask = np.zeros(modules.max() + 1, dtype=bool)
                mask[chosen] = True
                allowed = {ids[r] for r in np.flatnonzero(mask[modules])}
            if allowed is None and kind == "modules":
                continue
            sets = [None, None]
            if allowed is not None:
                sets = [exact.allow(allowed), fast.allow(allowed)]
            share = 1.0 if allowed is None else len(allowed) / n
            ms, found = [], []
            for index, sel in zip((exact, fast), sets):
                timed = [best_ms(lambda q=q, index=index, sel=sel: index.search(
                    q[None], args.k, None if sel is None else [sel]), repeat=1) for q in queries]
                ms.append(float(np.median(timed)))
                found.append([[h.premise_id for h in hits] for hits in
                              index.search(queries, args.k, None if sel is None else [sel] * len(queries))])
            recall = mean_interval(overlap(found[1], found[0]))
            label = "everything" if allowed is None else f"{kind} {share:.3f}"
            print(f"{label:>22} {cells_to_scan(cells.nlist, share):>6} {ms[0]:>9.2f} {ms[1]:>15.2f} "
                  f"{recall.estimate:>10.3f} [{recall.low:.3f}, {recall.high:.3f}] {len(queries):>8}", flush=True)


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
    parser.add_argument("--partition-recall", action="store_true",
                        help="synthetic corpora: also the partitioned search's recall against the exact one")
    parser.add_argument("--real", metavar="WORKDIR", help="a run's workdir: its real embeddings and queries")
    parser.add_argument("--size", type=int, default=1_000_000, help="--real: premises in the grown corpus")
    parser.add_argument("--real-queries", type=int, default=200, help="--real: queries (real theorems)")
    parser.add_argument("--split", choices=("validation", "test"), default="test",
                        help="--real: whose theorems are the queries (choose settings on validation)")
    args = parser.parse_args()
    import faiss

    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    print(f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads")
    started = time.perf_counter()
    if args.real:
        bench_real(args)
        print(f"\ntotal {time.perf_counter() - started:.0f} s")
        return
    for config in args.configs:
        n, dim = (int(v) for v in config.lower().split("x"))
        bench(n, dim, args)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
