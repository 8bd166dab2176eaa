"""Lifelong metrics on a hand-computed 4-repository matrix."""

from __future__ import annotations

import pytest

from leanagent.metrics import average_recall, composite_scores, lifelong_metrics

# r[i][j]: test R@10 on repository j after learning repository i.
R = [
    [0.60, None, None, None],
    [0.50, 0.40, None, None],
    [0.55, 0.30, 0.80, None],
    [0.40, 0.35, 0.70, 0.50],
]
V = [0.62, 0.45, 0.75, 0.52]


def test_hand_computed_values() -> None:
    # A = [0.6, 0.45, 0.55, 0.4875]
    assert average_recall(R) == pytest.approx([0.6, 0.45, 0.55, 0.4875])
    m = lifelong_metrics(R, V, window=2)
    assert m["average_recall_at_10"] == pytest.approx(0.4875)
    # WF2: t=2: max(0.6, 0.45) - 0.55 = 0.05; t=3: max(0.45, 0.55) - 0.4875 = 0.0625 → 0.0625
    assert m["wf5"] == pytest.approx(0.0625)
    # FM: j=0: max(0.6, 0.5, 0.55) - 0.4 = 0.2; j=1: max(0.4, 0.3) - 0.35 = 0.05; j=2: 0.8 - 0.7 = 0.1 → 0.35/3
    assert m["forgetting_measure"] == pytest.approx(0.35 / 3)
    # CFR: 0.45 / 0.6
    assert m["cfr"] == pytest.approx(0.75)
    # EBWT pairs: (1,0) -.1 (2,0) -.05 (3,0) -.2 (2,1) -.1 (3,1) -.05 (3,2) -.1 → -0.6/6
    assert m["expanded_bwt"] == pytest.approx(-0.1)
    # BWT: (0.4-0.6 + 0.35-0.4 + 0.7-0.8) / 3 = -0.35/3
    assert m["bwt"] == pytest.approx(-0.35 / 3)
    # WP2: t=0: 0; t=1: max(0, .45-.6)=0; t=2: max(0, .55-.6)=0; t=3: max(0, .4875-.45)=.0375 → .0375/4
    assert m["wp5"] == pytest.approx(0.0375 / 4)
    # IP: (-0.17 + 0.30 - 0.23) / 3
    assert m["incremental_plasticity"] == pytest.approx(-0.1 / 3)
    # TWCP: weights 4,3,2,1 → (2.4 + 1.35 + 1.1 + 0.4875) / 10
    assert m["twcp"] == pytest.approx(0.53375)
    # AULC: ((.6+.45) + (.45+.55) + (.55+.4875)) / 2 / 3
    assert m["aulc"] == pytest.approx((1.05 + 1.0 + 1.0375) / 6)
    # min-ACC: j=0 min(.5,.55,.4)=.4; j=1 min(.3,.35)=.3; j=2 .7 → 1.4/3; WC-ACC = .5/4 + .75 * 1.4/3
    assert m["min_acc"] == pytest.approx(1.4 / 3)
    assert m["wc_acc"] == pytest.approx(0.125 + 0.75 * 1.4 / 3)


def test_short_runs_say_none_instead_of_inventing() -> None:
    m = lifelong_metrics([[0.5]], [0.5])
    assert m["wf5"] is None and m["forgetting_measure"] is None and m["incremental_plasticity"] is None
    assert m["average_recall_at_10"] == 0.5 and m["cfr"] == 1.0
    assert lifelong_metrics(R, V)["wf5"] is None  # 4 repositories ≤ window 5


def test_missing_cell_below_the_diagonal_is_an_error() -> None:
    with pytest.raises(ValueError, match="row 1, column 0"):
        average_recall([[0.5, None], [None, 0.5]])


def test_composite_prefers_the_run_that_forgets_less() -> None:
    good = {"wf5": 0.1, "forgetting_measure": 0.1, "cfr": 0.9, "expanded_bwt": 0.1, "wp5": 0.2,
            "incremental_plasticity": 0.0}
    bad = {"wf5": 0.3, "forgetting_measure": 0.4, "cfr": 0.5, "expanded_bwt": -0.2, "wp5": 0.1,
           "incremental_plasticity": 0.1}
    scores = composite_scores({"good": good, "bad": bad})
    assert scores == {"good": pytest.approx(0.9), "bad": pytest.approx(0.1)}
