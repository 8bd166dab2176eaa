"""Test Recall@10 of an encoder before any training, on every repository of a workdir.

How much a pretrained encoder knows before LeanAgent trains it (docs/benchmarks.md, "MiniLM, no training").
Reuses a workdir's database (repositories, splits) and leaves it untouched; nothing is stored.

    python bench/eval_untrained.py rw-tiny --model minilm --max-length 128
"""

from __future__ import annotations

import argparse
import time

from database.store import Store
from leanagent.config import RetrieverConfig
from leanagent.learner import build_encoder, corpus_of, score_repositories
from retrieval.dense import DenseRetriever


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", help="a leanagent workdir with ingested repositories")
    parser.add_argument("--model", default="minilm", help="byt5-tiny, minilm or a Hugging Face name")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--seed", type=int, default=3407, help="split seed (the run's retriever.seed)")
    parser.add_argument("--static-query", choices=("statement", "goal"), default="statement",
                        help="query form of static records (retriever.static_query)")
    args = parser.parse_args()
    with Store.open(f"{args.workdir}/leanagent.db") as store:
        repos = store.repos("target")
        retriever = DenseRetriever(build_encoder(args.model, args.seed, args.max_length), batch_size=64)
        start = time.perf_counter()
        retriever.index(corpus_of(store, repos))
        print(f"embedded the corpus in {time.perf_counter() - start:.1f} s")
        settings = RetrieverConfig(seed=args.seed, static_query=args.static_query)
        tests = [e for e in score_repositories(retriever, store, repos, "untrained", settings)
                 if e.split == "test"]
        for e in tests:
            print(f"{store.repo(e.repo_id).name:40s} R@1 {e.recall_at_1:.3f}  R@10 {e.recall_at_10:.3f}  "
                  f"MRR {e.mrr:.3f}")
        print(f"{'average':40s} R@10 {sum(e.recall_at_10 for e in tests) / len(tests):.3f}")


if __name__ == "__main__":
    main()
