"""Lifelong-learning metrics, computed from the Recall@10 matrix (see ../shared/LEANAGENT.md §6).

Notation (0-based here): T repositories learned in order; ``r[i][j]`` = test R@10 on repository j after
learning repository i (defined for j ≤ i, None above the diagonal); ``A[t]`` = mean of ``r[t][0..t]``;
``V[t]`` = validation R@10 on repository t right after learning it.

A metric that needs more steps than the run has (WF5 needs more than 5 repositories) is None, never a
made-up number.

>>> r = [[0.5, None], [0.4, 0.6]]
>>> lifelong_metrics(r, [0.5, 0.7])["expanded_bwt"]
-0.1
"""

from __future__ import annotations

from typing import Sequence

__all__ = [
    "METRIC_MEANINGS", "metric_meaning",
    "Matrix", "average_recall", "windowed_forgetting", "forgetting_measure", "cfr", "expanded_bwt", "bwt",
    "windowed_plasticity", "incremental_plasticity", "twcp", "aulc", "min_acc", "wc_acc",
    "lifelong_metrics", "composite_scores",
]

Matrix = Sequence[Sequence[float | None]]


def _round(x: float, digits: int = 12) -> float:
    """Round away float noise (and -0.0) so that hand-computed values compare equal."""
    return round(x, digits) + 0.0


def _cell(r: Matrix, i: int, j: int) -> float:
    value = r[i][j]
    if value is None:
        raise ValueError(f"recall matrix has no value at row {i}, column {j} (needed: j ≤ i)")
    return float(value)


def average_recall(r: Matrix) -> list[float]:
    """A[t]: mean test R@10 over repositories 0..t after learning t.

    >>> average_recall([[0.5, None], [0.4, 0.6]])
    [0.5, 0.5]
    """
    return [sum(_cell(r, t, j) for j in range(t + 1)) / (t + 1) for t in range(len(r))]


def windowed_forgetting(r: Matrix, w: int = 5) -> float | None:
    """WF_w = max over t ≥ w of (max(A[t−w..t−1]) − A[t]), floored at 0; None when T ≤ w.

    >>> windowed_forgetting([[1.0, None, None], [0.5, 0.5, None], [0.2, 0.2, 0.2]], w=1)
    0.5
    """
    a = average_recall(r)
    if len(a) <= w:
        return None
    return _round(max(0.0, max(max(a[t - w:t]) - a[t] for t in range(w, len(a)))), 12)


def forgetting_measure(r: Matrix) -> float | None:
    """FM (Chaudhry et al. 2018): mean over j < T−1 of (max_{j ≤ i < T−1} r[i][j] − r[T−1][j]).

    The standard definition (best score before the end minus the final score); the original LeanAgent
    script computes a variant over the step just before the end only. None when T < 2.

    >>> forgetting_measure([[0.8, None, None], [0.6, 0.5, None], [0.7, 0.1, 0.9]])
    0.25
    """
    T = len(r)
    if T < 2:
        return None
    drops = [max(_cell(r, i, j) for i in range(j, T - 1)) - _cell(r, T - 1, j) for j in range(T - 1)]
    return _round(sum(drops) / len(drops), 12)


def cfr(r: Matrix) -> float | None:
    """Catastrophic-forgetting resilience: min_t A[t] / max_t A[t] (1 when A never moves).

    >>> cfr([[0.5, None], [0.25, 0.25]])
    0.5
    """
    a = average_recall(r)
    if not a or max(a) == 0:
        return None
    return min(a) / max(a)


def expanded_bwt(r: Matrix) -> float | None:
    """Expanded backward transfer: mean over all pairs j < i of (r[i][j] − r[j][j]).

    >>> expanded_bwt([[0.5, None, None], [0.6, 0.5, None], [0.7, 0.3, 0.9]])  # (0.1 + 0.2 - 0.2) / 3
    0.033333333333
    """
    pairs = [_cell(r, i, j) - _cell(r, j, j) for i in range(len(r)) for j in range(i)]
    return _round(sum(pairs) / len(pairs), 12) if pairs else None


def bwt(r: Matrix) -> float | None:
    """Backward transfer (Lopez-Paz & Ranzato 2017): mean over j < T−1 of (r[T−1][j] − r[j][j]).

    >>> bwt([[0.5, None, None], [0.6, 0.5, None], [0.7, 0.3, 0.9]])
    0.0
    """
    T = len(r)
    if T < 2:
        return None
    return _round(sum(_cell(r, T - 1, j) - _cell(r, j, j) for j in range(T - 1)) / (T - 1), 12)


def windowed_plasticity(r: Matrix, w: int = 5) -> float | None:
    """WP_w = mean over t of max(0, A[t] − A[max(0, t−w)]).

    >>> windowed_plasticity([[0.2, None], [0.4, 0.6]], w=5)
    0.15
    """
    a = average_recall(r)
    if not a:
        return None
    return _round(sum(max(0.0, a[t] - a[max(0, t - w)]) for t in range(len(a))) / len(a), 12)


def incremental_plasticity(v: Sequence[float]) -> float | None:
    """IP = mean of V[t] − V[t−1] over t ≥ 1; None with fewer than two repositories.

    >>> incremental_plasticity([0.2, 0.5, 0.4])
    0.1
    """
    if len(v) < 2:
        return None
    return _round(sum(v[t] - v[t - 1] for t in range(1, len(v))) / (len(v) - 1), 12)


def twcp(r: Matrix) -> float | None:
    """Time-weighted cumulative performance: Σ w[t]·A[t] with w[t] ∝ T − t, earlier steps weighted more.

    >>> twcp([[1.0, None], [0.25, 0.25]])  # weights 2/3, 1/3
    0.75
    """
    a = average_recall(r)
    T = len(a)
    if not T:
        return None
    weights = [T - t for t in range(T)]
    return _round(sum(w * x for w, x in zip(weights, a)) / sum(weights), 12)


def aulc(r: Matrix) -> float | None:
    """Area under the learning curve A[0..T−1] by the trapezoid rule, divided by its length (T − 1).

    >>> aulc([[0.2, None], [0.4, 0.6]])
    0.35
    """
    a = average_recall(r)
    if len(a) < 2:
        return a[0] if a else None
    return _round(sum((a[t] + a[t + 1]) / 2 for t in range(len(a) - 1)) / (len(a) - 1), 12)


def min_acc(r: Matrix) -> float | None:
    """min-ACC (De Lange et al. 2023): mean over j < T−1 of the lowest r[i][j] for i > j.

    >>> min_acc([[0.5, None, None], [0.6, 0.5, None], [0.7, 0.3, 0.9]])
    0.45
    """
    T = len(r)
    if T < 2:
        return None
    return _round(sum(min(_cell(r, i, j) for i in range(j + 1, T)) for j in range(T - 1)) / (T - 1), 12)


def wc_acc(r: Matrix) -> float | None:
    """WC-ACC (De Lange et al. 2023): (1/T)·r[T−1][T−1] + (1 − 1/T)·min-ACC.

    >>> wc_acc([[0.5, None, None], [0.6, 0.5, None], [0.7, 0.3, 0.9]])
    0.6
    """
    T = len(r)
    low = min_acc(r)
    if low is None:
        return None
    return _round(_cell(r, T - 1, T - 1) / T + (1 - 1 / T) * low, 12)


def lifelong_metrics(r: Matrix, validation: Sequence[float], *, window: int = 5,
                     measure: str = "recall_at_10") -> dict[str, float | None]:
    """Every metric of a run by name (the table of the report and ``metrics.json``); ``measure`` names what the
    matrix holds (the retriever's ``recall_at_10``, the tactic generator's ``hit_at_64``) in the average's name.

    >>> list(lifelong_metrics([[0.5]], [0.5], measure="hit_at_64"))[0]
    'average_hit_at_64'
    """
    a = average_recall(r)
    return {
        f"average_{measure}": a[-1] if a else None,
        "wf5": windowed_forgetting(r, window),
        "forgetting_measure": forgetting_measure(r),
        "cfr": cfr(r),
        "expanded_bwt": expanded_bwt(r),
        "bwt": bwt(r),
        "wp5": windowed_plasticity(r, window),
        "incremental_plasticity": incremental_plasticity(validation),
        "twcp": twcp(r),
        "aulc": aulc(r),
        "min_acc": min_acc(r),
        "wc_acc": wc_acc(r),
    }


# What each metric of :func:`lifelong_metrics` means, in one line, and whether higher is better.
METRIC_MEANINGS: dict[str, tuple[str, bool]] = {
    "average_recall_at_10": ("average test Recall@10 over the repositories learned, after the last one", True),
    "average_hit_at_64": ("average test hit@64 over the repositories learned, after the last one", True),
    "wf5": ("windowed forgetting: the largest drop of that average below its best of the 5 steps before", False),
    "forgetting_measure": ("mean over earlier repositories of (best test R@10 ever − final test R@10)", False),
    "cfr": ("catastrophic-forgetting resilience: lowest average R@10 over the run / highest", True),
    "expanded_bwt": ("expanded backward transfer: mean over pairs j < i of r[i][j] − r[j][j]", True),
    "bwt": ("backward transfer: mean over earlier repositories of final r[j] − r[j] right after learning j", True),
    "wp5": ("windowed plasticity: mean rise of the average R@10 over 5 steps", True),
    "incremental_plasticity": ("mean step-to-step change of validation R@10 on the repository just learned", True),
    "twcp": ("time-weighted cumulative performance: the average R@10 curve, earlier steps weighted more", True),
    "aulc": ("area under the average-R@10 learning curve, per step", True),
    "min_acc": ("mean over earlier repositories of their lowest test R@10 after they were learned", True),
    "wc_acc": ("worst-case accuracy: a mix of the last repository's R@10 and min-ACC", True),
}
"""name → (meaning, higher is better), said of the retriever's R@10 (:func:`metric_meaning` for another measure)."""


def metric_meaning(name: str, measure: str = "R@10") -> tuple[str, bool]:
    """The meaning of metric ``name`` of a matrix of ``measure`` (``R@10``, ``hit@64``), and whether higher is better.

    >>> metric_meaning("cfr", "hit@64")[0]
    'catastrophic-forgetting resilience: lowest average hit@64 over the run / highest'
    """
    meaning, higher = METRIC_MEANINGS.get(name, ("", True))
    return meaning.replace("Recall@10", "R@10").replace("R@10", measure), higher

# The paper's composite score: weights, and whether higher is better for the metric.
_COMPOSITE = {"wf5": (0.2, False), "forgetting_measure": (0.2, False), "wp5": (0.1, True),
              "incremental_plasticity": (0.1, True), "expanded_bwt": (0.2, True), "cfr": (0.2, True)}


def composite_scores(runs: dict[str, dict[str, float | None]]) -> dict[str, float]:
    """The paper's composite across compared runs: each metric min-max normalised over the runs, then
    0.2(1−WF5) + 0.2(1−FM) + 0.1·WP5 + 0.1·IP + 0.2·EBWT + 0.2·CFR. A metric missing in any run, or equal
    in all runs, is left out (its weight unused), so the score stays comparable across the runs given.

    >>> composite_scores({"a": {"wf5": 0.1, "cfr": 0.9}, "b": {"wf5": 0.3, "cfr": 0.7}})
    {'a': 0.4, 'b': 0.0}
    """
    scores = {name: 0.0 for name in runs}
    for metric, (weight, higher_better) in _COMPOSITE.items():
        values = [run.get(metric) for run in runs.values()]
        if any(v is None for v in values):
            continue
        low, high = min(values), max(values)  # type: ignore[type-var]
        if high == low:
            continue
        for name, run in runs.items():
            norm = (run[metric] - low) / (high - low)  # type: ignore[operator]
            scores[name] += weight * (norm if higher_better else 1 - norm)
    return {name: _round(score, 12) for name, score in scores.items()}
