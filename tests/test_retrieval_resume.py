"""An epoch stopped at step k (by an exception or a signal) and resumed from its saved state ends with the weights
of the epoch never stopped, bit for bit, on a CPU."""

from __future__ import annotations

import random
import signal
from pathlib import Path

import numpy as np
import pytest
import torch

from retrieval.encoder import DualEncoder
from retrieval.resume import EpochState, StateError
from retrieval.train import TrainingInterrupted, TrainStep, train_epoch
from tests.test_retrieval_train import toy_task

# Dropout on (the random state matters), accumulation 2 over 30 examples: 8 batches, 4 steps of 2 batches.
MODEL = {"seed": 0, "d_model": 32, "d_ff": 64, "dropout": 0.1}
SETTINGS = {"batch_size": 4, "accumulate": 2, "warmup_steps": 2, "schedule": "cosine", "seed": 11, "key": "toy"}


def _weights(model: DualEncoder) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in model.state_dict().items()}


def _stop_at(k: int, how):
    def on_step(step: TrainStep) -> None:
        if step.step == k:
            how()
    return on_step


def _raise() -> None:
    raise KeyboardInterrupt


@pytest.fixture(scope="module")
def reference():
    """An optimiser state carried from an earlier epoch (LeanAgent's resume: the schedule goes on from step 1),
    and the epoch trained from it without a stop: its statistics and weights."""
    _, _, examples = toy_task()
    before = train_epoch(DualEncoder.tiny_byt5(**MODEL), examples[:8], **SETTINGS).state
    assert before is not None and before.step == 1
    model = DualEncoder.tiny_byt5(**MODEL)
    whole = train_epoch(model, examples, state=before, **SETTINGS)
    assert whole.steps == 4
    return before, whole, _weights(model)


@pytest.mark.parametrize("k, how", [(1, _raise), (3, _raise), (2, lambda: signal.raise_signal(signal.SIGTERM)),
                                    (3, lambda: signal.raise_signal(signal.SIGINT))])
def test_an_epoch_stopped_at_step_k_and_resumed_ends_as_one_never_stopped(tmp_path: Path, reference, k: int,
                                                                          how) -> None:
    _, _, examples = toy_task()
    before, whole, theirs = reference  # `before` was used already: restoring it must not have changed it

    path = tmp_path / "epoch.safetensors"
    saved: list[int] = []

    def save(state: EpochState) -> None:
        saved.append(state.step)
        state.save(path)

    handlers = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    stopped = DualEncoder.tiny_byt5(**MODEL)
    with pytest.raises(TrainingInterrupted, match=f"step {k} of 4"):
        train_epoch(stopped, examples, state=before, on_step=_stop_at(k, how), on_save=save, **SETTINGS)
    assert saved == [k] and (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
    assert not all(torch.equal(a, b) for a, b in zip(_weights(stopped).values(), theirs.values()))

    random.seed(99)  # a new process: its own Python and numpy states, a model built afresh
    np.random.seed(99)
    state = EpochState.load(path)
    assert (state.key, state.epoch, state.step, state.total) == ("toy", 0, k, 4)
    resumed = DualEncoder.tiny_byt5(**MODEL)
    steps: list[int] = []
    rest = train_epoch(resumed, examples, resume=state, on_step=lambda s: steps.append(s.step), on_save=save,
                       **SETTINGS)
    assert steps == list(range(k + 1, 5)) and saved[-1] == 4  # the end of the epoch is saved too
    assert rest == whole and rest.losses == whole.losses
    ours = _weights(resumed)
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[n], theirs[n]) for n in ours)
    assert rest.state is not None and whole.state is not None and rest.state.step == whole.state.step == 5
    assert all(torch.equal(rest.state.moments[n], whole.state.moments[n]) for n in whole.state.moments)


def test_periodic_saves_and_the_python_and_numpy_states_come_back(tmp_path: Path) -> None:
    _, _, examples = toy_task()
    states: list[EpochState] = []
    random.seed(5)
    np.random.seed(5)
    expected = (random.random(), float(np.random.rand()))
    random.seed(5)
    np.random.seed(5)
    train_epoch(DualEncoder.tiny_byt5(**MODEL), examples, on_save=states.append, save_every_steps=2,
                **{**SETTINGS, "accumulate": 1})  # 8 steps: saved after 2, 4, 6 and at the end
    assert [s.step for s in states] == [2, 4, 6, 8]
    states[1].save(tmp_path / "s.safetensors")
    random.seed(0)
    np.random.seed(0)
    EpochState.load(tmp_path / "s.safetensors").restore_random(torch.device("cpu"))
    assert (random.random(), float(np.random.rand())) == expected


def test_a_state_for_other_examples_or_another_model_is_refused(tmp_path: Path) -> None:
    _, _, examples = toy_task()
    states: list[EpochState] = []
    train_epoch(DualEncoder.tiny_byt5(**MODEL), examples, on_save=states.append, save_every_steps=1, **SETTINGS)
    with pytest.raises(ValueError, match="other examples or settings"):
        train_epoch(DualEncoder.tiny_byt5(**MODEL), examples[:20], resume=states[0], **SETTINGS)
    with pytest.raises(ValueError, match="other examples or settings"):
        train_epoch(DualEncoder.tiny_byt5(**MODEL), examples, resume=states[0], **{**SETTINGS, "key": "other"})
    with pytest.raises(StateError, match="another model"):
        states[0].load_weights(DualEncoder.tiny_byt5(seed=0, layers=1))
    (tmp_path / "bad.safetensors").write_bytes(b"not a state")
    with pytest.raises(StateError, match="not a readable epoch state"):
        EpochState.load(tmp_path / "bad.safetensors")


def test_a_signal_during_the_last_save_is_not_lost() -> None:
    _, _, examples = toy_task()
    saved: list[int] = []

    def save(state: EpochState) -> None:
        saved.append(state.step)
        if state.step == state.total and len(saved) == 1:
            signal.raise_signal(signal.SIGTERM)  # after the last step's check

    with pytest.raises(TrainingInterrupted, match="step 4 of 4"):
        train_epoch(DualEncoder.tiny_byt5(**MODEL), examples, on_save=save, **SETTINGS)
    assert saved == [4, 4]
