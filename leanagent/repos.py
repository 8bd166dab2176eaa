"""Reading ``repos.txt``: one repository per line, ``URL-or-path [commit] [textbook]``, ``#`` comments.

A malformed line is reported as ``FILE:LINE: why`` and the other lines still count, so one typo never
costs a user the whole list.

>>> specs, errors = parse_repos_text("https://github.com/a/b.git abc1234  # pinned\\nftp://x\\n", "r.txt")
>>> specs[0].source, specs[0].commit, specs[0].name
('https://github.com/a/b', 'abc1234', 'a/b')
>>> print(errors[0])
r.txt:2: unsupported URL scheme in 'ftp://x' (use https://, http://, ssh://, git@host:path, or a local path)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RepoSpec", "ReposFileError", "parse_repos_text", "read_repos_file"]

_SCP_URL = re.compile(r"^[\w.-]+@[\w.-]+:[\w./~-]+$")  # git@github.com:owner/name.git
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
_REVISION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._/+-]{0,199}$")  # a hash, a tag or a branch name
_URL_SCHEMES = ("https", "http", "ssh", "git", "file")
TEXTBOOK = "textbook"
"""The last word of a line that marks a repository as a textbook (its sorries are exercises)."""


class ReposFileError(ValueError):
    """The repositories file cannot be read at all (missing, a directory, not text)."""


@dataclass(frozen=True)
class RepoSpec:
    """One line of a repositories file."""

    source: str
    """A normalised URL, or an absolute local path (work tree or bare git directory)."""
    commit: str | None
    """Commit, tag or branch to check out; ``None`` means HEAD (or the work tree as it is)."""
    where: str = ""
    """``FILE:LINE`` the spec came from, for messages."""
    textbook: bool = False
    """Marked ``textbook`` after the commit: its sorries are exercises (listed, not attempted)."""

    @property
    def is_url(self) -> bool:
        """True for a remote repository, False for a local path."""
        return bool(_SCHEME.match(self.source) or _SCP_URL.match(self.source))

    @property
    def name(self) -> str:
        """``owner/name`` for a URL, the directory name for a local path.

        >>> RepoSpec("https://github.com/teorth/pfr", None).name
        'teorth/pfr'
        >>> RepoSpec("/data/lean/my-proj", None).name
        'my-proj'
        """
        if self.is_url:
            path = re.sub(r"^[^:]+://[^/]+/|^[^@]+@[^:]+:", "", self.source)
            parts = [p for p in path.split("/") if p]
            return "/".join(parts[-2:]) if parts else self.source
        return local_name(Path(self.source))


def local_name(path: Path) -> str:
    """A human name for a local repository directory (``x/repo`` and ``x.git`` become ``x``)."""
    name = path.name
    if name in ("repo", ".git") and path.parent.name:
        name = path.parent.name
    return name.removesuffix(".git") or str(path)


def normalise_url(url: str) -> str:
    """Drop a trailing slash and ``.git`` so two spellings of one repository get one id.

    >>> normalise_url("https://github.com/Owner/Name.git/")
    'https://github.com/Owner/Name'
    """
    return url.rstrip("/").removesuffix(".git")


def _parse_line(raw: str, base_dir: Path) -> RepoSpec | str | None:
    """A spec, an error message, or None for a blank/comment line."""
    text = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
    if not text:
        return None
    fields = text.split()
    textbook = len(fields) > 1 and fields[-1] == TEXTBOOK
    if textbook:
        fields = fields[:-1]
    if len(fields) > 2:
        return f"expected 'URL-or-path [commit] [textbook]', got {len(fields)} fields: {text!r}"
    source = fields[0]
    commit = fields[1] if len(fields) == 2 else None
    if commit is not None and not _REVISION.match(commit):
        return f"not a commit, tag or branch name: {commit!r}"
    scheme = _SCHEME.match(source)
    if scheme:
        if scheme.group(1).lower() not in _URL_SCHEMES:
            return (f"unsupported URL scheme in {source!r} "
                    "(use https://, http://, ssh://, git@host:path, or a local path)")
        if not re.match(r"^[^:]+://[^/\s]+/.+", source):
            return f"URL names no repository: {source!r}"
        return RepoSpec(normalise_url(source), commit, textbook=textbook)
    if _SCP_URL.match(source):
        return RepoSpec(normalise_url(source), commit, textbook=textbook)
    return RepoSpec(str((base_dir / source).resolve()), commit, textbook=textbook)


def parse_repos_text(text: str, filename: str = "repos.txt", base_dir: Path | None = None
                     ) -> tuple[list[RepoSpec], list[str]]:
    """Parse a repositories file's text into specs and ``FILE:LINE: why`` error lines.

    Relative local paths are resolved against ``base_dir`` (the file's directory). A repository listed
    twice is an error on the second line; the first one counts.
    """
    base = base_dir if base_dir is not None else Path.cwd()
    specs: list[RepoSpec] = []
    errors: list[str] = []
    seen: dict[tuple[str, str | None], str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        where = f"{filename}:{number}"
        parsed = _parse_line(raw, base)
        if parsed is None:
            continue
        if isinstance(parsed, str):
            errors.append(f"{where}: {parsed}")
            continue
        key = (parsed.source, parsed.commit)
        if key in seen:
            errors.append(f"{where}: duplicate of {seen[key]}, ignored")
            continue
        seen[key] = where
        specs.append(RepoSpec(parsed.source, parsed.commit, where, parsed.textbook))
    return specs, errors


def read_repos_file(path: Path | str) -> tuple[list[RepoSpec], list[str]]:
    """Read and parse a repositories file; raises :class:`ReposFileError` if it cannot be read."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReposFileError(f"{path}: no such file (give a repositories file, e.g. repos.txt)") from None
    except IsADirectoryError:
        raise ReposFileError(f"{path}: is a directory, expected a repositories file") from None
    except OSError as err:
        raise ReposFileError(f"{path}: cannot read: {err.strerror}") from None
    if b"\0" in data:
        raise ReposFileError(f"{path}: binary file, expected text lines 'URL-or-path [commit] [textbook]'")
    text = data.decode("utf-8", errors="replace")
    return parse_repos_text(text, str(path), path.resolve().parent)
