"""The dense retriever end to end (texts → embeddings → index → hits) against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from database.records import Pos, Premise
from retrieval.base import Retriever, premise_text
from retrieval.dense import DenseRetriever
from retrieval.encoder import DualEncoder

NAMES = [f"Nat.{op}_{prop}" for op in ("add", "mul", "sub", "pow", "gcd")
         for prop in ("comm", "assoc", "zero", "one")]
PREMISES = [Premise(n, "theorem", f"Toy/F{i % 3}.lean", Pos(i + 1, 1), Pos(i + 1, 60),
                    f"theorem {n.split('.')[1]} (a b : Nat) : {n} a b = {n} b a") for i, n in enumerate(NAMES)]
QUERIES = ["⊢ a + b = b + a", "⊢ a * 1 = a", "h : 0 < a\n⊢ Nat.gcd a b ∣ a",
           "⊢ (a - b) - c = a - (b + c)"]


@pytest.fixture(scope="module")
def encoder() -> DualEncoder:
    return DualEncoder.tiny_byt5(seed=3)


def brute_force(encoder: DualEncoder, k: int, allowed=None) -> list[list[str]]:
    p = encoder.embed([premise_text(x) for x in PREMISES]).numpy()
    scores = encoder.embed(QUERIES).numpy() @ p.T
    out = []
    for i, row in enumerate(scores):
        rows = [r for r in np.argsort(-row) if allowed is None or PREMISES[r].id in allowed[i]]
        out.append([PREMISES[r].id for r in rows[:k]])
    return out


def test_dense_retrieval_matches_brute_force(encoder: DualEncoder) -> None:
    retriever = DenseRetriever(encoder, batch_size=4)
    retriever.index(PREMISES)
    assert isinstance(retriever, Retriever)
    assert set(retriever.premise_index.ids) == {p.id for p in PREMISES}
    hits = retriever.retrieve(QUERIES, k=5)
    assert [[h.premise_id for h in q] for q in hits] == brute_force(encoder, 5)
    by_id = {p.id: p for p in PREMISES}
    q0 = encoder.embed([QUERIES[0]])[0]
    cosines = [float(q0 @ encoder.embed([premise_text(by_id[h.premise_id])])[0]) for h in hits[0]]
    assert [h.score for h in hits[0]] == pytest.approx(cosines, abs=1e-5)
    same_file = [{p.id for p in PREMISES if p.path == f"Toy/F{i % 3}.lean"} for i in range(len(QUERIES))]
    filtered = retriever.retrieve(QUERIES, k=3, allowed=same_file)
    assert [[h.premise_id for h in q] for q in filtered] == brute_force(encoder, 3, same_file)
    assert all(h.premise_id in same_file[i] for i, q in enumerate(filtered) for h in q)


def test_incremental_add_equals_full_index(encoder: DualEncoder) -> None:
    whole = DenseRetriever(encoder)
    whole.index(PREMISES)
    grown = DenseRetriever(encoder)
    grown.add(PREMISES[:7])
    grown.add(PREMISES[5:] + PREMISES[:2])  # already-indexed premises are skipped
    assert sorted(grown.premise_index.ids) == sorted(whole.premise_index.ids)
    assert [[h.premise_id for h in q] for q in grown.retrieve(QUERIES, 4)] == \
        [[h.premise_id for h in q] for q in whole.retrieve(QUERIES, 4)]
    with pytest.raises(ValueError, match="dimension"):
        DenseRetriever(DualEncoder.tiny_byt5(d_model=16), premise_index=whole.premise_index)


def test_premise_text_marks_the_name_like_reprover() -> None:
    p = Premise("Foo.Bar.baz", "theorem", "F.lean", Pos(1, 1), Pos(1, 9), "@[simp] theorem Bar.baz : x = x")
    assert premise_text(p) == "@[simp] theorem <a>Foo.Bar.baz</a> : x = x"
    root = Premise("Nat.foo", "theorem", "F.lean", Pos(1, 1), Pos(1, 9), "theorem _root_.Nat.foo : 1 = 1")
    assert premise_text(root) == "theorem <a>Nat.foo</a> : 1 = 1"
    guillemets = Premise("X.«my thm»", "theorem", "F.lean", Pos(1, 1), Pos(1, 9), "theorem «my thm» : True")
    assert premise_text(guillemets) == "theorem <a>X.«my thm»</a> : True"
