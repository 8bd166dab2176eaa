"""Write one arm's results file (docs/results/ARM-SPLIT.json) from a finished run's workdir.

    python bench/arm_results.py arms/default-random --arm default --out docs/results/default-random.json
    python bench/arm_results.py arms/joint --arm joint --out docs/results/joint-random.json     # train_joint.py
    python bench/arm_results.py stored --untrained --arm untrained --out docs/results/untrained-random.json \\
        [--set retriever.split=novel_premises]

The evaluate stage stores aggregates only (R@1, R@10, MRR per checkpoint and repository), so the per-query
ranks are recomputed here: every checkpoint is loaded and embeds the corpus of the repositories seen so far,
then is scored, with the ranking the run used (the score mix and priors picked for that checkpoint), on the test
queries of each repository seen (and of the next one: forward transfer) and on the validation queries of the
repository just learned (all of them at the last checkpoint); BM25 on the same queries and corpus beside it.
The recomputed R@10 of each (checkpoint, repository) is checked against the stored one (a note says how far
apart they are). Untrained (``--untrained``): the model a run would start from, with the run's ranking, its score
mix picked on the validation queries of all repositories (priors counted over their training proofs).
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from database.store import Store
from leanagent.armresults import ARM, BM25, ArmResults, Cell, save_results
from leanagent.config import load_config
from leanagent.learner import BASELINE, build_encoder, corpus_of, pick_mix_for, repo_dataset
from leanagent.pipeline import stored_repos
from leanagent.results import run_state
from retrieval.evaluate import score_queries


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=30,
                         cwd=Path(__file__).resolve().parent)
    return out.stdout.strip()


def _cell(retriever, queries, checkpoint: str, after: int, repo: str, split: str, ranker: str,
          unseen: bool = False) -> Cell:
    scores = score_queries(retriever, queries)
    ranks = tuple(round(1 / s.reciprocal_rank) if s.reciprocal_rank > 0 else None for s in scores)
    return Cell(checkpoint, after, repo, split, ranker, ranks, tuple(s.recall_at_1 for s in scores),
                tuple(s.recall_at_10 for s in scores), unseen)


def _retrievers(dense, corpus, settings, checkpoint_dir: Path | None, datasets=None, picked=None):
    """The arm's retriever over ``corpus`` and BM25 over the same, and the mix with its usage counts: those
    ``picked`` before, or saved with the checkpoint, or (``checkpoint_dir`` None) picked now on the validation
    queries of ``datasets`` with this code, as the evaluate stage picks them. ``dense`` embeds the premises of
    ``corpus`` it lacks (premises beyond it are never allowed for these queries)."""
    from retrieval.bm25 import BM25Retriever
    from retrieval.loading import load_mix, load_usage, rank_with
    from retrieval.priors import PremisePriors

    dense.add(corpus)
    bm25 = BM25Retriever()
    bm25.index(corpus)
    mixing = (settings.ranking, settings.fusion) == ("hybrid", "mix")
    priors = None
    if picked is not None:
        mix, usage = picked
    elif checkpoint_dir is not None:
        mix, usage = load_mix(checkpoint_dir), load_usage(checkpoint_dir)
    elif mixing:
        mix, priors = pick_mix_for(settings, datasets, dense, bm25, corpus)
        usage = priors.counts if priors is not None else None
    else:
        mix, usage = None, None
    if priors is None and mixing and mix.uses_priors and usage is not None:
        priors = PremisePriors(corpus, usage)
    return (rank_with(dense, bm25, settings.ranking, fusion=settings.fusion, mix=mix, priors=priors), bm25,
            (mix, usage))


def _keys(queries) -> list[str]:
    seen: dict[str, int] = {}
    keys = []
    for q in queries:
        seen[q.theorem_id] = seen.get(q.theorem_id, 0) + 1
        keys.append(f"{q.theorem_id[:16]}#{seen[q.theorem_id]}")
    return keys


def measure(workdir: Path, arm: str, *, untrained: bool = False, overrides: dict | None = None,
            code_commit: str = "", repick: bool = False, trained_by: str = "", log=print) -> ArmResults:
    """The arm's results (see the module's docstring)."""
    from retrieval.dense import DenseRetriever
    from retrieval.encoder import DualEncoder

    saved = workdir / "config.toml"
    own = saved.exists() and not untrained
    config = load_config(saved if own else None, overrides, saved=own)
    r = config.retriever
    notes, seconds = [], {}
    joint = workdir / "joint.json"
    with Store.open(workdir / "leanagent.db") as store:
        if untrained:
            kind, order, names = "untrained", stored_repos(store), ["untrained"]
            dirs: list[Path | None] = [None]
        elif joint.exists():
            record = json.loads(joint.read_text())
            kind, names = "joint", [record["checkpoint"]]
            order = [store.repo(rid) for rid in record["repos"]]
            dirs = [workdir / "checkpoints" / record["checkpoint"]]
            seconds["all"] = record["seconds"]
        else:
            state = run_state(store)
            if state is None or not state.checkpoints:
                raise SystemExit(f"{workdir}: no checkpoint yet; train it first (leanagent train --stored)")
            kind, order, names = "progressive", list(state.order), list(state.checkpoints)
            dirs = [workdir / state.stages[repo.id]["train"]["checkpoint"] for repo in order[: len(names)]]
            for repo in order:
                seconds[repo.name] = {stage: info["seconds"] for stage, info in state.stages.get(repo.id, {}).items()
                                      if "seconds" in info}
        datasets = {repo.id: repo_dataset(store, repo, r) for repo in order}
        stored = tuple({"checkpoint": e.checkpoint, "repo": store.repo(e.repo_id).name, "split": e.split,
                        "recall_at_1": e.recall_at_1, "recall_at_10": e.recall_at_10, "mrr": e.mrr,
                        "queries": e.queries} for e in store.evaluations())
        cells: list[Cell] = []
        started = time.perf_counter()
        single = kind != "progressive"
        for i, (name, directory) in enumerate(zip(names, dirs)):
            seen = order if single else order[: i + 1]
            encoder = build_encoder(r.model, r.seed, r.max_length) if directory is None else DualEncoder.load(directory)
            encoder.eval()
            dense = DenseRetriever(encoder, max_length=r.max_length)
            arm_retriever, bm25, picked = _retrievers(dense, corpus_of(store, seen), r,
                                                      None if repick else directory, [datasets[x.id] for x in seen])
            last = i == len(names) - 1
            for j, repo in enumerate(seen):
                splits = ["test"] + (["validation"] if last or j == i else [])
                for split in splits:
                    queries = getattr(datasets[repo.id], split)
                    if queries:
                        cells.append(_cell(arm_retriever, queries, name, i, repo.name, split, ARM))
                        cells.append(_cell(bm25, queries, name, i, repo.name, split, BM25))
            if not single and i + 1 < len(order):  # the next repository, not learned yet: forward transfer
                nxt = order[i + 1]
                arm_retriever, bm25, _ = _retrievers(dense, corpus_of(store, order[: i + 2]), r, directory,
                                                     picked=picked)
                queries = datasets[nxt.id].test
                if queries:
                    cells.append(_cell(arm_retriever, queries, name, i, nxt.name, "test", ARM, unseen=True))
                    cells.append(_cell(bm25, queries, name, i, nxt.name, "test", BM25, unseen=True))
            mix = picked[0]
            log(f"{name}: scored ({time.perf_counter() - started:.0f} s; mix {mix})")
        seconds.setdefault("results", {})["recompute"] = round(time.perf_counter() - started, 1)
    if repick and kind != "untrained":
        notes.append(f"the score mix of every checkpoint picked again with this code on the validation queries of "
                     f"the repositories seen (as the evaluate stage picks it), not the one saved by the run; "
                     f"last: {mix}" + (f"; the arm was trained by the code at {trained_by}" if trained_by else ""))
    if kind == "progressive":
        stored_r10 = {(e["checkpoint"], e["repo"], e["split"]): e["recall_at_10"] for e in stored}
        gaps = [abs(c.recall_at_10 - stored_r10[(c.checkpoint if c.ranker == ARM else BASELINE + c.checkpoint,
                                                 c.repo, c.split)])
                for c in cells if not c.unseen and (c.checkpoint if c.ranker == ARM else BASELINE + c.checkpoint,
                                                    c.repo, c.split) in stored_r10]
        notes.append(f"per-query ranks recomputed from every checkpoint; against the evaluate stage's stored R@10 "
                     f"on {len(gaps)} cells the largest difference is {max(gaps, default=0.0):.4f}")
        if len(names) < len(order):
            notes.append(f"the run learned {len(names)} of {len(order)} repositories (stopped before the end)")
    elif kind == "untrained":
        notes.append(f"no training: {r.model} as a run would start from it; mix {mix} picked on the validation "
                     "queries of all repositories")
    else:
        notes.append(f"joint: one epoch over the union of the repositories' training examples; mix {mix}")
    queries = {repo.name: {split: _keys(getattr(datasets[repo.id], split)) for split in ("validation", "test")}
               for repo in order}
    settings = {"curriculum": asdict(config.curriculum), "retriever": asdict(r)}
    return ArmResults(arm, r.split, kind, code_commit or _commit(), settings,
                      tuple({"name": x.name, "url": x.url, "commit": x.commit} for x in order), tuple(names),
                      queries, tuple(cells), seconds, stored,
                      tuple(notes) + (f"written {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", type=Path, help="the arm's workdir (or, with --untrained, any stored workdir)")
    parser.add_argument("--arm", required=True, help="arm name: default, random-s1, naive-s1, joint, untrained, …")
    parser.add_argument("--out", type=Path, required=True, help="the results file to write")
    parser.add_argument("--untrained", action="store_true", help="the starting model, no training")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting over the run's saved ones (with --untrained: over the defaults)")
    parser.add_argument("--code-commit", default="", help="commit of the code that ran the arm (default: HEAD)")
    parser.add_argument("--repick", action="store_true",
                        help="pick each checkpoint's score mix again with this code (as the evaluate stage would) "
                             "instead of loading the one the run saved: a ranking change that needs no training")
    parser.add_argument("--trained-by", default="", metavar="COMMIT",
                        help="with --repick: the commit of the code that trained the arm, for the note")
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.set)
    results = measure(args.workdir, args.arm, untrained=args.untrained, overrides=overrides,
                      code_commit=args.code_commit, repick=args.repick, trained_by=args.trained_by,
                      log=lambda line: print(line, flush=True))
    save_results(results, args.out)
    print(f"{args.out}: {len(results.cells)} cells, {results.kind}, {len(results.checkpoints)} checkpoint(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
