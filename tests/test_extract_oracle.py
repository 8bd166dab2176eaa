"""The static extractor against the hand-checked oracle corpus (tests/oracle, written for the project)."""

from __future__ import annotations

from pathlib import Path

from extraction.oracle import compare_premises, load_oracle, static_declarations

ORACLE = Path(__file__).resolve().parent / "oracle"
KNOWN_MISSES: set[str] = set()  # none today: each case of the oracle is right


def test_every_case_of_the_oracle_but_the_known_misses() -> None:
    truth = load_oracle(ORACLE / "expected.json")
    found = static_declarations(ORACLE)
    assert set(truth) <= set(found)
    got = {name: (sorted(found[name][0]), found[name][1]) for name in truth if name not in KNOWN_MISSES}
    assert got == {name: (sorted(t["premises"]), t["steps"]) for name, t in truth.items() if name not in KNOWN_MISSES}
    agreement = compare_premises({n: found[n][0] for n in truth}, {n: t["premises"] for n, t in truth.items()})
    assert agreement.wrong == tuple(sorted(KNOWN_MISSES)) and agreement.false_positives == 0
    assert (agreement.true_positives, agreement.false_negatives) == (15, 0)


def test_the_traced_comparison_without_lean_is_one_line_and_exit_2(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PATH": "/usr/bin:/bin", "ELAN_HOME": str(tmp_path / "no-elan")}
    done = subprocess.run([sys.executable, str(ORACLE.parent.parent / "scripts" / "compare_traced.py"), str(ORACLE),
                           "--workdir", str(tmp_path / "w")], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "no Lean toolchain" in done.stderr
