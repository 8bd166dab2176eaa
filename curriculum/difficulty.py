"""Theorem difficulty as LeanAgent defines it: e^S for a tactic proof of S steps.

e^S overflows a float past S = 709, and real repositories have longer proofs, so everything here works
on S = log(difficulty): the exponential is monotonic, so comparing logs orders theorems exactly as
comparing difficulties would, and percentiles are interpolated in difficulty space without leaving logs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Sequence

from database.records import Theorem

__all__ = ["Bucket", "Thresholds", "difficulty", "log_difficulty", "log_percentile", "thresholds", "bucket"]

Bucket = Literal["easy", "medium", "hard"]


def log_difficulty(theorem: Theorem) -> float | None:
    """S for a theorem with a tactic proof; None when it has no difficulty (no tactics, or a sorry target).

    Sorry theorems are proving targets, not training data, so they take no part in the percentiles.
    """
    if theorem.has_sorry or theorem.num_steps == 0:
        return None
    return float(theorem.num_steps)


def difficulty(log_value: float) -> float:
    """e^S as a float, ``inf`` where it would overflow (only for display; compare logs instead).

    >>> difficulty(2.0) == math.exp(2)
    True
    >>> difficulty(1000.0)
    inf
    """
    return math.exp(log_value) if log_value < 709.0 else math.inf


def log_percentile(logs: Sequence[float], q: float) -> float:
    """log of the q-th percentile (0–100) of exp(logs), numpy's linear interpolation, without overflow.

    >>> round(math.exp(log_percentile([1.0, 2.0, 3.0], 50)), 6) == round(math.exp(2), 6)
    True
    >>> round(math.exp(log_percentile([1.0, 2.0], 50)), 6) == round((math.e + math.e ** 2) / 2, 6)
    True
    >>> log_percentile([1000.0, 1002.0], 50) > 1001.0  # between the two, where e^S would overflow
    True
    """
    if not logs:
        raise ValueError("percentile of an empty list")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    values = sorted(logs)
    rank = (len(values) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(values) - 1)
    frac = rank - low
    a, b = values[low], values[high]
    if frac == 0 or a == b:
        return a
    # log(e^a + frac * (e^b - e^a)) = a + log(1 + frac * (e^(b-a) - 1)), stable for any gap b - a.
    gap = b - a
    if gap > 700:
        return b + math.log(frac) + math.log1p((1 - frac) * math.exp(-gap) / frac)
    return a + math.log1p(frac * math.expm1(gap))


@dataclass(frozen=True)
class Thresholds:
    """Bucket boundaries, in log space: easy ≤ p33 < medium ≤ p67 < hard."""

    log_p33: float
    """log of the 33rd percentile of difficulty."""
    log_p67: float
    """log of the 67th percentile of difficulty."""


def thresholds(logs: Sequence[float]) -> Thresholds | None:
    """The 33rd / 67th percentile boundaries over all theorems of all repositories; None if none has one."""
    if not logs:
        return None
    return Thresholds(log_percentile(logs, 33), log_percentile(logs, 67))


def bucket(log_value: float | None, th: Thresholds | None) -> Bucket | None:
    """easy / medium / hard for one theorem's S; None when it has no difficulty.

    >>> th = Thresholds(2.0, 4.0)
    >>> [bucket(s, th) for s in (1.0, 2.0, 3.0, 4.0, 5.0, None)]
    ['easy', 'easy', 'medium', 'medium', 'hard', None]
    """
    if log_value is None or th is None:
        return None
    if log_value <= th.log_p33:
        return "easy"
    if log_value <= th.log_p67:
        return "medium"
    return "hard"
