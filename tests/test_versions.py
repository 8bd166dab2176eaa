"""Whether the installed LeanDojo can trace a repository's Lean version: its own verdict, shown by scan and
curriculum."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leanagent.cli import main
from leanagent.versions import lean_dojo_support

pytest.importorskip("lean_dojo")


@pytest.mark.parametrize("toolchain, version, supported", [
    ("leanprover/lean4:v4.8.0", "v4.8.0", True),
    ("leanprover/lean4:v4.3.0-rc2", "v4.3.0-rc2", True),
    ("leanprover/lean4:4.9.0", "v4.9.0", True),
    ("leanprover/lean4:v4.3.0-rc1", "v4.3.0-rc1", False),
    ("leanprover/lean4:v4.2.0", "v4.2.0", False),
    ("leanprover/lean4:nightly-2023-08-19", "nightly-2023-08-19", False),
    ("leanprover-community/lean:3.51.1", "", False),
    ("", "", False),
])
def test_lean_dojos_own_verdict(toolchain: str, version: str, supported: bool) -> None:
    verdict = lean_dojo_support(toolchain)
    assert (verdict.version, verdict.supported) == (version, supported)
    assert ("not supported" in verdict.why or "not a Lean 4" in verdict.why or "no lean-toolchain" in verdict.why) \
        == (not supported)


def test_scan_and_curriculum_say_which_repositories_leandojo_cannot_trace(tmp_path: Path, capsys) -> None:
    old = tmp_path / "old"
    (old / "Old").mkdir(parents=True)
    (old / "lean-toolchain").write_text("leanprover/lean4:v4.2.0\n")
    (old / "Old" / "A.lean").write_text("theorem a : 1 = 1 := by\n  rfl\n")
    assert main(["scan", str(old), "--json", "--workdir", str(tmp_path / "w"), "-q"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["lean_dojo"]["version"] == "v4.2.0" and not summary["lean_dojo"]["supported"]
    assert summary["theorems"] == 1  # static extraction works whatever the version
    (tmp_path / "repos.txt").write_text(f"{old}\n")
    assert main(["curriculum", str(tmp_path / "repos.txt"), "--workdir", str(tmp_path / "w"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "v4.2.0 (no)" in out and "old: Lean v4.2.0: not supported by LeanDojo" in out
    assert "static extraction only" in out
