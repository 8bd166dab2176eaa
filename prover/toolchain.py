"""Finding a Lean toolchain: ``lake`` and ``lean`` on PATH or in elan's directory, and the version a
repository asks for in its ``lean-toolchain`` file. Every path that needs Lean calls :func:`require_lean`
first, so on a machine without Lean it fails at once with one line that says how to install it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from prover.env import LeanUnavailable

__all__ = ["Toolchain", "find_toolchain", "require_lean", "repo_toolchain", "INSTALL_HINT"]

INSTALL_HINT = ("install elan (curl https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh -sSf "
                "| sh), which fetches the version in the repository's lean-toolchain file")


@dataclass(frozen=True)
class Toolchain:
    """An installed Lean toolchain."""

    lake: str
    """Path of ``lake``."""
    lean: str
    """Path of ``lean``."""
    elan: bool
    """Installed through elan (which picks the version from each repository's ``lean-toolchain``)."""


def _elan_bin() -> Path:
    return Path(os.environ.get("ELAN_HOME", Path.home() / ".elan")) / "bin"


def find_toolchain() -> Toolchain | None:
    """The toolchain on PATH, else in elan's ``bin`` directory; ``None`` when there is none."""
    lake, lean = shutil.which("lake"), shutil.which("lean")
    elan_bin = _elan_bin()
    if not (lake and lean) and (elan_bin / "lake").is_file() and (elan_bin / "lean").is_file():
        lake, lean = str(elan_bin / "lake"), str(elan_bin / "lean")
    if not (lake and lean):
        return None
    return Toolchain(lake=lake, lean=lean, elan=Path(lake).parent == elan_bin or shutil.which("elan") is not None)


def repo_toolchain(repo_dir: str | os.PathLike[str]) -> str | None:
    """The toolchain a repository pins (``lean-toolchain``, e.g. ``leanprover/lean4:v4.9.0``), or None."""
    path = Path(repo_dir) / "lean-toolchain"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    return text or None


def require_lean(repo_dir: str | os.PathLike[str] | None = None) -> Toolchain:
    """The installed toolchain, or :class:`~prover.env.LeanUnavailable` with one line saying what to install.

    With ``repo_dir``, the repository must pin a version (``lean-toolchain``), as LeanDojo requires.
    """
    found = find_toolchain()
    if found is None:
        wanted = repo_toolchain(repo_dir) if repo_dir is not None else None
        what = f" (the repository asks for {wanted})" if wanted else ""
        raise LeanUnavailable(f"no Lean toolchain on this machine: neither lake nor lean is on PATH or in "
                              f"{_elan_bin()}{what}; {INSTALL_HINT}")
    if repo_dir is not None and repo_toolchain(repo_dir) is None:
        raise LeanUnavailable(f"{repo_dir} has no lean-toolchain file: pin the Lean version the repository "
                              "builds with (e.g. `leanprover/lean4:v4.9.0`)")
    return found
