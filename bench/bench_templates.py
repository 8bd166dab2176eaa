"""How often the template generator proposes the human's first tactic, on real repositories.

usage: python bench/bench_templates.py WORKDIR [--k 64] [--premises 8] [--retrievers none bm25 dense]

A proxy for the offline tactic generator's quality that needs no Lean: for every test-split theorem of
a workdir's repositories that has a tactic proof, the state is its statement (static extraction) and the
target is the proof's first tactic. A hit is the target among the generator's top ``k`` suggestions,
compared after normalisation (whitespace collapsed, each dotted name cut to its last component, since
humans write short names and templates full ones). Retrievers: ``none`` (automation and hypotheses only),
``bm25``, ``dense`` (the workdir's latest checkpoint and premise index). Nothing is stored.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from database.datasets import AccessIndex  # noqa: E402
from database.index import PremiseIndex  # noqa: E402
from database.store import Store  # noqa: E402
from leanagent.config import load_config  # noqa: E402
from leanagent.results import run_state  # noqa: E402
from leanagent.workdir import Workdir  # noqa: E402
from prover.generators import GenRequest, RetrievedPremises, TemplateGenerator  # noqa: E402
from retrieval.dataset import build_dataset, corpus_for  # noqa: E402

_NAME = re.compile(r"[A-Za-z_\u0370-\u03ff][\w.'!?\u0370-\u03ff]*")


def normalise(tactic: str) -> str:
    """Compare tactics loosely: one space, short names.

    >>> normalise("rw  [Nat.add_comm,\\n  ← List.length_append]")
    'rw [add_comm, ← length_append]'
    """
    text = " ".join(tactic.split())
    return _NAME.sub(lambda m: m.group(0).rstrip(".").rsplit(".", 1)[-1] or m.group(0), text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir")
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--premises", type=int, default=8)
    parser.add_argument("--retrievers", nargs="+", default=["none", "bm25", "dense"])
    args = parser.parse_args()
    wd = Workdir(Path(args.workdir))
    config = load_config(wd.config if wd.config.is_file() else None)
    with Store.open(wd.database) as store:
        state = run_state(store)
        repos = list(state.order[: len(state.checkpoints)])
        cases = {}
        for repo in repos:
            data = build_dataset(store, repo)
            test = set(data.split.test)
            files, premises = corpus_for(store, repo)
            cases[repo.name] = ([t for t in store.theorems(repo.id, sorry=False) if t.id in test and t.steps],
                                premises, AccessIndex(files, premises))
        print(f"{'repository':26} {'theorems':>8} " + " ".join(f"{r:>8}" for r in args.retrievers) + "  ms/state")
        totals = {r: [0, 0] for r in args.retrievers}
        for name, (theorems, premises, access) in cases.items():
            hits, timing = [], 0.0
            for kind in args.retrievers:
                source = None
                if kind == "bm25":
                    from retrieval.bm25 import BM25Retriever

                    retriever = BM25Retriever()
                    retriever.index(premises)
                    source = RetrievedPremises(retriever, premises, access.accessible_ids)
                elif kind == "dense":
                    from retrieval.dense import DenseRetriever
                    from retrieval.encoder import DualEncoder

                    model = DualEncoder.load(wd.checkpoints / state.checkpoints[-1])
                    retriever = DenseRetriever(model, premise_index=PremiseIndex.load(wd.index),
                                               max_length=config.retriever.max_length)
                    source = RetrievedPremises(retriever, premises, access.accessible_ids)
                generator = TemplateGenerator(source, num_premises=args.premises)
                started = time.perf_counter()
                rows = generator.generate([GenRequest(t.statement, t) for t in theorems], args.k)
                timing = max(timing, 1000 * (time.perf_counter() - started) / max(1, len(theorems)))
                hit = sum(normalise(t.steps[0].tactic) in {normalise(s.tactic) for s in row}
                          for t, row in zip(theorems, rows))
                hits.append(hit)
                totals[kind][0] += hit
                totals[kind][1] += len(theorems)
            print(f"{name[:26]:26} {len(theorems):>8} "
                  + " ".join(f"{h / max(1, len(theorems)):>8.3f}" for h in hits) + f"  {timing:8.1f}")
        print(f"{'all':26} {totals[args.retrievers[0]][1]:>8} "
              + " ".join(f"{h / max(1, n):>8.3f}" for h, n in totals.values()))


if __name__ == "__main__":
    main()
