"""A run stopped inside a train stage: SIGTERM answered in one line with the state kept, `status` showing where
the stage stands, and the run taken up at the step it stopped at, ending with the weights of a run never stopped."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from database.store import Store
from leanagent.cli import main
from leanagent.config import load_config
from leanagent.learner import TRAIN_STATE
from leanagent.pipeline import run
from leanagent.progress import PROGRESS_FILE, StepProgress
from retrieval.resume import EpochState
from retrieval.train import TrainStep
from tests.conftest import EXAMPLES

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {"quiet": "true", "retriever.warmup_steps": "5", "retriever.model": "byt5-tiny", "acquire.offline": "true",
            "acquire.dependencies": "false"}
FLAGS = ["-qq", "--offline", "--no-deps", "--model", "byt5-tiny", "--set", "retriever.warmup_steps=5"]
STOP_AT = 2  # of nat-basics's 4 optimiser steps

# The CLI in a child process, sent SIGTERM by its own training at the end of step STOP_AT (deterministic, not timed).
CHILD = f"""
import signal, sys
import retrieval.train as train
real = train.train_epoch
def stopping(*args, on_step, **kwargs):
    def step(s):
        on_step(s)
        if s.step == {STOP_AT}:
            signal.raise_signal(signal.SIGTERM)
    return real(*args, on_step=step, **kwargs)
train.train_epoch = stopping
from leanagent.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def repos(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("repos") / "repos.txt"
    path.write_text(f"{EXAMPLES / 'nat-basics'}\n")
    return path


@pytest.fixture(scope="module")
def stopped(tmp_path_factory, repos: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """A workdir whose run got SIGTERM inside its first train stage, and what the CLI said."""
    workdir = tmp_path_factory.mktemp("stopped") / "w"
    done = subprocess.run([sys.executable, "-c", CHILD, "train", str(repos), "--workdir", str(workdir), *FLAGS],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    return workdir, done


def _copy(workdir: Path, tmp_path: Path) -> Path:
    shutil.copytree(workdir, tmp_path / "w")
    return tmp_path / "w"


def test_sigterm_in_a_train_stage_is_one_line_and_the_state_is_kept(stopped, capsys) -> None:
    workdir, done = stopped
    assert done.returncode == 130, done.stderr[-2000:]
    assert done.stderr.splitlines() == [
        f"leanagent train: interrupted: 01-nat-basics: training stopped at step {STOP_AT} of 4, its state saved; "
        "the same command goes on from there"]
    state = EpochState.load(workdir / TRAIN_STATE / "01-nat-basics.safetensors")
    assert (state.epoch, state.step, state.total, len(state.losses)) == (0, STOP_AT, 4, STOP_AT)
    with Store.open(workdir / "leanagent.db") as store:
        assert not any(s.stage == "train" for s in store.stages())
    assert main(["status", "--workdir", str(workdir)]) == 0
    out = capsys.readouterr().out
    assert f"in progress: train of nat-basics (01-nat-basics): stopped at step {STOP_AT}/4 (50%)" in out
    assert "run again to go on from there" in out
    row = next(line for line in out.splitlines() if "nat-basics" in line and not line.startswith("in progress"))
    assert row.split()[-4:] == ["50%", "-", "-", "-"]


def test_status_shows_the_train_stage_in_progress_with_its_rate_and_end(stopped, tmp_path: Path, capsys,
                                                                        caplog) -> None:
    workdir = _copy(stopped[0], tmp_path)
    with Store.open(workdir / "leanagent.db") as store:
        repo = store.repos("target")[0]
    ticks = iter([0.0, 10.0, 20.0])  # seconds: the start, then the end of steps 1 and 2
    progress = StepProgress(workdir, repo.name, repo.id, "train", "01-nat-basics", log_every=15,
                            clock=lambda: next(ticks))
    with caplog.at_level("INFO", logger="leanagent.progress"):
        for k in (1, 2):
            progress(TrainStep(k, 0.5, 1e-3, 1.0, steps=4, examples=4))
    # 8 examples in 20 s; two steps left at 10 s a step. The log has its line (15 s passed by step 2).
    assert [r.getMessage().split(" (ends")[0] for r in caplog.records] == [
        "train of nat-basics (01-nat-basics): step 2/4 (50%), 0.40 examples/s, about 20 s left"]
    assert main(["status", "--workdir", str(workdir)]) == 0
    out = capsys.readouterr().out
    assert "in progress: train of nat-basics (01-nat-basics): step 2/4 (50%), 0.40 examples/s, about 20 s left " \
           "(ends about " in out
    assert main(["status", "--workdir", str(workdir), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["in_progress"]
    assert {k: shown[k] for k in ("repo", "stage", "checkpoint", "step", "total", "examples_per_second",
                                  "seconds_left", "running")} == {
        "repo": "nat-basics", "stage": "train", "checkpoint": "01-nat-basics", "step": 2, "total": 4,
        "examples_per_second": 0.4, "seconds_left": 20.0, "running": True}
    assert shown["ends_at"] > shown["updated_at"]


def test_the_stopped_run_goes_on_at_its_step_and_ends_as_one_never_stopped(stopped, repos: Path,
                                                                          tmp_path: Path, capsys) -> None:
    reference = tmp_path / "reference"
    run(load_config(None, {**SETTINGS, "workdir": str(reference)}), repos, until="train")
    workdir = _copy(stopped[0], tmp_path)
    lines: list[str] = []
    result = run(load_config(None, {**SETTINGS, "workdir": str(workdir)}), repos, until="train", echo=lines.append)
    assert result.failures == []
    train = next(line for line in lines if line.startswith("train"))
    assert f"taken up at step {STOP_AT} of epoch 1 after a stop" in train
    from safetensors.torch import load_file

    ours = load_file(workdir / "checkpoints" / "01-nat-basics" / "model.safetensors")
    theirs = load_file(reference / "checkpoints" / "01-nat-basics" / "model.safetensors")
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert list((workdir / TRAIN_STATE).iterdir()) == []  # recorded: the saved epoch is gone
    assert (workdir / PROGRESS_FILE).is_file()
    assert main(["status", "--workdir", str(workdir)]) == 0
    assert "in progress" not in capsys.readouterr().out  # the stage is done: its record is old news


def test_a_stop_in_a_later_epoch_keeps_the_best_epoch_before_it(repos: Path, tmp_path: Path, monkeypatch) -> None:
    import retrieval.train

    settings = {**SETTINGS, "retriever.epochs_per_repo": "2"}
    reference = tmp_path / "reference"
    run(load_config(None, {**settings, "workdir": str(reference)}), repos, until="train")
    real = retrieval.train.train_epoch

    def stopping(*args, on_step, epoch, **kwargs):
        def step(s: TrainStep) -> None:
            on_step(s)
            if (epoch, s.step) == (1, 3):
                raise KeyboardInterrupt
        return real(*args, on_step=step, epoch=epoch, **kwargs)

    workdir = tmp_path / "w"
    monkeypatch.setattr(retrieval.train, "train_epoch", stopping)
    with pytest.raises(KeyboardInterrupt, match="01-nat-basics: training stopped at step 3 of 4"):
        run(load_config(None, {**settings, "workdir": str(workdir)}), repos, until="train")
    best = EpochState.load(workdir / TRAIN_STATE / "01-nat-basics.best.safetensors")
    assert (best.epoch, best.step, best.score) == (0, 4, 1.0)  # validation R@10 1.0 after the first epoch
    monkeypatch.setattr(retrieval.train, "train_epoch", real)
    lines: list[str] = []
    run(load_config(None, {**settings, "workdir": str(workdir)}), repos, until="train", echo=lines.append)
    assert "taken up at step 3 of epoch 2 after a stop" in next(line for line in lines if line.startswith("train"))
    from safetensors.torch import load_file

    ours = load_file(workdir / "checkpoints" / "01-nat-basics" / "model.safetensors")
    theirs = load_file(reference / "checkpoints" / "01-nat-basics" / "model.safetensors")
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    with Store.open(workdir / "leanagent.db") as a, Store.open(reference / "leanagent.db") as b:
        info = [next(s.info for s in store.stages() if s.stage == "train") for store in (a, b)]
    assert info[0]["validation_recall_at_10"] == info[1]["validation_recall_at_10"]
    assert info[0]["mean_loss"] == info[1]["mean_loss"]
    assert list((workdir / TRAIN_STATE).iterdir()) == []
