"""Hybrid ranking: each ranker alone misses a query that the fusion gets right; the mix weight from validation."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pytest

from database.index import Hit
from database.records import Pos, Premise
from retrieval.bm25 import BM25Retriever
from retrieval.hybrid import HybridRetriever, pick_weight, score_mix


def premise(name: str, code: str) -> Premise:
    return Premise(f"Demo.{name}", "theorem", "Demo/Basic.lean", Pos(1, 1), Pos(1, 2), code)


CORPUS = [premise("target", "theorem target (a : Nat) : gamma_rel a"),
          premise("lexical_decoy", "theorem lexical_decoy : alpha_op beta_op gamma_rel"),
          premise("lexical_second", "theorem lexical_second : alpha_op beta_op"),
          premise("dense_decoy", "theorem dense_decoy : delta_op"),
          premise("dense_second", "theorem dense_second : epsilon_op"),
          premise("filler", "theorem filler : zeta_op")]
QUERY = "⊢ alpha_op beta_op gamma_rel"
IDS = {p.full_name.split(".")[-1]: p.id for p in CORPUS}


class FixedDense:
    """A learned ranker's test double: a fixed ranking for every query, restricted to ``allowed``."""

    def __init__(self, order: list[str]) -> None:
        self.order = order

    def index(self, premises: Sequence[Premise]) -> None:
        pass

    def retrieve(self, queries: Sequence[str], k: int,
                 allowed: Sequence[Collection[str]] | None = None) -> list[list[Hit]]:
        rows = []
        for i, _ in enumerate(queries):
            ids = [IDS[n] for n in self.order if allowed is None or IDS[n] in allowed[i]]
            rows.append([Hit(pid, 1.0 - r / 10) for r, pid in enumerate(ids)][:k])
        return rows


def test_each_ranker_alone_misses_what_the_fusion_finds() -> None:
    dense = FixedDense(["dense_decoy", "dense_second", "target", "filler", "lexical_decoy", "lexical_second"])
    bm25 = BM25Retriever()
    bm25.index(CORPUS)
    first = {"dense": dense.retrieve([QUERY], 3)[0], "bm25": bm25.retrieve([QUERY], 3)[0]}
    assert [h.premise_id for h in first["dense"]] == [IDS["dense_decoy"], IDS["dense_second"], IDS["target"]]
    assert [h.premise_id for h in first["bm25"]] == [IDS["lexical_decoy"], IDS["lexical_second"], IDS["target"]]
    hybrid = HybridRetriever(dense, bm25, depth=3)  # RRF of the top 3s: third in both (2/63) beats first in one (1/61)
    assert hybrid.retrieve([QUERY], 1)[0][0].premise_id == IDS["target"]
    # The accessibility restriction reaches both rankers.
    allowed = [{IDS["filler"], IDS["dense_second"]}]
    assert {h.premise_id for h in hybrid.retrieve([QUERY], 5, allowed)[0]} <= allowed[0]
    with pytest.raises(ValueError, match="unknown fusion"):
        HybridRetriever(dense, bm25, fusion="max")


def _rank(pid: str, hits: list[Hit]) -> int:
    return next(r for r, h in enumerate(hits, 1) if h.premise_id == pid)


def test_the_mix_weight_is_the_best_on_validation() -> None:
    # Two rankers with disjoint hits d0..d19 and l0..l19, evenly spaced scores.
    dense = [[Hit(f"d{i}", 1 - i / 100) for i in range(20)] for _ in range(2)]
    lexical = [[Hit(f"l{i}", 20.0 - i) for i in range(20)] for _ in range(2)]
    # One positive each ranker puts first: the even mix keeps both in the top 10 (0.5: d0 and l0 first two).
    assert pick_weight(dense, lexical, [{"d0"}, {"l0"}]) == 0.5
    # Dense alone ranks them: no weight lifts d12 into the top 10, but dense alone ranks it highest (MRR).
    assert pick_weight(dense, lexical, [{"d12"}, {"d3"}]) == 1.0
    # BM25 alone ranks them (an empty query does not count): a weight below 0.5 that keeps l3 fourth.
    w = pick_weight(dense, lexical, [{"l3"}, set()])
    assert w < 0.5 and _rank("l3", score_mix(dense[0], lexical[0], 40, w)) == 4
    assert _rank("l3", score_mix(dense[0], lexical[0], 40, 0.5)) > 4  # the even mix interleaves: worse
    assert pick_weight(dense, lexical, [set(), set()]) == 1.0
    with pytest.raises(ValueError, match="dense weight"):
        score_mix(dense[0], lexical[0], 10, 1.5)


def test_a_run_ranks_with_the_hybrid_and_keeps_the_weight_it_picked(tmp_path) -> None:
    import json

    from database.store import Store
    from leanagent.config import load_config
    from leanagent.pipeline import run
    from retrieval.loading import load_retriever
    from tests.conftest import EXAMPLES

    settings = {"quiet": "true", "retriever.model": "byt5-tiny", "retriever.warmup_steps": "5",
                "retriever.ranking": "hybrid", "retriever.fusion": "mix", "workdir": str(tmp_path)}
    result = run(load_config(None, settings), EXAMPLES / "repos.txt", echo=lambda _: None)
    assert result.failures == []
    with Store.open(tmp_path / "leanagent.db") as store:
        infos = [next(s.info for s in store.stages(r.id) if s.stage == "evaluate") for r in result.order]
    assert all(i["ranking"] == "hybrid" and "hybrid dense weight" in i["summary"] for i in infos)
    last = tmp_path / "checkpoints" / "03-expr-eval"
    saved = json.loads((last / "hybrid.json").read_text())
    assert 0.0 <= saved["weight"] <= 1.0 and saved["validation_queries"] > 0
    retriever = load_retriever(last, tmp_path / "index", 64, lambda: [], ranking="hybrid", fusion="mix")
    assert isinstance(retriever, HybridRetriever) and retriever.weight == saved["weight"]
