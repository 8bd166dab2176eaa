"""``prove --pull-request``: fork, branch, commit, push and pull request against a fake GitHub on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from leanagent.pullrequest import PullRequestError, how_to_open, open_pull_request
from tests.conftest import run_git, write_files

TOKEN = "ghp_fake_token_never_printed"


class FakeGitHub(BaseHTTPRequestHandler):
    state: dict = {}

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _repo(self, full: str, **extra) -> dict:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        owner = full.split("/")[0]
        return {"full_name": full, "name": full.split("/")[1], "url": f"{base}/repos/{full}",
                "html_url": f"https://github.com/{full}", "default_branch": "main", "owner": {"login": owner},
                **extra}

    def _fork_ready(self) -> bool:
        """GitHub makes a fork asynchronously: it is shown (and takes pushes) after ``late`` looks at it."""
        if not self.state.get("forked"):
            return False
        self.state["looks"] = self.state.get("looks", 0) + 1
        ready = self.state["looks"] > self.state.get("late", 0)
        if ready and not Path(self.state["fork"]).exists():
            run_git(Path(self.state["fork"]).parent, "init", "-q", "--bare", self.state["fork"])
        return ready

    def do_GET(self) -> None:
        if self.path == "/repos/lean/proj":
            return self._send(200, self._repo("lean/proj"))
        if self.path == "/repos/me/proj" and self._fork_ready():
            return self._send(200, self._repo("me/proj", clone_url=self.state["fork"], fork=True))
        if self.path == "/repos/me/proj/branches/main" and self.state.get("forked"):
            return self._send(200, {"name": "main", "commit": {"sha": "0" * 40}, "protected": False})
        self._send(404, {"message": "Not Found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.state.setdefault("posts", []).append((self.path, body, self.headers.get("Authorization")))
        if self.path == "/repos/lean/proj/forks":
            self.state["forked"] = True
            return self._send(202, self._repo("me/proj", clone_url=self.state["fork"], fork=True))
        if self.path == "/repos/lean/proj/pulls":
            if self.state.get("refuse"):
                return self._send(422, {"message": "Validation Failed"})
            return self._send(201, {"html_url": "https://github.com/lean/proj/pull/7", "number": 7})
        self._send(404, {"message": "Not Found"})


@pytest.fixture()
def github(tmp_path: Path):
    FakeGitHub.state = {"fork": str(tmp_path / "fork.git")}
    run_git(tmp_path, "init", "-q", "--bare", str(tmp_path / "fork.git"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGitHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", FakeGitHub.state
    server.shutdown()


def _upstream(tmp_path: Path) -> tuple[Path, str, Path]:
    """A repository with a sorry theorem, and a patch proving it (as `prove --patch` writes one)."""
    root = tmp_path / "proj"
    root.mkdir()
    run_git(root, "init", "-q", "-b", "main")
    write_files(root, {"lean-toolchain": "leanprover/lean4:v4.9.0\n",
                       "P/A.lean": "theorem a : 1 = 1 := by\n  sorry\n"})
    run_git(root, "add", ".")
    run_git(root, "commit", "-qm", "start")
    commit = run_git(root, "rev-parse", "HEAD")
    (root / "P" / "A.lean").write_text("theorem a : 1 = 1 := by\n  rfl\n")
    patch = tmp_path / "proofs.patch"
    patch.write_text(run_git(root, "diff") + "\n")
    run_git(root, "checkout", "-q", "--", ".")
    return root, commit, patch


def test_the_patch_becomes_a_pushed_branch_and_a_pull_request(github, tmp_path: Path) -> None:
    api, state = github
    root, commit, patch = _upstream(tmp_path)
    pr = open_pull_request("https://github.com/lean/proj", root / ".git", commit, patch, TOKEN, api=api,
                           title="Proofs", body="1 sorry theorem proved")
    assert pr.url == "https://github.com/lean/proj/pull/7" and pr.branch == f"leanagent/proofs-{commit[:12]}"
    fork = tmp_path / "fork.git"
    assert run_git(fork, "rev-parse", f"refs/heads/{pr.branch}") == pr.commit
    assert run_git(fork, "rev-parse", f"{pr.commit}^") == commit  # on the commit that was proved against
    assert run_git(fork, "show", f"{pr.commit}:P/A.lean") == "theorem a : 1 = 1 := by\n  rfl"
    (path, body, auth), = [p for p in state["posts"] if p[0].endswith("/pulls")]
    assert body == {"title": "Proofs", "body": "1 sorry theorem proved", "head": f"me:{pr.branch}", "base": "main"}
    assert auth == f"token {TOKEN}"


def test_a_new_fork_is_waited_for_before_the_push(github, tmp_path: Path) -> None:
    import shutil

    api, state = github
    root, commit, patch = _upstream(tmp_path)
    shutil.rmtree(tmp_path / "fork.git")  # made by GitHub only when the fork is shown
    state["late"] = 2
    slept: list[float] = []
    pr = open_pull_request("https://github.com/lean/proj", root / ".git", commit, patch, TOKEN, api=api,
                           sleep=slept.append)
    assert slept == [2.0, 4.0] and state["looks"] == 3
    assert run_git(tmp_path / "fork.git", "rev-parse", f"refs/heads/{pr.branch}") == pr.commit
    state.update(looks=0, late=99)
    slept.clear()
    with pytest.raises(PullRequestError, match="the fork me/proj was not ready after 4 tries") as err:
        open_pull_request("https://github.com/lean/proj", root / ".git", commit, patch, TOKEN, api=api,
                          fork_tries=4, sleep=slept.append)
    assert slept == [2.0, 4.0, 8.0] and state["looks"] == 4 and str(patch) in str(err.value)
    assert not [p for p in state["posts"][2:] if p[0].endswith("/pulls")]  # no pull request without the push


def test_refusals_and_no_token_are_one_line_keeping_the_patch(github, tmp_path: Path) -> None:
    api, state = github
    root, commit, patch = _upstream(tmp_path)
    state["refuse"] = True
    with pytest.raises(PullRequestError, match="refused the pull request \\(422: Validation Failed\\)") as err:
        open_pull_request("https://github.com/lean/proj", root / ".git", commit, patch, TOKEN, api=api)
    assert TOKEN not in str(err.value)
    with pytest.raises(PullRequestError, match="not a GitHub repository: the proofs are in"):
        open_pull_request(str(root), root / ".git", commit, patch, TOKEN, api=api)
    line = how_to_open("https://github.com/lean/proj", commit, patch)
    assert "\n" not in line and str(patch) in line and f"git checkout {commit[:12]}" in line
    subprocess.run(["git", "apply", "--check", str(patch)], cwd=root, check=True)  # the patch is still good


def test_prove_pull_request_uses_the_runs_clone_or_says_how_without_a_token(github, tmp_path, capsys,
                                                                            monkeypatch) -> None:
    import argparse

    from database.records import Repo
    from leanagent.acquire import slug
    from leanagent.cli import _pull_request
    from leanagent.proving import ProveSummary
    from leanagent.workdir import Workdir

    api, state = github
    root, commit, patch = _upstream(tmp_path)
    wd = Workdir(tmp_path / "w")
    clone = wd.cache / "git" / f"{slug('https://github.com/lean/proj')}.git"
    clone.parent.mkdir(parents=True)
    run_git(tmp_path, "clone", "-q", "--bare", str(root), str(clone))  # where acquire keeps a URL's clone
    repo = Repo(url="https://github.com/lean/proj", commit=commit, name="lean/proj", path=str(root))
    done = ProveSummary(targets=1, attempted=1, proved=1, patch=str(patch))
    args = argparse.Namespace(api=api)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    _pull_request(args, wd, repo, done)
    assert capsys.readouterr().out.startswith(f"no GITHUB_TOKEN: the proofs are in {patch}")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    _pull_request(args, wd, repo, done)
    out = capsys.readouterr().out
    assert out.startswith("pull request: https://github.com/lean/proj/pull/7") and TOKEN not in out
    _pull_request(args, wd, repo, ProveSummary(targets=1, attempted=1, proved=0))
    assert "no proof found, so no pull request" in capsys.readouterr().err
