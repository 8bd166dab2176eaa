"""Ordering repositories: easiest first (LeanAgent), or a seeded random order (the offline baseline)."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from curriculum.difficulty import Thresholds, bucket, log_difficulty, thresholds
from database.records import Repo, RepoScan

__all__ = ["RepoDifficulty", "Curriculum", "build_curriculum", "random_order"]


@dataclass(frozen=True)
class RepoDifficulty:
    """One repository's place in the curriculum, with its bucket counts."""

    repo: Repo
    """The repository."""
    easy: int
    """Theorems with difficulty ≤ the 33rd percentile."""
    medium: int
    """Theorems between the 33rd and 67th percentiles."""
    hard: int
    """Theorems above the 67th percentile."""
    no_difficulty: int
    """Proven theorems without tactic steps (term proofs): no difficulty, as in the paper."""
    sorry_theorems: int
    """Proving targets (sorry/admit in the proof; placeholders excluded)."""
    placeholders: int
    """Theorems whose statement contains sorry: flagged, never targets."""


@dataclass(frozen=True)
class Curriculum:
    """Repositories in learning order, with the boundaries that bucketed them."""

    order: tuple[RepoDifficulty, ...]
    """Learning order, first to learn first."""
    thresholds: Thresholds | None
    """33rd / 67th percentile boundaries (None when no theorem has a difficulty)."""
    strategy: str
    """``easy-first`` (LeanAgent) or ``random:SEED``."""


def _count(scan: RepoScan, th: Thresholds | None) -> RepoDifficulty:
    buckets = Counter(bucket(log_difficulty(t), th) for t in scan.theorems if not t.has_sorry)
    targets = [t for t in scan.theorems if t.has_sorry]
    return RepoDifficulty(
        repo=scan.repo, easy=buckets["easy"], medium=buckets["medium"], hard=buckets["hard"],
        no_difficulty=buckets[None], sorry_theorems=sum(not t.placeholder for t in targets),
        placeholders=sum(t.placeholder for t in scan.theorems),
    )


def build_curriculum(scans: Sequence[RepoScan], *, strategy: str = "easy-first", seed: int = 3407
                     ) -> Curriculum:
    """Bucket every theorem against percentiles over all repositories, then order the repositories.

    ``easy-first`` sorts by number of easy theorems, most first (ties keep the input order);
    ``random`` shuffles with ``seed`` (the offline stand-in for the paper's popularity baseline).
    """
    logs = [s for scan in scans for t in scan.theorems if (s := log_difficulty(t)) is not None]
    th = thresholds(logs)
    counted = [_count(scan, th) for scan in scans]
    if strategy == "easy-first":
        ordered = sorted(counted, key=lambda r: -r.easy)
    elif strategy == "random":
        ordered = random_order(counted, seed)
        strategy = f"random:{seed}"
    else:
        raise ValueError(f"unknown curriculum strategy {strategy!r} (use 'easy-first' or 'random')")
    return Curriculum(tuple(ordered), th, strategy)


def random_order(items: Sequence, seed: int) -> list:
    """A seeded shuffle that does not touch the global random state.

    >>> random_order([1, 2, 3, 4], 3407) == random_order([1, 2, 3, 4], 3407)
    True
    """
    items = list(items)
    random.Random(seed).shuffle(items)
    return items
