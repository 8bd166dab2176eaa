"""How often each tactic generator proposes the human's first tactic on held-out theorems of real repositories.

usage: python bench/bench_generators.py WORKDIR [--split test|validation] [--ks 1 8 64] [--premises 8]
           [--retriever none|bm25|dense|hybrid] [--neighbours lexical|dense]
           [--generators templates memory combined base model] [--weights 0.5 0.5] [--per-repo]
           [--versus templates [base ...]] [--whole-order]
           [--whole-proof [--beam 8]] [--sample N] [--tactic-model CHECKPOINT_DIR]

A proxy for a tactic generator's quality that needs no Lean. Cases: every theorem of the chosen split
(the retriever's split, :func:`prover.tactic_data.tactic_data`) of every repository of the workdir (the
learned ones; before training or with --whole-order, those of the run's order; before the order, every
target repository) that has a tactic proof. The state is the goal its proof starts from
(:func:`prover.tactic_data.goal_before`, step 0), the target the proof's first tactic. A hit
at k is the target among the generator's top k, compared after normalisation (whitespace collapsed, each
dotted name cut to its last component, since humans write short names and templates full ones).

Generators: ``templates`` (:class:`prover.generators.TemplateGenerator`); ``memory``
(:class:`prover.memory.ProofMemory` over every step of every proved theorem of the workdir's repositories
outside the validation and test splits; neighbours by BM25 or by the latest checkpoint's encoder);
``combined`` (both, :class:`prover.generators.CombinedGenerator` with --weights; with the tactic model too when
the latest checkpoint has one, the three weighted equally as a run weighs them); ``base`` (templates and
memory with --weights: combined without the tactic model); ``model`` (that tactic model
alone; ``--tactic-model DIR``: the one saved in checkpoint directory DIR, e.g. the ngram ranker
``bench/bench_tactic_ranker.py --save DIR`` trained; a copy of a workdir's database will do then). Premises
come from --retriever (the latest checkpoint for dense / hybrid).

``--whole-proof``: whole-proof exact match instead. Cases: the theorems of the split whose proof has at most
three tactics; a hit at k: the whole proof (every tactic, normalised) among the k best sequences of a beam
search of width --beam over states without Lean (:func:`prover.tactic_data.whole_proof_ranks`).
``--sample N``: a seeded sample of N cases (the model costs about 2 s a beam).

Prints hit@k per generator with a 95% bootstrap interval (resampling theorems), the number of cases, and
milliseconds per state (per case with --whole-proof). Nothing is stored.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from database.datasets import AccessIndex  # noqa: E402
from database.store import Store  # noqa: E402
from leanagent.config import load_config  # noqa: E402
from leanagent.results import run_state  # noqa: E402
from leanagent.workdir import Workdir  # noqa: E402
from prover.generators import CombinedGenerator, RetrievedPremises, TemplateGenerator  # noqa: E402
from prover.memory import ProofMemory, neighbours_for, saved_tactic_model  # noqa: E402
from prover.tactic_data import (first_tactic_cases, first_tactic_ranks, hit_rate, tactic_data,  # noqa: E402
                                whole_proof_cases, whole_proof_ranks)
from leanagent.learner import corpus_of  # noqa: E402
from retrieval.stats import mean_interval, ratio  # noqa: E402

def premise_source(kind: str, wd: Workdir, state, config, corpus, access):
    if kind == "none":
        return None
    if kind == "bm25":
        from retrieval.bm25 import BM25Retriever

        retriever = BM25Retriever()
        retriever.index(corpus)
    else:
        from retrieval.loading import load_retriever

        retriever = load_retriever(wd.checkpoints / state.checkpoints[-1], wd.index, config.retriever.max_length,
                                   lambda: corpus, ranking=kind, fusion=config.retriever.fusion)
    return RetrievedPremises(retriever, corpus, access)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir")
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--premises", type=int, default=8)
    parser.add_argument("--retriever", choices=("none", "bm25", "dense", "hybrid"), default="bm25")
    parser.add_argument("--neighbours", choices=("lexical", "dense"), default="lexical")
    parser.add_argument("--generators", nargs="+", default=["templates", "memory", "combined"])
    parser.add_argument("--versus", nargs="+", default=["templates"], help="the generators the others' hit@k "
                        "are compared with, paired")
    parser.add_argument("--weights", type=float, nargs=2, default=[0.5, 0.5], help="combined: templates, memory")
    parser.add_argument("--memory-k", type=int, default=32, help="memory: neighbours per state")
    parser.add_argument("--temperature", type=float, default=None, help="memory: similarity to logit "
                        "(default: the neighbours' own, 0.25 lexical, 0.05 dense)")
    parser.add_argument("--per-repo", action="store_true")
    parser.add_argument("--tactic-model", default=None, help="model / combined: the tactic model saved in this "
                        "checkpoint directory (default: the latest checkpoint's)")
    parser.add_argument("--whole-proof", action="store_true",
                        help="whole-proof exact match (proofs of ≤ 3 tactics)")
    parser.add_argument("--beam", type=int, default=8, help="--whole-proof: beam width")
    parser.add_argument("--whole-order", action="store_true", help="the run's whole curriculum order, learned "
                        "or not (with --retriever bm25, and --tactic-model for a model)")
    parser.add_argument("--sample", type=int, default=0, help="a seeded sample of this many cases (0: all)")
    args = parser.parse_args()
    wd = Workdir(Path(args.workdir))
    config = load_config(wd.config if wd.config.is_file() else None)
    r = config.retriever
    with Store.open(wd.database) as store:
        state = run_state(store)
        learned = list(state.order[: len(state.checkpoints)]) if state and state.checkpoints else []
        if args.whole_order:
            assert state is not None, "no curriculum order in this workdir"
            learned = []
        repos = learned or (list(state.order) if state else store.repos("target"))
        if args.retriever in ("dense", "hybrid") or args.neighbours == "dense":
            assert learned, "no checkpoint in this workdir: use --retriever bm25 --neighbours lexical"
        cases, memory_theorems, held = [], [], set()
        for repo in repos:
            theorems = store.theorems(repo.id, sorry=False)
            data = tactic_data(theorems, seed=r.seed, strategy=r.split, fraction=r.split_fraction)
            held |= {e.theorem_id for e in data.validation + data.test}
            chosen = whole_proof_cases if args.whole_proof else first_tactic_cases
            cases += [(repo, t) for t in chosen(theorems, data, args.split)]
            memory_theorems += theorems
        corpus = corpus_of(store, repos)
        files = [f for repo in repos for f in store.files(repo.id)]
        files += [f for dep in store.repos("dependency") for f in store.files(dep.id)]
        access = AccessIndex(files, corpus).accessible_ids
    if 0 < args.sample < len(cases):
        keep = set(random.Random(r.seed).sample(range(len(cases)), args.sample))
        cases = [c for i, c in enumerate(cases) if i in keep]
    what = "whole proofs of ≤ 3 tactics" if args.whole_proof else "first tactics"
    print(f"{what}: {len(cases)} held-out theorems ({args.split}) in {len(repos)} repositories; "
          f"corpus {len(corpus)} premises; retriever {args.retriever}, neighbours {args.neighbours}")
    source = premise_source(args.retriever, wd, state, config, corpus, access)
    generators = {}
    templates = TemplateGenerator(source, num_premises=args.premises)
    memory = None
    if {"memory", "combined", "base"} & set(args.generators):
        started = time.perf_counter()
        latest = wd.checkpoints / state.checkpoints[-1] if learned else None
        neighbours = neighbours_for(args.neighbours, latest, r.max_length)
        memory = ProofMemory(ProofMemory.remember(memory_theorems, exclude=held), neighbours, premises=source,
                             kinds={p.full_name: p.kind for p in corpus}, num_premises=args.premises,
                             num_neighbours=args.memory_k, temperature=args.temperature)
        print(f"memory: {len(memory)} steps, built in {time.perf_counter() - started:.1f} s")
    wanted = (learned or args.tactic_model) and {"model", "combined"} & set(args.generators)
    model = saved_tactic_model(args.tactic_model or wd.checkpoints / state.checkpoints[-1]) if wanted else None
    assert model is not None or "model" not in args.generators, "no tactic model in the latest checkpoint"
    for name in args.generators:
        if name == "combined":
            parts = [templates, memory] + ([model] if model else [])
            generators[name] = CombinedGenerator(parts, None if model else args.weights)
        elif name == "base":
            generators[name] = CombinedGenerator([templates, memory], args.weights)
        else:
            generators[name] = {"templates": templates, "memory": memory, "model": model}[name]
    theorems = [t for _, t in cases]
    header = (f"{'generator':12} {'cases':>6} " + " ".join(f"{'hit@' + str(k):>22}" for k in args.ks)
              + ("  ms/case" if args.whole_proof else "  ms/state"))
    print(header)
    hits_at: dict[tuple[str, int], list[float]] = {}
    for name, generator in generators.items():
        started = time.perf_counter()
        ranks = (whole_proof_ranks(generator, theorems, max(args.ks), beam=args.beam) if args.whole_proof
                 else first_tactic_ranks(generator, theorems, max(args.ks)))
        ms = 1000 * (time.perf_counter() - started) / max(1, len(theorems))
        cells = []
        for k in args.ks:
            hits = [1.0 if rank is not None and rank < k else 0.0 for rank in ranks]
            mean = mean_interval(hits)
            cells.append(f"{mean.estimate:.3f} [{mean.low:.3f}, {mean.high:.3f}]")
            hits_at[name, k] = hits
        print(f"{name:12} {len(ranks):>6} " + " ".join(f"{c:>22}" for c in cells) + f"  {ms:8.1f}")
        if args.per_repo:
            for repo in repos:
                mine = [rank for (rp, _), rank in zip(cases, ranks) if rp.id == repo.id]
                if mine:
                    print(f"    {repo.name[:40]:40} {len(mine):>5} "
                          + " ".join(f"{hit_rate(mine, k):>8.3f}" for k in args.ks))
    for versus in [v for v in args.versus if v in generators]:
        for name in generators:
            if name != versus:
                for k in args.ks:
                    r_k = ratio(hits_at[name, k], hits_at[versus, k])
                    print(f"hit@{k} {name} / {versus}: {r_k.estimate:.2f} [{r_k.low:.2f}, {r_k.high:.2f}] "
                          f"(paired, {r_k.queries} theorems)")


if __name__ == "__main__":
    main()
