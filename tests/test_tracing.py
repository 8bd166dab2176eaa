"""Tracing with LeanDojo, up to the point where Lean would run: lean_dojo's real ``LeanGitRepo`` is handed what
acquire gives (an exported tree, an edited work tree), the trace itself is a double (it needs Lean), and the
sandbox shims, the shared cache key, GitHub's token and the run's report are checked around it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from database.records import Repo
from leanagent.tracing import TraceFailed, trace_repository
from prover.toolchain import Toolchain
from tests.conftest import EXAMPLES, run_git, write_files

FILES = {"lean-toolchain": "leanprover/lean4:v4.9.0\n", "lakefile.lean": "import Lake\nopen Lake DSL\n",
         "Foo/Basic.lean": "theorem foo : True := sorry\n"}


@pytest.fixture()
def lean_here(monkeypatch):
    """A toolchain and bubblewrap as far as leanagent looks for them (nothing of them runs here)."""
    monkeypatch.setattr("prover.toolchain.find_toolchain", lambda: Toolchain("/opt/lean/bin/lake", "/opt/lean/bin/lean",
                                                                             False))
    monkeypatch.setattr("prover.sandbox.find_bwrap", lambda: "/usr/bin/bwrap")


def fake_lean_dojo(seen: list, fail: BaseException | None = None) -> types.SimpleNamespace:
    """lean_dojo with its real ``LeanGitRepo`` (settings: tests/conftest.py) and a ``trace`` that checks what the
    real one needs (``_trace`` asserts ``repo.exists()``: HEAD at the commit) and what it would run under."""
    ld = pytest.importorskip("lean_dojo")

    def trace(repo, build_deps=True):
        assert isinstance(repo, ld.LeanGitRepo) and repo.exists() and build_deps
        seen.append((repo, os.environ["PATH"].split(os.pathsep)[0]))
        if fail is not None:
            raise fail
        return types.SimpleNamespace(repo=repo, traced_files=[])

    names = ("LeanGitRepo", "DojoInitError", "DojoCrashError", "Theorem", "is_available_in_cache")
    return types.SimpleNamespace(trace=trace, **{n: getattr(ld, n) for n in names})


def _exported(tmp_path: Path) -> Path:
    tree = tmp_path / "src" / "github.com+lean+foo@cccccccccccc"  # acquire's export of a URL: no git
    write_files(tree, FILES)
    return tree


def _edited(tmp_path: Path) -> Path:
    tree = tmp_path / "foo"
    tree.mkdir()
    run_git(tree, "init", "-q", "-b", "main")
    write_files(tree, FILES)
    run_git(tree, "add", ".")
    run_git(tree, "commit", "-qm", "start")
    (tree / "Foo" / "Basic.lean").write_text("theorem foo : True := sorry\ntheorem bar : True := sorry\n")
    return tree


@pytest.mark.parametrize("make, commit", [(_exported, "c" * 40), (_edited, "tree-0123456789abcdef")])
def test_lean_git_repo_gets_a_git_work_tree_at_a_real_commit(lean_here, tmp_path: Path, make, commit) -> None:
    ld = pytest.importorskip("lean_dojo")
    source = make(tmp_path)
    with pytest.raises(ValueError, match="is not a valid URL|Error converting ref to commit hash"):
        ld.LeanGitRepo(str(source), commit)  # what it was given before
    seen: list = []
    repo = Repo(url="https://github.com/lean/foo", commit=commit, name="lean/foo", path=str(source))
    path_before = os.environ["PATH"]
    scan = trace_repository(repo, tmp_path / "w", lean_dojo=fake_lean_dojo(seen))
    [(traced, first_on_path)] = seen
    assert traced.repo_type.name == "LOCAL" and len(traced.commit) == 40 and traced.commit != commit
    assert Path(traced.url).parent == (tmp_path / "w" / "lean").resolve()
    assert (Path(traced.url) / "Foo" / "Basic.lean").read_text() == (source / "Foo" / "Basic.lean").read_text()
    assert scan.repo == repo and scan.extractor == "traced"  # the records keep the repository's own identity
    # lake and lean run sandboxed with the network (lake clones the dependencies); PATH as it was after
    shims = tmp_path / "w" / "lean_dojo" / "bin-net"
    assert first_on_path == str(shims.resolve()) and os.environ["PATH"] == path_before
    assert "--share-net" in (shims / "lake").read_text() and "--share-net" in (shims / "lean").read_text()


def test_tracing_and_proving_share_the_work_tree_and_leandojos_cache_key(lean_here, tmp_path: Path) -> None:
    from leanagent.acquire import slug
    from prover.dojo import open_dojo_env
    from leanagent.project import worktree

    source = _edited(tmp_path)
    run_git(source, "commit", "-qam", "two theorems")
    commit = run_git(source, "rev-parse", "HEAD")
    url = "https://github.com/lean/foo"
    workdir = tmp_path / "w"
    run_git(tmp_path, "clone", "-q", "--bare", str(source), str(workdir / "cache" / "git" / f"{slug(url)}.git"))
    exported = _exported(tmp_path)  # acquire's export of the commit: files only, git data in the cache
    write_files(exported, {"Foo/Basic.lean": (source / "Foo" / "Basic.lean").read_text()})
    repo = Repo(url=url, commit=commit, name="lean/foo", path=str(exported))
    seen: list = []
    ld = fake_lean_dojo(seen)
    trace_repository(repo, workdir, lean_dojo=ld)
    [(traced, _)] = seen
    assert traced.commit == commit and Path(traced.url).name == f"github.com+lean+foo@{commit[:12]}"
    # proving: prepare_project gives the prover worktree(repo, WORKDIR, cache_dir=WORKDIR/cache), built
    root, at = worktree(repo, workdir, cache_dir=workdir / "cache")
    env = open_dojo_env(root, at, workdir, tactic_timeout=5, lean_dojo=ld)
    proving = env._git_repo()
    assert (proving.url, proving.commit) == (traced.url, traced.commit)
    assert proving.get_cache_dirname() == traced.get_cache_dirname()  # Dojo.__enter__ finds the traced repo
    assert env.shims == (workdir / "lean_dojo" / "bin").resolve()
    assert "--share-net" not in (env.shims / "lake").read_text()  # proving: no network


def test_a_failing_trace_is_one_line_naming_the_repository(lean_here, tmp_path: Path) -> None:
    import github

    for err in (github.GithubException(403, {"message": "API rate limit exceeded"}, None),
                subprocess.CalledProcessError(1, "lake build"), AssertionError("The repo does not exist.")):
        repo = Repo(url="https://github.com/lean/foo", commit="c" * 40, name="lean/foo", path=str(_exported(tmp_path)))
        with pytest.raises(TraceFailed) as caught:
            trace_repository(repo, tmp_path / "w", lean_dojo=fake_lean_dojo([], fail=err))
        message = str(caught.value)
        assert message.startswith(f"lean/foo: LeanDojo cannot trace it ({type(err).__name__}: ") and "\n" not in message


def test_a_run_with_traced_extraction_reports_a_failed_trace_and_goes_on(lean_here, tmp_path: Path,
                                                                         monkeypatch) -> None:
    import github

    from leanagent.config import load_config
    from leanagent.pipeline import run

    refused = fake_lean_dojo([], fail=github.GithubException(403, {"message": "API rate limit exceeded"}, None))
    monkeypatch.setattr("prover.dojo.import_lean_dojo", lambda *args, **kwargs: refused)
    config = load_config(None, {"quiet": "true", "workdir": str(tmp_path / "w"), "acquire.extractor": "traced"})
    result = run(config, EXAMPLES / "repos.txt", until="ingest")
    assert len(result.failures) == 3
    assert all("cannot trace" in f and "GithubException" in f and "kept the static extractor's records" in f
               for f in result.failures)


SCRIPT = """
import json, sys
from pathlib import Path
import github
asked = []
def get_user(self):
    asked.append(1)
    if sys.argv[2] == "refuse":
        raise github.GithubException(401, {"message": "Bad credentials"}, None)
    return type("User", (), {"login": "me"})()
github.Github.get_user = get_user  # LeanDojo asks GitHub whose token it is when it is imported
from prover.dojo import import_lean_dojo
from prover.env import EnvInitError
try:
    import_lean_dojo(Path(sys.argv[1]), github=sys.argv[3] == "trace")
except EnvInitError as err:
    print(json.dumps({"error": str(err)}))
    raise SystemExit(0)
lean = sys.modules["lean_dojo.data_extraction.lean"]
print(json.dumps({"token": lean.GITHUB_ACCESS_TOKEN, "asked": len(asked)}))
"""


@pytest.mark.parametrize("answer, mode, expected", [
    ("ok", "trace", {"token": "ghp_secret", "asked": 1}),
    ("ok", "prove", {"token": None, "asked": 0}),  # proving talks to no GitHub
])
def test_lean_dojo_gets_github_token_for_tracing(tmp_path: Path, answer: str, mode: str, expected: dict) -> None:
    assert _fresh(tmp_path, answer, mode) == expected


def test_a_token_github_refuses_is_one_line_without_the_token(tmp_path: Path) -> None:
    out = _fresh(tmp_path, "refuse", "trace")
    assert "GitHub answered 401" in out["error"] and "ghp_secret" not in out["error"] and "\n" not in out["error"]


def _fresh(tmp_path: Path, answer: str, mode: str) -> dict:
    """Run SCRIPT in a fresh interpreter (lean_dojo reads its settings once per process) with only GITHUB_TOKEN."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("CACHE_DIR", "TMP_DIR", "DISABLE_REMOTE_CACHE", "GITHUB_ACCESS_TOKEN")}
    env.update(GITHUB_TOKEN="ghp_secret", HOME=str(tmp_path / "home"),
               PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "w"), answer, mode], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
