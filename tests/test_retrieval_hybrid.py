"""Hybrid ranking: each ranker alone misses a query that the fusion gets right; the mix weight from validation."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pytest

from database.index import Hit
from database.records import Pos, Premise
from retrieval.bm25 import BM25Retriever
from retrieval.hybrid import PRIOR_WEIGHTS, WEIGHTS, HybridRetriever, Mix, pick_mix, score_mix
from retrieval.priors import Origin, PremisePriors
from retrieval.stats import query_score


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

    def retrieve(self, queries: Sequence[str], k: int, allowed: Sequence[Collection[str]] | None = None,
                 origins=None) -> list[list[Hit]]:
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


def pick_weight(dense, lexical, positives) -> float:
    mix = pick_mix(dense, lexical, positives)
    assert not mix.uses_priors  # without priors only the dense weight is picked
    return mix.dense


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
    assert (retriever.usage_weight, retriever.locality_weight, retriever.imported_weight) == (
        saved["usage_weight"], saved["locality_weight"], saved["imported_weight"])
    assert (retriever.priors is not None) == (max(saved["usage_weight"], saved["locality_weight"],
                                                  saved["imported_weight"]) > 0)
    if saved["usage_weight"] > 0:  # the counts the prior weighs are kept with the checkpoint
        assert retriever.priors.counts == json.loads((last / "premise-usage.json").read_text())["usage"]


def at(name: str, path: str, line: int) -> Premise:
    return Premise(name, "theorem", path, Pos(line, 1), Pos(line, 9), f"theorem {name} : True")


def test_the_priors_lift_what_both_rankers_miss_and_their_weights_come_from_validation() -> None:
    # 31 premises; both rankers return p0..p20 (dense) and p10..p30 (BM25) in order; the positives sit at
    # rank 16–21 of each: outside every top 10 of the mix alone.
    corpus = [at(f"p{i}", "Other.lean", i + 1) for i in range(28)] + [at("near", "Thm.lean", 90),
                                                                      at("used", "Lib.lean", 1),
                                                                      at("imported", "Dir/Dep.lean", 1)]
    ids = [p.id for p in corpus]
    dense = [[Hit(pid, 1 - r / 100) for r, pid in enumerate(ids[:21])]] * 3
    lexical = [[Hit(pid, 30.0 - r) for r, pid in enumerate(ids[10:])]] * 3
    near, used, imported = ids[28:]
    positives = [{near}, {used}, {imported}]
    origins = [Origin("Thm.lean", 100, frozenset({"Dir.Dep"}))] * 3
    assert all(_rank(pid, score_mix(dense[0], lexical[0], 40, w)) > 10 for pid in ids[28:] for w in WEIGHTS)
    priors = PremisePriors(corpus, {used: 50, ids[0]: 1})
    mix = pick_mix(dense, lexical, positives, priors=priors, origins=origins)
    assert min(mix.usage, mix.locality, mix.imported) > 0  # each prior is needed for one of the three queries
    hybrid = HybridRetriever.mixing(FixedHits(dense[0]), FixedHits(lexical[0]), mix, priors)
    rows = hybrid.retrieve(["q"] * 3, 10, None, origins)
    assert [pos <= {h.premise_id for h in row} for pos, row in zip(positives, rows)] == [True] * 3
    # Without the file's imports the imported prior has nothing to go by.
    assert imported not in {h.premise_id for h in hybrid.retrieve(["q"], 10, None, [Origin("Thm.lean", 100)])[0]}
    # Without origins the locality prior has nothing to go by, and the queries rank as without it.
    assert near not in {h.premise_id for h in hybrid.retrieve(["q"], 10)[0]}
    # When the rankers already find the positives, the priors stay unused (the smaller weights win ties).
    assert not pick_mix(dense, lexical, [{ids[0]}, {ids[1]}], priors=priors, origins=origins).uses_priors
    with pytest.raises(ValueError, match="prior weights"):
        Mix(0.5, -0.1)


class FixedHits:
    """A ranker's test double: the same hits for every query."""

    def __init__(self, hits: list[Hit]) -> None:
        self.hits = hits

    def index(self, premises) -> None:
        pass

    def retrieve(self, queries, k, allowed=None, origins=None):
        return [self.hits[:k] for _ in queries]


def test_the_vectorised_pick_agrees_with_scoring_every_mix_one_by_one() -> None:
    import random

    rng = random.Random(7)
    corpus = [at(f"p{i}", f"F{i % 3}.lean", rng.randrange(1, 400)) for i in range(60)]
    ids = [p.id for p in corpus]
    priors = PremisePriors(corpus, {pid: rng.choice([0, 0, 1, 3, 20]) for pid in ids})
    queries = []
    for _ in range(25):
        d = [Hit(pid, round(rng.random(), 2)) for pid in rng.sample(ids, 30)]
        lx = [Hit(pid, float(rng.randrange(5))) for pid in rng.sample(ids, 30)]  # ties on purpose
        queries.append((sorted(d, key=lambda h: -h.score), sorted(lx, key=lambda h: -h.score),
                        set(rng.sample(ids, rng.randrange(0, 4))),
                        Origin(f"F{rng.randrange(3)}.lean", 250, frozenset(rng.sample(["F0", "F1", "F2"], 1)))))
    dense, lexical, positives, origins = (list(x) for x in zip(*queries))
    picked = pick_mix(dense, lexical, positives, priors=priors, origins=origins)

    def key(mix: Mix):  # the oracle: score_mix on every query, then query_score of its top 10
        scores = [query_score([h.premise_id for h in score_mix(d, lx, 10, mix.dense, _prior(priors, mix, o))], pos)
                  for d, lx, pos, o in queries if pos]
        return (sum(s.recall_at_10 for s in scores), sum(s.reciprocal_rank for s in scores), mix.dense,
                -mix.usage, -mix.locality, -mix.imported)

    grid = [Mix(w, u, f, m) for w in WEIGHTS for u in PRIOR_WEIGHTS for f in PRIOR_WEIGHTS for m in PRIOR_WEIGHTS]
    assert key(picked) == max(key(m) for m in grid)


def _prior(priors: PremisePriors, mix: Mix, origin: Origin):
    return lambda pid: (mix.usage * priors.usage(pid) + mix.locality * priors.locality(pid, origin)
                        + mix.imported * priors.imported(pid, origin))
