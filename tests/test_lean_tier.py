"""The `lean` tier: the offline example end to end with a real Lean toolchain (``pytest -m lean``).

Build, ``leanagent run`` (the Lean REPL through lean-interact by default), at least one example sorry proved and
accepted by the final whole-file check, and the patch of the proofs applying with ``git apply --check``. Where
``lake`` is absent (this project's own machines) the module is skipped with one line saying so; the GitHub
workflow ``.github/workflows/lean.yml`` installs elan and bubblewrap and runs it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, run_git

pytestmark = pytest.mark.lean

_toolchain = None
try:
    from prover.toolchain import find_toolchain

    _toolchain = find_toolchain()
except ImportError:  # pragma: no cover - the package itself is broken: let the other tests say so
    pass
if _toolchain is None:
    pytest.skip("no Lean toolchain (lake is neither on PATH nor in ~/.elan/bin): the lean tier runs where elan is "
                "installed (see .github/workflows/lean.yml)", allow_module_level=True)
if shutil.which("bwrap") is None:
    pytest.skip("bubblewrap is not installed: leanagent runs Lean only inside it (apt-get install bubblewrap)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> Path:
    """The three example projects copied into git repositories (as a user's checkouts would be)."""
    root = tmp_path_factory.mktemp("lean-tier")
    for name in ("nat-basics", "list-lemmas", "expr-eval"):
        shutil.copytree(EXAMPLES / name, root / name, ignore=shutil.ignore_patterns(".lake", "lake-packages"))
        run_git(root / name, "init", "-q", "-b", "main")
        run_git(root / name, "add", ".")
        run_git(root / name, "commit", "-qm", "example")
    shutil.copy(EXAMPLES / "repos.txt", root / "repos.txt")
    return root


def test_the_example_is_learned_proved_checked_and_patched(examples: Path, tmp_path_factory) -> None:
    from database.store import Store
    from leanagent.cli import main

    workdir = tmp_path_factory.mktemp("run")
    assert main(["run", str(examples / "repos.txt"), "--workdir", str(workdir), "-q", "--set", "prover.timeout=120"]) in (0, 1)
    with Store.open(workdir / "leanagent.db") as store:
        attempts = store.attempts()
        proved = [a for a in attempts if a.outcome == "proved"]
        by_id = {t.id: t for r in store.repos("target") for t in store.theorems(r.id, sorry=True)}
    assert attempts, "the run tried no sorry theorem: was the prove stage skipped?"
    assert proved, "no example sorry was proved and accepted by the whole-file check: " + \
        "; ".join(f"{a.outcome}: {a.message}" for a in attempts)[:2000]
    assert all("sorry" not in a.proof.split() for a in proved)
    path = next(by_id[a.theorem_id].path for a in proved)  # a file with a proof, and its repository
    owner = next(name for name in ("nat-basics", "list-lemmas", "expr-eval") if (examples / name / path).exists())
    patch = workdir / "proofs.patch"
    assert main(["prove", owner, "--workdir", str(workdir), "--patch", str(patch), "-q"]) in (0, 1)
    assert patch.read_text().startswith("diff --git")
    subprocess.run(["git", "apply", "--check", str(patch)], cwd=examples / owner, check=True, timeout=60)
