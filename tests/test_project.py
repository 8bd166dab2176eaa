"""Project preparation for Lean: git work trees at real commits, Lake dependencies at their pinned revisions,
the build's commands and sandboxes (no Lean needed: the runner is replaced), the finished-build marker."""

from __future__ import annotations

import json
import shutil
import re
from pathlib import Path

import pytest

from leanagent.acquire import acquire, slug
from leanagent.repos import RepoSpec
from prover.env import LeanUnavailable
from leanagent.project import (BuildStep, LeanProject, ProjectError, build_commands, build_project,
                            fetch_dependencies, is_built, prepare_project, sandbox_for, worktree)
from prover.sandbox import SandboxResult
from tests.conftest import run_git, write_files

PROJECT = {
    "lean-toolchain": "leanprover/lean4:v4.9.0\n",
    "lakefile.lean": "import Lake\nopen Lake DSL\npackage proj\n@[default_target] lean_lib Proj\n",
    "Proj/Basic.lean": "theorem one : 1 = 1 := rfl\n",
}


def _repo_with_commits(path: Path, versions: list[dict[str, str]]) -> list[str]:
    """A work tree at ``path`` with one commit per dict of files; its commits."""
    path.mkdir(parents=True)
    run_git(path, "init", "-q", "-b", "main")
    commits = []
    for i, files in enumerate(versions):
        write_files(path, files)
        run_git(path, "add", ".")
        run_git(path, "commit", "-qm", f"v{i}")
        commits.append(run_git(path, "rev-parse", "HEAD"))
    return commits


def _manifest(packages: list[dict], version: int = 7, **extra) -> str:
    return json.dumps({"version": version, "packagesDir": ".lake/packages", "packages": packages, **extra}
                      if version >= 7 else {"version": version, "packages": packages, **extra})


def _git_pkg(name: str, url: str, rev: str) -> dict:
    return {"type": "git", "name": name, "url": url, "rev": rev, "inputRev": "main", "inherited": False,
            "scope": "", "manifestFile": "lake-manifest.json"}


def _ok(stdout: str = "", stderr: str = "", code: int = 0, timed_out: bool = False) -> SandboxResult:
    return SandboxResult(code, stdout, stderr, 0.1, timed_out)


class Recorder:
    """A runner that records each command and answers from a list (the last answer repeats)."""

    def __init__(self, *answers: SandboxResult) -> None:
        self.calls: list[tuple[list[str], Path]] = []
        self.answers = list(answers) or [_ok()]

    def __call__(self, argv, cwd):
        self.calls.append((list(argv), Path(cwd)))
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


# ---- work trees ------------------------------------------------------------------------------------------

def test_work_tree_from_the_acquire_caches_bare_clone(tmp_path: Path) -> None:
    src = tmp_path / "upstream"
    first, second = _repo_with_commits(src, [PROJECT, {"Proj/Basic.lean": "theorem two : 2 = 2 := rfl\n"}])
    bare = tmp_path / "mirror.git"
    run_git(tmp_path, "clone", "-q", "--bare", str(src), str(bare))
    url = f"file://{bare}"
    cache, work = tmp_path / "cache", tmp_path / "work"
    repo = acquire(RepoSpec(url, first), cache).repo
    assert not (Path(repo.path) / ".git").exists()  # acquire hands over an exported tree
    shutil.rmtree(bare)
    shutil.rmtree(src)  # only the cache's bare clone (fetched at depth 1) holds the commit now

    root, commit = worktree(repo, work, cache_dir=cache)
    assert (root, commit) == (work.resolve() / "lean" / f"{slug(url)}@{first[:12]}", first)
    assert run_git(root, "rev-parse", "HEAD") == first
    assert run_git(root, "status", "--porcelain") == ""
    assert run_git(root, "remote", "get-url", "origin") == url
    assert (root / "Proj" / "Basic.lean").read_text() == "theorem one : 1 = 1 := rfl\n"
    assert not (root / ".git").is_file()  # its own git directory, no link into the cache
    assert not (root / ".git" / "objects" / "info" / "alternates").exists()

    (root / ".lake").mkdir()
    (root / ".lake" / "kept").write_text("build output")
    assert worktree(repo, work, cache_dir=cache) == (root, first)  # reused, not made again
    assert (root / ".lake" / "kept").read_text() == "build output"


def test_clean_local_work_tree_keeps_its_commit(tmp_path: Path) -> None:
    src = tmp_path / "proj"
    (head,) = _repo_with_commits(src, [PROJECT])
    repo = acquire(RepoSpec(str(src), None), tmp_path / "cache").repo
    root, commit = worktree(repo, tmp_path / "work")
    assert commit == head == run_git(root, "rev-parse", "HEAD")
    assert "origin" not in run_git(root, "remote")  # a local path is no URL to name


def test_uncommitted_local_tree_gets_one_real_reproducible_commit(tmp_path: Path, monkeypatch) -> None:
    src = tmp_path / "proj"
    (head,) = _repo_with_commits(src, [{**PROJECT, ".gitignore": "*.olean\n"}])
    write_files(src, {"Proj/Basic.lean": "theorem changed : True := trivial\n",  # edited, not committed
                      "Proj/New.lean": "theorem new : 2 = 2 := rfl\n",  # untracked
                      "Proj/Basic.olean": "ignored", ".lake/build/x": "build output"})
    repo = acquire(RepoSpec(str(src), None), tmp_path / "cache").repo
    assert repo.commit.startswith("tree-")

    root, commit = worktree(repo, tmp_path / "work")
    assert re.fullmatch(r"[0-9a-f]{40}", commit) and commit != head
    assert run_git(root, "cat-file", "-t", commit) == "commit"
    assert run_git(root, "rev-parse", "HEAD") == commit and root.name.endswith(f"@{commit[:12]}")
    assert run_git(root, "status", "--porcelain") == ""
    assert sorted(run_git(root, "ls-files").split()) == [".gitignore", "Proj/Basic.lean", "Proj/New.lean",
                                                          "lakefile.lean", "lean-toolchain"]
    assert (root / "Proj" / "Basic.lean").read_text() == "theorem changed : True := trivial\n"
    assert worktree(repo, tmp_path / "work") == (root, commit)  # stable across calls
    day = "2011-11-11T11:11:11+0000"
    for name, value in [("GIT_AUTHOR_DATE", day), ("GIT_COMMITTER_DATE", day), ("GIT_AUTHOR_NAME", "someone"),
                        ("GIT_COMMITTER_EMAIL", "someone@example.org")]:
        monkeypatch.setenv(name, value)  # another user, another day: the same commit
    assert worktree(repo, tmp_path / "elsewhere")[1] == commit

    write_files(src, {"Proj/New.lean": "theorem new : 3 = 3 := rfl\n"})
    edited = acquire(RepoSpec(str(src), None), tmp_path / "cache").repo
    assert worktree(edited, tmp_path / "work")[1] != commit


def test_exported_tree_without_git_data_is_committed_afresh(tmp_path: Path) -> None:
    src = tmp_path / "upstream"
    (head,) = _repo_with_commits(src, [PROJECT])
    repo = acquire(RepoSpec(f"file://{src}", None), tmp_path / "cache").repo
    shutil.rmtree(tmp_path / "cache" / "git")  # the cache lost its clone; only the exported files remain
    shutil.rmtree(src)
    root, commit = worktree(repo, tmp_path / "work", cache_dir=tmp_path / "cache")
    assert commit != head and run_git(root, "rev-parse", "HEAD") == commit
    assert (root / "Proj" / "Basic.lean").read_text() == PROJECT["Proj/Basic.lean"]


# ---- dependencies ----------------------------------------------------------------------------------------

def _project_with_manifest(tmp_path: Path, manifest: str) -> Path:
    root = tmp_path / "root"
    _repo_with_commits(root, [{**PROJECT, "lake-manifest.json": manifest}])
    return root


def test_dependencies_come_from_deps_dirs_at_their_pinned_revisions(tmp_path: Path) -> None:
    old, _new = _repo_with_commits(tmp_path / "a-src", [{"A.lean": "def a := 1\n"}, {"A.lean": "def a := 2\n"}])
    (b_rev,) = _repo_with_commits(tmp_path / "mirrors" / "depB", [{"B.lean": "def b := 1\n"}])  # a work tree
    mirrors = tmp_path / "mirrors"
    run_git(tmp_path, "clone", "-q", "--bare", str(tmp_path / "a-src"), str(mirrors / "depA.git"))
    raw_url = "https://example.invalid/owner/depA.git"
    root = _project_with_manifest(tmp_path, _manifest([
        _git_pkg("depA", raw_url, old),  # pinned behind the mirror's tip
        _git_pkg("missing", "https://example.invalid/owner/missing", "0" * 40),
        _git_pkg("depB", "https://example.invalid/owner/depB", b_rev)]))

    warnings = fetch_dependencies(root, cache_dir=tmp_path / "cache", deps_dirs=[mirrors], offline=True)
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert warnings[0].startswith("dependency missing (https://example.invalid/owner/missing @ 000000000000)")
    depa, depb = root / ".lake" / "packages" / "depA", root / ".lake" / "packages" / "depB"
    assert run_git(depa, "rev-parse", "HEAD") == old and (depa / "A.lean").read_text() == "def a := 1\n"
    assert run_git(depa, "remote", "get-url", "origin") == raw_url  # as Lake wrote it
    assert run_git(depa, "status", "--porcelain") == ""
    assert run_git(depb, "rev-parse", "HEAD") == b_rev

    shutil.rmtree(mirrors)  # a second call keeps what is there at the pinned revision
    assert fetch_dependencies(root, cache_dir=tmp_path / "cache", offline=True) == warnings
    assert run_git(depa, "rev-parse", "HEAD") == old


def test_a_dependency_at_another_revision_is_replaced(tmp_path: Path) -> None:
    old, new = _repo_with_commits(tmp_path / "mirrors" / "depA", [{"A.lean": "def a := 1\n"},
                                                                   {"A.lean": "def a := 2\n"}])
    root = _project_with_manifest(tmp_path, _manifest([_git_pkg("depA", "https://example.invalid/o/depA", new)]))
    run_git(tmp_path, "clone", "-q", str(tmp_path / "mirrors" / "depA"), str(root / ".lake" / "packages" / "depA"))
    run_git(root / ".lake" / "packages" / "depA", "checkout", "-q", old)
    assert fetch_dependencies(root, cache_dir=tmp_path / "cache", deps_dirs=[tmp_path / "mirrors"]) == []
    assert run_git(root / ".lake" / "packages" / "depA", "rev-parse", "HEAD") == new


def test_the_network_is_git_into_the_acquire_cache(tmp_path: Path) -> None:
    (rev,) = _repo_with_commits(tmp_path / "remote", [{"A.lean": "def a := 1\n"}])
    url = f"file://{tmp_path / 'remote'}"  # stands in for the network
    root = _project_with_manifest(tmp_path, _manifest([_git_pkg("depA", url, rev)]))
    offline = fetch_dependencies(root, cache_dir=tmp_path / "cache", offline=True)
    assert len(offline) == 1 and "offline" in offline[0]
    assert fetch_dependencies(root, cache_dir=tmp_path / "cache") == []
    assert run_git(root / ".lake" / "packages" / "depA", "rev-parse", "HEAD") == rev
    assert (tmp_path / "cache" / "git" / f"{slug(url)}.git").is_dir()  # acquire's bare-clone cache


def test_old_manifests_nest_packages_and_use_lake_packages(tmp_path: Path) -> None:
    (rev,) = _repo_with_commits(tmp_path / "mirrors" / "std4", [{"Std.lean": "def s := 1\n"}])
    nested = [{"git": {"name": "std", "url": "https://github.com/leanprover/std4", "rev": rev}}]
    root = _project_with_manifest(tmp_path, _manifest(nested, version=4))
    assert fetch_dependencies(root, cache_dir=tmp_path / "cache", deps_dirs=[tmp_path / "mirrors"]) == []
    assert run_git(root / "lake-packages" / "std", "rev-parse", "HEAD") == rev


# ---- building --------------------------------------------------------------------------------------------

def _project(tmp_path: Path, packages: list[dict] = ()) -> LeanProject:
    root = tmp_path / "root"
    (commit,) = _repo_with_commits(root, [{**PROJECT, "lake-manifest.json": _manifest(list(packages))}])
    return LeanProject(root.resolve(), commit, "leanprover/lean4:v4.9.0")


MATHLIB = _git_pkg("mathlib", "https://github.com/leanprover-community/mathlib4", "1" * 40)


def test_build_commands_cache_get_only_with_mathlib_and_when_on(tmp_path: Path) -> None:
    work = tmp_path / "work"
    plain = _project(tmp_path / "plain")
    assert build_commands(plain, cache_get=True, workdir=work) == [BuildStep("build", ("lake", "build"), False)]
    with_mathlib = _project(tmp_path / "ml", [MATHLIB])
    steps = build_commands(with_mathlib, cache_get=True, workdir=work, lake="/e/bin/lake", elan=True)
    assert [(s.name, s.network) for s in steps] == [("toolchain", True), ("cache", True), ("build", False)]
    assert steps[0].argv == ("/e/bin/lake", "--version")  # elan fetches the pinned Lean; no repository code
    assert steps[1].argv == ("env", f"MATHLIB_CACHE_DIR={work.resolve() / 'mathlib-cache'}",
                             f"XDG_CACHE_HOME={work.resolve() / 'cache'}", "/e/bin/lake", "exe", "cache", "get")
    assert [s.name for s in build_commands(with_mathlib, cache_get=False, workdir=work)] == ["build"]
    assert [s.name for s in build_commands(with_mathlib, cache_get=True, workdir=work, elan=True,
                                           offline=True)] == ["build"]


def test_only_the_network_steps_get_the_network_in_their_sandbox(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ELAN_HOME", str(tmp_path / "elan"))
    (tmp_path / "elan").mkdir()
    work = tmp_path / "work"
    work.mkdir()
    project = _project(tmp_path, [MATHLIB])
    for step in build_commands(project, cache_get=True, workdir=work, elan=True):
        box = sandbox_for(step, project, work, timeout=99, bwrap="/usr/bin/bwrap")
        argv = box.command(list(step.argv), project.root)
        assert ("--share-net" in argv) == (step.name != "build") == box.network
        assert "--unshare-all" in argv and argv[-len(step.argv):] == list(step.argv)
        writable = {argv[i + 1] for i, a in enumerate(argv) if a == "--bind"}
        assert writable == {str(project.root), str(work.resolve()), str((tmp_path / "elan").resolve())}
        assert box.limits.wall_seconds == 99


def test_build_runs_cache_then_build_and_is_not_redone(tmp_path: Path) -> None:
    project = _project(tmp_path, [MATHLIB])
    runner = Recorder()
    result = build_project(project, tmp_path / "work", runner=runner)
    assert [argv[-3:] for argv, _ in runner.calls] == [["exe", "cache", "get"], ["lake", "build"]]
    assert all(cwd == project.root for _, cwd in runner.calls)
    assert [s.name for s in result.steps] == ["cache", "build"] and result.log.is_file()
    assert (tmp_path / "work" / "mathlib-cache").is_dir() and is_built(project)
    assert not is_built(LeanProject(project.root, "2" * 40, project.toolchain))  # another commit: not built


def test_failed_build_is_one_line_with_lakes_error(tmp_path: Path) -> None:
    project = _project(tmp_path)
    out = "✖ [2/3] Building Proj.Basic\nerror: ./Proj/Basic.lean:1:8: unknown identifier 'x'\nerror: build failed\n"
    with pytest.raises(ProjectError) as err:
        build_project(project, tmp_path / "work", runner=Recorder(_ok(stdout=out, code=1)))
    message = str(err.value)
    assert "\n" not in message and "`lake build` failed (exit 1)" in message
    assert "unknown identifier 'x'" in message and "root @ " in message
    assert "unknown identifier 'x'" in (tmp_path / "work" / "lean" / "root.build.log").read_text()
    assert not is_built(project)


def test_failed_cache_get_stops_before_the_build(tmp_path: Path) -> None:
    project = _project(tmp_path, [MATHLIB])
    runner = Recorder(_ok(stderr="curl: (6) Could not resolve host: lakecache.blob.core.windows.net\n", code=1))
    with pytest.raises(ProjectError, match=r"`lake exe cache get` failed .*Could not resolve host.*cache_get"):
        build_project(project, tmp_path / "work", runner=runner)
    assert len(runner.calls) == 1


def test_build_past_its_time(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="ran past 5 s"):
        build_project(_project(tmp_path), tmp_path / "work", timeout=5, runner=Recorder(_ok(code=-9, timed_out=True)))


def test_prepare_project_once_then_resumed_without_rebuilding(tmp_path: Path) -> None:
    (dep_rev,) = _repo_with_commits(tmp_path / "mirrors" / "depA", [{"A.lean": "def a := 1\n"}])
    src = tmp_path / "src"
    _repo_with_commits(src, [{**PROJECT, "lake-manifest.json": _manifest([
        _git_pkg("depA", "https://example.invalid/o/depA", dep_rev)])}])
    repo = acquire(RepoSpec(str(src), None), tmp_path / "cache").repo
    runner = Recorder()
    kwargs = dict(cache_dir=tmp_path / "cache", deps_dirs=[tmp_path / "mirrors"], offline=True, runner=runner)
    project = prepare_project(repo, tmp_path / "work", **kwargs)
    assert project.commit == repo.commit and project.toolchain == "leanprover/lean4:v4.9.0"
    assert run_git(project.root / ".lake" / "packages" / "depA", "rev-parse", "HEAD") == dep_rev
    assert [argv for argv, _ in runner.calls] == [["lake", "build"]]
    assert prepare_project(repo, tmp_path / "work", **kwargs) == project
    assert len(runner.calls) == 1  # the finished build is recorded: not redone


def test_prepare_project_stops_before_building_when_a_dependency_is_missing(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _repo_with_commits(src, [{**PROJECT, "lake-manifest.json": _manifest([
        _git_pkg("gone", "https://example.invalid/o/gone", "3" * 40)])}])
    repo = acquire(RepoSpec(str(src), None), tmp_path / "cache").repo
    runner = Recorder()
    with pytest.raises(ProjectError, match="src: not built, a dependency is missing: dependency gone"):
        prepare_project(repo, tmp_path / "work", cache_dir=tmp_path / "cache", offline=True, runner=runner)
    assert runner.calls == []
    project = prepare_project(repo, tmp_path / "work", cache_dir=tmp_path / "cache", offline=True, build=False,
                              runner=runner)
    assert len(project.warnings) == 1 and runner.calls == []


def test_no_lean_fails_in_one_line_before_any_work(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("prover.toolchain.find_toolchain", lambda: None)
    src = tmp_path / "src"
    _repo_with_commits(src, [PROJECT])
    repo = acquire(RepoSpec(str(src), None), tmp_path / "cache").repo
    with pytest.raises(LeanUnavailable) as err:
        prepare_project(repo, tmp_path / "work", cache_dir=tmp_path / "cache")
    assert "\n" not in str(err.value) and "elan" in str(err.value)
    assert not (tmp_path / "work").exists()
