"""The time-split benchmark: sorry at C1, proved at C2, judged with what a run learned at C1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from leanagent.cli import main
from tests.conftest import EXAMPLES, run_git

SETTINGS = ["-q", "--set", "retriever.warmup_steps=5", "--model", "byt5-tiny"]


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> tuple[Path, str, str, Path]:
    """nat-basics as a git repository: C1 as shipped (three sorry theorems), C2 with two of them proved and the
    third's statement changed; and a run that has learned it at C1."""
    tmp = tmp_path_factory.mktemp("timesplit")
    root = tmp / "nat-basics"
    shutil.copytree(EXAMPLES / "nat-basics", root)
    run_git(root, "init", "-q", "-b", "main")
    run_git(root, "add", ".")
    run_git(root, "commit", "-qm", "C1")
    old = run_git(root, "rev-parse", "HEAD")
    double = root / "NatBasics" / "Double.lean"
    text = double.read_text()
    text = text.replace("double n - n = n := by\n  sorry", "double n - n = n := by\n  unfold double\n  omega")
    text = text.replace("(h : m < n) : double m < double n := by\n  sorry",
                        "(h : m < n) : double m < double n := by\n  simp only [double]\n  omega")
    double.write_text(text)
    total = root / "NatBasics" / "Sum.lean"
    total.write_text(total.read_text().replace("2 * sumTo n = n * (n + 1) := by\n  sorry",
                                               "sumTo n * 2 = n * (n + 1) := by\n  induction n <;> simp_all"))
    run_git(root, "commit", "-qam", "C2")
    new = run_git(root, "rev-parse", "HEAD")
    repos = tmp / "repos.txt"
    repos.write_text(f"{root} {old}\n")
    workdir = tmp / "run"
    assert main(["train", str(repos), "--workdir", str(workdir), *SETTINGS]) == 0
    return root, old, new, workdir


def test_matched_cases_are_sorry_then_proved_with_the_same_statement(history) -> None:
    from leanagent.repos import RepoSpec
    from leanagent.scanning import ScanOptions, scan_repository
    from leanagent.timesplit import matched_cases

    root, old, new, workdir = history
    options = ScanOptions(cache_dir=workdir / "cache", allow_network=False)
    before = scan_repository(RepoSpec(str(root), old), options).scan
    after = scan_repository(RepoSpec(str(root), new), options).scan
    pairs = matched_cases(before, after)
    # sumTo_two_mul's statement changed: not the same theorem; `hidden` is inside a comment at both commits.
    assert [(a.full_name, b.full_name) for a, b in pairs] == [
        ("NatBasics.double_sub_self", "NatBasics.double_sub_self"),
        ("NatBasics.double_lt_double", "NatBasics.double_lt_double")]
    assert all(a.is_target and not b.has_sorry and b.steps for a, b in pairs)


def test_timesplit_command_judges_the_new_proofs(history, capsys) -> None:
    root, old, new, workdir = history
    assert main(["timesplit", str(root), "--old", old, "--new", new, "--workdir", str(workdir), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["old"], data["new"], data["theorems"]) == (old, new, 2)
    assert data["checkpoint"] == "01-nat-basics"
    # The new proofs use `double` (unfold / simp only): among the handful of premises accessible there.
    premises = {c["name"]: c["premises"] for c in data["cases"]}
    assert premises == {"NatBasics.double_sub_self": ["NatBasics.double"],
                        "NatBasics.double_lt_double": ["NatBasics.double"]}
    assert data["recall"]["at_100"]["estimate"] == 1.0 and data["recall"]["at_100"]["theorems"] == 2
    assert 0.0 <= data["recall"]["at_10"]["low"] <= data["recall"]["at_10"]["estimate"] <= 1.0
    # nat-basics' own proofs of double facts open with `unfold double`: the memory offers it.
    assert set(data["generators"]) == {"templates", "memory", "combined"}
    ranks = {c["name"]: c["first_tactic_rank_memory"] for c in data["cases"]}
    assert ranks["NatBasics.double_sub_self"] is not None and ranks["NatBasics.double_sub_self"] < 64
    assert data["generators"]["memory"]["hit_at_64"]["theorems"] == 2
    assert data["proving"]["skipped"].startswith("proofs not searched: no Lean toolchain")
    assert json.loads((workdir / "report" / "timesplit.json").read_text()) == data
    assert main(["report", "--workdir", str(workdir)]) == 0  # the report shows it
    page = (workdir / "report" / "report.html").read_text()
    assert "Time split: nat-basics" in page and "premises of the new proof in the top 100" in page
    assert json.loads((workdir / "report" / "metrics.json").read_text())["timesplit"]["theorems"] == 2


def test_timesplit_searches_proofs_on_a_lean_double(history) -> None:
    from leanagent.config import load_config
    from leanagent.repos import RepoSpec
    from leanagent.scanning import ScanOptions, scan_repository
    from leanagent.timesplit import time_split
    from leanagent.workdir import Workdir
    from database.store import Store
    from prover.testing import CoinLean

    root, old, new, workdir = history
    options = ScanOptions(cache_dir=workdir / "cache", allow_network=False)
    scans = [scan_repository(RepoSpec(str(root), c), options) for c in (old, new)]
    wd = Workdir(workdir)
    config = load_config(wd.config)
    with Store.open(wd.database) as store:
        result = time_split(config, store, wd, *scans, env_factory=lambda: CoinLean(rate=1.0),
                            generators=("templates",))
    # every tactic closes the goal of the double, but no Lean checked the whole file: found, never proved
    assert (result.proving["attempted"], result.proving["proved"], result.proving["unverified"]) == (2, 0, 2)
    assert set(result.generators) == {"templates"}


def test_timesplit_before_any_training_is_one_line(tmp_path: Path, capsys) -> None:
    assert main(["timesplit", str(EXAMPLES / "nat-basics"), "--old", "a", "--new", "b",
                 "--workdir", str(tmp_path)]) == 2
    assert "no leanagent run here" in capsys.readouterr().err
