"""One epoch of retriever training (LeanAgent's step per repository), and EWC, its ablation.

The optimiser is AdamW (PyTorch defaults besides the learning rate, as ReProver); the learning rate rises
linearly from 0 over ``warmup_steps`` and then stays constant (ReProver's
``get_constant_schedule_with_warmup``), or decays linearly to 0 with ``schedule="linear"``. Each call
starts a fresh optimiser and warm-up, as LeanAgent does for each repository. Gradients are clipped to
norm ``grad_clip``; on CUDA the forward pass runs under bf16 autocast; on the CPU, a run is a function of
its seed (the caller's random state is left as it was).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch

from database.index import atomic_directory
from retrieval.encoder import DualEncoder
from retrieval.examples import TrainingExample
from retrieval.loss import batch_premises, retrieval_loss

__all__ = ["TrainStep", "TrainStats", "train_epoch", "lr_factor", "batch_loss", "EWC"]

logger = logging.getLogger(__name__)

Schedule = Literal["constant", "linear"]


@dataclass(frozen=True)
class TrainStep:
    """What happened at one optimiser step."""

    step: int
    """1-based step number within the epoch."""
    loss: float
    """Retrieval loss of the batch (EWC penalty excluded)."""
    lr: float
    """Learning rate used for this step."""
    grad_norm: float
    """Gradient norm before clipping."""


@dataclass(frozen=True)
class TrainStats:
    """Summary of one epoch."""

    steps: int
    """Optimiser steps taken."""
    examples: int
    """Examples seen."""
    mean_loss: float
    """Mean retrieval loss over the steps (``nan`` when there were none)."""
    losses: tuple[float, ...] = field(compare=False)
    """Loss of every step, in order."""
    seconds: float = field(default=0.0, compare=False)
    """Wall time."""


def lr_factor(step: int, warmup_steps: int, total_steps: int, schedule: Schedule = "constant") -> float:
    """Multiplier of the base learning rate at 0-based ``step``.

    >>> [lr_factor(s, 4, 10) for s in (0, 1, 3, 4, 9)]
    [0.0, 0.25, 0.75, 1.0, 1.0]
    >>> [round(lr_factor(s, 4, 10, "linear"), 3) for s in (3, 4, 7, 9)]
    [0.75, 1.0, 0.5, 0.167]
    """
    if step < warmup_steps:
        return step / warmup_steps
    if schedule == "constant":
        return 1.0
    if schedule == "linear":
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))
    raise ValueError(f"unknown learning-rate schedule {schedule!r}: use 'constant' or 'linear'")


def batch_loss(model: DualEncoder, batch: Sequence[TrainingExample],
               max_length: int | None = None) -> torch.Tensor:
    """ReProver's loss for one batch; each distinct premise text is encoded once."""
    columns, labels = batch_premises(batch)
    distinct = list(dict.fromkeys(columns))
    where = {text: i for i, text in enumerate(distinct)}
    cuda = model.device.type == "cuda"
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
        queries = model([ex.query for ex in batch], max_length)
        premises = model(distinct, max_length)
    premises = premises[torch.tensor([where[c] for c in columns], device=premises.device)]
    return retrieval_loss(queries, premises, labels)


def _rng_devices(device: torch.device) -> list[int]:
    return [device.index or 0] if device.type == "cuda" else []


def train_epoch(model: DualEncoder, examples: Sequence[TrainingExample], *, batch_size: int = 4, lr: float = 1e-3,
                warmup_steps: int = 1000, schedule: Schedule = "constant", max_length: int | None = None,
                grad_clip: float | None = 1.0, seed: int = 3407, device: str | torch.device = "cpu",
                ewc: EWC | None = None, show_progress: bool = False,
                on_step: Callable[[TrainStep], None] | None = None) -> TrainStats:
    """Train ``model`` in place for one pass over ``examples`` in a seeded random order.

    Defaults are LeanAgent's (batch 4, lr 1e-3, 1,000 warm-up steps, clipping 1.0, seed 3407). The last
    batch may be smaller (small repositories have few examples). ``ewc`` adds its penalty to the loss.
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    device = torch.device(device)
    model.to(device)
    total = math.ceil(len(examples) / batch_size)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, warmup_steps, total, schedule))
    losses: list[float] = []
    started = time.perf_counter()
    was_training = model.training
    model.train()
    with torch.random.fork_rng(devices=_rng_devices(device)):
        torch.manual_seed(seed)  # dropout and the order of examples
        order = torch.randperm(len(examples)).tolist()
        steps = range(total)
        if show_progress:
            from tqdm import tqdm

            steps = tqdm(steps, desc="training", unit="step")
        try:
            for step in steps:
                batch = [examples[i] for i in order[step * batch_size:(step + 1) * batch_size]]
                loss = batch_loss(model, batch, max_length)
                objective = loss + ewc.penalty(model) if ewc is not None else loss
                optimizer.zero_grad(set_to_none=True)
                objective.backward()
                norm = torch.nn.utils.clip_grad_norm_(params, grad_clip if grad_clip else math.inf)
                current_lr = optimizer.param_groups[0]["lr"]
                optimizer.step()
                scheduler.step()
                losses.append(float(loss.detach()))
                if on_step is not None:
                    on_step(TrainStep(step + 1, losses[-1], current_lr, float(norm)))
        finally:
            model.train(was_training)
    seconds = time.perf_counter() - started
    mean = sum(losses) / len(losses) if losses else math.nan
    logger.info("trained %d steps on %d examples in %.1f s, mean loss %.4f", total, len(examples), seconds, mean)
    return TrainStats(total, len(examples), mean, tuple(losses), seconds)


class EWC:
    """Elastic weight consolidation: penalty ``lam · Σ F · (θ − θ*)²``, ``F`` a diagonal Fisher at ``θ*``."""

    def __init__(self, fisher: dict[str, torch.Tensor], anchor: dict[str, torch.Tensor], lam: float = 0.1) -> None:
        if fisher.keys() != anchor.keys():
            raise ValueError("EWC: the Fisher information and the anchor parameters name different tensors")
        self.fisher = fisher
        self.anchor = anchor
        self.lam = lam

    @classmethod
    def estimate(cls, model: DualEncoder, examples: Sequence[TrainingExample], *, lam: float = 0.1,
                 batch_size: int = 4, max_length: int | None = None, max_batches: int | None = None) -> EWC:
        """Empirical Fisher at the current parameters: the mean squared gradient of the batch loss.

        Batches are taken in order, dropout off (a property of the parameters, not of the noise).
        """
        params = {n: p for n, p in model.named_parameters() if p.requires_grad}
        fisher = {n: torch.zeros_like(p) for n, p in params.items()}
        batches = [examples[i:i + batch_size] for i in range(0, len(examples), batch_size)][:max_batches]
        if not batches:
            raise ValueError("EWC.estimate needs at least one example")
        was_training = model.training
        model.eval()
        try:
            for batch in batches:
                model.zero_grad(set_to_none=True)
                batch_loss(model, batch, max_length).backward()
                for n, p in params.items():
                    if p.grad is not None:
                        fisher[n] += p.grad.detach() ** 2 / len(batches)
        finally:
            model.zero_grad(set_to_none=True)
            model.train(was_training)
        anchor = {n: p.detach().clone() for n, p in params.items()}
        return cls(fisher, anchor, lam)

    def penalty(self, model: DualEncoder) -> torch.Tensor:
        """``lam · Σ F · (θ − θ*)²`` over the parameters the Fisher covers (a scalar with gradients)."""
        total = torch.zeros((), device=model.device)
        for n, p in model.named_parameters():
            if n in self.fisher:
                f, a = self.fisher[n].to(p.device), self.anchor[n].to(p.device)
                total = total + (f * (p - a) ** 2).sum()
        return self.lam * total

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write ``ewc.safetensors`` (Fisher and anchor tensors, λ in its metadata) to ``directory``, atomically.
        """
        from safetensors.torch import save_file

        tensors = {f"fisher/{n}": t.contiguous().cpu() for n, t in self.fisher.items()}
        tensors |= {f"anchor/{n}": t.contiguous().cpu() for n, t in self.anchor.items()}
        with atomic_directory(directory) as tmp:
            metadata = {"lam": repr(self.lam), "format_version": "1"}
            save_file(tensors, str(tmp / "ewc.safetensors"), metadata=metadata)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> EWC:
        """Read what :meth:`save` wrote."""
        from safetensors import safe_open

        fisher, anchor = {}, {}
        with safe_open(os.path.join(directory, "ewc.safetensors"), framework="pt") as f:
            lam = float(f.metadata()["lam"])
            for key in f.keys():
                kind, name = key.split("/", 1)
                (fisher if kind == "fisher" else anchor)[name] = f.get_tensor(key)
        return cls(fisher, anchor, lam)
