"""LeanAgent's optimisation recipe in a run: the optimiser and schedule carried from repository to repository."""

from __future__ import annotations

from pathlib import Path

from database.store import Store
from leanagent.config import load_config
from leanagent.pipeline import run
from retrieval.optim import OptimizerState
from tests.conftest import EXAMPLES

RECIPE = {"quiet": "true", "retriever.model": "byt5-tiny", "retriever.schedule": "cosine",
          "retriever.accumulate": "2", "retriever.resume_optimizer": "true", "retriever.warmup_steps": "3",
          "retriever.warmup_fraction": "0"}


def test_each_repository_resumes_the_optimiser_of_the_one_before(tmp_path: Path) -> None:
    result = run(load_config(None, {**RECIPE, "workdir": str(tmp_path)}), EXAMPLES / "repos.txt", echo=lambda _: None)
    assert result.failures == []
    with Store.open(tmp_path / "leanagent.db") as store:
        trains = [next(s.info for s in store.stages(repo.id) if s.stage == "train") for repo in result.order]
    states = [OptimizerState.load(tmp_path / info["checkpoint"] / "optimizer") for info in trains]
    steps = [info["optimizer_steps"] for info in trains]
    assert all(s > 0 for s in steps)
    # Global steps and epochs add up; the warm-up is the first repository's, once.
    assert [s.step for s in states] == [steps[0], steps[0] + steps[1], sum(steps)]
    assert [s.epochs for s in states] == [1, 2, 3] and {s.warmup_steps for s in states} == {3}
    assert "resumed at step" not in trains[0]["summary"]
    assert f"resumed at step {steps[0]}" in trains[1]["summary"]
    assert states[2].moments and all(t.isfinite().all() for t in states[2].moments.values())


def test_without_resume_no_optimizer_state_is_kept(tmp_path: Path) -> None:
    settings = {**RECIPE, "retriever.resume_optimizer": "false", "workdir": str(tmp_path)}
    result = run(load_config(None, settings), EXAMPLES / "repos.txt", echo=lambda _: None)
    assert result.failures == []
    assert not list((tmp_path / "checkpoints").glob("*/optimizer"))
