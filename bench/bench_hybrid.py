"""Dense, BM25 and their fusions on a finished run's latest checkpoint: which ranking to make the default.

The score mix's dense weight is picked on the validation queries of every learned repository (pooled), as
the evaluate stage picks it; then each ranking is measured once on the test queries, pooled over the
repositories, against BM25 on the same queries (R@10 miss-rate ratio and MRR ratio, 95% paired bootstrap).

    python bench/bench_hybrid.py rec/A
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from database.store import Store
from leanagent.comparison import compare_rankers
from leanagent.config import load_config
from leanagent.learner import corpus_of, repo_dataset
from leanagent.results import run_state
from retrieval.bm25 import BM25Retriever
from retrieval.hybrid import HybridRetriever, pick_weight_on
from retrieval.loading import load_retriever


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    args = parser.parse_args()
    config = load_config(args.workdir / "config.toml")
    r = config.retriever
    with Store.open(args.workdir / "leanagent.db") as store:
        state = run_state(store)
        repos = list(state.order[: len(state.checkpoints)])
        corpus = corpus_of(store, repos)
        dense = load_retriever(args.workdir / "checkpoints" / state.checkpoints[-1], args.workdir / "index",
                               r.max_length, lambda: corpus)
        bm25 = BM25Retriever()
        bm25.index(corpus)
        started = time.perf_counter()
        val = [q for repo in repos for q in repo_dataset(store, repo, r).validation]
        weight = pick_weight_on(dense, bm25, val)
        seconds = time.perf_counter() - started
        print(f"mix weight {weight:.1f} picked on {len(val)} validation queries ({seconds:.0f} s)")
        rankers = {"dense": dense, "hybrid rrf": HybridRetriever(dense, bm25, fusion="rrf"),
                   f"hybrid mix {weight:.1f}": HybridRetriever(dense, bm25, fusion="mix", weight=weight)}
        for split in ("validation", "test"):
            print(f"\n## {split} (the mix's weight was picked on validation: its validation figures are optimistic)")
            print(f"{'ranking':16} {'n':>5} {'R@1':>22} {'R@10':>22} {'MRR':>22} {'miss-rate ratio':>22} "
                  f"{'MRR ratio':>22}")
            for name, ranker in rankers.items():
                pooled = compare_rankers(store, repos, r, ranker, bm25, split=split)[-1]
                if name == "dense":
                    b = pooled.second
                    print(f"{'bm25':16} {pooled.queries:>5} {_c(b.recall_at_1):>22} {_c(b.recall_at_10):>22} "
                          f"{_c(b.mrr):>22}")
                f = pooled.first
                print(f"{name:16} {pooled.queries:>5} {_c(f.recall_at_1):>22} {_c(f.recall_at_10):>22} "
                      f"{_c(f.mrr):>22} {_c(pooled.miss_rate_ratio):>22} {_c(pooled.mrr_ratio):>22}  (vs bm25)")
                if name != "dense":
                    vs = compare_rankers(store, repos, r, ranker, dense, split=split)[-1]
                    print(f"{'':16} {'':>5} {'':>22} {'':>22} {'':>22} {_c(vs.miss_rate_ratio):>22} "
                          f"{_c(vs.mrr_ratio):>22}  (vs dense)")


def _c(i) -> str:
    return f"{i.estimate:.3f} [{i.low:.3f}, {i.high:.3f}]"


if __name__ == "__main__":
    main()
