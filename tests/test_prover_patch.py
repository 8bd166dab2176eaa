"""Writing found proofs back: positions from the static extractor, indentation, and a patch that
``git apply`` accepts on the examples' sorry theorems."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from extraction.scanner import scan_source
from prover.patch import ProofEditError, make_patch, replace_proofs
from tests.conftest import EXAMPLES, run_git

from database.records import Theorem


def sorry_theorems(root: Path, rel: str) -> list[Theorem]:
    """The file's sorry theorems as :class:`Theorem` records, through the real extractor."""
    text = (root / rel).read_text()
    return [Theorem("u", "c", rel, d.name, d.start, d.end, d.statement, d.proof, has_sorry=True)
            for d in scan_source(text, rel).declarations if d.sorry_in_proof and not d.sorry_in_statement]


def test_replaces_whole_proofs_with_indented_tactics():
    rel = "ExprEval/Expr.lean"
    [eval_fold, size_fold] = [t for t in sorry_theorems(EXAMPLES / "expr-eval", rel)
                              if t.full_name.endswith(("eval_constFold", "size_constFold_le"))]
    text = (EXAMPLES / "expr-eval" / rel).read_text()
    out = replace_proofs(text, [(size_fold, ("induction e", "all_goals simp [size]")),
                                (eval_fold, ("induction e <;> simp_all [eval]",))])
    assert ("theorem eval_constFold (env : Env) (e : Expr) : eval env (constFold e) = eval env e := by\n"
            "  induction e <;> simp_all [eval]\n\ntheorem size_constFold_le") in out
    assert "size (constFold e) ≤ size e := by\n  induction e\n  all_goals simp [size]\n" in out
    assert text.count("sorry") == 3 and "sorry" not in out  # two in eval_constFold, one in size_constFold_le
    before, after = text.split("theorem eval_constFold")[0], out.split("theorem eval_constFold")[0]
    assert before == after  # nothing above the edits moved


def test_a_changed_file_is_refused():
    rel = "ListLemmas/Append.lean"
    [theorem] = sorry_theorems(EXAMPLES / "list-lemmas", rel)
    text = (EXAMPLES / "list-lemmas" / rel).read_text()
    with pytest.raises(ProofEditError, match="changed since it was scanned"):
        replace_proofs("-- a new first line\n" + text, [(theorem, ("rfl",))])


def test_patch_applies_with_git(tmp_path: Path):
    root = tmp_path / "list-lemmas"
    shutil.copytree(EXAMPLES / "list-lemmas", root)
    run_git(root, "init", "-q")
    run_git(root, "add", ".")
    run_git(root, "commit", "-qm", "base")
    proofs = {}
    for rel in ("ListLemmas/Reverse.lean", "ListLemmas/Append.lean"):
        proofs[rel] = [(t, ("induction xs with", "| nil => rfl", "| cons x xs ih => simp_all"))
                       for t in sorry_theorems(root, rel)]
    patch = make_patch(root, proofs)
    assert patch.startswith("diff --git a/ListLemmas/Append.lean b/ListLemmas/Append.lean\n")
    (tmp_path / "proofs.patch").write_text(patch)
    subprocess.run(["git", "apply", "--check", str(tmp_path / "proofs.patch")], cwd=root, check=True, timeout=30)
    subprocess.run(["git", "apply", str(tmp_path / "proofs.patch")], cwd=root, check=True, timeout=30)
    for rel, pairs in proofs.items():
        assert (root / rel).read_text() == replace_proofs((EXAMPLES / "list-lemmas" / rel).read_text(), pairs)
    assert "| cons x xs ih => simp_all" in (root / "ListLemmas/Reverse.lean").read_text()
