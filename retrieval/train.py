"""One epoch of retriever training (LeanAgent's step per repository), and EWC, its ablation.

The optimiser is AdamW (PyTorch defaults besides the learning rate, as ReProver); the learning rate rises
linearly from 0 over ``warmup_steps`` and then stays constant (ReProver's
``get_constant_schedule_with_warmup``), decays linearly to 0 (``schedule="linear"``), or follows
``get_cosine_schedule_with_warmup`` (``"cosine"``, LeanAgent's). Gradients of ``accumulate`` batches are
summed before each optimiser step (Lightning's ``accumulate_grad_batches``: each batch's loss divided by
``accumulate``, and a last, shorter group still steps), then clipped to norm ``grad_clip``.

Without ``state`` each call starts a fresh optimiser and warm-up. With an :class:`~retrieval.optim.OptimizerState`
from the previous repository it goes on where that one stopped, as LeanAgent's ``trainer.fit(ckpt_path=…)``
does: AdamW's moments restored, the schedule at the global step, and the cosine's horizon Lightning's
``max_epochs × len(train_dataloader) // accumulate_grad_batches``, that is (epochs so far + 1) × this
epoch's steps. On CUDA the forward pass runs under bf16 autocast; on the CPU, a run is a function of its
seed (the caller's random state is left as it was).
"""

from __future__ import annotations

import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

import torch

from database.index import atomic_directory
from retrieval.encoder import DualEncoder
from retrieval.examples import TrainingExample
from retrieval.loss import LOSSES, batch_premises, info_nce_loss, retrieval_loss
from retrieval.optim import OptimizerState
from retrieval.resume import EpochState

__all__ = ["TrainStep", "TrainStats", "TrainingInterrupted", "train_epoch", "lr_factor", "batch_loss", "EWC",
           "SCHEDULES"]

logger = logging.getLogger(__name__)

Schedule = Literal["constant", "linear", "cosine"]
SCHEDULES = ("constant", "linear", "cosine")


@dataclass(frozen=True)
class TrainStep:
    """What happened at one optimiser step."""

    step: int
    """1-based optimiser step number within the epoch."""
    loss: float
    """Mean retrieval loss of the step's batches (EWC penalty excluded)."""
    lr: float
    """Learning rate used for this step."""
    grad_norm: float
    """Gradient norm before clipping."""
    steps: int = 0
    """Optimiser steps in the whole epoch."""
    examples: int = 0
    """Examples this step trained on."""


@dataclass(frozen=True)
class TrainStats:
    """Summary of one epoch."""

    steps: int
    """Optimiser steps taken."""
    examples: int
    """Examples seen."""
    mean_loss: float
    """Mean retrieval loss over the batches (``nan`` when there were none)."""
    losses: tuple[float, ...] = field(compare=False)
    """Loss of every batch, in order."""
    seconds: float = field(default=0.0, compare=False)
    """Wall time."""
    state: OptimizerState | None = field(default=None, compare=False, repr=False)
    """The optimiser and schedule at the end of the epoch, for the next repository to resume from."""


def lr_factor(step: int, warmup_steps: int, total_steps: int, schedule: Schedule = "constant") -> float:
    """Multiplier of the base learning rate at 0-based ``step`` of ``total_steps``.

    ``cosine`` is transformers' ``get_cosine_schedule_with_warmup`` (half a cosine wave), kept as it is past
    ``total_steps`` too: there it rises again, as it does in LeanAgent when a repository is smaller than the
    average of those before it (the horizon counts this repository's steps once per epoch so far).

    >>> [lr_factor(s, 4, 10) for s in (0, 1, 3, 4, 9)]
    [0.0, 0.25, 0.75, 1.0, 1.0]
    >>> [round(lr_factor(s, 4, 10, "linear"), 3) for s in (3, 4, 7, 9)]
    [0.75, 1.0, 0.5, 0.167]
    >>> [round(lr_factor(s, 2, 10, "cosine"), 3) for s in (1, 2, 6, 10, 14)]
    [0.5, 1.0, 0.5, 0.0, 0.5]
    """
    if step < warmup_steps:
        return step / warmup_steps
    if schedule == "constant":
        return 1.0
    if schedule == "linear":
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))
    if schedule == "cosine":
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))
    raise ValueError(f"unknown learning-rate schedule {schedule!r}: use one of {', '.join(SCHEDULES)}")


def batch_loss(model: DualEncoder, batch: Sequence[TrainingExample], max_length: int | None = None, *,
               loss: str = "mse", temperature: float = 0.05) -> torch.Tensor:
    """The loss of one batch, ReProver's MSE (``mse``) or InfoNCE at ``temperature`` (``infonce``); each
    distinct premise text is encoded once."""
    columns, labels = batch_premises(batch)
    distinct = list(dict.fromkeys(columns))
    where = {text: i for i, text in enumerate(distinct)}
    cuda = model.device.type == "cuda"
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
        queries = model([ex.query for ex in batch], max_length)
        premises = model(distinct, max_length)
    premises = premises[torch.tensor([where[c] for c in columns], device=premises.device)]
    if loss == "infonce":
        return info_nce_loss(queries, premises, labels, temperature)
    return retrieval_loss(queries, premises, labels)


def _rng_devices(device: torch.device) -> list[int]:
    return [device.index or 0] if device.type == "cuda" else []


class TrainingInterrupted(KeyboardInterrupt):
    """An epoch stopped by Ctrl-C, SIGTERM or a ``KeyboardInterrupt`` of ``on_step``, its state handed to
    ``on_save`` first (the message says at which step)."""


@contextmanager
def _interrupts_deferred(enabled: bool) -> Iterator[list[int]]:
    """While the block runs (in the main thread), SIGINT and SIGTERM are noted in the yielded list instead of
    stopping the process, so the epoch stops at the next step boundary with its state whole; a second signal
    stops it at once (the last state saved stands)."""
    noted: list[int] = []
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield noted
        return

    def note(signum: int, frame: object) -> None:
        if noted:
            raise KeyboardInterrupt
        noted.append(signum)

    previous = {s: signal.signal(s, note) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield noted
    finally:
        for s, handler in previous.items():  # None: one set outside Python, which cannot be put back
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
    if noted:  # noted after the last step boundary: not lost
        raise KeyboardInterrupt


def train_epoch(model: DualEncoder, examples: Sequence[TrainingExample], *, batch_size: int = 4, lr: float = 1e-3,
                warmup_steps: int = 1000, schedule: Schedule = "constant", accumulate: int = 1,
                max_length: int | None = None, grad_clip: float | None = 1.0, seed: int = 3407,
                device: str | torch.device = "cpu", ewc: EWC | None = None, state: OptimizerState | None = None,
                loss: str = "mse", temperature: float = 0.05, show_progress: bool = False,
                on_step: Callable[[TrainStep], None] | None = None, on_save: Callable[[EpochState], None] | None = None,
                save_every_steps: int = 0, save_every_seconds: float = 0.0, resume: EpochState | None = None,
                key: str = "", epoch: int = 0) -> TrainStats:
    """Train ``model`` in place for one pass over ``examples`` in a seeded random order.

    Defaults are LeanAgent's per-device settings (batch 4, lr 1e-3, 1,000 warm-up steps, clipping 1.0, seed
    3407). The last batch may be smaller (small repositories have few examples). ``ewc`` adds its penalty to
    the loss. ``state`` resumes the optimiser and schedule of an earlier epoch; its warm-up then stands in for
    ``warmup_steps``. The returned :attr:`TrainStats.state` is the state to resume from next.

    ``on_save`` receives the epoch's :class:`~retrieval.resume.EpochState` (labelled ``key`` and ``epoch``) every
    ``save_every_steps`` steps and every ``save_every_seconds`` (0: never), at the end of the epoch, and when the
    epoch is interrupted: SIGINT and SIGTERM then wait for the step under way to finish, the state is saved and
    :class:`TrainingInterrupted` raised. ``resume``, a state saved under the same ``key``, goes on at its next step
    (the model, built as before, gets its weights; ``state`` is then not needed): the finished epoch is the one
    that was never stopped.
    """
    if batch_size <= 0 or accumulate <= 0:
        raise ValueError(f"batch_size and accumulate must be positive, got {batch_size} and {accumulate}")
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown learning-rate schedule {schedule!r}: use one of {', '.join(SCHEDULES)}")
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}: use one of {', '.join(LOSSES)}")
    device = torch.device(device)
    model.to(device)
    batches = math.ceil(len(examples) / batch_size)
    total = math.ceil(batches / accumulate)  # optimiser steps this epoch
    if resume is not None and (resume.key, resume.total, len(resume.order)) != (key, total, len(examples)):
        raise ValueError(f"the saved state of epoch {resume.epoch} (step {resume.step} of {resume.total}) is for "
                         f"other examples or settings than this epoch's {total} steps; start the epoch again")
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr)
    start, epochs = 0, 0
    if resume is not None:
        state = resume.optimizer  # the moments after resume.step steps, the schedule where the epoch began
        resume.load_weights(model)
    if state is not None:
        state.restore(optimizer)
        start, epochs, warmup_steps = state.step, state.epochs, state.warmup_steps
    horizon = (epochs + 1) * total  # Lightning's max_steps on a resumed fit
    first = resume.step if resume is not None else 0
    losses: list[float] = list(resume.losses) if resume is not None else []
    started = last_save = time.perf_counter()
    seen = 0  # examples trained on by this call
    was_training = model.training
    model.train()
    with torch.random.fork_rng(devices=_rng_devices(device)), _interrupts_deferred(on_save is not None) as noted:
        if resume is None:
            torch.manual_seed(seed)  # dropout and the order of examples
            order = torch.randperm(len(examples)).tolist()
        else:
            order = list(resume.order)
            resume.restore_random(device)

        def snapshot(done: int) -> EpochState:
            rng, global_random = EpochState.random_now(device)
            moments = OptimizerState.capture(optimizer, step=start, epochs=epochs, warmup_steps=warmup_steps)
            return EpochState(key, epoch, done, total, moments, EpochState.weights_of(model), tuple(order),
                              tuple(losses), rng, global_random)

        bar = None
        if show_progress:
            from tqdm import tqdm

            bar = tqdm(total=total, initial=first, desc="training", unit="step")
        done, boundary = first, True  # a state is whole only between steps
        try:
            for step in range(first, total):
                boundary = False
                current_lr = lr * lr_factor(start + step, warmup_steps, horizon, schedule)
                for group in optimizer.param_groups:
                    group["lr"] = current_lr
                optimizer.zero_grad(set_to_none=True)
                group_losses, size = [], 0
                for b in range(step * accumulate, min((step + 1) * accumulate, batches)):
                    batch = [examples[i] for i in order[b * batch_size:(b + 1) * batch_size]]
                    value = batch_loss(model, batch, max_length, loss=loss, temperature=temperature)
                    objective = value + ewc.penalty(model) if ewc is not None else value
                    (objective / accumulate).backward()
                    group_losses.append(float(value.detach()))
                    size += len(batch)
                norm = torch.nn.utils.clip_grad_norm_(params, grad_clip if grad_clip else math.inf)
                optimizer.step()
                losses.extend(group_losses)
                done, boundary, seen = step + 1, True, seen + size
                now = time.perf_counter()
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix_str(f"{seen / max(now - started, 1e-9):.2f} examples/s", refresh=False)
                if on_step is not None:
                    on_step(TrainStep(done, sum(group_losses) / len(group_losses), current_lr, float(norm),
                                      total, size))
                if noted:
                    raise KeyboardInterrupt
                due = (save_every_steps and done % save_every_steps == 0) or \
                    (save_every_seconds and now - last_save >= save_every_seconds)
                if on_save is not None and due and done < total:
                    on_save(snapshot(done))
                    last_save = time.perf_counter()
            if on_save is not None and total > first:
                on_save(snapshot(total))  # what comes after the epoch (validation) may be stopped too
            if noted:
                raise KeyboardInterrupt
        except KeyboardInterrupt:
            if on_save is None or not boundary or done == first:
                raise
            on_save(snapshot(done))
            raise TrainingInterrupted(f"training stopped at step {done} of {total}, its state saved") from None
        finally:
            if bar is not None:
                bar.close()
            model.train(was_training)
    seconds = time.perf_counter() - started
    mean = sum(losses) / len(losses) if losses else math.nan
    resumed = f" (resumed at step {first})" if first else ""
    logger.info("trained %d steps on %d examples in %.1f s%s, mean loss %.4f", total, len(examples), seconds,
                resumed, mean)
    after = OptimizerState.capture(optimizer, step=start + total, epochs=epochs + 1, warmup_steps=warmup_steps)
    return TrainStats(total, len(examples), mean, tuple(losses), seconds, after)


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
