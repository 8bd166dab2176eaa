"""What a run is doing now: a small record in the workdir that ``leanagent status`` reads while a stage runs.

Each stage writes it when it starts; the train stage then every few seconds with its step, the epoch's steps,
examples per second and the time left, and a line to the log every few minutes. One JSON file, replaced
atomically. A record of a stage that the database says is finished is old news: :func:`current_progress`
leaves it out.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from leanagent.workdir import atomic_write_text

__all__ = ["StageProgress", "StepProgress", "write_progress", "read_progress", "current_progress", "PROGRESS_FILE",
           "WRITE_EVERY_SECONDS", "LOG_EVERY_SECONDS", "duration"]

log = logging.getLogger(__name__)

PROGRESS_FILE = "progress.json"
"""The record's name in the workdir."""
WRITE_EVERY_SECONDS = 5.0
"""How often the train stage rewrites the record."""
LOG_EVERY_SECONDS = 300.0
"""How often the train stage writes a progress line to the log."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def duration(seconds: float) -> str:
    """A rounded duration for people.

    >>> duration(42), duration(150), duration(3 * 3600 + 25 * 60), duration(50 * 3600)
    ('42 s', '2 min', '3 h 25 min', '2 d 2 h')
    """
    seconds = max(0, round(seconds))
    if seconds < 100:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} d {minutes % 1440 // 60} h"


@dataclass(frozen=True)
class StageProgress:
    """Where the stage under way stands."""

    repo: str
    """Name of the repository the stage works on."""
    repo_id: str
    """Its id (the stage's row in the database, once it is done)."""
    stage: str
    """``train``, ``embed``, ``evaluate`` or ``prove``."""
    checkpoint: str
    """The checkpoint the repository is learned as (``01-nat-basics``)."""
    started_at: str
    """When the stage started, in this process (ISO 8601, UTC)."""
    updated_at: str
    """When this record was written (ISO 8601, UTC)."""
    step: int = 0
    """Steps done (optimiser steps of the epoch in progress); 0 for a stage that does not count them."""
    total: int = 0
    """Steps in all; 0 when not counted."""
    epoch: int = 0
    """The epoch in progress (0-based; a repository gets ``retriever.epochs_per_repo``)."""
    epochs: int = 1
    """Epochs in all."""
    examples_per_second: float | None = None
    """Training examples per second since the stage (re)started in this process."""
    seconds_left: float | None = None
    """Estimated seconds until the epoch's last step, at that rate."""
    pid: int = 0
    """The process that writes the record."""
    host: str = ""
    """The machine it runs on."""

    @classmethod
    def starting(cls, repo: str, repo_id: str, stage: str, checkpoint: str, **more: Any) -> StageProgress:
        """The record of a stage starting now in this process."""
        now = _now().isoformat()
        return cls(repo, repo_id, stage, checkpoint, now, now, pid=os.getpid(), host=socket.gethostname(), **more)

    @property
    def ends_at(self) -> str | None:
        """The estimated end of the epoch (ISO 8601, UTC), or None before a rate is known.

        >>> StageProgress("r", "id", "train", "01-r", "", "2025-01-01T10:00:00+00:00", seconds_left=90.0).ends_at
        '2025-01-01T10:01:30+00:00'
        """
        if self.seconds_left is None:
            return None
        return (datetime.fromisoformat(self.updated_at) + timedelta(seconds=self.seconds_left)).isoformat()

    @property
    def cell(self) -> str:
        """The stage's cell in the status table: how far it got, or ``started``.

        >>> StageProgress("r", "id", "train", "01-r", "", "", 677, 976).cell
        '69%'
        """
        return f"{100 * self.step // self.total}%" if self.total else "started"

    def running(self) -> bool:
        """Whether the process that wrote the record is alive (always False for one on another machine)."""
        if self.host != socket.gethostname() or self.pid <= 0:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # alive, someone else's
            return True
        return True

    def as_json(self) -> dict[str, Any]:
        """The record with its estimated end and whether its process runs, for ``status --json``."""
        return {**asdict(self), "ends_at": self.ends_at, "running": self.running()}

    def describe(self, now: datetime | None = None, *, running: bool | None = None) -> str:
        """One line for ``leanagent status`` and the log (``running``: whether the writer is alive, asked when
        None).

        >>> p = StageProgress("nat", "id", "train", "01-nat", "2025-01-01T09:00:00+00:00",
        ...                   "2025-01-01T10:00:00+00:00", 677, 976, examples_per_second=1.62, seconds_left=738.0)
        >>> p.describe(running=False)
        'train of nat (01-nat): stopped at step 677/976 (69%), 1.62 examples/s; run again to go on from there'
        >>> print(p.describe(datetime(2025, 1, 1, 10, 0, 20, tzinfo=timezone.utc), running=True))
        ... # doctest: +ELLIPSIS
        train of nat (01-nat): step 677/976 (69%), 1.62 examples/s, about 12 min left (ends about ...); updated 20 s ago
        """
        now = now or _now()
        running = self.running() if running is None else running
        where = f"{self.stage} of {self.repo} ({self.checkpoint})"
        if not self.total:
            since = duration((now - datetime.fromisoformat(self.started_at)).total_seconds())
            return f"{where}: {'started' if running else 'stopped, started'} {since} ago"
        epoch = f" of epoch {self.epoch + 1}/{self.epochs}" if self.epochs > 1 else ""
        done = f"step {self.step}/{self.total}{epoch} ({100 * self.step // self.total}%)"
        rate = f", {self.examples_per_second:.2f} examples/s" if self.examples_per_second is not None else ""
        if not running:
            return f"{where}: stopped at {done}{rate}; run again to go on from there"
        left = ""
        if self.ends_at is not None and self.seconds_left is not None:
            end = datetime.fromisoformat(self.ends_at).astimezone().strftime("%Y-%m-%d %H:%M")
            left = f", about {duration(self.seconds_left)} left (ends about {end})"
        ago = duration((now - datetime.fromisoformat(self.updated_at)).total_seconds())
        return f"{where}: {done}{rate}{left}; updated {ago} ago"


def _path(root: Path) -> Path:
    return Path(root) / PROGRESS_FILE


def write_progress(root: Path, progress: StageProgress) -> None:
    """Replace the workdir ``root``'s record, atomically."""
    atomic_write_text(_path(root), json.dumps(asdict(progress), indent=1) + "\n")


def read_progress(root: Path) -> StageProgress | None:
    """The workdir ``root``'s record; None when there is none or it cannot be read (a run of older code)."""
    try:
        data = json.loads(_path(root).read_text(encoding="utf-8"))
        return StageProgress(**{f.name: data[f.name] for f in fields(StageProgress) if f.name in data})
    except (OSError, ValueError, TypeError):
        return None


def current_progress(root: Path, finished: Mapping[str, Mapping[str, Any]]) -> StageProgress | None:
    """The record of the stage under way (or stopped) in ``root``; None when there is none or its stage is among
    ``finished`` (repository id → stage → its record, as :class:`~leanagent.results.RunState` holds them)."""
    progress = read_progress(root)
    if progress is None or progress.stage in finished.get(progress.repo_id, {}):
        return None
    return progress


class StepProgress:
    """Told every training step (``on_step`` of :func:`retrieval.train.train_epoch`): keeps the workdir's record
    up to date every ``write_every`` seconds (and every ``write_every_steps`` steps, when more than 0) and logs a
    line every ``log_every`` seconds. ``clock`` gives seconds (a test passes its own)."""

    def __init__(self, root: Path, repo_name: str, repo_id: str, stage: str, checkpoint: str, *, epoch: int = 0,
                 epochs: int = 1, write_every: float = WRITE_EVERY_SECONDS, write_every_steps: int = 0,
                 log_every: float = LOG_EVERY_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.root = Path(root)
        self.clock = clock
        self.write_every, self.write_every_steps, self.log_every = write_every, write_every_steps, log_every
        self.started = self.last_write = self.last_log = clock()
        self.examples = self.steps = 0
        self.record = StageProgress.starting(repo_name, repo_id, stage, checkpoint, epoch=epoch, epochs=epochs)
        write_progress(self.root, self.record)

    def epoch(self, epoch: int) -> None:
        """The next epoch starts (its rate measured afresh)."""
        self.record = replace(self.record, epoch=epoch, step=0, total=0)
        self.started, self.examples, self.steps = self.clock(), 0, 0

    def saved(self) -> None:
        """The training state was just saved: the record says the same step now."""
        write_progress(self.root, self.record)
        self.last_write = self.clock()

    def __call__(self, step) -> None:
        """Count one :class:`~retrieval.train.TrainStep`; write and log when due."""
        now = self.clock()
        self.examples += step.examples
        self.steps += 1
        elapsed = max(now - self.started, 1e-9)
        rate = self.examples / elapsed
        left = (step.steps - step.step) * elapsed / self.steps
        self.record = replace(self.record, step=step.step, total=step.steps, examples_per_second=round(rate, 3),
                               seconds_left=round(left, 1), updated_at=_now().isoformat())
        last = step.step == step.steps
        if (last or self.steps == 1 or now - self.last_write >= self.write_every
                or (self.write_every_steps and step.step % self.write_every_steps == 0)):
            write_progress(self.root, self.record)
            self.last_write = now
        if now - self.last_log >= self.log_every:
            log.info("%s", self.record.describe(running=True).rsplit("; updated", 1)[0])
            self.last_log = now
