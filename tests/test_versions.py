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


@pytest.mark.parametrize("toolchain", [
    "leanprover/lean4:v4.8.0", "leanprover/lean4:v4.3.0-rc2", "leanprover/lean4:v4.3.0-rc1", "leanprover/lean4:4.9.0",
    "leanprover/lean4:v4.3.0", "leanprover/lean4:v4.3.1", "leanprover/lean4:v4.2.0", "leanprover/lean4:v5.0.0-rc1",
    "leanprover/lean4:v4.10.0-rc3", "leanprover/lean4:nightly-2023-08-19", "leanprover/lean4:stable",
    "leanprover-community/lean:3.51.1", "leanprover/lean4:v4", " leanprover/lean4:v4.9.0 \n",
])
def test_the_copy_of_lean_dojos_rule_gives_its_verdict(toolchain: str) -> None:
    from lean_dojo.data_extraction.lean import get_lean4_version_from_config, is_supported_version

    try:
        version = get_lean4_version_from_config(toolchain)
    except AssertionError:
        version = ""
    try:
        supported = bool(version) and bool(is_supported_version(version))
    except (AssertionError, ValueError, IndexError):
        supported = False
    verdict = lean_dojo_support(toolchain)
    assert (verdict.version, verdict.supported) == (version, supported)


def test_reading_the_versions_does_not_import_lean_dojo_before_its_settings(tmp_path: Path) -> None:
    """lean_dojo reads TMP_DIR, CACHE_DIR… once, at import: ``--compatible`` asks for the versions first, and the
    LeanDojo that proving and tracing import afterwards must still see the workdir's settings."""
    import os
    import subprocess
    import sys

    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from leanagent.versions import lean_dojo_support\n"
        "assert lean_dojo_support('leanprover/lean4:v4.9.0').supported\n"
        "before = 'lean_dojo' in sys.modules\n"
        "from prover.dojo import import_lean_dojo\n"
        "ld = import_lean_dojo(Path(sys.argv[1]))\n"
        "c = sys.modules['lean_dojo.constants']\n"
        "print(json.dumps([before, str(c.TMP_DIR), str(c.CACHE_DIR), c.DISABLE_REMOTE_CACHE]))\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("CACHE_DIR", "TMP_DIR", "DISABLE_REMOTE_CACHE", "GITHUB_ACCESS_TOKEN", "GITHUB_TOKEN")}
    env.update(HOME=str(tmp_path / "home"), PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "w")], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    before, tmp_dir, cache_dir, no_remote = json.loads(done.stdout.strip().splitlines()[-1])
    assert not before
    assert (tmp_dir, cache_dir, no_remote) == (str(tmp_path / "w" / "lean_dojo" / "tmp"),
                                               str(tmp_path / "w" / "lean_dojo" / "cache"), True)
    assert not (tmp_path / "home" / ".cache").exists()  # nothing in the user's cache


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


def _history(tmp_path: Path, toolchains: list[str]) -> tuple[Path, list[str]]:
    """A work tree with one commit per toolchain (each also adding a theorem); returns (root, commits)."""
    from tests.conftest import run_git, write_files

    root = tmp_path / "hist"
    root.mkdir()
    run_git(root, "init", "-q", "-b", "main")
    commits = []
    for i, toolchain in enumerate(toolchains):
        write_files(root, {"lean-toolchain": f"{toolchain}\n",
                           f"H/T{i}.lean": f"theorem t{i} : {i} = {i} := by\n  rfl\n"})
        run_git(root, "add", ".")
        run_git(root, "commit", "-qm", f"c{i}")
        commits.append(run_git(root, "rev-parse", "HEAD"))
    return root, commits


def test_compatible_walks_back_to_the_newest_commit_leandojo_can_trace(tmp_path: Path, capsys) -> None:
    from leanagent.gitutil import compatible_commit
    from leanagent.versions import lean_dojo_support

    ok = "leanprover/lean4:v4.8.0"
    root, commits = _history(tmp_path, [ok, ok, "leanprover/lean4:nightly-2023-08-19", "leanprover/lean4:v4.2.0"])
    supported = lambda t: lean_dojo_support(t).supported  # noqa: E731
    assert compatible_commit(root / ".git", commits[3], supported) == commits[1]
    assert compatible_commit(root / ".git", commits[1], supported) == commits[1]
    assert main(["scan", str(root), "--json", "--workdir", str(tmp_path / "w"), "-q", "--compatible"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["commit"] == commits[1] and summary["lean_dojo"]["supported"] and summary["theorems"] == 2
    [note] = summary["warnings"]  # the commit used, reported
    assert f"{commits[3][:12]} has leanprover/lean4:v4.2.0, which LeanDojo cannot trace; using {commits[1][:12]}" \
        in note
    assert main(["scan", str(root), "--json", "--workdir", str(tmp_path / "w"), "-q"]) == 0  # as it is
    assert json.loads(capsys.readouterr().out)["theorems"] == 4


def test_compatible_without_any_traceable_commit_is_one_line(tmp_path: Path, capsys) -> None:
    root, commits = _history(tmp_path, ["leanprover/lean4:v4.2.0"])
    assert main(["scan", str(root), "--workdir", str(tmp_path / "w"), "-q", "--compatible"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no commit at or before" in err and "LeanDojo supports" in err
