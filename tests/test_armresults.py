"""Arms' results files (leanagent/armresults.py) and the tables drawn from them alone (leanagent/armtables.py)."""

from __future__ import annotations

import json

import pytest

from leanagent.armresults import ARM, BM25, ArmResults, Cell, load_results, recall_matrix_of, save_results
from leanagent.armtables import paired, render_tables

REPOS = ({"name": "a/x", "url": "https://github.com/a/x", "commit": "c1"},
         {"name": "b/y", "url": "https://github.com/b/y", "commit": "c2"})
KEYS = {"a/x": {"test": ["t1#1", "t2#1", "t3#1", "t4#1"], "validation": ["v1#1"]},
        "b/y": {"test": ["u1#1", "u2#1", "u3#1", "u4#1"], "validation": ["w1#1"]}}


def _cell(checkpoint, after, repo, ranker, ranks, split="test", unseen=False) -> Cell:
    """A cell with one right premise per query: R@1 and R@10 follow from the rank."""
    return Cell(checkpoint, after, repo, split, ranker, tuple(ranks),
                tuple(1.0 if r == 1 else 0.0 for r in ranks), tuple(1.0 if r and r <= 10 else 0.0 for r in ranks),
                unseen)


def _arm(name: str, final_a, final_b, first_a=(1, 1, 1, 1), bm25=(None, 2, 11, None)) -> ArmResults:
    """A two-repository progressive arm: a/x after the first checkpoint, both after the second."""
    cells = (_cell("01-a", 0, "a/x", ARM, first_a), _cell("01-a", 0, "a/x", BM25, bm25),
             _cell("01-a", 0, "a/x", ARM, (1,), "validation"), _cell("01-a", 0, "a/x", BM25, (3,), "validation"),
             _cell("01-a", 0, "b/y", ARM, (None, 5, None, None), unseen=True),
             _cell("01-a", 0, "b/y", BM25, (None, None, None, 4), unseen=True),
             _cell("02-b", 1, "a/x", ARM, final_a), _cell("02-b", 1, "a/x", BM25, bm25),
             _cell("02-b", 1, "b/y", ARM, final_b), _cell("02-b", 1, "b/y", BM25, bm25),
             _cell("02-b", 1, "b/y", ARM, (2,), "validation"))
    return ArmResults(name, "random", "progressive", "abc123", {"retriever": {"replay": 0.5}}, REPOS,
                      ("01-a", "02-b"), KEYS, cells, {"a/x": {"train": 12.5}}, (), ("a note",))


def test_results_file_round_trip(tmp_path):
    arm = _arm("default", (1, 2, None, 12), (1, 1, 3, None))
    save_results(arm, tmp_path / "default-random.json")
    back = load_results(tmp_path / "default-random.json")
    assert back == arm
    data = json.loads((tmp_path / "default-random.json").read_text())
    final = next(c for c in data["cells"] if (c["checkpoint"], c["repo"], c["ranker"], c["split"])
                 == ("02-b", "a/x", ARM, "test"))
    assert (final["queries"], final["recall_at_10"], final["mrr"]) == (4, 0.5, round((1 + 0.5 + 1 / 12) / 4, 4))
    assert data["lifelong"]["forgetting_measure"] == 0.5  # a/x: 1.0 after learning it, 0.5 at the end


def test_a_file_of_another_kind_fails_naming_it(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"format": 99}))
    with pytest.raises(ValueError, match="x.json: not an arm's results file"):
        load_results(path)


def test_recall_matrix_and_validation_from_cells():
    matrix, validation = recall_matrix_of(_arm("default", (1, 2, None, 12), (1, 1, 3, None)))
    assert matrix == [[1.0, None], [0.5, 0.75]]
    assert validation == [1.0, 1.0]


def test_paired_bootstrap_on_hand_made_ranks():
    better = {f"q{i}": (1, 1.0, 1.0) for i in range(40)}
    worse = {f"q{i}": (None, 0.0, 0.0) if i % 2 else (4, 0.0, 1.0) for i in range(40)}
    out = paired(better, worse)
    assert out["delta_r10"].estimate == pytest.approx(0.5)
    assert out["delta_mrr"].estimate == pytest.approx(1 - 0.25 / 2)
    assert out["delta_r10"].excludes(0.0) and out["delta_mrr"].excludes(0.0)
    same = paired(better, better)
    assert not same["delta_r10"].excludes(0.0) and same["mrr_ratio"].estimate == 1.0
    assert paired(better, {"other": (1, 1.0, 1.0)}) is None  # not the same queries: no pairing


def test_tables_from_two_results_files(tmp_path):
    save_results(_arm("default", (1, 2, None, 12), (1, 1, 3, None)), tmp_path / "default-random.json")
    save_results(_arm("random-s1", (1, 2, None, 12), (1, 1, 3, None)), tmp_path / "random-s1-random.json")
    arms = [load_results(tmp_path / name) for name in ("default-random.json", "random-s1-random.json")]
    text = render_tables(arms)
    assert "#### Split `random`: 2 arms, 2 repositories" in text
    default_row = next(line for line in text.splitlines() if line.startswith("| default |"))
    assert default_row.startswith("| default | 8 | 0.625 [")  # 5 of 8 test queries found in the top 10
    random_row = next(line for line in text.splitlines() if line.startswith("| random-s1 |"))
    assert random_row.endswith("+0.000 [0.00, 0.00] tie | +0.000 [0.00, 0.00] tie |") or \
        random_row.endswith("0.000 [0.00, 0.00] tie | 0.000 [0.00, 0.00] tie |")
    assert "curriculum vs random order (seed 1): default − random-s1" in text and ": a tie." in text
    bm25_row = next(line for line in text.splitlines() if line.startswith("| BM25"))
    assert bm25_row.startswith("| BM25 (same queries) | 8 | 0.250 [")  # ranks 2 and None, 11, None per repo
    lifelong = next(line for line in text.splitlines() if line.startswith("| default | 0.625"))
    assert "| 0.500 |" in lifelong  # FM
    assert "0.250 vs 0.250" in lifelong  # forward transfer: b/y before it was learned, arm and BM25


def test_seeds_are_averaged_query_by_query_in_the_claims(tmp_path):
    # Replay finds every query at rank 1 in both seeds; naive fine-tuning misses the last two of each repository
    # in one seed and finds them at rank 2 in the other: averaged per query, R@10 1.0 against 0.75.
    arms = [_arm("default", (1, 1, 1, 1), (1, 1, 1, 1)),
            _arm("random-s1", (1, 1, 1, 1), (1, 1, 1, 1)), _arm("random-s2", (1, 1, 1, 1), (1, 1, 1, 1)),
            _arm("naive-s1", (1, 1, None, None), (1, 1, None, None)), _arm("naive-s2", (1, 1, 2, 2), (1, 1, 2, 2)),
            _arm("ewc", (1, 1, 2, None), (1, 1, 1, 1))]
    text = render_tables(arms)
    averaged = next(line for line in text.splitlines() if "naive fine-tuning in the same random orders" in line)
    assert "mean(random-s1, random-s2) − mean(naive-s1, naive-s2), pooled test ΔR@10 +0.250 [" in averaged
    assert "ΔMRR +0.375 [" in averaged  # 1 − mean(0, 1/2) on half the queries
    assert "curriculum vs random order, 2 seeds averaged query by query: default − mean(random-s1, random-s2)" in text
    assert "replay (the default) vs EWC instead (ewc): default − ewc" in text
