"""Reports: metrics.json keys and values, a self-contained HTML page with its plots, Markdown summary."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from leanagent.metrics import lifelong_metrics
from leanagent.metrics import METRIC_MEANINGS
from leanagent.report import CurriculumRow, ReportData, SorryRow, SorryTheoremRow, render_html, write_report

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
    assert "<td>forgetting_measure</td><td class='n'>" in page and "<td>lower</td>" in page


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


# ---- a report that says where the run stands, read first -----------------------------------------------------

def _stopped_run(workdir: Path, after: str) -> None:
    """The offline example as a BM25 run (seconds), stopped as Ctrl-C would stop it when the line ``after`` is said."""
    import pytest

    from leanagent.config import load_config
    from leanagent.pipeline import run
    from tests.conftest import EXAMPLES

    def echo(line: str) -> None:
        if line.startswith(after):
            raise KeyboardInterrupt

    config = load_config(None, {"workdir": str(workdir), "quiet": "true", "retriever.model": "bm25",
                                "prover.tactic_model": ""})
    with pytest.raises(KeyboardInterrupt):
        run(config, EXAMPLES / "repos.txt", echo=echo)


def test_the_report_of_a_run_stopped_after_one_repository_says_where_it_stands(tmp_path: Path, capsys,
                                                                               monkeypatch) -> None:
    from leanagent.cli import main

    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no Lean: the prove stage is skipped with the install hint
    monkeypatch.setenv("ELAN_HOME", str(tmp_path / "no-elan"))
    _stopped_run(tmp_path / "w", "prove     nat-basics")
    assert main(["report", "--workdir", str(tmp_path / "w")]) == 0
    summary = (tmp_path / "w" / "report" / "summary.md").read_text()
    page = (tmp_path / "w" / "report" / "report.html").read_text()
    assert "Nothing was learned" not in summary + page
    assert summary.startswith("# leanagent run: w\n\n**Unfinished: 1 of 3 repositories learned (nat-basics); train of "
                              "list-lemmas (repository 2 of 3): not finished.**")
    assert "Retriever: BM25 (nothing trained: the keyword baseline as a run of its own), trained on 1 of 3" in summary
    # The theorems not tried yet: one row a repository, counted.
    assert "| list-lemmas | 3 sorry theorems | not tried | the prove stage has not run |" in summary
    assert summary.count("not tried |") == 2
    hint = "install elan (curl https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh -sSf"
    assert page.count(hint) == 1 and page.count("no Lean toolchain on this machine [1]") == 3  # said once, referred to
    metrics = json.loads((tmp_path / "w" / "report" / "metrics.json").read_text())
    assert metrics["finished"] is False and metrics["order"] == ["nat-basics"]


def test_a_run_stopped_inside_its_first_train_stage_shows_how_far_it_got(tmp_path: Path) -> None:
    from database.store import Store
    from leanagent.progress import StageProgress, write_progress
    from leanagent.results import report_data, run_state

    _stopped_run(tmp_path / "w", "order")  # said once the curriculum is decided, before the first train stage
    with Store.open(tmp_path / "w" / "leanagent.db") as store:
        state = run_state(store)
        first = state.order[0]
        record = StageProgress(first.name, first.id, "train", "01-nat-basics", "2025-01-01T09:00:00+00:00",
                               "2025-01-01T10:00:00+00:00", 677, 976, examples_per_second=1.62, seconds_left=738.0)
        write_progress(tmp_path / "w", record)
        data = report_data(store, config=None, progress=record)
    assert data.order == () and not data.finished and len(data.curriculum) == 3  # what it has: the curriculum
    assert data.standing.startswith("Unfinished: 0 of 3 repositories learned; train of nat-basics (01-nat-basics): ")
    assert "677/976 (69%)" in data.standing
    page = render_html(data)
    assert "Nothing was learned" not in page and "677/976 (69%)" in page and "Lifelong metrics" not in page


def test_the_headline_compares_with_bm25_on_the_same_queries_with_intervals(tmp_path: Path) -> None:
    from dataclasses import replace

    from leanagent.report import Versus, headline

    tie = Versus(120, (0.7, 0.62, 0.78), (0.6, 0.51, 0.69), (0.75, 0.55, 1.02), (1.2, 1.05, 1.36))
    data = replace(_data(), standing="Finished: all 3 repositories learned.", versus=tie,
                   problems=("x/y: no such directory",))
    lines = headline(data)
    assert lines[0] == "Finished: all 3 repositories learned."
    assert lines[1] == ("On the 120 held-out test queries of the repositories learned, the retriever finds a premise "
                        "the proof uses in its top 10 for 0.700 [0.620, 0.780] of them (95% interval), BM25 on the same "
                        "queries for 0.600 [0.510, 0.690]; it misses 0.75 [0.55, 1.02] times as often as BM25: a tie "
                        "(the interval holds 1; more test queries would tell).")
    assert "better, past the noise" in headline(replace(data, versus=replace(tie, miss_rate_ratio=(0.7, 0.5, 0.9))))[1]
    assert any(line.startswith("Failed: 1 repositories or lines") for line in lines)
    assert lines[-1].startswith("Next: ") and "\u201cNot learned\u201d" in lines[-1]
    page = render_html(data)
    assert page.index("class='headline'") < page.index("<h2>")  # read first
    assert "<td>a/arith</td><td>c" in page and "<td class='n'>10</td>" in page  # prose left, numbers right
