"""``leanagent discover``: find Lean 4 repositories on GitHub and append them, pinned, to a repositories file.

GitHub's search API (through PyGithub, which lean-dojo already requires) is asked for repositories in the
Lean language that are not forks, with at least ``min_stars`` stars and pushed since ``pushed_since``, most
starred first. Each candidate must hold a ``lean-toolchain`` file (a Lean 4 package); those already in the
file are skipped; the rest are appended as ``URL COMMIT  # stars, last push`` lines, pinned at the current
commit of their default branch. A token (``GITHUB_TOKEN``) raises the rate limits; it is never printed or
stored. A rate limit is waited out when it resets within ``max_wait`` seconds, else reported in one line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from leanagent.repos import normalise_url, read_repos_file
from leanagent.workdir import atomic_write_text

__all__ = ["Found", "DiscoverError", "search_query", "discover", "append_found", "github_client"]

log = logging.getLogger(__name__)

GITHUB_API = "https://api.github.com"
MAX_PAGES = 40
"""GitHub's search gives 1,000 results at most; this many pages of 30 cover them."""


class DiscoverError(RuntimeError):
    """The search could not be done (no network, a rate limit not waited out, a bad answer); one line."""


@dataclass(frozen=True)
class Found:
    """A repository the search found, pinned."""

    url: str
    """``https://github.com/owner/name``."""
    commit: str
    """Current commit of its default branch."""
    stars: int
    """Stargazers."""
    pushed_at: str
    """Last push, ISO date."""


def search_query(*, min_stars: int = 0, pushed_since: str = "") -> str:
    """GitHub's search query for Lean repositories that are not forks.

    >>> search_query(min_stars=10, pushed_since="2024-01-01")
    'language:Lean fork:false stars:>=10 pushed:>=2024-01-01'
    """
    parts = ["language:Lean", "fork:false"]
    if min_stars > 0:
        parts.append(f"stars:>={min_stars}")
    if pushed_since:
        parts.append(f"pushed:>={pushed_since}")
    return " ".join(parts)


def github_client(api: str, token: str | None, *, timeout: int = 30):
    """A PyGithub client for ``api``: no silent retries (rate limits are handled by the caller), no pacing."""
    from github import Auth, Github

    return Github(auth=Auth.Token(token) if token else None, base_url=api, retry=None, timeout=timeout,
                  seconds_between_requests=None)


def _patiently(call: Callable, max_wait: float, sleep: Callable[[float], None] = time.sleep):
    """``call()``, waiting out one rate limit that resets within ``max_wait`` seconds."""
    from github import GithubException, RateLimitExceededException, UnknownObjectException

    for attempt in (1, 2):
        try:
            return call()
        except UnknownObjectException:
            raise  # a 404: the caller decides
        except RateLimitExceededException as err:
            headers = {k.lower(): v for k, v in (err.headers or {}).items()}
            wait = float(headers.get("retry-after") or max(0.0, float(headers.get("x-ratelimit-reset", 0))
                                                            - time.time()))
            if attempt == 2 or wait > max_wait:
                raise DiscoverError(f"GitHub's rate limit is reached (it resets in {wait:.0f} s); set GITHUB_TOKEN "
                                    "for a higher limit, or try again later") from None
            log.warning("GitHub's rate limit: waiting %.0f s", wait)
            sleep(wait)
        except GithubException as err:
            raise DiscoverError(f"GitHub answered {err.status}: {_message(err)}") from None
    raise AssertionError("unreachable")


def _message(err) -> str:
    data = err.data if isinstance(err.data, dict) else {}
    return str(data.get("message") or err.data or "no message")[:200]


def discover(repos_file: Path, *, min_stars: int = 0, pushed_since: str = "", limit: int = 10,
             api: str = GITHUB_API, token: str | None = None, max_wait: float = 60.0,
             sleep: Callable[[float], None] = time.sleep) -> list[Found]:
    """Up to ``limit`` Lean 4 repositories the file does not list yet, most starred first (nothing written)."""
    from github import UnknownObjectException

    listed = set()
    if repos_file.exists():
        specs, _ = read_repos_file(repos_file)
        listed = {normalise_url(s.source).lower() for s in specs if s.is_url}
    gh = github_client(api, token)
    found: list[Found] = []
    try:
        results = gh.search_repositories(search_query(min_stars=min_stars, pushed_since=pushed_since),
                                         sort="stars", order="desc")
        page = 0
        while len(found) < limit and page < MAX_PAGES:
            batch = _patiently(lambda: results.get_page(page), max_wait, sleep)  # pages by number: retriable
            if not batch:
                break
            page += 1
            for repo in batch:
                url = normalise_url(repo.html_url)
                if len(found) >= limit or url.lower() in listed or repo.fork:
                    continue
                try:
                    _patiently(lambda: repo.get_contents("lean-toolchain"), max_wait, sleep)
                except UnknownObjectException:
                    continue  # not a Lean 4 package
                branch = _patiently(lambda: repo.get_branch(repo.default_branch), max_wait, sleep)
                pushed = repo.pushed_at.date().isoformat() if repo.pushed_at else ""
                found.append(Found(url, branch.commit.sha, int(repo.stargazers_count), pushed))
                listed.add(url.lower())
    except OSError as err:  # requests' connection errors are OSErrors: no network, no DNS, refused
        raise DiscoverError(f"cannot reach {api}: {type(err).__name__} (no network?)") from None
    return found


def append_found(repos_file: Path, found: list[Found]) -> None:
    """Append one pinned line per repository to ``repos_file`` (created if missing), atomically."""
    old = repos_file.read_text(encoding="utf-8") if repos_file.exists() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    stamp = time.strftime("%Y-%m-%d")
    lines = [f"# found by leanagent discover on {stamp}\n"] if found else []
    lines += [f"{f.url} {f.commit}  # {f.stars} stars, pushed {f.pushed_at}\n" for f in found]
    atomic_write_text(repos_file, old + "".join(lines))
