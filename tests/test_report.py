"""Reports: metrics.json keys and values, a self-contained HTML page with its plots, Markdown summary."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from leanagent.metrics import lifelong_metrics
from leanagent.metrics import METRIC_MEANINGS
from leanagent.report import CurriculumRow, ReportData, SorryRow, SorryTheoremRow, write_report

R = ((0.6, None, None), (0.5, 0.4, None), (0.55, 0.3, 0.8))


def _data() -> ReportData:
    return ReportData(
        title="leanagent run", order=("a/arith", "b/lists", "c/logic"), recall_at_10=R,
        validation_recall_at_10=(0.6, 0.5, 0.7), metrics=lifelong_metrics(R, [0.6, 0.5, 0.7]),
        curriculum=(CurriculumRow("a/arith", "c" * 40, 10, 3, 1, 2, 1),),
        sorry=(SorryRow("a/arith", 0, 0, "skipped: no Lean toolchain"),), model="byt5-tiny",
        timings={"train": 1.5},
        sorry_theorems=(SorryTheoremRow("a/arith", "Arith.add_comm'", "proved", "by\n  omega"),
                        SorryTheoremRow("a/arith", "Arith.hard", "timeout", "600 s"),
                        SorryTheoremRow("b/lists", "Lists.rev_rev", "skipped", "no Lean toolchain")))


def test_report_files(tmp_path: Path) -> None:
    paths = write_report(_data(), tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["order"] == ["a/arith", "b/lists", "c/logic"]
    assert data["recall_at_10"] == [[0.6, None, None], [0.5, 0.4, None], [0.55, 0.3, 0.8]]
    assert data["metrics"]["wf5"] is None and abs(data["metrics"]["cfr"] - 0.45 / 0.6) < 1e-9
    assert data["sorry"] == {"a/arith": {"attempted": 0, "proved": 0,
                                         "skipped_reason": "skipped: no Lean toolchain"}}
    page = paths["html"].read_text()
    assert page.count("<img") == 2 and "http" not in page  # self-contained: nothing fetched
    png = page.split("src='data:image/png;base64,")[1].split("'")[0]
    assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "skipped: no Lean toolchain" in page and "a/arith" in page
    summary = paths["markdown"].read_text()
    assert "a/arith → b/lists → c/logic" in summary and "| cfr |" in summary


def test_every_metric_says_what_it_means_and_which_way_is_better(tmp_path: Path) -> None:
    from leanagent.metrics import _COMPOSITE

    metrics = lifelong_metrics(R, [0.6, 0.5, 0.7])
    assert set(metrics) | {"average_hit_at_64"} == set(METRIC_MEANINGS)
    assert all(meaning for meaning, _ in METRIC_MEANINGS.values())
    assert all(METRIC_MEANINGS[name][1] == higher for name, (_, higher) in _COMPOSITE.items())
    paths = write_report(_data(), tmp_path)
    summary, page = paths["markdown"].read_text(), paths["html"].read_text()
    assert f"| wf5 | n/a | lower | {METRIC_MEANINGS['wf5'][0]} |" in summary
    assert "<td>forgetting_measure</td><td>" in page and "<td>lower</td>" in page


def test_each_sorry_theorem_by_name_with_its_outcome(tmp_path: Path) -> None:
    paths = write_report(_data(), tmp_path)
    data = json.loads(paths["json"].read_text())
    assert [(r["theorem"], r["outcome"]) for r in data["sorry_theorems"]] == [
        ("Arith.add_comm'", "proved"), ("Arith.hard", "timeout"), ("Lists.rev_rev", "skipped")]
    summary = paths["markdown"].read_text()
    assert "| a/arith | Arith.add_comm' | proved | by   omega |" in summary
    assert "| b/lists | Lists.rev_rev | skipped | no Lean toolchain |" in summary
    assert "<td>Arith.hard</td><td>timeout</td><td>600 s</td>" in paths["html"].read_text()


def test_each_lifelong_table_is_named_by_its_own_metric(tmp_path: Path) -> None:
    from dataclasses import replace

    data = replace(_data(), tactic_generator="combined", tactic_scores=(("a/arith", 4, 0.25, 0.5, 0.75),),
                   tactic_metrics=lifelong_metrics(R, [0.6, 0.5, 0.7], measure="hit_at_64"))
    paths = write_report(data, tmp_path)
    page = paths["html"].read_text()
    tactics = page.split("Lifelong metrics of its hit@64 matrix")[1].split("<h2>")[0]
    assert "average_hit_at_64" in tactics and "average_recall_at_10" not in tactics and "R@10" not in tactics
    assert "lowest average hit@64 over the run / highest" in tactics
    assert "<h2>Lifelong metrics of the retriever (its test R@10 matrix)</h2>" in page
    assert json.loads(paths["json"].read_text())["tactics"]["metrics"]["average_hit_at_64"] == 0.55
