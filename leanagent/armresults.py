"""An arm's results as a small JSON file, and the comparisons drawn from such files alone.

An *arm* is one way of learning a set of repositories (curriculum or random order, progressive or naive
fine-tuning, joint training, no training) on one split. Its file holds, for each checkpoint and repository, the
rank of the first right premise of every query (and its R@1 / R@10 shares), for the arm and for BM25 on the same
queries and corpus, so that any two arms on the same repositories and split can be compared query by query,
with paired bootstrap intervals (:mod:`retrieval.stats`), long after the machine that ran them is gone.

>>> cell = Cell("01-a", 0, "a", "test", "arm", ranks=(1, None, 12), r1=(1.0, 0.0, 0.0), r10=(1.0, 0.0, 0.0))
>>> cell.queries, round(cell.mrr, 4), round(cell.recall_at_10, 4)
(3, 0.3611, 0.3333)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from leanagent.metrics import lifelong_metrics

__all__ = ["FORMAT", "Cell", "ArmResults", "load_results", "save_results", "final_cells", "forward_cells",
           "recall_matrix_of", "pooled", "ARM", "BM25"]

FORMAT = 1
"""Version of the file's layout."""
ARM = "arm"
"""Ranker name of the arm's own retriever in a :class:`Cell`."""
BM25 = "bm25"
"""Ranker name of BM25 on the same queries and corpus."""


@dataclass(frozen=True)
class Cell:
    """One ranker's scores on one repository's queries of one split, with one checkpoint."""

    checkpoint: str
    """Checkpoint name (``03-owner+repo``; ``joint`` or ``untrained`` for a one-checkpoint arm)."""
    after: int
    """0-based position of the checkpoint in the arm's order (how many repositories learned, minus one)."""
    repo: str
    """Repository name (``owner/name``)."""
    split: str
    """``test`` or ``validation``."""
    ranker: str
    """:data:`ARM` or :data:`BM25`."""
    ranks: tuple[int | None, ...]
    """Per query, the rank of the first right premise (1 = top), None when not in the top 100."""
    r1: tuple[float, ...]
    """Per query, the share of its right premises in the top 1."""
    r10: tuple[float, ...]
    """Per query, the share of its right premises in the top 10."""
    unseen: bool = False
    """The repository had not been learned yet by this checkpoint (forward transfer)."""

    @property
    def queries(self) -> int:
        """How many queries."""
        return len(self.ranks)

    @property
    def reciprocal_ranks(self) -> list[float]:
        """Per query, 1 / rank of the first right premise (0 when none is in the top 100)."""
        return [1.0 / r if r else 0.0 for r in self.ranks]

    @property
    def recall_at_1(self) -> float:
        """R@1 over the queries."""
        return sum(self.r1) / len(self.r1) if self.r1 else 0.0

    @property
    def recall_at_10(self) -> float:
        """R@10 over the queries."""
        return sum(self.r10) / len(self.r10) if self.r10 else 0.0

    @property
    def mrr(self) -> float:
        """Mean reciprocal rank over the queries."""
        return sum(self.reciprocal_ranks) / len(self.ranks) if self.ranks else 0.0


@dataclass(frozen=True)
class ArmResults:
    """Everything an arm's file holds."""

    arm: str
    """Arm name (``default``, ``random-s1``, ``naive-s1``, ``joint``, ``untrained``, …)."""
    split: str
    """``random`` or ``novel_premises``."""
    kind: str
    """``progressive`` (one checkpoint per repository), ``joint`` or ``untrained`` (one checkpoint)."""
    code_commit: str
    """Commit of the code that ran the arm."""
    settings: dict
    """The run's curriculum and retriever settings."""
    repos: tuple[dict, ...]
    """Repositories in learning order: name, url, commit."""
    checkpoints: tuple[str, ...]
    """Checkpoint names in order."""
    queries: dict
    """Repository → split → query keys (theorem id prefix ``#`` number), the order of every cell's lists."""
    cells: tuple[Cell, ...]
    """Per-query scores (see :class:`Cell`)."""
    stage_seconds: dict = field(default_factory=dict)
    """Repository (or ``all``) → stage → seconds."""
    stored: tuple[dict, ...] = ()
    """The run's own evaluate-stage records (aggregates), as stored in its database."""
    notes: tuple[str, ...] = ()
    """What a reader must know (what was recomputed, what is missing)."""

    def cell(self, checkpoint: str, repo: str, split: str, ranker: str) -> Cell | None:
        """The cell for these, if measured."""
        return next((c for c in self.cells if (c.checkpoint, c.repo, c.split, c.ranker) == (checkpoint, repo,
                                                                                              split, ranker)), None)

    @property
    def order(self) -> list[str]:
        """Repository names in learning order."""
        return [r["name"] for r in self.repos]

    def lifelong(self) -> dict[str, float | None]:
        """The lifelong metrics of the arm's test R@10 matrix (:func:`leanagent.metrics.lifelong_metrics`); for a
        one-checkpoint arm, which has no "after each repository", only the average R@10 over the repositories."""
        if self.kind != "progressive":
            finals = [c.recall_at_10 for c in final_cells(self)]
            return {"average_recall_at_10": sum(finals) / len(finals)} if finals else {}
        matrix, validation = recall_matrix_of(self)
        return lifelong_metrics(matrix, validation) if matrix else {}


def recall_matrix_of(results: ArmResults) -> tuple[list[list[float | None]], list[float]]:
    """Test R@10 matrix of the arm (row i after learning i, column j ≤ i) and validation R@10 on each repository
    right after learning it, as far as every cell of a row was measured.

    >>> cells = (Cell("01-a", 0, "a", "test", ARM, (1,), (1.0,), (1.0,)),
    ...          Cell("02-b", 1, "a", "test", ARM, (None,), (0.0,), (0.0,)),
    ...          Cell("02-b", 1, "b", "test", ARM, (2,), (0.0,), (1.0,)))
    >>> r = ArmResults("x", "random", "progressive", "", {}, ({"name": "a"}, {"name": "b"}), ("01-a", "02-b"), {}, cells)
    >>> recall_matrix_of(r)
    ([[1.0, None], [0.0, 1.0]], [0.0, 0.0])
    """
    order = results.order
    matrix, validation = [], []
    for i, checkpoint in enumerate(results.checkpoints):
        row: list[float | None] = []
        for j, repo in enumerate(order):
            cell = results.cell(checkpoint, repo, "test", ARM) if j <= i else None
            row.append(cell.recall_at_10 if cell is not None else None)
        if any(v is None for v in row[: i + 1]):
            break
        matrix.append(row)
        own = results.cell(checkpoint, order[i], "validation", ARM)
        validation.append(own.recall_at_10 if own is not None else 0.0)
    return matrix, validation


def final_cells(results: ArmResults, split: str = "test", ranker: str = ARM) -> list[Cell]:
    """The last checkpoint's cells of ``split`` for ``ranker``, in learning order."""
    last = results.checkpoints[-1]
    return [c for name in results.order if (c := results.cell(last, name, split, ranker)) is not None]


def forward_cells(results: ArmResults, ranker: str = ARM) -> list[Cell]:
    """Test cells of each repository with the checkpoint just before it was learned (forward transfer)."""
    return [c for c in results.cells if c.unseen and c.split == "test" and c.ranker == ranker]


def pooled(cells: Sequence[Cell], results: ArmResults, split: str = "test") -> dict[str, tuple]:
    """Query key → (rank, r1, r10) over ``cells``, keyed ``repository:key`` so that two arms pair by query."""
    out = {}
    for c in cells:
        keys = results.queries[c.repo][split]
        if len(keys) != c.queries:
            raise ValueError(f"{results.arm}: {c.repo} {split} has {c.queries} scores but {len(keys)} query keys")
        for key, rank, r1, r10 in zip(keys, c.ranks, c.r1, c.r10):
            out[f"{c.repo}:{key}"] = (rank, r1, r10)
    return out


def _cell_json(c: Cell) -> dict:
    data = asdict(c)
    data["ranks"], data["r1"], data["r10"] = list(c.ranks), [round(x, 4) for x in c.r1], [round(x, 4) for x in c.r10]
    data.update(queries=c.queries, recall_at_1=round(c.recall_at_1, 4), recall_at_10=round(c.recall_at_10, 4),
                mrr=round(c.mrr, 4))
    return data


def save_results(results: ArmResults, path: Path) -> None:
    """Write ``results`` as JSON (aggregates beside the per-query lists, for a reader's eye), atomically."""
    from leanagent.workdir import atomic_write_text

    data = {"format": FORMAT, **{k: v for k, v in asdict(results).items() if k != "cells"},
            "lifelong": results.lifelong(), "cells": [_cell_json(c) for c in results.cells]}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(data, indent=None, separators=(",", ":")) + "\n")


def load_results(path: Path) -> ArmResults:
    """An arm's file, read back; a file of another format or a missing field fails naming the file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        cells = tuple(Cell(c["checkpoint"], c["after"], c["repo"], c["split"], c["ranker"], tuple(c["ranks"]),
                           tuple(c["r1"]), tuple(c["r10"]), c.get("unseen", False)) for c in data["cells"])
        return ArmResults(data["arm"], data["split"], data["kind"], data["code_commit"], data["settings"],
                          tuple(data["repos"]), tuple(data["checkpoints"]), data["queries"], cells,
                          data.get("stage_seconds", {}), tuple(data.get("stored", ())), tuple(data.get("notes", ())))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path}: not an arm's results file ({err}); write it with bench/arm_results.py") from None
