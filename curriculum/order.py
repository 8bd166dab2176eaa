"""Ordering repositories: easiest first (LeanAgent), or a seeded random order (the offline baseline)."""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from curriculum.difficulty import Thresholds, bucket, log_difficulty, thresholds
from database.records import Repo, RepoScan, Theorem
from extraction.lexer import gives_up

__all__ = ["RepoDifficulty", "Curriculum", "build_curriculum", "paper_curriculum", "paper_difficulty",
           "random_order"]


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
    return RepoDifficulty(
        repo=scan.repo, easy=buckets["easy"], medium=buckets["medium"], hard=buckets["hard"],
        no_difficulty=buckets[None], sorry_theorems=sum(t.is_target for t in scan.theorems),
        placeholders=sum(t.placeholder for t in scan.theorems),
    )


def build_curriculum(scans: Sequence[RepoScan], *, strategy: str = "easy-first", seed: int = 3407
                     ) -> Curriculum:
    """Bucket every theorem against percentiles over all repositories, then order the repositories.

    ``easy-first`` sorts by number of easy theorems, most first (ties keep the input order);
    ``leanagent`` does the same with the reference code's bucketing (:func:`paper_curriculum`);
    ``random`` shuffles with ``seed`` (the offline stand-in for the paper's popularity baseline).
    """
    logs = [s for scan in scans for t in scan.theorems if (s := log_difficulty(t)) is not None]
    th = thresholds(logs)
    counted = [_count(scan, th) for scan in scans]
    if strategy == "easy-first":
        ordered = sorted(counted, key=lambda r: -r.easy)
    elif strategy == "leanagent":
        return paper_curriculum(scans)
    elif strategy == "random":
        ordered = random_order(counted, seed)
        strategy = f"random:{seed}"
    else:
        raise ValueError(f"unknown curriculum strategy {strategy!r} (use 'easy-first', 'leanagent' or 'random')")
    return Curriculum(tuple(ordered), th, strategy)


def paper_difficulty(theorem: Theorem) -> float | None:
    """The reference code's difficulty (``leanagent.py:calculate_difficulty``): ``inf`` when a tactic step
    gives up (sorry), None without tactic steps (distributed later), else e^S (``inf`` past overflow).

    >>> from database.records import Pos, TacticStep
    >>> t = Theorem("u", "c", "A.lean", "t", Pos(1, 1), Pos(1, 2), "theorem t", "by simp", (TacticStep("simp"),))
    >>> paper_difficulty(t) == math.e, paper_difficulty(replace(t, steps=())), paper_difficulty(
    ...     replace(t, steps=(TacticStep("sorry"),)))
    (True, None, inf)
    """
    if any(gives_up(step.tactic) for step in theorem.steps):
        return math.inf
    if not theorem.steps:
        return None
    return float(np.exp(np.float64(len(theorem.steps))))


def paper_curriculum(scans: Sequence[RepoScan]) -> Curriculum:
    """The curriculum as the reference code computes it (``sort_repositories_by_difficulty``): the 33rd /
    67th percentiles (numpy, linear) over every theorem's difficulty, sorry ones counted as infinitely hard;
    easy ≤ p33 < medium ≤ p67 < hard (a comparison with a NaN percentile fails, as there: hard); the
    theorems without tactic steps of each repository spread in three equal chunks over easy / medium / hard
    (the remainder to hard); repositories sorted by easy theorems, most first (ties keep the input order).
    Sorry theorems stay "hard (no proof)" and count as proving targets as before.
    """
    values = {id(scan): [paper_difficulty(t) for t in scan.theorems] for scan in scans}
    known = [v for vs in values.values() for v in vs if v is not None]
    if not known:
        return Curriculum(tuple(_count(scan, None) for scan in scans), None, "leanagent")
    with np.errstate(invalid="ignore"):
        p33, p67 = (float(x) for x in np.percentile(np.array(known, dtype=np.float64), [33, 67]))
    counted = []
    for scan in scans:
        buckets: Counter[str] = Counter()
        for value in values[id(scan)]:
            if value is None:
                buckets["distribute"] += 1
            elif value == math.inf:
                buckets["no_proof"] += 1
            elif value <= p33:
                buckets["easy"] += 1
            elif value <= p67:
                buckets["medium"] += 1
            else:
                buckets["hard"] += 1
        chunk = buckets["distribute"] // 3
        base = _count(scan, None)
        counted.append(replace(base, easy=buckets["easy"] + chunk, medium=buckets["medium"] + chunk,
                               hard=buckets["hard"] + buckets["distribute"] - 2 * chunk, no_difficulty=0))
    log = lambda v: math.log(v) if v > 0 else -math.inf  # noqa: E731 - thresholds are kept in log space
    return Curriculum(tuple(sorted(counted, key=lambda r: -r.easy)), Thresholds(log(p33), log(p67)), "leanagent")


def random_order(items: Sequence, seed: int) -> list:
    """A seeded shuffle that does not touch the global random state.

    >>> random_order([1, 2, 3, 4], 3407) == random_order([1, 2, 3, 4], 3407)
    True
    """
    items = list(items)
    random.Random(seed).shuffle(items)
    return items
