"""Whether the installed LeanDojo can trace a repository's Lean version.

The verdict is LeanDojo's own rule, read from lean_dojo 4.20's ``data_extraction/lean.py`` without importing
it (its import reads its settings once for the whole process, makes its cache directory and, with a token, asks
GitHub; :mod:`prover.dojo` imports it when a workdir has set them): ``get_lean4_version_from_config`` reads the
``lean-toolchain`` line and ``is_supported_version`` decides (every Lean 4 release from v4.3.0-rc2 on;
nightlies and Lean 3 are not). ``tests/test_versions.py`` checks the copy against LeanDojo's functions. Static
extraction works whatever the version; only tracing and proving need this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["VersionSupport", "lean_dojo_support", "lean_interact_support", "lean4_version", "is_supported_version"]

_LEAN4_VERSION = re.compile(r"leanprover/lean4:(?P<version>.+?)")  # lean_dojo's _LEAN4_VERSION_REGEX


@dataclass(frozen=True)
class VersionSupport:
    """A tool's verdict (LeanDojo's, lean-interact's) on one ``lean-toolchain``."""

    toolchain: str
    """The ``lean-toolchain`` line (empty when the repository has none)."""
    version: str
    """The Lean version it names (``v4.8.0``), or empty."""
    supported: bool
    """Whether the installed tool can use it (LeanDojo trace it, lean-interact run its REPL)."""
    why: str
    """One phrase for the user."""


def lean4_version(toolchain: str) -> str:
    """The Lean 4 version a ``lean-toolchain`` line names, as LeanDojo reads it (``v`` added to a bare
    number); ``""`` when it names none.

    >>> lean4_version("leanprover/lean4:4.9.0\\n"), lean4_version("leanprover-community/lean:3.51.1")
    ('v4.9.0', '')
    """
    m = _LEAN4_VERSION.fullmatch(toolchain.strip())
    if m is None:
        return ""
    v = m["version"]
    return "v" + v if not v.startswith("v") and v[0].isnumeric() else v


def is_supported_version(v: str) -> bool:
    """LeanDojo's rule: a release at least ``v4.3.0-rc2`` (``False`` where its own would fail to parse).

    >>> [is_supported_version(v) for v in ("v4.3.0-rc2", "v4.3.0-rc1", "v4.10.0", "nightly-2024-01-01")]
    [True, False, True, False]
    """
    if not v.startswith("v"):
        return False
    try:
        major, minor, patch = [int(x) for x in v[1:].split("-")[0].split(".")]
    except ValueError:
        return False
    if (major, minor) != (4, 3) or patch > 0:
        return (major, minor, patch) > (4, 3, 0)
    if "4.3.0-rc" in v:
        try:
            return int(v[1:].split("-")[1][2:]) >= 2
        except (ValueError, IndexError):
            return False
    return True


@lru_cache(maxsize=256)
def lean_dojo_support(toolchain: str) -> VersionSupport:
    """LeanDojo's verdict on ``toolchain`` (lean_dojo is not imported)."""
    import importlib.metadata

    try:
        release = importlib.metadata.version("lean-dojo")
    except importlib.metadata.PackageNotFoundError:
        return VersionSupport(toolchain, "", False, "LeanDojo is not installed")
    if not toolchain.strip():
        return VersionSupport(toolchain, "", False, "no lean-toolchain file (LeanDojo needs one)")
    version = lean4_version(toolchain)
    if not version:
        return VersionSupport(toolchain, "", False, f"{toolchain!r} is not a Lean 4 toolchain")
    supported = is_supported_version(version)
    verdict = "supported" if supported else "not supported"
    needs = "" if supported else " (it needs v4.3.0-rc2 or a later release)"
    return VersionSupport(toolchain, version, supported, f"Lean {version}: {verdict} by LeanDojo {release}{needs}")


LEAN_INTERACT_RANGE = ("v4.8.0-rc1", "v4.36.0-rc1")
"""The Lean versions lean-interact 0.11.6 says it supports (its README: "Supports all Lean versions between
`v4.8.0-rc1` and `v4.36.0-rc1`", its REPL fork tagged per version); the installed release's own statement wins."""


def _release_key(version: str) -> tuple[int, int, int, int] | None:
    """An order on Lean releases (a release after its release candidates); None for anything else.

    >>> _release_key("v4.9.0-rc2") < _release_key("v4.9.0") < _release_key("v4.10.0-rc1"), _release_key("nightly")
    (True, None)
    """
    m = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)(?:-rc(\d+))?", version)
    return None if m is None else (int(m[1]), int(m[2]), int(m[3]), int(m[4]) if m[4] else 10**9)


@lru_cache(maxsize=1)
def lean_interact_range() -> tuple[str, str, str] | None:
    """(release, oldest, newest Lean version) of the installed lean-interact, read from the range its package
    description states (:data:`LEAN_INTERACT_RANGE` where it states none); None when it is not installed."""
    import importlib.metadata

    try:
        dist = importlib.metadata.distribution("lean-interact")
    except importlib.metadata.PackageNotFoundError:
        return None
    stated = re.search(r"between `(v4[^`]*)` and `(v4[^`]*)`", dist.read_text("METADATA") or "")
    oldest, newest = (stated[1], stated[2]) if stated else LEAN_INTERACT_RANGE
    return dist.version, oldest, newest


@lru_cache(maxsize=256)
def lean_interact_support(toolchain: str) -> VersionSupport:
    """Whether the installed lean-interact runs the Lean REPL for ``toolchain`` (the ``repl`` prover): a
    ``leanprover/lean4:vX.Y.Z`` line (what lean-interact's ``parse_lean_version`` accepts) in its stated range.

    >>> lean_interact_support("leanprover/lean4:v4.19.0\\n").supported
    True
    >>> lean_interact_support("leanprover/lean4:v4.7.0").why
    'Lean v4.7.0: not supported by lean-interact 0.11.6 (it supports v4.8.0-rc1 to v4.36.0-rc1)'
    """
    found = lean_interact_range()
    if found is None:
        return VersionSupport(toolchain, "", False, "lean-interact is not installed (pip install lean-interact)")
    release, oldest, newest = found
    if not toolchain.strip():
        return VersionSupport(toolchain, "", False, "no lean-toolchain file (the Lean REPL needs one)")
    version = toolchain.strip().removeprefix("leanprover/lean4:")
    if not version.startswith("v4"):
        return VersionSupport(toolchain, lean4_version(toolchain), False, f"{toolchain.strip()!r} is not read by "
                              f"lean-interact {release} (it reads leanprover/lean4:vX.Y.Z)")
    key = _release_key(version)
    supported = key is not None and _release_key(oldest) <= key <= _release_key(newest)
    verdict = "supported" if supported else "not supported"
    needs = "" if supported else f" (it supports {oldest} to {newest})"
    return VersionSupport(toolchain, version, supported, f"Lean {version}: {verdict} by lean-interact {release}{needs}")
