"""Retrievers of several runs (and BM25) on the same queries, pooled over repositories, with paired intervals.

Each WORKDIR is a finished ``leanagent train`` / ``run`` over the same repositories file (so the splits are
the same, whatever order the runs learned them in); its latest checkpoint is scored on the validation and test
queries of every repository it learned, with the run's own split settings and ranking (``--ranking`` sets one
for all). Figures: R@1, R@10 and MRR with 95% bootstrap intervals over queries; then each run against the
first (paired difference of R@10 and MRR) and against BM25 (R@10 miss-rate ratio, MRR ratio); then each run's
lifelong metrics side by side (average R@10, WF5, FM, CFR, expanded BWT, BWT: from its evaluate stages, as
``leanagent status`` shows them; no intervals). Choose on validation; report test once.

    python bench/compare_runs.py rec/A rec/B rec/C --names ours leanagent cosine-resume
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from database.store import Store
from leanagent.config import load_config
from leanagent.learner import corpus_of, repo_dataset
from leanagent.results import report_data, run_state
from retrieval.bm25 import BM25Retriever
from retrieval.evaluate import score_queries
from retrieval.loading import RANKINGS, load_retriever
from retrieval.stats import difference, mean_interval, miss_rate_ratio, ratio


def _scores(workdir: Path, split: str, ranking: str | None) -> tuple[list[str], dict[str, list]]:
    """Query keys and per-query scores of the run's latest checkpoint (``ranking``, else the run's) and of BM25
    on ``split``."""
    config = load_config(workdir / "config.toml")
    r = config.retriever
    with Store.open(workdir / "leanagent.db") as store:
        state = run_state(store)
        repos = list(state.order[: len(state.checkpoints)])
        corpus = corpus_of(store, repos)
        learned = load_retriever(workdir / "checkpoints" / state.checkpoints[-1], workdir / "index", r.max_length,
                                 lambda: corpus, ranking=ranking or r.ranking, fusion=r.fusion)
        bm25 = BM25Retriever()
        bm25.index(corpus)
        queries = [q for repo in repos for q in getattr(repo_dataset(store, repo, r), split)]
    seen: dict[str, int] = {}
    keys = []  # the same theorems, whatever the query's form (a theorem's queries numbered, for traced runs)
    for q in queries:
        seen[q.theorem_id] = seen.get(q.theorem_id, 0) + 1
        keys.append(f"{q.theorem_id}#{seen[q.theorem_id]}")
    return keys, {"run": score_queries(learned, queries), "bm25": score_queries(bm25, queries)}


def _column(scores, metric: str) -> list[float]:
    return [getattr(s, metric) for s in scores]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdirs", nargs="+", type=Path)
    parser.add_argument("--names", nargs="*", help="a short name per workdir (default: the folder names)")
    parser.add_argument("--splits", nargs="*", default=["validation", "test"])
    parser.add_argument("--ranking", choices=RANKINGS, help="the learned runs' ranking (default: each run's own)")
    args = parser.parse_args()
    names = args.names or [w.name for w in args.workdirs]
    for split in args.splits:
        started = time.perf_counter()
        runs, bm25s, keys0 = {}, {}, None
        for name, workdir in zip(names, args.workdirs):
            keys, scores = _scores(workdir, split, args.ranking)
            if keys0 is not None and keys != keys0 and sorted(keys) == sorted(keys0):  # learned in another order
                where = {key: i for i, key in enumerate(keys)}
                scores = {k: [v[where[key]] for key in keys0] for k, v in scores.items()}
                keys = keys0
            if keys0 is not None and keys != keys0:
                raise SystemExit(f"{workdir}: other {split} theorems than {args.workdirs[0]} (other repositories or "
                                 "split settings): a paired comparison needs the same queries")
            keys0 = keys
            runs[name], bm25s[name] = scores["run"], scores["bm25"]  # BM25 on this run's own query form
        seconds = time.perf_counter() - started
        print(f"\n## {split}: {len(keys0)} queries pooled over the repositories ({seconds:.0f} s)")
        print(f"{'ranker':22s} {'R@1':>28s} {'R@10':>28s} {'MRR':>28s}")
        rows = [*runs.items(), *((f"bm25 ({name})", b) for name, b in bm25s.items())]
        for name, scores in rows:
            cells = [str(mean_interval(_column(scores, m))) for m in ("recall_at_1", "recall_at_10", "reciprocal_rank")]
            print(f"{name:22s} " + " ".join(f"{c:>28s}" for c in cells))
        first = names[0]
        for name, scores in runs.items():
            r10, rr = _column(scores, "recall_at_10"), _column(scores, "reciprocal_rank")
            b10, brr = _column(bm25s[name], "recall_at_10"), _column(bm25s[name], "reciprocal_rank")
            line = f"{name:22s} vs bm25: R@10 miss-rate ratio {miss_rate_ratio(r10, b10)}, MRR ratio {ratio(rr, brr)}"
            if name != first:
                f10, frr = _column(runs[first], "recall_at_10"), _column(runs[first], "reciprocal_rank")
                line += f"; vs {first}: ΔR@10 {difference(r10, f10)}, ΔMRR {difference(rr, frr)}"
            print(line)
    header = " ".join(f"{m:>10s}" for m in LIFELONG)
    print(f"\n## lifelong metrics (each run's evaluate stages)\n{'run':22s} {header}")
    for name, workdir in zip(names, args.workdirs):
        with Store.open(workdir / "leanagent.db") as store:
            metrics = report_data(store).metrics
        print(f"{name:22s} " + " ".join(f"{_fmt(metrics.get(key)):>10s}" for key in LIFELONG.values()))


LIFELONG = {"avg R@10": "average_recall_at_10", "WF5": "wf5", "FM": "forgetting_measure", "CFR": "cfr",
            "EBWT": "expanded_bwt", "BWT": "bwt"}


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
