"""``leanagent discover`` against a local fake of GitHub's API on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from leanagent.cli import main
from leanagent.discover import DiscoverError, discover

TOKEN = "ghp_fake_token_never_printed"
REPOS = [  # (owner/name, stars, fork, has lean-toolchain)
    ("alice/lean-a", 50, False, True),
    ("bob/not-lean4", 40, False, False),  # a Lean 3 project: no lean-toolchain
    ("carol/lean-c", 30, False, True),
    ("dave/listed", 20, False, True),
    ("erin/lean-e", 10, False, True),
]


class FakeGitHub(BaseHTTPRequestHandler):
    """Search, contents and branches, as GitHub's REST API answers them (the fields PyGithub reads)."""

    state: dict = {}

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: object, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        url = urlsplit(self.path)
        self.state.setdefault("auth", []).append(self.headers.get("Authorization"))
        if url.path == "/search/repositories":
            self.state.setdefault("queries", []).append(parse_qs(url.query))
            if self.state.get("limited", 0) > 0:
                self.state["limited"] -= 1
                return self._send(403, {"message": "API rate limit exceeded for 127.0.0.1."},
                                  {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 2)})
            page = int(parse_qs(url.query).get("page", ["1"])[0])
            items = [] if page > 1 else [{"full_name": n, "name": n.split("/")[1], "html_url": f"https://github.com/{n}",
                      "url": f"{base}/repos/{n}", "stargazers_count": s, "fork": f, "default_branch": "main",
                      "pushed_at": "2026-11-20T10:00:00Z", "owner": {"login": n.split("/")[0]}}
                     for n, s, f, _ in REPOS]
            return self._send(200, {"total_count": len(items), "incomplete_results": False, "items": items})
        parts = url.path.strip("/").split("/")
        if len(parts) >= 4 and parts[0] == "repos":
            name = f"{parts[1]}/{parts[2]}"
            entry = next((r for r in REPOS if r[0] == name), None)
            if entry and parts[3:] == ["contents", "lean-toolchain"] and entry[3]:
                content = base64.b64encode(b"leanprover/lean4:v4.9.0\n").decode()
                return self._send(200, {"type": "file", "encoding": "base64", "content": content, "size": 24,
                                        "name": "lean-toolchain", "path": "lean-toolchain", "sha": "f" * 40,
                                        "url": f"{base}{url.path}"})
            if entry and parts[3] == "branches":
                sha = f"{abs(hash(name)) % 10**8:08d}".ljust(40, "a")
                self.state.setdefault("shas", {})[name] = sha
                return self._send(200, {"name": parts[4], "commit": {"sha": sha, "url": f"{base}/x"}})
        self._send(404, {"message": "Not Found"})


@pytest.fixture()
def github():
    FakeGitHub.state = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGitHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", FakeGitHub.state
    server.shutdown()


def test_discover_appends_new_lean4_repositories_pinned(github, tmp_path: Path, capsys, monkeypatch) -> None:
    api, state = github
    repos = tmp_path / "repos.txt"
    repos.write_text("https://github.com/dave/listed abc1234\n")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    code = main(["discover", str(repos), "--api", api, "--min-stars", "5", "--pushed-since", "2026-01-01",
                 "--limit", "2"])
    out, err = capsys.readouterr()
    assert code == 0 and TOKEN not in out + err
    assert state["queries"][0]["q"] == ["language:Lean fork:false stars:>=5 pushed:>=2026-01-01"]
    assert state["queries"][0]["sort"] == ["stars"] and set(state["auth"]) == {f"token {TOKEN}"}
    lines = repos.read_text().splitlines()
    assert lines[0] == "https://github.com/dave/listed abc1234" and lines[1].startswith("# found by leanagent discover")
    shas = state["shas"]
    assert lines[2:] == [f"https://github.com/alice/lean-a {shas['alice/lean-a']}  # 50 stars, pushed 2026-11-20",
                         f"https://github.com/carol/lean-c {shas['carol/lean-c']}  # 30 stars, pushed 2026-11-20"]
    assert "2 repositories added" in out
    # The file still reads as a repositories file; a second search skips what is listed now.
    assert main(["discover", str(repos), "--api", api, "--limit", "5"]) == 0
    assert repos.read_text().splitlines()[-1].startswith("https://github.com/erin/lean-e ")


def test_a_rate_limit_is_waited_out_or_reported(github, tmp_path: Path) -> None:
    api, state = github
    state["limited"] = 1
    waits: list[float] = []
    found = discover(tmp_path / "none.txt", api=api, limit=1, sleep=waits.append)
    assert [f.url for f in found] == ["https://github.com/alice/lean-a"] and len(waits) == 1 and waits[0] <= 3
    state["limited"] = 1
    with pytest.raises(DiscoverError, match="rate limit is reached .* set GITHUB_TOKEN"):
        discover(tmp_path / "none.txt", api=api, limit=1, max_wait=0.0, sleep=waits.append)


def test_no_network_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    code = main(["discover", str(tmp_path / "repos.txt"), "--api", "http://127.0.0.1:9"])  # nothing listens
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and err.startswith("leanagent discover: cannot reach http://127.0.0.1:9")
    assert not (tmp_path / "repos.txt").exists()
