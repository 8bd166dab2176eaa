"""Reports: metrics.json keys and values, a self-contained HTML page with its plots, Markdown summary."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from leanagent.metrics import lifelong_metrics
from leanagent.report import CurriculumRow, ReportData, SorryRow, write_report

R = ((0.6, None, None), (0.5, 0.4, None), (0.55, 0.3, 0.8))


def _data() -> ReportData:
    return ReportData(
        title="leanagent run", order=("a/arith", "b/lists", "c/logic"), recall_at_10=R,
        validation_recall_at_10=(0.6, 0.5, 0.7), metrics=lifelong_metrics(R, [0.6, 0.5, 0.7]),
        curriculum=(CurriculumRow("a/arith", "c" * 40, 10, 3, 1, 2, 1),),
        sorry=(SorryRow("a/arith", 0, 0, "skipped: no Lean toolchain"),), model="byt5-tiny",
        timings={"train": 1.5})


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
