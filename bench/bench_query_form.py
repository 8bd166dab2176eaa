"""Statement queries against goal-shaped ones (binders as hypotheses, then ⊢), one encoder, the same theorems.

The corpus is embedded once (an untrained encoder by default, or a run's latest checkpoint with
--checkpoint); each static record's test query is asked in both forms, and the two are compared pooled over
the repositories with paired 95% bootstrap intervals. BM25 is measured on both forms too.

    python bench/bench_query_form.py rec/A --model minilm --max-length 128
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from database.store import Store
from leanagent.config import load_config
from leanagent.learner import build_encoder, corpus_of, repo_dataset
from leanagent.results import run_state
from retrieval.bm25 import BM25Retriever
from retrieval.dense import DenseRetriever
from retrieval.encoder import DualEncoder
from retrieval.evaluate import score_queries
from retrieval.stats import difference, mean_interval


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--checkpoint", action="store_true", help="the run's latest checkpoint instead of --model")
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    settings = load_config(args.workdir / "config.toml").retriever
    with Store.open(args.workdir / "leanagent.db") as store:
        state = run_state(store)
        repos = list(state.order[: len(state.checkpoints)]) if state and state.checkpoints else store.repos("target")
        encoder = DualEncoder.load(args.workdir / "checkpoints" / state.checkpoints[-1]) if args.checkpoint \
            else build_encoder(args.model, settings.seed, args.max_length)
        dense = DenseRetriever(encoder, batch_size=64, max_length=args.max_length)
        started = time.perf_counter()
        corpus = corpus_of(store, repos)
        dense.index(corpus)
        bm25 = BM25Retriever()
        bm25.index(corpus)
        print(f"embedded {len(corpus)} premises in {time.perf_counter() - started:.0f} s")
        forms = {}
        for form in ("statement", "goal"):
            config = dataclasses.replace(settings, static_query=form)
            forms[form] = [q for repo in repos for q in getattr(repo_dataset(store, repo, config), args.split)]
    assert [q.theorem_id for q in forms["statement"]] == [q.theorem_id for q in forms["goal"]]
    for name, ranker in (("dense", dense), ("bm25", bm25)):
        scores = {form: score_queries(ranker, queries) for form, queries in forms.items()}
        for metric in ("recall_at_10", "reciprocal_rank"):
            cols = {form: [getattr(s, metric) for s in rows] for form, rows in scores.items()}
            print(f"{name:6} {metric:16} statement {mean_interval(cols['statement'])}  goal "
                  f"{mean_interval(cols['goal'])}  goal − statement {difference(cols['goal'], cols['statement'])}")


if __name__ == "__main__":
    main()
