"""Shared fixtures: small git repositories of Lean files, made in a temporary directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

_LEAN_DOJO_TMP: list[str] = []


def pytest_configure(config) -> None:
    """lean_dojo reads its settings once, at import, and makes its cache directory then; a test module may import
    it while being collected, before any fixture runs. Its settings point into a directory of this session
    (removed at its end), never at ~/.cache, and without a GitHub token (with one, its import asks GitHub)."""
    if "lean_dojo" in sys.modules:
        return
    root = tempfile.mkdtemp(prefix="leanagent-tests-lean_dojo-")
    _LEAN_DOJO_TMP.append(root)
    os.environ.update({"CACHE_DIR": os.path.join(root, "cache"), "TMP_DIR": os.path.join(root, "tmp"),
                       "DISABLE_REMOTE_CACHE": "1"})
    os.makedirs(os.environ["TMP_DIR"], exist_ok=True)
    os.environ.pop("GITHUB_ACCESS_TOKEN", None)


def pytest_unconfigure(config) -> None:
    for root in _LEAN_DOJO_TMP:
        shutil.rmtree(root, ignore_errors=True)

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
    "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": "/nonexistent",
}


@pytest.fixture(autouse=True)
def _no_minilm_auto(monkeypatch) -> None:
    """Model ``auto`` means ``byt5-tiny`` in every test, whether or not the [minilm] extra is installed, so
    the suite is the same (and fast) everywhere; tests of ``auto`` itself patch this back."""
    monkeypatch.setattr("leanagent.config.minilm_installed", lambda: False)


@pytest.fixture(autouse=True, scope="session")
def _float32_embeddings() -> Iterator[None]:
    """Embeddings in float32 in every test and every module's shared run, whatever bf16 this CPU has, so that
    the figures the tests assert are the same on every machine; the test of bf16 itself patches it back."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("retrieval.encoder.cpu_bf16", lambda: False)
        yield


def run_git(cwd: Path, *args: str) -> str:
    """Run git deterministically (fixed author and dates) and return stdout."""
    done = subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, timeout=60,
                          check=True)
    return done.stdout.strip()


def write_files(root: Path, files: dict[str, str]) -> None:
    """Write ``files`` (relative path → text) under ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def partial_mirror(tmp_path: Path, files: dict[str, str], drop: list[str]) -> tuple[Path, str]:
    """A bare repository of ``files`` (loose objects) from which the blobs of ``drop`` were deleted."""
    work = tmp_path / "src"
    work.mkdir()
    run_git(work, "init", "-q", "-b", "main")
    write_files(work, files)
    for script in work.glob("*.sh"):
        script.chmod(0o755)
    run_git(work, "add", ".")
    run_git(work, "commit", "-qm", "all")
    bare = tmp_path / "partial.git"
    run_git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))  # local: the loose objects, hard-linked
    for path in drop:
        sha = run_git(bare, "rev-parse", f"HEAD:{path}")
        (bare / "objects" / sha[:2] / sha[2:]).unlink()
    return bare, run_git(bare, "rev-parse", "HEAD")


@pytest.fixture
def lean_git_repo(tmp_path: Path) -> tuple[Path, list[str]]:
    """A work tree with two commits of a tiny Lean project; returns (root, [commit1, commit2])."""
    root = tmp_path / "proj"
    root.mkdir()
    run_git(root, "init", "-q", "-b", "main")
    write_files(root, {
        "lean-toolchain": "leanprover/lean4:v4.9.0\n",
        "Proj/Basic.lean": "theorem one : 1 = 1 := rfl\n",
    })
    run_git(root, "add", ".")
    run_git(root, "commit", "-qm", "first")
    first = run_git(root, "rev-parse", "HEAD")
    write_files(root, {"Proj/Basic.lean": "theorem one : 1 = 1 := rfl\ntheorem two : 2 = 2 := by\n  rfl\n"})
    run_git(root, "commit", "-qam", "second")
    second = run_git(root, "rev-parse", "HEAD")
    return root, [first, second]


@pytest.fixture(scope="module")
def examples_store(tmp_path_factory):
    """The three example projects scanned into one store: ``(store, [repo, …])`` in the examples' order."""
    from database.store import Store
    from leanagent.repos import RepoSpec
    from leanagent.scanning import ScanOptions, scan_repository

    tmp = tmp_path_factory.mktemp("examples")
    store = Store.open(tmp / "db.sqlite")
    repos = []
    for name in ("nat-basics", "list-lemmas", "expr-eval"):
        result = scan_repository(RepoSpec(str(EXAMPLES / name), None), ScanOptions(cache_dir=tmp / "cache"))
        store.ingest(result.scan)
        repos.append(result.scan.repo)
    return store, repos
