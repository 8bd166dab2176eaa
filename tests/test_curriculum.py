"""Curriculum: difficulty e^S, percentile buckets, repository order, on hand-checked numbers."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from curriculum import build_curriculum, log_difficulty
from curriculum.difficulty import log_percentile, thresholds
from database.records import Pos, Repo, RepoScan, TacticStep, Theorem


def _thm(repo: Repo, name: str, steps: int, *, sorry: bool = False, placeholder: bool = False) -> Theorem:
    return Theorem(url=repo.url, commit=repo.commit, path="A.lean", full_name=name, start=Pos(1, 1),
                   end=Pos(2, 1), statement=f"theorem {name} : True", proof="by trivial",
                   steps=tuple(TacticStep(f"t{i}") for i in range(steps)), has_sorry=sorry,
                   placeholder=placeholder)


def _scan(name: str, steps: list[int], sorry: int = 0, placeholders: int = 0) -> RepoScan:
    repo = Repo(url=f"https://example.invalid/{name}", commit="c" * 40, name=name)
    theorems = [_thm(repo, f"{name}.t{i}", s) for i, s in enumerate(steps)]
    theorems += [_thm(repo, f"{name}.s{i}", 2, sorry=True) for i in range(sorry)]
    theorems += [_thm(repo, f"{name}.p{i}", 1, sorry=True, placeholder=True) for i in range(placeholders)]
    return RepoScan(repo=repo, files=(), premises=(), theorems=tuple(theorems))


def test_hand_checked_buckets_and_order() -> None:
    # All difficulties (S): A = 1, 1, 2, 3 (+ a term proof, + a sorry); B = 2, 5, 8. Sorted: 1 1 2 2 3 5 8.
    # p33: rank 6 * 0.33 = 1.98 → e^1 + 0.98 (e^2 - e^1) = 7.2956, log 1.9873: S = 1 easy, S = 2 not.
    # p67: rank 6 * 0.67 = 4.02 → e^3 + 0.02 (e^5 - e^3) = 22.652, log 3.1203: S = 3 medium, S = 5 hard.
    a = _scan("A", [1, 1, 2, 3, 0], sorry=1, placeholders=1)
    b = _scan("B", [2, 5, 8])
    plan = build_curriculum([b, a])
    assert plan.thresholds is not None
    assert math.exp(plan.thresholds.log_p33) == pytest.approx(7.2956, abs=1e-3)
    assert math.exp(plan.thresholds.log_p67) == pytest.approx(22.652, abs=1e-3)
    first, second = plan.order
    assert (first.repo.name, first.easy, first.medium, first.hard, first.no_difficulty) == ("A", 2, 2, 0, 1)
    assert (first.sorry_theorems, first.placeholders) == (1, 1)
    assert (second.repo.name, second.easy, second.medium, second.hard) == ("B", 0, 1, 2)


def test_sorry_and_term_proofs_have_no_difficulty() -> None:
    scan = _scan("A", [0, 4], sorry=1)
    assert [log_difficulty(t) for t in scan.theorems] == [None, 4.0, None]


def test_log_percentiles_match_numpy_where_it_does_not_overflow() -> None:
    rng = random.Random(3407)
    for _ in range(200):
        logs = [float(rng.randint(1, 60)) for _ in range(rng.randint(1, 40))]
        for q in (0, 33, 50, 67, 100):
            expected = np.percentile(np.exp(np.array(logs)), q)
            assert math.exp(log_percentile(logs, q)) == pytest.approx(expected, rel=1e-9)


def test_huge_proofs_do_not_overflow() -> None:
    th = thresholds([1000.0, 2000.0, 3000.0])
    assert th is not None and 1000.0 < th.log_p33 < 3000.0
    plan = build_curriculum([_scan("A", [1000, 2000, 3000, 5000])])
    assert plan.order[0].easy + plan.order[0].medium + plan.order[0].hard == 4


def test_ties_keep_input_order_and_random_order_is_seeded() -> None:
    scans = [_scan(n, [1, 2, 3]) for n in ("x", "y", "z")]
    assert [r.repo.name for r in build_curriculum(scans).order] == ["x", "y", "z"]
    one = build_curriculum(scans * 1, strategy="random", seed=1)
    assert [r.repo.name for r in one.order] == [r.repo.name for r in
                                                 build_curriculum(scans, strategy="random", seed=1).order]
    assert one.strategy == "random:1"
    with pytest.raises(ValueError, match="unknown curriculum strategy"):
        build_curriculum(scans, strategy="stars")


def test_no_theorem_with_difficulty_gives_no_thresholds() -> None:
    plan = build_curriculum([_scan("A", [0, 0], sorry=2)])
    assert plan.thresholds is None
    assert (plan.order[0].easy, plan.order[0].no_difficulty, plan.order[0].sorry_theorems) == (0, 2, 2)


def _sorry_step(repo: Repo, name: str) -> Theorem:
    return Theorem(url=repo.url, commit=repo.commit, path="A.lean", full_name=name, start=Pos(1, 1),
                   end=Pos(2, 1), statement=f"theorem {name} : True", proof="by sorry",
                   steps=(TacticStep("sorry"),), has_sorry=True)


def test_the_papers_curriculum_on_hand_computed_cases() -> None:
    # Difficulties (reference code): A = e, e, e², ∞ (`by sorry`), one term proof; B = e³, e⁴ and nine term
    # proofs. Sorted known values: e e e² e³ e⁴ ∞ (n = 6).
    # p33: rank 5 · 0.33 = 1.65 → e + 0.65 (e² − e) = 5.7543: S = 1 easy, S = 2 not.
    # p67: rank 5 · 0.67 = 3.35 → e³ + 0.35 (e⁴ − e³) = 32.1650: S = 3 medium, S = 4 hard.
    # Term proofs spread in thirds: A's one → chunk 0, to hard; B's nine → 3 easy, 3 medium, 3 hard.
    a = _scan("A", [1, 1, 2, 0])
    a = RepoScan(a.repo, (), (), a.theorems + (_sorry_step(a.repo, "A.open"),))
    b = _scan("B", [3, 4] + [0] * 9)
    plan = build_curriculum([a, b], strategy="leanagent")
    assert plan.strategy == "leanagent" and plan.thresholds is not None
    assert math.exp(plan.thresholds.log_p33) == pytest.approx(5.7543, abs=1e-3)
    assert math.exp(plan.thresholds.log_p67) == pytest.approx(32.1650, abs=1e-3)
    assert np.percentile([math.e, math.e, math.e ** 2, math.e ** 3, math.e ** 4, math.inf], 33) == pytest.approx(
        5.7543, abs=1e-3)  # the same as numpy, which the reference code calls
    assert [(r.repo.name, r.easy, r.medium, r.hard, r.sorry_theorems) for r in plan.order] == [
        ("B", 3, 4, 4, 0), ("A", 2, 1, 1, 1)]
    # Ours buckets without the sorry theorem and leaves term proofs out: A has 2 easy, B none; A first.
    assert [r.repo.name for r in build_curriculum([a, b]).order] == ["A", "B"]
