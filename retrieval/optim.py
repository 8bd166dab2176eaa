"""The optimiser's state carried from one repository's epoch to the next, as LeanAgent carries it.

LeanAgent resumes every repository's training from the previous checkpoint with
``trainer.fit(model, datamodule, ckpt_path=…)``: Lightning restores AdamW's moments and the scheduler's
position (the global step), so the warm-up happens once at the start of the curriculum and the cosine
schedule goes on across repositories. :class:`OptimizerState` is that state; it is written as safetensors
(never pickle) beside the checkpoint's weights.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import torch

from database.index import atomic_directory

__all__ = ["OptimizerState", "OPTIMIZER_FORMAT_VERSION"]

OPTIMIZER_FORMAT_VERSION = 1
FILE = "optimizer.safetensors"


@dataclass(frozen=True)
class OptimizerState:
    """Where the optimiser and its schedule stand after some epochs (one per repository)."""

    step: int
    """Optimiser steps taken so far, over all epochs (Lightning's ``global_step``)."""
    epochs: int
    """Epochs done so far (Lightning's ``current_epoch``)."""
    warmup_steps: int
    """The warm-up the schedule uses, fixed at the first epoch so it means the same steps throughout."""
    moments: dict[str, torch.Tensor] = field(default_factory=dict, compare=False, repr=False)
    """AdamW's per-parameter state (``step``, ``exp_avg``, ``exp_avg_sq``), keyed ``"INDEX/NAME"`` with
    INDEX the parameter's position among the trained parameters."""

    @classmethod
    def capture(cls, optimizer: torch.optim.Optimizer, *, step: int, epochs: int, warmup_steps: int) -> OptimizerState:
        """A copy of ``optimizer``'s state (on the CPU) with the schedule's position."""
        moments = {f"{index}/{name}": value.detach().to("cpu").clone()
                   for index, values in optimizer.state_dict()["state"].items()
                   for name, value in values.items() if isinstance(value, torch.Tensor)}
        return cls(step, epochs, warmup_steps, moments)

    def restore(self, optimizer: torch.optim.Optimizer) -> None:
        """Load the moments into ``optimizer`` (built over the same parameters in the same order)."""
        current = optimizer.state_dict()
        state: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in self.moments.items():
            index, name = key.split("/", 1)
            state.setdefault(int(index), {})[name] = value.clone()  # AdamW updates them in place: not ours
        known = {i for group in current["param_groups"] for i in group["params"]}
        if not set(state) <= known:
            raise ValueError(f"optimizer state names {len(state)} parameters, the model trains {len(known)}: "
                             "was it saved for another model?")
        optimizer.load_state_dict({"state": state, "param_groups": current["param_groups"]})

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write ``optimizer.safetensors`` (moments; step, epochs and warm-up in its metadata), atomically."""
        from safetensors.torch import save_file

        metadata = {"format_version": str(OPTIMIZER_FORMAT_VERSION),
                    "schedule": json.dumps({"step": self.step, "epochs": self.epochs,
                                            "warmup_steps": self.warmup_steps})}
        with atomic_directory(directory) as tmp:
            save_file({k: v.contiguous() for k, v in self.moments.items()}, str(tmp / FILE), metadata=metadata)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> OptimizerState:
        """Read what :meth:`save` wrote."""
        from safetensors import safe_open

        with safe_open(os.path.join(directory, FILE), framework="pt") as f:
            metadata = f.metadata() or {}
            if metadata.get("format_version") != str(OPTIMIZER_FORMAT_VERSION):
                raise ValueError(f"{directory}: optimizer state format {metadata.get('format_version')!r}, this "
                                 f"code reads {OPTIMIZER_FORMAT_VERSION}")
            schedule = json.loads(metadata["schedule"])
            moments = {key: f.get_tensor(key) for key in f.keys()}
        return cls(int(schedule["step"]), int(schedule["epochs"]), int(schedule["warmup_steps"]), moments)
