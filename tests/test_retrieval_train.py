"""Training: a tiny ByT5 encoder learns a toy Lean retrieval task; seeded runs repeat; EWC holds weights."""

from __future__ import annotations

import copy
import random
from pathlib import Path

import pytest
import torch

from retrieval.encoder import DualEncoder
from retrieval.examples import TrainingExample
from retrieval.metrics import mrr, recall_at_k
from retrieval.train import EWC, TrainStep, lr_factor, train_epoch

OPS = ["add", "mul", "sub", "div", "pow", "min", "max", "gcd", "lcm", "dvd"]
PROPS = ["comm", "assoc", "zero", "one", "self", "le", "lt", "pos", "neg"]


def toy_task(seed: int = 0) -> tuple[list[str], list[str], list[TrainingExample]]:
    """30 Lean-like premises, a proof-state query for each, and 3 random negatives per example."""
    rng = random.Random(seed)
    pairs = rng.sample([(o, p) for o in OPS for p in PROPS], 30)
    premises = [f"theorem <a>Nat.{o}_{p}</a> (a b : ℕ) : {o} a b {p}" for o, p in pairs]
    queries = [f"a b : ℕ\n⊢ Nat.{o} a b is {p}" for o, p in pairs]
    examples = [TrainingExample(q, pos, tuple(rng.sample([x for x in premises if x != pos], 3)))
                for q, pos in zip(queries, premises)]
    return premises, queries, examples


def rank(model: DualEncoder, premises: list[str], queries: list[str]) -> tuple[float, float]:
    """(Recall@1, MRR) of each query's own premise among all 30, by brute force."""
    order = (model.embed(queries) @ model.embed(premises).T).argsort(dim=1, descending=True).tolist()
    ranked = [[premises[j] for j in row] for row in order]
    positives = [{p} for p in premises]
    return recall_at_k(ranked, positives, 1), mrr(ranked, positives)


def test_training_learns_the_toy_task() -> None:
    premises, queries, examples = toy_task()
    model = DualEncoder.tiny_byt5(seed=0, d_model=64, d_ff=128, dropout=0.0)
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    r1_before, mrr_before = rank(model, premises, queries)
    losses = [train_epoch(model, examples, lr=1e-3, warmup_steps=5, seed=3407 + e).mean_loss for e in range(20)]
    r1_after, mrr_after = rank(model, premises, queries)
    assert r1_before < 0.5 and mrr_before < 0.7
    assert r1_after >= 0.8 and mrr_after >= 0.9
    # Below 1/16, the loss of mapping every premise orthogonally to every query: not just "spread out".
    assert losses[-1] < 0.06 < losses[0] / 4


def test_seeded_runs_repeat_and_leave_global_rng_alone() -> None:
    _, _, examples = toy_task()
    state = torch.get_rng_state()
    steps: list[TrainStep] = []
    runs = []
    for seed in (7, 7, 8):
        model = DualEncoder.tiny_byt5(seed=0)
        stats = train_epoch(model, examples, batch_size=4, warmup_steps=3, seed=seed,
                            on_step=steps.append if seed == 8 else None)
        runs.append((stats, torch.cat([p.detach().flatten() for p in model.parameters()])))
    assert runs[0][0] == runs[1][0] and runs[0][0].losses == runs[1][0].losses
    assert torch.equal(runs[0][1], runs[1][1])
    assert runs[2][0].losses != runs[0][0].losses
    assert torch.equal(torch.get_rng_state(), state)
    stats = runs[2][0]
    assert stats.steps == 8 and stats.examples == 30 and len(stats.losses) == 8  # 30 = 7 × 4 + 2
    assert [s.step for s in steps] == list(range(1, 9)) and [s.loss for s in steps] == list(stats.losses)
    # Linear warm-up over 3 steps, then constant.
    assert [s.lr for s in steps[:5]] == pytest.approx([0.0, 1e-3 / 3, 2e-3 / 3, 1e-3, 1e-3])


def test_gradient_clipping_is_applied() -> None:
    _, _, examples = toy_task()
    base = DualEncoder.tiny_byt5(seed=0, dropout=0.0)
    moved, norms = {}, {}
    for clip in (1e-12, None):
        model = copy.deepcopy(base)
        steps: list[TrainStep] = []
        train_epoch(model, examples[:4], batch_size=4, warmup_steps=0, grad_clip=clip, seed=1,
                    on_step=steps.append)
        moved[clip] = sum((p - q).abs().sum().item() for p, q in zip(model.parameters(), base.parameters()))
        norms[clip] = steps[0].grad_norm
    # Adam's first step is lr · g / (|g| + 1e-8): about lr per weight for a real gradient, next to nothing
    # for one clipped to norm 1e-12 (only weight decay moves the weights then).
    assert norms[1e-12] == norms[None] > 0  # the norm reported is the one before clipping
    assert moved[1e-12] < moved[None] / 100


def test_ewc_penalty_by_hand_and_roundtrip(tmp_path: Path) -> None:
    model = DualEncoder.tiny_byt5(seed=0)
    name, param = next(iter(model.named_parameters()))
    fisher = {name: torch.full_like(param, 2.0)}
    anchor = {name: param.detach() - 0.5}
    ewc = EWC(fisher, anchor, lam=0.1)
    assert ewc.penalty(model).item() == pytest.approx(0.1 * 2.0 * 0.25 * param.numel(), rel=1e-5)
    ewc.save(tmp_path / "ewc")
    back = EWC.load(tmp_path / "ewc")
    assert back.lam == 0.1
    assert torch.equal(back.fisher[name], fisher[name]) and torch.equal(back.anchor[name], anchor[name])
    with pytest.raises(ValueError, match="different tensors"):
        EWC(fisher, {}, 0.1)


def test_ewc_keeps_important_weights_near_the_old_task() -> None:
    _, _, examples = toy_task()
    old, new = examples[:15], examples[15:]
    model = DualEncoder.tiny_byt5(seed=0, d_model=64, d_ff=128, dropout=0.0)
    for e in range(3):
        train_epoch(model, old, warmup_steps=2, seed=e)
    ewc = EWC.estimate(model, old, lam=1e4)
    assert ewc.penalty(model).item() == 0.0
    assert all((f >= 0).all() for f in ewc.fisher.values()) and any((f > 0).any() for f in ewc.fisher.values())
    unit = EWC(ewc.fisher, ewc.anchor, lam=1.0)  # Fisher-weighted drift from the old task's weights
    drift = {}
    for use in (False, True):
        learner = copy.deepcopy(model)
        for e in range(3):
            train_epoch(learner, new, warmup_steps=2, seed=e, ewc=ewc if use else None)
        drift[use] = unit.penalty(learner).item()
    assert drift[True] < drift[False] / 2


def test_gradient_accumulation_steps_once_per_group() -> None:
    _, _, examples = toy_task()
    steps: list[TrainStep] = []
    stats = train_epoch(DualEncoder.tiny_byt5(seed=0), examples, batch_size=4, accumulate=3, warmup_steps=0,
                        seed=1, on_step=steps.append)
    # 30 examples = 8 batches (the last of 2) = 3 optimiser steps of 3, 3 and 2 batches
    assert stats.steps == 3 and len(stats.losses) == 8 and stats.state.step == 3
    assert [s.loss for s in steps] == pytest.approx([sum(stats.losses[0:3]) / 3, sum(stats.losses[3:6]) / 3,
                                                      sum(stats.losses[6:8]) / 2])
    with pytest.raises(ValueError, match="accumulate must be positive"):
        train_epoch(DualEncoder.tiny_byt5(seed=0), examples, accumulate=0)


def test_resumed_epoch_goes_on_with_the_moments_and_the_schedule(tmp_path: Path) -> None:
    """LeanAgent's trainer.fit(ckpt_path=…): the second repository continues the first one's optimiser."""
    from retrieval.optim import OptimizerState

    _, _, examples = toy_task()
    first, second = examples[:16], examples[16:28]
    model = DualEncoder.tiny_byt5(seed=0, dropout=0.0)
    one = train_epoch(model, first, batch_size=4, warmup_steps=2, schedule="cosine", seed=1)
    assert (one.state.step, one.state.epochs, one.state.warmup_steps) == (4, 1, 2)
    one.state.save(tmp_path / "opt")
    loaded = OptimizerState.load(tmp_path / "opt")
    assert loaded == one.state and loaded.moments.keys() == one.state.moments.keys()
    assert all(torch.equal(loaded.moments[k], one.state.moments[k]) for k in loaded.moments)

    runs = {}
    for name, state in (("memory", one.state), ("disk", loaded), ("fresh", None),
                        ("no moments", OptimizerState(4, 1, 2))):
        learner = copy.deepcopy(model)
        steps: list[TrainStep] = []
        two = train_epoch(learner, second, batch_size=4, warmup_steps=2, schedule="cosine", seed=2, state=state,
                          on_step=steps.append)
        runs[name] = (torch.cat([p.detach().flatten() for p in learner.parameters()]), [s.lr for s in steps], two)
    # Resumed: global steps 4, 5, 6 of a horizon of (1 + 1) × 3 = 6 steps, warm-up 2 long done.
    assert runs["memory"][1] == pytest.approx([1e-3 * lr_factor(s, 2, 6, "cosine") for s in (4, 5, 6)])
    assert runs["fresh"][1] == pytest.approx([0.0, 5e-4, 1e-3])  # a fresh warm-up instead
    assert runs["memory"][2].state.step == 7 and runs["memory"][2].state.epochs == 2
    assert torch.equal(runs["memory"][0], runs["disk"][0])  # the saved state is the whole state
    assert not torch.equal(runs["memory"][0], runs["no moments"][0])  # and the moments matter
    with pytest.raises(ValueError, match="another model"):
        train_epoch(DualEncoder.tiny_byt5(seed=0, layers=1), second, state=one.state)


def test_training_with_infonce_learns_the_toy_task() -> None:
    premises, queries, examples = toy_task()
    model = DualEncoder.tiny_byt5(seed=0, d_model=64, d_ff=128, dropout=0.0)
    r1_before, _ = rank(model, premises, queries)
    for e in range(15):
        train_epoch(model, examples, lr=1e-3, warmup_steps=5, seed=3407 + e, loss="infonce", temperature=0.1)
    r1_after, mrr_after = rank(model, premises, queries)
    assert r1_before < 0.5 and r1_after >= 0.8 and mrr_after >= 0.9
    with pytest.raises(ValueError, match="unknown loss"):
        train_epoch(model, examples, loss="hinge")
