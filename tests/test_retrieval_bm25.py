"""The BM25 baseline: Lean tokenisation, scores against a hand-written BM25, accessibility filter."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from database.records import Pos, Premise
from retrieval.base import Hit, Retriever
from retrieval.bm25 import BM25Retriever, lean_tokens


def premise(name: str, code: str) -> Premise:
    return Premise(name, "theorem", "Toy/Basic.lean", Pos(1, 1), Pos(1, 80), code)


CORPUS = [
    premise("Nat.add_comm", "theorem add_comm (n m : Nat) : n + m = m + n"),
    premise("Nat.mul_comm", "theorem mul_comm (n m : Nat) : n * m = m * n"),
    premise("Nat.add_zero", "theorem add_zero (n : Nat) : n + 0 = n"),
    premise("List.foldl_nil", "theorem foldl_nil (f : β → α → β) (b : β) : [].foldl f b = b"),
    premise("Nat.le_refl", "theorem le_refl (n : Nat) : n ≤ n"),
]


def oracle_scores(query: str, docs: list[list[str]], k1: float = 1.5, b: float = 0.75) -> list[float]:
    """Lucene's BM25, written out: the sum over query tokens of
    ln(1 + (N − df + ½) / (df + ½)) · tf / (tf + k1 · (1 − b + b · |d| / avg |d|))."""
    n, avg = len(docs), sum(map(len, docs)) / len(docs)
    df = Counter(t for d in docs for t in set(d))
    scores = []
    for d in docs:
        tf = Counter(d)
        s = 0.0
        for t in lean_tokens(query):
            if tf[t]:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                s += idf * tf[t] / (tf[t] + k1 * (1 - b + b * len(d) / avg))
        scores.append(s)
    return scores


def test_tokens_split_lean_names() -> None:
    assert lean_tokens("Nat.succ_le_iff") == ["nat.succ_le_iff", "nat", "succ_le_iff", "succ", "le", "iff"]
    assert lean_tokens("IsOpen.inter hU") == ["isopen.inter", "isopen", "inter", "is", "open", "hu", "h", "u"]
    assert lean_tokens("(h : a ∣ b) → a ≠ 0") == ["h", "a", "∣", "b", "→", "a", "≠", "0"]
    assert lean_tokens("x₁ h' foo?") == ["x₁", "h'", "foo?"]
    assert lean_tokens("") == []


def test_scores_match_a_hand_written_bm25() -> None:
    retriever = BM25Retriever()
    retriever.index(CORPUS)
    docs = [lean_tokens(f"{p.full_name} {p.code}") for p in CORPUS]
    for query in ["⊢ a + b = b + a", "Nat.add_comm", "n ≤ n", "foldl nil", "unknown words only"]:
        hits = retriever.retrieve([query], k=len(CORPUS))[0]
        expected = oracle_scores(query, docs)
        got = {h.premise_id: h.score for h in hits}
        assert [got[p.id] for p in CORPUS] == pytest.approx(expected, rel=1e-5, abs=1e-6)
        assert [h.score for h in hits] == sorted(got.values(), reverse=True)


def test_ranking_and_accessibility_filter() -> None:
    retriever = BM25Retriever()
    retriever.index(CORPUS)
    assert isinstance(retriever, Retriever) and len(retriever) == 5
    ids = [p.id for p in CORPUS]
    top = retriever.retrieve(["⊢ n + m = m + n  -- add_comm?"], k=2)[0]
    assert top[0] == Hit(ids[0], 0.0)  # Hit equality is by premise id; the score is a measurement
    allowed = [{ids[1], ids[2], "premise:unknown"}, set(), {ids[4]}]
    hits = retriever.retrieve(["Nat.add_comm", "Nat.add_comm", "Nat.add_comm"], k=3, allowed=allowed)
    assert [h.premise_id for h in hits[0]] == [ids[2], ids[1]]  # add_zero shares "add" with the query
    assert hits[1] == [] and [h.premise_id for h in hits[2]] == [ids[4]]
    # Ties (no shared token: score 0) keep corpus order, so results are deterministic.
    assert [h.premise_id for h in retriever.retrieve(["zzz"], k=5)[0]] == ids


def test_errors_and_empty_corpus() -> None:
    retriever = BM25Retriever()
    with pytest.raises(ValueError, match="call index"):
        retriever.retrieve(["q"], 1)
    retriever.index([])
    assert retriever.retrieve(["q"], 3) == [[]]
    retriever.index(CORPUS)
    with pytest.raises(ValueError, match="1 queries but 2 allowed"):
        retriever.retrieve(["q"], 1, [set(), set()])
    with pytest.raises(ValueError, match="k must be positive"):
        retriever.retrieve(["q"], 0)


@pytest.mark.parametrize("theirs", [None, "cuda"])
def test_bm25s_is_imported_with_jax_kept_off_the_gpu(tmp_path, theirs) -> None:
    """bm25s runs a JAX top-k when imported; JAX's first use on a GPU takes 75% of its memory. A stand-in JAX
    records the platform it was imported under: "cpu", unless the user chose one; the variable is restored."""
    (tmp_path / "jax").mkdir()
    (tmp_path / "jax" / "__init__.py").write_text("")
    (tmp_path / "jax" / "lax.py").write_text("import os\nseen = os.environ.get('JAX_PLATFORMS')\n\n"
                                             "def top_k(x, k):\n    return x[:k], list(range(k))\n")
    script = ("import os\nfrom retrieval.bm25 import BM25Retriever\nBM25Retriever().index([])\n"
              "import jax.lax, bm25s.selection\n"
              "print(jax.lax.seen, bm25s.selection.JAX_IS_AVAILABLE, os.environ.get('JAX_PLATFORMS'))")
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "JAX_PLATFORMS"}
    env["PYTHONPATH"] = f"{tmp_path}{os.pathsep}{root}"
    if theirs:
        env["JAX_PLATFORMS"] = theirs
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True,
                         cwd=tmp_path).stdout
    assert out.split() == [theirs or "cpu", "True", str(theirs)]
