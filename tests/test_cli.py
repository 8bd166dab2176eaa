"""The command line: help everywhere, exit codes, JSON keys that later checks read, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from leanagent.cli import build_parser, main
from tests.conftest import EXAMPLES, partial_mirror, write_files

SCAN_KEYS = {"lean_version", "files", "theorems", "sorry_theorems", "placeholders", "premises", "seconds"}
CURRICULUM_KEYS = {"repo", "commit", "easy", "medium", "hard", "sorry_theorems"}


def _commands() -> list[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sorted(sub.choices)


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_with_an_example(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert f"leanagent {command}" in out and "example" in out


def test_no_command_is_a_usage_error(capsys) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_module_entry_point_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "leanagent", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "curriculum" in done.stdout


def test_scan_json_of_an_example(tmp_path: Path, capsys) -> None:
    assert main(["scan", str(EXAMPLES / "nat-basics"), "--json", "--workdir", str(tmp_path), "-q"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert SCAN_KEYS <= set(out)
    # Counted by hand in examples/nat-basics: 18 + 9 theorems (one more sits in a comment), 3 sorry,
    # 27 theorems + 3 defs as premises.
    assert out["lean_version"] == "leanprover/lean4:v4.9.0"
    assert (out["files"], out["theorems"], out["sorry_theorems"], out["placeholders"]) == (4, 27, 3, 0)
    assert out["premises"] == 30 and out["warnings"] == []


def test_scan_bad_sources_give_one_line_and_exit_1(tmp_path: Path, capsys) -> None:
    assert main(["scan", str(tmp_path / "missing"), "--workdir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such directory" in err[0]
    write_files(tmp_path / "notlean", {"README.md": "hello\n", "main.py": "print(1)\n"})
    assert main(["scan", str(tmp_path / "notlean"), "--workdir", str(tmp_path)]) == 1
    assert "no .lean files" in capsys.readouterr().err


def test_scan_of_garbage_lean_files_warns_and_goes_on(tmp_path: Path, capsys) -> None:
    write_files(tmp_path / "p", {"Good.lean": "theorem good : True := by\n  trivial\n",
                                 "Open.lean": "/- never closed\ntheorem hidden : True := trivial\n"})
    (tmp_path / "p" / "Bin.lean").write_bytes(b"\x00\xff\xfe theorem junk \x80\x81")
    assert main(["scan", str(tmp_path / "p"), "--json", "--workdir", str(tmp_path / "w")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["theorems"] == 1 and out["files"] == 3
    assert any("Open.lean" in w for w in out["warnings"])
    assert any("Bin.lean" in w for w in out["warnings"])


def test_curriculum_json_of_the_examples(tmp_path: Path, capsys) -> None:
    assert main(["curriculum", str(EXAMPLES / "repos.txt"), "--json", "--workdir", str(tmp_path), "-q"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 3 and all(CURRICULUM_KEYS <= set(r) for r in rows)
    assert [r["easy"] for r in rows] == sorted((r["easy"] for r in rows), reverse=True)
    assert sum(r["sorry_theorems"] for r in rows) >= 3


def test_curriculum_reports_bad_lines_and_does_the_rest(tmp_path: Path, capsys) -> None:
    listing = tmp_path / "repos.txt"
    listing.write_text(f"{EXAMPLES / 'nat-basics'}\nnot a valid line at all\n{tmp_path / 'missing'}\n")
    assert main(["curriculum", str(listing), "--json", "--workdir", str(tmp_path / "w"), "-q"]) == 1
    captured = capsys.readouterr()
    assert [r["repo"] for r in json.loads(captured.out)] == ["nat-basics"]
    assert f"{listing}:2:" in captured.err and f"{listing}:3:" in captured.err


def test_curriculum_of_a_missing_file_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["curriculum", str(tmp_path / "nope.txt")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_traced_scan_without_lean_is_one_line_and_exit_2(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("ELAN_HOME", str(tmp_path / "no-elan"))
    assert main(["scan", str(EXAMPLES / "nat-basics"), "--traced", "--workdir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("leanagent scan: no Lean toolchain") and "v4.9.0" in err


def test_a_traced_run_without_lean_is_refused_at_once(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("ELAN_HOME", str(tmp_path / "no-elan"))
    code = main(["run", str(EXAMPLES / "repos.txt"), "--workdir", str(tmp_path / "w"), "-q",
                 "--set", "acquire.extractor=traced"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    assert err.startswith("leanagent run: acquire.extractor = traced needs Lean: no Lean toolchain")
    assert not (tmp_path / "w").exists()  # refused before anything was written


def test_scan_of_a_mirror_missing_a_blob_warns_and_scans_the_rest(tmp_path: Path, capsys) -> None:
    files = {"lean-toolchain": "leanprover/lean4:v4.9.0\n", "P/A.lean": "theorem a : 1 = 1 := by\n  rfl\n",
             "P/B.lean": "theorem b : 2 = 2 := by\n  rfl\n"}
    bare, commit = partial_mirror(tmp_path, files, ["P/B.lean"])
    assert main(["scan", str(bare), "--json", "--workdir", str(tmp_path / "w"), "-q"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["files"], out["theorems"]) == (1, 1)
    assert out["warnings"] == [f"{bare} @ {commit[:12]}: P/B.lean is missing from the git data (partial clone?); "
                               "skipped"]
