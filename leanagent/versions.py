"""Whether the installed LeanDojo can trace a repository's Lean version.

The verdict is LeanDojo's own: its ``get_lean4_version_from_config`` reads the ``lean-toolchain`` line and its
``is_supported_version`` decides (lean_dojo 4.20: every Lean 4 release from v4.3.0-rc2 on; nightlies and
Lean 3 are not). Static extraction works whatever the version; only tracing and proving need this.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

__all__ = ["VersionSupport", "lean_dojo_support"]


@dataclass(frozen=True)
class VersionSupport:
    """LeanDojo's verdict on one ``lean-toolchain``."""

    toolchain: str
    """The ``lean-toolchain`` line (empty when the repository has none)."""
    version: str
    """The Lean version it names (``v4.8.0``), or empty."""
    supported: bool
    """Whether the installed LeanDojo can trace it."""
    why: str
    """One phrase for the user."""


@lru_cache(maxsize=256)
def lean_dojo_support(toolchain: str) -> VersionSupport:
    """LeanDojo's verdict on ``toolchain`` (imports lean_dojo on first use: about 2 s)."""
    import importlib.metadata

    try:
        release = importlib.metadata.version("lean-dojo")
    except importlib.metadata.PackageNotFoundError:
        return VersionSupport(toolchain, "", False, "LeanDojo is not installed")
    if not toolchain.strip():
        return VersionSupport(toolchain, "", False, "no lean-toolchain file (LeanDojo needs one)")
    from lean_dojo.data_extraction.lean import get_lean4_version_from_config, is_supported_version

    try:
        version = get_lean4_version_from_config(toolchain)
    except (AssertionError, IndexError):
        return VersionSupport(toolchain, "", False, f"{toolchain!r} is not a Lean 4 toolchain")
    try:
        supported = bool(is_supported_version(version))
    except (AssertionError, ValueError, IndexError):
        supported = False
    verdict = "supported" if supported else "not supported"
    needs = "" if supported else " (it needs v4.3.0-rc2 or a later release)"
    return VersionSupport(toolchain, version, supported, f"Lean {version}: {verdict} by LeanDojo {release}{needs}")
