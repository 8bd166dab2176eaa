"""Stable identifiers: one helper makes every id in the project.

Python's ``hash()`` is salted per process, so it can never name anything that is stored. Every id is a
sha256 over canonical parts joined by a separator that cannot occur inside a part.
"""

from __future__ import annotations

import hashlib

__all__ = ["stable_id", "theorem_id", "premise_id", "repo_id", "file_id"]

_SEP = "\x1f"  # ASCII unit separator: never part of a URL, a path, a Lean name or Lean source we keep


def stable_id(kind: str, *parts: str) -> str:
    """A 24-hex-digit content hash of ``kind`` and ``parts``.

    >>> stable_id("repo", "https://github.com/a/b", "abc")
    'repo:ff5fbcc3d2e02633cac6fd82'
    """
    for part in parts:
        if not isinstance(part, str):
            raise TypeError(f"id parts must be strings, got {type(part).__name__}: {part!r}")
    digest = hashlib.sha256(_SEP.join((kind, *parts)).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{kind}:{digest[:24]}"


def repo_id(url: str, commit: str) -> str:
    """Id of a repository at one commit."""
    return stable_id("repo", url, commit)


def file_id(url: str, commit: str, path: str) -> str:
    """Id of a source file of a repository at one commit."""
    return stable_id("file", url, commit, path)


def theorem_id(url: str, commit: str, path: str, full_name: str) -> str:
    """Id of a theorem: repository URL, commit, file and fully qualified name."""
    return stable_id("thm", url, commit, path, full_name)


def premise_id(full_name: str, path: str, code: str) -> str:
    """Id of a premise, shared by every repository that sees it.

    Premises are deduplicated across repositories by (full name, file, code): Mathlib's ``Nat.add_comm``
    seen as a dependency of two repositories, at two revisions where it reads the same, is one premise.
    This is the one id that deliberately leaves out the repository and commit (see DESIGN.md).
    """
    return stable_id("premise", full_name, path, code)
