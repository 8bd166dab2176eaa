"""An epoch in progress, saved so that a killed training goes on where it stopped and ends as if never stopped.

:func:`retrieval.train.train_epoch` hands its caller an :class:`EpochState` every few minutes, at the end of the
epoch and when it is interrupted (at a step boundary). Given back as ``resume``, the epoch goes on at the next
step with the same weights, AdamW moments, schedule position, order of examples and random state, so on a CPU the
finished weights equal those of an epoch never stopped (tests/test_retrieval_resume.py). The state is one
safetensors file (tensors; the rest as JSON in its metadata), written under a temporary name and then
``os.replace``-d onto its own: a reader finds the previous state or the new one, never half of one. No pickle.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from retrieval.examples import TrainingExample
from retrieval.optim import OptimizerState

__all__ = ["EpochState", "StateError", "examples_digest", "EPOCH_STATE_VERSION"]

EPOCH_STATE_VERSION = 1


class StateError(ValueError):
    """A saved epoch state that cannot be read (another format, a damaged file)."""


def examples_digest(examples: Iterable[TrainingExample]) -> str:
    """A sha256 over the texts of ``examples`` in order: the same examples give the same digest.

    >>> a = TrainingExample("q", "p", ("n",))
    >>> examples_digest([a]) == examples_digest([TrainingExample("q", "p", ("n",))]) != examples_digest([a, a])
    True
    """
    h = hashlib.sha256()
    for ex in examples:
        h.update(json.dumps([ex.query, ex.positive, ex.negatives, ex.all_positives]).encode())
        h.update(b"\n")
    return h.hexdigest()


@dataclass(frozen=True)
class EpochState:
    """Where one epoch of training stands after ``step`` optimiser steps."""

    key: str
    """The caller's fingerprint of what the epoch trains on and how: a state is resumed only under the same key."""
    epoch: int
    """The caller's number of this epoch (the learner's ``retriever.epochs_per_repo`` loop)."""
    step: int
    """Optimiser steps done in this epoch."""
    total: int
    """Optimiser steps in the whole epoch."""
    optimizer: OptimizerState = field(compare=False, repr=False)
    """AdamW's moments after ``step`` steps; its ``step``, ``epochs`` and ``warmup_steps`` are the schedule's
    position at the start of the epoch (what the epoch's learning rates are computed from)."""
    weights: dict[str, torch.Tensor] = field(compare=False, repr=False)
    """The model's parameters and buffers, by name, on the CPU."""
    order: tuple[int, ...] = field(default=(), compare=False, repr=False)
    """The epoch's order of examples (indices)."""
    losses: tuple[float, ...] = field(default=(), compare=False, repr=False)
    """Loss of every batch so far."""
    rng: dict[str, torch.Tensor] = field(default_factory=dict, compare=False, repr=False)
    """The epoch's torch generator state (``torch``; ``cuda`` on a GPU)."""
    global_random: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Python's ``random`` and numpy's global states (``python``, ``numpy``): the epoch does not draw from them,
    but a resumed process goes on with them as the stopped one had them."""
    score: float | None = None
    """The caller's score of these weights (the learner: validation R@10 of the best epoch so far), if any."""

    # ---- capture and restore -------------------------------------------------------------------------

    @staticmethod
    def weights_of(model: torch.nn.Module) -> dict[str, torch.Tensor]:
        """A CPU copy of ``model``'s parameters and buffers (a tied parameter once, under its first name)."""
        named = [*model.named_parameters(), *model.named_buffers()]
        return {name: t.detach().to("cpu", copy=True) for name, t in named}

    def load_weights(self, model: torch.nn.Module) -> None:
        """Copy the saved weights into ``model`` (built as the saved one was)."""
        named = dict([*model.named_parameters(), *model.named_buffers()])
        if named.keys() != self.weights.keys():
            missing = sorted(named.keys() ^ self.weights.keys())
            raise StateError(f"the saved epoch state is for another model ({len(missing)} tensors differ, e.g. "
                             f"{missing[0]}); delete it to start the epoch again")
        with torch.no_grad():
            for name, tensor in named.items():
                tensor.copy_(self.weights[name])

    @staticmethod
    def random_now(device: torch.device) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The current torch generator state (CPU, and the GPU of ``device``) and Python's and numpy's."""
        import numpy as np

        rng = {"torch": torch.get_rng_state()}
        if device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(device)
        name, keys, pos, has_gauss, cached = np.random.get_state()
        version, internal, gauss = random.getstate()
        return rng, {"python": [version, list(internal), gauss],
                     "numpy": [name, keys.tolist(), int(pos), int(has_gauss), float(cached)]}

    def restore_random(self, device: torch.device) -> None:
        """Set the generators to the saved states (torch's inside the epoch's fork of it)."""
        import numpy as np

        torch.set_rng_state(self.rng["torch"])
        if device.type == "cuda" and "cuda" in self.rng:
            torch.cuda.set_rng_state(self.rng["cuda"], device)
        if "python" in self.global_random:
            version, internal, gauss = self.global_random["python"]
            random.setstate((version, tuple(internal), gauss))
        if "numpy" in self.global_random:
            name, keys, pos, has_gauss, cached = self.global_random["numpy"]
            np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))

    # ---- persistence ----------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the state to ``path`` (one safetensors file), atomically."""
        from safetensors.torch import save_file

        tensors = {f"model/{k}": v.contiguous() for k, v in self.weights.items()}
        tensors |= {f"optim/{k}": v.contiguous() for k, v in self.optimizer.moments.items()}
        tensors |= {f"rng/{k}": v.contiguous() for k, v in self.rng.items()}
        if self.order:
            tensors["order"] = torch.tensor(self.order, dtype=torch.int64)
        if self.losses:
            tensors["losses"] = torch.tensor(self.losses, dtype=torch.float64)  # Python floats, exactly
        o = self.optimizer
        metadata = {"format_version": str(EPOCH_STATE_VERSION), "producer": "leanagent",
                    "state": json.dumps({"key": self.key, "epoch": self.epoch, "step": self.step, "total": self.total,
                                         "schedule": [o.step, o.epochs, o.warmup_steps], "score": self.score}),
                    "global_random": json.dumps(self.global_random)}
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(fd)
        try:
            save_file(tensors, tmp, metadata=metadata)
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> EpochState:
        """Read what :meth:`save` wrote (:class:`StateError` when it cannot)."""
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(os.fspath(path), framework="pt") as f:
                metadata = f.metadata() or {}
                if metadata.get("format_version") != str(EPOCH_STATE_VERSION):
                    raise StateError(f"{path}: epoch state format {metadata.get('format_version')!r}, this code "
                                     f"reads {EPOCH_STATE_VERSION}; delete it to start the epoch again")
                parts: dict[str, dict[str, torch.Tensor]] = {"model": {}, "optim": {}, "rng": {}}
                extra = {}
                for name in f.keys():
                    kind, sep, rest = name.partition("/")
                    if sep:
                        parts[kind][rest] = f.get_tensor(name)
                    else:
                        extra[name] = f.get_tensor(name)
        except (OSError, SafetensorError) as err:
            raise StateError(f"{path}: not a readable epoch state ({err}); delete it to start the epoch again") \
                from None
        state = json.loads(metadata["state"])
        step, epochs, warmup = state["schedule"]
        return cls(state["key"], int(state["epoch"]), int(state["step"]), int(state["total"]),
                   OptimizerState(int(step), int(epochs), int(warmup), parts["optim"]), parts["model"],
                   tuple(extra["order"].tolist()) if "order" in extra else (),
                   tuple(extra["losses"].tolist()) if "losses" in extra else (),
                   parts["rng"], json.loads(metadata.get("global_random", "{}")), state.get("score"))
