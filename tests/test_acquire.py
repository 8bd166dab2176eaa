"""Acquisition: work trees, bare directories, URLs (file:// stands in for the network), dependencies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from database.records import Dependency
from leanagent.acquire import (AcquireError, acquire, find_dependency, missing_warnings, read_manifest,
                               read_toolchain)
from leanagent.repos import RepoSpec
from tests.conftest import partial_mirror, run_git, write_files


def _spec(source: str | Path, commit: str | None = None) -> RepoSpec:
    return RepoSpec(str(source), commit)


def test_clean_work_tree_is_read_in_place_at_head(lean_git_repo, tmp_path: Path) -> None:
    root, (_, second) = lean_git_repo
    checkout = acquire(_spec(root), tmp_path / "cache")
    assert checkout.root == root
    assert checkout.repo.commit == second
    assert checkout.repo.url == str(root)
    assert checkout.repo.name == "proj"
    assert checkout.repo.lean_version == "leanprover/lean4:v4.9.0"


def test_dirty_work_tree_gets_a_content_hash_not_head(lean_git_repo, tmp_path: Path) -> None:
    root, (_, second) = lean_git_repo
    (root / "Proj" / "Basic.lean").write_text("theorem changed : True := trivial\n")
    first = acquire(_spec(root), tmp_path / "cache").repo.commit
    assert first.startswith("tree-") and first != second
    assert acquire(_spec(root), tmp_path / "cache").repo.commit == first  # stable
    (root / "Proj" / "Basic.lean").write_text("theorem changed2 : True := trivial\n")
    assert acquire(_spec(root), tmp_path / "cache").repo.commit != first


def test_work_tree_at_an_older_commit_is_exported_to_the_cache(lean_git_repo, tmp_path: Path) -> None:
    root, (first, _) = lean_git_repo
    checkout = acquire(_spec(root, first[:10]), tmp_path / "cache")
    assert checkout.repo.commit == first
    assert checkout.root.parent == tmp_path / "cache" / "src"
    assert (checkout.root / "Proj" / "Basic.lean").read_text() == "theorem one : 1 = 1 := rfl\n"
    assert root.joinpath("Proj/Basic.lean").read_text().count("theorem") == 2  # work tree untouched


def test_bare_directory_and_file_url(lean_git_repo, tmp_path: Path) -> None:
    root, (first, second) = lean_git_repo
    bare = tmp_path / "mirror" / "repo"
    run_git(tmp_path, "clone", "-q", "--bare", str(root), str(bare))
    checkout = acquire(_spec(bare), tmp_path / "cache")
    assert checkout.repo.commit == second and checkout.repo.name == "mirror"
    assert (checkout.root / "lean-toolchain").is_file()
    # A URL: cloned once into the cache, only the commit asked for is fetched.
    url = f"file://{bare}"
    by_url = acquire(RepoSpec(url, first), tmp_path / "cache")
    assert by_url.repo.commit == first and by_url.repo.url == url
    assert (by_url.root / "Proj" / "Basic.lean").read_text().count("theorem") == 1
    assert len(list((tmp_path / "cache" / "git").iterdir())) == 1
    again = acquire(RepoSpec(url, first), tmp_path / "cache")
    assert again == by_url


def test_errors_name_the_repository_and_the_next_step(lean_git_repo, tmp_path: Path) -> None:
    root, _ = lean_git_repo
    with pytest.raises(AcquireError, match="commit deadbeef not found"):
        acquire(_spec(root, "deadbeef"), tmp_path / "cache")
    with pytest.raises(AcquireError, match="no such directory"):
        acquire(_spec(tmp_path / "nope"), tmp_path / "cache")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(AcquireError, match="not the root of a git repository"):
        acquire(_spec(plain, "abc1234"), tmp_path / "cache")
    with pytest.raises(AcquireError, match="cannot fetch .*no network"):
        acquire(RepoSpec(f"file://{tmp_path}/absent", None), tmp_path / "cache")


def test_plain_directory_without_git_is_identified_by_content(tmp_path: Path) -> None:
    write_files(tmp_path / "p", {"A.lean": "theorem a : True := trivial\n"})
    repo = acquire(_spec(tmp_path / "p"), tmp_path / "cache").repo
    assert repo.commit.startswith("tree-") and repo.lean_version == ""


def test_manifest_formats(tmp_path: Path) -> None:
    new = {"version": 7, "packages": [
        {"url": "https://github.com/leanprover-community/mathlib4.git", "type": "git", "rev": "abc",
         "name": "mathlib", "inputRev": "master"},
        {"type": "path", "name": "local", "dir": "./vendor/local"}]}
    (tmp_path / "lake-manifest.json").write_text(json.dumps(new))
    assert read_manifest(tmp_path) == (
        Dependency("mathlib", "https://github.com/leanprover-community/mathlib4", "abc"),
        Dependency("local", str((tmp_path / "vendor" / "local").resolve()), ""),
    )
    old = {"version": 4, "packagesDir": "lake-packages", "packages": [
        {"git": {"url": "https://github.com/leanprover/std4", "rev": "def", "name": "std"}}]}
    (tmp_path / "lake-manifest.json").write_text(json.dumps(old))
    assert read_manifest(tmp_path) == (Dependency("std", "https://github.com/leanprover/std4", "def"),)
    (tmp_path / "lake-manifest.json").write_text("{not json")
    with pytest.raises(AcquireError, match="not valid JSON"):
        read_manifest(tmp_path)
    assert read_toolchain(tmp_path) == ""


def test_dependencies_found_locally_or_reported(lean_git_repo, tmp_path: Path) -> None:
    root, (first, _) = lean_git_repo
    cache = tmp_path / "cache"
    # 1. Lake's own checkout in .lake/packages.
    write_files(root, {".lake/packages/dep/Dep.lean": "def d := 1\n"})
    dep = Dependency("dep", "https://example.invalid/o/dep", "0" * 40)
    assert find_dependency(dep, root, cache) == root / ".lake" / "packages" / "dep"
    # 2. A git repository in a --deps-dir, holding the pinned revision: exported at that revision.
    other = Dependency("other", "https://example.invalid/o/proj", first)
    found = find_dependency(other, tmp_path / "elsewhere", cache, [root.parent], allow_network=False)
    assert (found / "Proj" / "Basic.lean").read_text() == "theorem one : 1 = 1 := rfl\n"
    # 3. Missing and offline: one clear error naming the package.
    missing = Dependency("mathlib", "https://example.invalid/o/mathlib4", "1" * 40)
    with pytest.raises(AcquireError, match="dependency mathlib .* not found locally"):
        find_dependency(missing, root, cache, allow_network=False)


FILES = {"lean-toolchain": "leanprover/lean4:v4.9.0\n", "Proj/A.lean": "theorem a : 1 = 1 := rfl\n",
         "Proj/Big.lean": "theorem big : 2 = 2 := rfl\n", "run.sh": "#!/bin/sh\necho hi\n"}


def test_a_mirror_missing_a_blob_exports_the_rest_and_names_the_file(tmp_path: Path) -> None:
    bare, commit = partial_mirror(tmp_path, FILES, ["Proj/Big.lean"])
    checkout = acquire(_spec(bare), tmp_path / "cache")
    assert checkout.repo.commit == commit
    assert (checkout.root / "Proj" / "A.lean").read_text() == FILES["Proj/A.lean"]
    assert not (checkout.root / "Proj" / "Big.lean").exists()
    assert (checkout.root / "run.sh").stat().st_mode & 0o111  # modes kept
    assert checkout.warnings == (f"{bare} @ {commit[:12]}: Proj/Big.lean is missing from the git data "
                                 "(partial clone?); skipped",)
    again = acquire(_spec(bare), tmp_path / "cache")  # the partial tree is exported (and warned about) again
    assert again.root == checkout.root and again.warnings == checkout.warnings


def test_many_missing_files_are_counted_past_ten_and_no_lean_file_fails(tmp_path: Path) -> None:
    files = {f"Proj/F{i:02}.lean": f"theorem f{i} : {i} = {i} := rfl\n" for i in range(13)}
    assert len(missing_warnings("r", "c", sorted(files))) == 11
    assert missing_warnings("r", "c", sorted(files))[-1] == "r @ c: 3 more files are missing from the git data; skipped"
    bare, commit = partial_mirror(tmp_path, {**files, "lean-toolchain": "leanprover/lean4:v4.9.0\n"}, list(files))
    with pytest.raises(AcquireError) as err:
        acquire(_spec(bare), tmp_path / "cache")
    assert "none of its 13 Lean files can be read" in str(err.value) and "\n" not in str(err.value)


def test_links_inside_the_tree_are_kept_and_links_out_of_it_dropped(tmp_path: Path) -> None:
    work = tmp_path / "src"
    work.mkdir()
    run_git(work, "init", "-q", "-b", "main")
    write_files(work, {"Proj/A.lean": "theorem a : 1 = 1 := rfl\n"})
    (work / "inside.lean").symlink_to("Proj/A.lean")
    (work / "outside").symlink_to("../../etc/passwd")
    run_git(work, "add", ".")
    run_git(work, "commit", "-qm", "links")
    root = acquire(_spec(work, "HEAD"), tmp_path / "cache").root
    assert (root / "inside.lean").is_symlink() and (root / "inside.lean").read_text() == "theorem a : 1 = 1 := rfl\n"
    assert not (root / "outside").exists() and not (root / "outside").is_symlink()
