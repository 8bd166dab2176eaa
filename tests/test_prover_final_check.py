"""The final word is Lean on the whole file, in every environment: a Lean that answers ``declaration uses `sorry```
(either spelling) or a named error for everything never yields a ``proved`` theorem, whichever environment found
the proof (the test double, the Lean REPL, LeanDojo, the whole-proof checker); and ``leanagent prove`` goes through
the REPL by default, its proofs checked by Lean on the file."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import pytest

from prover.batch import prove_one
from prover.checker import WholeProofChecker
from prover.repl import ReplEnv
from prover.repl_double import ReplDouble, root_entry
from prover.search import SearchLimits
from prover.testing import FakeLean, LakeDouble, TableGenerator
from tests.conftest import EXAMPLES
from tests.test_prover_checker import NAT, NAT_GOALS, NAT_RULES, _everything
from tests.test_prover_patch import sorry_theorems

GOAL = "n : Nat\n⊢ double n - n = n"
LAX = ("sorry", "simp", "unfold NatBasics.double", "omega")  # every tactic a lax environment lets close the goal
LIMITS = SearchLimits(timeout=60, max_expansions=20)


def _theorem():
    return sorry_theorems(NAT, "NatBasics/Double.lean")[0]


def _repl_double() -> ReplDouble:
    text = (NAT / "NatBasics" / "Double.lean").read_text().split("\n")
    line = next(i for i, t in enumerate(text, 1) if t.startswith("theorem double_sub_self"))
    entry = root_entry(line, text[line - 1].index(":= by") + 3, GOAL)
    return ReplDouble({"NatBasics/Double.lean": {"env": 0, "sorries": [entry]}},
                      {(GOAL, tactic): () for tactic in LAX})


def _environments(tmp_path: Path):
    """Each environment, lax: a tactic of LAX closes the goal there."""
    from tests.test_prover_dojo import fake_lean_dojo

    import lean_dojo  # the session's settings are in a temporary directory (tests/conftest.py)
    from prover.dojo import DojoEnv

    lax_rules = {("double n - n = n", tactic): () for tactic in LAX}
    return {
        "double": lambda: FakeLean(NAT_GOALS, lax_rules),
        "repl": lambda: ReplEnv(NAT, tmp_path / "repl", server_factory=_repl_double()),
        "dojo": lambda: DojoEnv(fake_lean_dojo(lean_dojo), str(NAT), "c" * 40),  # `simp` finishes there
        "checker": lambda: WholeProofChecker(NAT, tmp_path / "checker", runner=LakeDouble(NAT_GOALS, lax_rules)),
    }


def _generator():
    return TableGenerator(lambda goal: [(t, -0.1 * i) for i, t in enumerate(LAX)])


@pytest.mark.parametrize("env", ["double", "repl", "dojo", "checker"])
@pytest.mark.parametrize("lean", ["warning: declaration uses `sorry`", "warning: declaration uses 'sorry'",
                                  "error(lean.unknownIdentifier): unknown identifier 'double'"])
def test_a_lean_that_says_sorry_or_a_named_error_everywhere_never_yields_proved(tmp_path: Path, env, lean) -> None:
    theorem = _theorem()
    found, _ = prove_one(_environments(tmp_path)[env](), _generator(), theorem, LIMITS, "ck")
    assert found.outcome == "unverified" and found.proof  # the environment found something: never proved unchecked
    verifier = WholeProofChecker(NAT, tmp_path / "final", runner=_everything(lean))
    attempt, _ = prove_one(_environments(tmp_path)[env](), _generator(), theorem, LIMITS, "ck", verifier)
    assert attempt.outcome == "unverified" and "rejected by Lean on the whole file" in attempt.message


@pytest.mark.parametrize("env", ["double", "repl", "dojo", "checker"])
def test_a_lax_environments_proof_is_proved_only_when_lean_accepts_the_file(tmp_path: Path, env) -> None:
    verifier = WholeProofChecker(NAT, tmp_path / "final", runner=LakeDouble(NAT_GOALS, NAT_RULES))
    attempt, _ = prove_one(_environments(tmp_path)[env](), _generator(), _theorem(), LIMITS, "ck", verifier)
    assert attempt.outcome == "unverified"  # `sorry` or `simp` closed it there; Lean on the file says no
    honest = {"double n - n = n": [("unfold NatBasics.double", -0.1)], "n + n - n = n": [("omega", -0.1)]}
    attempt, _ = prove_one(FakeLean(NAT_GOALS, NAT_RULES), TableGenerator(honest), _theorem(), LIMITS, "ck", verifier)
    assert (attempt.outcome, attempt.proof) == ("proved", "unfold NatBasics.double\nomega")


def test_prove_goes_through_the_repl_by_default_and_checks_on_the_file(tmp_path: Path, monkeypatch) -> None:
    """What `leanagent prove` (and a run's prove stage) hands its Ray workers where Lean is installed: the REPL
    environment on the prepared project, and the whole-file check; both run here in-process on doubles."""
    from database.store import Store
    from leanagent.config import load_config
    from leanagent.proving import EnvRecipe, VerifierRecipe, prove_repository
    from leanagent.repos import RepoSpec
    from leanagent.scanning import ScanOptions, scan_repository
    from leanagent.workdir import Workdir
    from leanagent.project import LeanProject
    from prover.toolchain import Toolchain

    scan = scan_repository(RepoSpec(str(NAT), None), ScanOptions(cache_dir=tmp_path / "cache")).scan
    wd = Workdir(tmp_path / "run")
    monkeypatch.setattr("prover.toolchain.find_toolchain", lambda: Toolchain("/elan/bin/lake", "/elan/bin/lean", True))
    monkeypatch.setattr("leanagent.project.prepare_project",
                        lambda repo, workdir, **kw: LeanProject(EXAMPLES / "nat-basics", "c" * 40, "v4.9.0"))
    handed = {}

    def batch(targets, env_factory, generator_factory, options, **kw):
        handed.update(env=env_factory, verifier=kw["verifier_factory"], targets=targets)
        from prover.batch import BatchSummary

        return BatchSummary((), 0, 0.0)

    monkeypatch.setattr("prover.batch.prove_batch", batch)
    config = load_config(None, {"workdir": str(wd.root)})
    assert config.prover.env == "repl"  # the default
    with Store.open(wd.database) as store:
        store.ingest(scan)
        prove_repository(config, store, wd, scan.repo, "ck", generator_factory=_generator)
    env, verifier = handed["env"], handed["verifier"]
    assert isinstance(env, EnvRecipe) and (env.kind, env.repo_dir) == ("repl", str(NAT))
    assert isinstance(verifier, VerifierRecipe) and verifier.repo_dir == str(NAT) and verifier.timeout == 600.0
    monkeypatch.setattr("prover.repl.LeanInteractServers", lambda *a, **k: _repl_double())
    honest = functools.partial(TableGenerator, {GOAL: [("unfold NatBasics.double", -0.1)],
                                                "n : Nat\n⊢ n + n - n = n": [("omega", -0.1)]})
    double = _repl_double()
    double.rules = {(GOAL, "unfold NatBasics.double"): ("n : Nat\n⊢ n + n - n = n",),
                    ("n : Nat\n⊢ n + n - n = n", "omega"): ()}
    monkeypatch.setattr("prover.repl.LeanInteractServers", lambda *a, **k: double)
    check = dataclasses.replace(verifier, runner=LakeDouble(NAT_GOALS, NAT_RULES))()
    attempt, _ = prove_one(env(), honest(), _theorem(), LIMITS, "ck", check)
    assert (attempt.outcome, attempt.proof) == ("proved", "unfold NatBasics.double\nomega")
    assert double.file_commands() == [str(NAT / "NatBasics" / "Double.lean")]
