"""The tactic ranker's lifelong matrix: trained progressively in a run's order, first-tactic hit@k after each.

usage: python bench/bench_tactic_ranker.py WORKDIR [--epochs 5] [--replay 4] [--replay-min 16000] [--lr 0.02]
           [--dim 64] [--batch 128] [--split validation|test|both] [--matrix] [--save DIR] [--repos N]
           [--whole-order] [--priors 1[,0,...]] [--mixes 0.25[,0,...]] [--snapshots DIR]

Replays what the train stage does with ``prover.tactic_model = "ngram"`` (:mod:`prover.tactic_ranker`) over the
repositories of WORKDIR in the order its run learned them (the retriever is not needed: the ranker does not
read premises): after each repository, first-tactic hit@1 / 8 / 64 on the chosen split of every repository seen
so far (:func:`prover.tactic_data.first_tactic_ranks`), then the lifelong metrics of the hit@64 matrix
(:func:`leanagent.metrics.lifelong_metrics`). Validation picks the settings; the test split is read once
(``both``: the two from one training); each weight of ``--priors`` (the repository's tactic counts,
:data:`prover.tactic_ranker.PRIOR`; 0: none) with each of ``--mixes`` (their distribution mixed in) is scored
from the same training; ``--snapshots DIR`` keeps each repository's ranker there and loads it from there when
present (a second scoring pass trains nothing). Prints the pooled hit@k of the last row with a 95% bootstrap
interval and the number of theorems, the seconds each repository's training took, and with --matrix the whole
matrix; and, with its interval, what the earlier repositories' theorems lost: their hit@64 right after their
own repository minus at the end, per theorem (FM is a mean of per-repository drops, noisy on small
repositories). Nothing else is stored (but the last ranker, with --save).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from database.store import Store  # noqa: E402
from leanagent.config import load_config  # noqa: E402
from leanagent.metrics import lifelong_metrics  # noqa: E402
from leanagent.results import run_state  # noqa: E402
from leanagent.workdir import Workdir  # noqa: E402
from prover.tactic_data import HIT_KS, first_tactic_cases, first_tactic_ranks, hit_rate, tactic_data  # noqa: E402
from prover.tactic_ranker import MIX, PRIOR, TACTIC_RANKER_DIR, RankerGenerator, TacticRanker, with_replay  # noqa: E402
from retrieval.stats import difference, mean_interval  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workdir")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--replay", type=float, default=4.0)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--replay-min", type=int, default=16000, help="replay at least this many earlier pairs")
    parser.add_argument("--repos", type=int, default=0, help="only the first N repositories of the order (0: all)")
    parser.add_argument("--whole-order", action="store_true", help="the run's whole curriculum order, learned or "
                        "not (the ranker needs no retriever checkpoint: a copy of a workdir's database will do)")
    parser.add_argument("--split", choices=("test", "validation", "both"), default="validation")
    parser.add_argument("--priors", default=str(PRIOR), help="weights of the repository's tactic counts to score "
                        "with, comma-separated (0: the ranker alone)")
    parser.add_argument("--mixes", default=str(MIX), help="weights of the counts' own distribution mixed in, "
                        "comma-separated")
    parser.add_argument("--later-embedding-lr", type=float, default=None, help="the n-gram embeddings' learning "
                        "rate after the first --after repositories (0: frozen; default: --lr)")
    parser.add_argument("--after", type=int, default=1)
    parser.add_argument("--snapshots", default=None, help="a directory for each repository's ranker")
    parser.add_argument("--matrix", action="store_true")
    parser.add_argument("--save", default=None, help="a directory to save the last ranker in, as a checkpoint "
                        "directory holds it (for bench_generators.py --tactic-model DIR)")
    args = parser.parse_args()
    splits = ("validation", "test") if args.split == "both" else (args.split,)
    scorings = [(float(p), float(m)) for p in args.priors.split(",") for m in args.mixes.split(",")]
    columns = [(scoring, split) for scoring in scorings for split in splits]
    wd = Workdir(Path(args.workdir))
    r = load_config(wd.config if wd.config.is_file() else None).retriever
    with Store.open(wd.database) as store:
        state = run_state(store)
        assert state is not None and (state.checkpoints or args.whole_order), "no learned repository in this workdir"
        learned = len(state.order) if args.whole_order else len(state.checkpoints)
        repos = list(state.order[:learned])[: args.repos or None]
        data, cases, url = {}, {}, {}
        for repo in repos:
            theorems = store.theorems(repo.id, sorry=False)
            held = tactic_data(theorems, seed=r.seed, strategy=r.split, fraction=r.split_fraction)
            data[repo.id], url[repo.id] = [(e.goal, e.tactic) for e in held.train], repo.url
            for split in splits:
                cases[repo.id, split] = first_tactic_cases(theorems, held, split)
    print(f"{len(repos)} repositories in {args.workdir}'s order; epochs {args.epochs}, replay {args.replay}, "
          f"at least {args.replay_min}, lr {args.lr}, dim {args.dim}, batch {args.batch}")
    ranker, seconds = TacticRanker(dim=args.dim, seed=r.seed), []
    matrices: dict[tuple[tuple[float, float], str], list[list[float]]] = {column: [] for column in columns}
    last: dict[tuple[str, tuple[float, float], str], list] = {}
    learnt: dict[tuple[str, tuple[float, float], str], list] = {}  # ranks right after the repository's own
    for i, repo in enumerate(repos):
        pairs = with_replay(data[repo.id], [p for old in repos[:i] for p in data[old.id]], r.seed,
                            replay=args.replay, at_least=args.replay_min)
        started = time.perf_counter()
        snapshot = Path(args.snapshots) / f"{i + 1:02d}" if args.snapshots else None
        if snapshot is not None and snapshot.is_dir():
            ranker, loss = TacticRanker.load(snapshot), float("nan")
        else:
            loss = ranker.fit(pairs, epochs=args.epochs, lr=args.lr, batch_size=args.batch, seed=r.seed,
                              embedding_lr=args.later_embedding_lr if i >= args.after else None)
            ranker.count(url[repo.id], [t for _, t in data[repo.id]])
            if snapshot is not None:
                ranker.save(snapshot)
        seconds.append(time.perf_counter() - started)
        for (prior, mix), split in columns:
            generator, row = RankerGenerator(ranker, prior=prior, mix=mix), []
            for old in repos[: i + 1]:
                last[old.id, (prior, mix), split] = first_tactic_ranks(generator, cases[old.id, split], max(HIT_KS))
                row.append(hit_rate(last[old.id, (prior, mix), split], 64))
            learnt[repo.id, (prior, mix), split] = last[repo.id, (prior, mix), split]
            matrices[(prior, mix), split].append(row)
        said = ", ".join(f"{split} prior {p:g} mix {m:g}: hit@64 here {x[-1][-1]:.3f} ({len(cases[repo.id, split])}) "
                         f"mean {sum(x[-1]) / len(x[-1]):.3f}" for ((p, m), split), x in matrices.items())
        print(f"{i + 1:2d} {repo.name[:40]:40s} {len(pairs):6d} pairs {len(ranker):6d} tactics loss {loss:.3f} "
              f"{seconds[-1]:5.1f} s  {said}")
    if args.save:
        ranker.save(Path(args.save) / TACTIC_RANKER_DIR)
    for ((prior, mix), split), matrix in matrices.items():
        print(f"-- {split}, prior {prior:g}, mix {mix:g}")
        if args.matrix:
            for row in matrix:
                print(" ".join(f"{x:.2f}" for x in row))
        pooled = [x for repo in repos for x in last[repo.id, (prior, mix), split]]
        for k in HIT_KS:
            m = mean_interval([1.0 if x is not None and x < k else 0.0 for x in pooled])
            print(f"pooled hit@{k}: {m.estimate:.3f} [{m.low:.3f}, {m.high:.3f}] ({m.queries} theorems)")
        then = [x is not None and x < 64 for repo in repos[:-1] for x in learnt[repo.id, (prior, mix), split]]
        now = [x is not None and x < 64 for repo in repos[:-1] for x in last[repo.id, (prior, mix), split]]
        if then:
            lost = difference([float(x) for x in then], [float(x) for x in now])
            print(f"forgotten, per theorem: hit@64 of the earlier repositories' theorems right after their own "
                  f"repository minus at the end {lost.estimate:.3f} [{lost.low:.3f}, {lost.high:.3f}] "
                  f"({lost.queries} theorems)")
        metrics = lifelong_metrics(matrix, [row[-1] for row in matrix])
        print("lifelong metrics of the hit@64 matrix: " + ", ".join(
            f"{name} {value:.3f}" for name, value in metrics.items() if value is not None))
    print(f"training: {sum(seconds):.1f} s in all, {max(seconds):.1f} s at most for a repository")


if __name__ == "__main__":
    main()
