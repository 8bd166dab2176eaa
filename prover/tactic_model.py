"""A seq2seq tactic model trained progressively: one epoch per repository, right after the retriever.

Issue 10, item 2b. Offline, the model is a small byte-level T5 built here (ByT5's tokenizer needs no files;
``tiny_tactic_model``), trained from scratch on the (goal, tactic) pairs of :mod:`prover.tactic_data`; with the
hub, ReProver's ``kaiyuy/leandojo-lean4-retriever-tacgen-byt5-small`` can be the starting point instead (any
seq2seq directory or name loads). Inputs are the goal alone (no retrieved premises: they would cost a retrieval
per training pair on a CPU). Checkpoints are ``save_pretrained`` directories with safetensors weights, written
atomically beside the retriever's; :class:`~prover.generators.Seq2SeqGenerator` loads them. A killed training
leaves the previous repository's model in place and the stage is done again.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TACTIC_MODEL_DIR", "TacticEpoch", "tiny_tactic_model", "load_tactic_model", "save_tactic_model",
           "train_tactic_epoch"]

TACTIC_MODEL_DIR = "tactic-model"
"""The tactic model's directory inside a checkpoint directory."""


@dataclass(frozen=True)
class TacticEpoch:
    """What one epoch did."""

    steps: int
    """Optimiser steps."""
    mean_loss: float
    """Mean token cross-entropy over the steps (nan for none)."""
    examples: int
    """Pairs seen."""


def tiny_tactic_model(seed: int = 0, *, d_model: int = 128, layers: int = 2, heads: int = 4, d_ff: int = 256):
    """A randomly initialised byte-level T5 (about 0.7M parameters at the defaults) and ByT5's tokenizer."""
    import torch
    from transformers import ByT5Tokenizer, T5Config, T5ForConditionalGeneration

    tokenizer = ByT5Tokenizer()
    config = T5Config(vocab_size=len(tokenizer), d_model=d_model, d_kv=d_model // heads, num_heads=heads, d_ff=d_ff,
                      num_layers=layers, num_decoder_layers=layers, feed_forward_proj="gated-gelu", dropout_rate=0.0,
                      tie_word_embeddings=False, pad_token_id=tokenizer.pad_token_id,
                      eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.pad_token_id)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = T5ForConditionalGeneration(config)
    return model, tokenizer


def load_tactic_model(name_or_path: str | Path):
    """A saved tactic model (or a hub name): (model, tokenizer); one-line
    :class:`~prover.generators.GeneratorUnavailable` when it cannot be loaded."""
    from transformers import AutoModelForSeq2SeqLM

    from prover.generators import load_hf_model

    return load_hf_model(AutoModelForSeq2SeqLM, str(name_or_path), "tactic model")


def save_tactic_model(model, tokenizer, directory: str | Path) -> None:
    """``save_pretrained`` (safetensors) into ``directory``, atomically."""
    from database.index import atomic_directory

    with atomic_directory(directory) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)


def train_tactic_epoch(model, tokenizer, pairs: Sequence[tuple[str, str]], *, batch_size: int = 8, lr: float = 1e-3,
                       max_input_bytes: int = 512, max_target_bytes: int = 128, seed: int = 3407,
                       device: str = "cpu") -> TacticEpoch:
    """One epoch of teacher-forced cross-entropy on (goal, tactic) pairs, shuffled with ``seed``; AdamW."""
    import torch

    model.to(device).train()
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for start in range(0, len(order), batch_size):
        batch = [pairs[i] for i in order[start:start + batch_size]]
        inputs = tokenizer([g for g, _ in batch], return_tensors="pt", padding=True, truncation=True,
                           max_length=max_input_bytes).to(device)
        labels = tokenizer([t for _, t in batch], return_tensors="pt", padding=True, truncation=True,
                           max_length=max_target_bytes)["input_ids"].to(device)
        labels[labels == tokenizer.pad_token_id] = -100
        loss = model(**inputs, labels=labels).loss
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        losses.append(float(loss.detach()))
    model.eval()
    return TacticEpoch(len(losses), sum(losses) / len(losses) if losses else float("nan"), len(pairs))
