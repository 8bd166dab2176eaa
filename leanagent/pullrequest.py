"""``prove --pull-request``: the patch of found proofs as a branch, a commit and a GitHub pull request.

With a token (``GITHUB_TOKEN``): the upstream repository is forked under the token's account (GitHub
returns the existing fork when there is one, and makes a new one asynchronously: the push waits, a bounded
number of times, until the fork's default branch can be read), a branch ``leanagent/proofs-<commit>`` is made
at the commit that was proved against, the patch is applied and committed, the branch is pushed to the fork (the token
goes in an HTTP header, never in a URL or a message) and the pull request is opened against the upstream's
default branch. Without a token, :func:`how_to_open` says in one line what to do with the patch file.
"""

from __future__ import annotations

import base64
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leanagent.discover import GITHUB_API, github_client
from leanagent.gitutil import GitError, git

__all__ = ["PullRequest", "PullRequestError", "github_name", "open_pull_request", "how_to_open", "wait_for_fork"]


class PullRequestError(RuntimeError):
    """The pull request could not be opened; one line saying why (the patch file is kept)."""


@dataclass(frozen=True)
class PullRequest:
    """An opened pull request."""

    url: str
    """Its page."""
    branch: str
    """The branch pushed to the fork."""
    commit: str
    """The commit holding the proofs."""


def github_name(url: str) -> str | None:
    """``owner/name`` of a GitHub URL, else None.

    >>> github_name("https://github.com/teorth/pfr"), github_name("/data/pfr")
    ('teorth/pfr', None)
    """
    m = re.fullmatch(r"(?:https?://|git@)github\.com[/:]([\w.-]+)/([\w.-]+?)(?:\.git)?/?", url)
    return f"{m[1]}/{m[2]}" if m else None


def how_to_open(url: str, commit: str, patch: Path) -> str:
    """The one line telling a user without a token how to turn the patch into a pull request."""
    return (f"no GITHUB_TOKEN: the proofs are in {patch}; to open a pull request, fork {url}, run `git checkout "
            f"{commit[:12]} && git apply {patch}` in your clone, commit, push and open it on GitHub (or set "
            "GITHUB_TOKEN and run again with --pull-request)")


def _push(work: Path, remote: str, branch: str, token: str) -> None:
    header = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    try:
        git(["-c", f"http.extraHeader=Authorization: Basic {header}", "push", "--quiet", remote,
             f"HEAD:refs/heads/{branch}"], cwd=work, timeout=600)
    except GitError as err:
        raise PullRequestError(f"cannot push the branch to {remote}: {str(err).replace(header, '***')}") from None


def wait_for_fork(gh: Any, fork: Any, patch: Path, *, tries: int = 10, sleep: Callable[[float], None] = time.sleep,
                  longest: float = 30.0) -> None:
    """Return once GitHub serves ``fork``'s default branch (a new fork's git data comes some seconds after the
    API answered); waits 2, 4, 8… seconds (at most ``longest``) between ``tries`` tries, then gives up in one
    line."""
    from github import GithubException, UnknownObjectException

    for attempt in range(tries):
        try:
            gh.get_repo(fork.full_name).get_branch(fork.default_branch)
            return
        except UnknownObjectException:  # 404: not there yet
            pass
        except GithubException as err:
            raise PullRequestError(f"GitHub refused to show the fork {fork.full_name} ({err.status}); the proofs "
                                   f"are in {patch}") from None
        except OSError as err:
            raise PullRequestError(f"cannot reach GitHub to see the fork {fork.full_name} ({type(err).__name__}); "
                                   f"the proofs are in {patch}") from None
        if attempt + 1 < tries:
            sleep(min(2.0 ** (attempt + 1), longest))
    raise PullRequestError(f"the fork {fork.full_name} was not ready after {tries} tries; run again later (the "
                           f"proofs are in {patch})")


def open_pull_request(url: str, git_dir: Path, commit: str, patch: Path, token: str, *, api: str = GITHUB_API,
                      title: str = "", body: str = "", fork_tries: int = 10,
                      sleep: Callable[[float], None] = time.sleep) -> PullRequest:
    """Fork, branch at ``commit`` (taken from ``git_dir``), apply ``patch``, commit, wait for the fork
    (:func:`wait_for_fork`), push, open the PR."""
    from github import GithubException

    name = github_name(url)
    if name is None:
        raise PullRequestError(f"{url} is not a GitHub repository: the proofs are in {patch}")
    branch = f"leanagent/proofs-{commit[:12]}"
    gh = github_client(api, token, timeout=60)
    try:
        upstream = gh.get_repo(name)
        fork = upstream.create_fork()
    except GithubException as err:
        raise PullRequestError(f"GitHub refused to fork {name} ({err.status}); the proofs are in {patch}") from None
    except OSError as err:
        raise PullRequestError(f"cannot reach {api} ({type(err).__name__}); the proofs are in {patch}") from None
    with tempfile.TemporaryDirectory(prefix="leanagent-pr-") as tmp:
        work = Path(tmp) / "work"
        try:
            subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(git_dir), str(work)], check=True,
                           capture_output=True, timeout=600)
            git(["checkout", "--quiet", "-b", branch, commit], cwd=work, timeout=120)
            git(["apply", "--whitespace=nowarn", str(patch.resolve())], cwd=work, timeout=120)
            git(["add", "--all"], cwd=work, timeout=120)
            git(["-c", "user.name=leanagent", "-c", "user.email=leanagent@users.noreply.github.com", "commit",
                 "--quiet", "-m", title or "Proofs of sorry theorems found by leanagent"], cwd=work, timeout=120)
            head = git(["rev-parse", "HEAD"], cwd=work, timeout=30)
        except (GitError, subprocess.CalledProcessError) as err:
            raise PullRequestError(f"cannot make the branch: {err}; the proofs are in {patch}") from None
        wait_for_fork(gh, fork, patch, tries=fork_tries, sleep=sleep)
        _push(work, fork.clone_url, branch, token)
    try:
        pr = upstream.create_pull(title=title or "Proofs of sorry theorems found by leanagent", body=body,
                                  head=f"{fork.owner.login}:{branch}", base=upstream.default_branch)
    except GithubException as err:
        data = err.data if isinstance(err.data, dict) else {}
        raise PullRequestError(f"GitHub refused the pull request ({err.status}: {data.get('message', '')}); the "
                               f"branch {branch} is on {fork.html_url}") from None
    return PullRequest(pr.html_url, branch, head)
