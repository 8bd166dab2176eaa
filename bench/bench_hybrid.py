"""Dense, BM25 and their fusions on a finished run's latest checkpoint: which ranking to make the default.

The score mix's weights are picked on the validation queries of every learned repository (pooled), as the
evaluate stage picks them: the dense weight alone, then jointly with the weights of the usage and locality
priors (:mod:`retrieval.priors`; usage counted over the learned repositories' training units), and BM25 with
the priors and no encoder (what the priors give without the learned part). Then each ranking is measured once
on the test queries, pooled over the repositories, against BM25 on the same queries (R@10 miss-rate ratio and
MRR ratio, 95% paired bootstrap), the fusions against the encoder alone, and the mix with priors against
the mix without them and against BM25 with them. ``--per-repo``: then each repository's test figures.

    python bench/bench_hybrid.py rec/A [--per-repo]
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
from retrieval.hybrid import HybridRetriever, pick_mix_on
from retrieval.loading import load_retriever
from retrieval.priors import PremisePriors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--per-repo", action="store_true", help="each repository's test figures as well")
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
        datasets = {repo.id: repo_dataset(store, repo, r) for repo in repos}
        priors = PremisePriors.of(corpus, [d.usage for d in datasets.values()])
        val = [q for d in datasets.values() for q in d.validation]
        started = time.perf_counter()
        mix = pick_mix_on(dense, bm25, val)
        with_priors = pick_mix_on(dense, bm25, val, priors=priors)
        lexical_priors = pick_mix_on(dense, bm25, val, priors=priors, weights=(0.0,))
        print(f"picked on {len(val)} validation queries ({time.perf_counter() - started:.0f} s): mix "
              f"{mix.describe()}; mix with priors {with_priors.describe()}; BM25 with priors "
              f"{lexical_priors.describe()}")
        rankers = {"dense": dense, "hybrid rrf": HybridRetriever(dense, bm25, fusion="rrf"),
                   "hybrid mix": HybridRetriever.mixing(dense, bm25, mix),
                   "mix + priors": HybridRetriever.mixing(dense, bm25, with_priors, priors),
                   "bm25 + priors": HybridRetriever.mixing(dense, bm25, lexical_priors, priors)}
        results = {}
        for split in ("validation", "test"):
            print(f"\n## {split} (the weights were picked on validation: its validation figures are optimistic)")
            print(f"{'ranking':16} {'n':>5} {'R@1':>22} {'R@10':>22} {'MRR':>22} {'miss-rate ratio':>22} "
                  f"{'MRR ratio':>22}")
            for name, ranker in rankers.items():
                results[split, name] = compare_rankers(store, repos, r, ranker, bm25, split=split, datasets=datasets)
                pooled = results[split, name][-1]
                if name == "dense":
                    b = pooled.second
                    print(f"{'bm25':16} {pooled.queries:>5} {_c(b.recall_at_1):>22} {_c(b.recall_at_10):>22} "
                          f"{_c(b.mrr):>22}")
                f = pooled.first
                print(f"{name:16} {pooled.queries:>5} {_c(f.recall_at_1):>22} {_c(f.recall_at_10):>22} "
                      f"{_c(f.mrr):>22} {_c(pooled.miss_rate_ratio):>22} {_c(pooled.mrr_ratio):>22}  (vs bm25)")
                versus = {"dense": [], "mix + priors": ["dense", "hybrid mix", "bm25 + priors"]}
                for other in versus.get(name, ["dense"]):
                    vs = compare_rankers(store, repos, r, ranker, rankers[other], split=split, datasets=datasets)[-1]
                    print(f"{'':16} {'':>5} {'':>22} {'':>22} {'':>22} {_c(vs.miss_rate_ratio):>22} "
                          f"{_c(vs.mrr_ratio):>22}  (vs {other})")

        if args.per_repo:
            _per_repo({name: results["test", name] for name in ("dense", "hybrid mix", "mix + priors")})


def _per_repo(rows: dict) -> None:
    """Test R@10 of BM25 and each ranking per repository, and the last ranking's ratios against BM25."""
    names = list(rows)
    print(f"\n## test, per repository (R@10; {names[-1]} against BM25: miss-rate ratio, MRR ratio)")
    print(f"{'repository':36} {'n':>4} {'bm25':>6} " + " ".join(f"{n:>12}" for n in names)
          + f" {'MRR bm25':>9} {'MRR last':>9} {'miss-rate ratio':>22} {'MRR ratio':>22}")
    for i, last in enumerate(rows[names[-1]]):
        line = f"{last.repo[:36]:36} {last.queries:>4} {last.second.recall_at_10.estimate:>6.3f} "
        line += " ".join(f"{rows[n][i].first.recall_at_10.estimate:>12.3f}" for n in names)
        print(line + f" {last.second.mrr.estimate:>9.3f} {last.first.mrr.estimate:>9.3f} "
                     f"{_c(last.miss_rate_ratio):>22} {_c(last.mrr_ratio):>22}")


def _c(i) -> str:
    return f"{i.estimate:.3f} [{i.low:.3f}, {i.high:.3f}]"


if __name__ == "__main__":
    main()
