"""Joint training: one epoch over the union of every stored repository's training examples, from the pretrained
encoder (the paper's "ReProver+" baseline, what a lifelong learner is measured against).

    mkdir joint && cp stored/leanagent.db joint/ && python bench/train_joint.py joint
    python bench/arm_results.py joint --arm joint --out docs/results/joint-random.json

The workdir holds a database of stored repositories (``leanagent train … --ingest-only``); the checkpoint goes to
``WORKDIR/checkpoints/joint`` with the score mix picked on the union's validation queries (as the evaluate stage
picks it), the settings to ``WORKDIR/config.toml`` and what was done, with its seconds, to ``WORKDIR/joint.json``
(``bench/arm_results.py`` reads all three). Same settings as a progressive run (``--set`` as for ``leanagent``),
replay aside: one epoch over everything has nothing to replay.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from database.store import Store
from leanagent.config import dump_config, load_config
from leanagent.learner import build_encoder, corpus_of, device_of, pick_and_save_mix, repo_dataset, scaled_warmup
from leanagent.pipeline import stored_repos
from leanagent.workdir import atomic_write_text

JOINT = "joint"
"""Name of the joint run's one checkpoint and of its record (``joint.json``)."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path, help="a workdir whose database holds the stored repositories")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a setting, as for leanagent")
    args = parser.parse_args(argv)
    from retrieval.bm25 import BM25Retriever
    from retrieval.dense import DenseRetriever
    from retrieval.train import train_epoch

    config = load_config(None, dict(item.split("=", 1) for item in args.set))
    r = config.retriever
    atomic_write_text(args.workdir / "config.toml", dump_config(config))
    seconds: dict[str, float] = {}
    with Store.open(args.workdir / "leanagent.db") as store:
        repos = stored_repos(store)
        datasets = [repo_dataset(store, repo, r, training=True) for repo in repos]
        examples = [e for data in datasets for e in data.train]
        model = build_encoder(r.model, r.seed, r.max_length)
        warmup = scaled_warmup(r.warmup_steps, r.warmup_fraction, len(examples), r.batch_size * r.accumulate)
        started = time.perf_counter()
        stats = train_epoch(model, examples, batch_size=r.batch_size, lr=r.lr, warmup_steps=warmup,
                            schedule=r.schedule, accumulate=r.accumulate, max_length=r.max_length,
                            grad_clip=r.grad_clip or None, seed=r.seed, device=device_of(config), loss=r.loss,
                            temperature=r.temperature)
        seconds["train"] = round(time.perf_counter() - started, 3)
        model.eval()
        directory = args.workdir / "checkpoints" / JOINT
        model.save(directory)
        started = time.perf_counter()
        corpus = corpus_of(store, repos)
        dense = DenseRetriever(model, max_length=r.max_length)
        dense.index(corpus)
        bm25 = BM25Retriever()
        bm25.index(corpus)
        mix, _, picked = pick_and_save_mix(r, directory, datasets, dense, bm25, corpus)
        seconds["embed_and_pick"] = round(time.perf_counter() - started, 3)
    record = {"format": 1, "checkpoint": JOINT, "repos": [repo.id for repo in repos], "examples": len(examples),
              "optimizer_steps": stats.steps, "warmup_steps": warmup, "mean_loss": stats.mean_loss,
              "mix": picked.strip("; "), "seconds": seconds}
    atomic_write_text(args.workdir / f"{JOINT}.json", json.dumps(record, indent=1))
    print(f"joint: {len(examples)} examples over {len(repos)} repositories, {stats.steps} steps, "
          f"{seconds['train']:.0f} s training{picked}")


if __name__ == "__main__":
    main()
