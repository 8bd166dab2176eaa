"""The ngram tactic ranker: it learns which tactic opens which goal, grows without losing its old tactics,
saves and loads the same, and serves as a generator."""

from __future__ import annotations

from pathlib import Path

import torch

from prover.generators import GenRequest
from prover.tactic_ranker import RankerGenerator, TacticRanker, goal_features

LISTS = [(f"xs : List Nat\n⊢ (xs ++ []).length = xs.length + {i}", "simp [List.length_append]") for i in range(6)]
NATS = [(f"n : Nat\nh : n > {i}\n⊢ n ≠ 0", "omega") for i in range(6)]
EVEN = [(f"m : Nat\n⊢ Even (2 * m + {2 * i})", "exact ⟨m + 1, by ring⟩") for i in range(6)]


def ranks(ranker: TacticRanker, pairs: list[tuple[str, str]]) -> list[int]:
    rows = ranker.top([g for g, _ in pairs], len(ranker))
    return [[s.tactic for s in row].index(t) for row, (_, t) in zip(rows, pairs)]


def test_features_are_stable_and_tell_the_target_from_the_hypotheses() -> None:
    assert goal_features("n : Nat\n⊢ n = n", 1 << 16) == goal_features("n : Nat\n⊢ n = n", 1 << 16)
    assert set(goal_features("h : a = b\n⊢ c", 1 << 16)) != set(goal_features("h : c\n⊢ a = b", 1 << 16))
    assert goal_features("", 8) == [0]  # an empty goal still has a feature


def test_it_learns_which_tactic_opens_which_goal() -> None:
    ranker = TacticRanker(seed=0)
    untrained = ranker.top(["n : Nat\n⊢ n ≠ 0"], 4)
    assert untrained == [[]]  # knows no tactic yet
    loss = ranker.fit(LISTS + NATS + EVEN, epochs=20, batch_size=4, seed=1)
    assert loss < 0.5 and len(ranker) == 3
    assert ranks(ranker, LISTS + NATS + EVEN) == [0] * 18
    [row] = ranker.top(["k : Nat\nh : k > 9\n⊢ k ≠ 0"], 3)  # a goal it has not seen, shaped like NATS
    assert row[0].tactic == "omega" and row[0].logprob > row[1].logprob
    assert abs(sum(torch.tensor([s.logprob for s in row]).exp().tolist()) - 1.0) < 1e-5  # all three: a distribution


def test_a_later_repository_adds_its_tactics_and_with_replay_keeps_the_old_ones() -> None:
    first = TacticRanker(seed=0)
    first.fit(LISTS + NATS, epochs=20, batch_size=4, seed=1)
    weights = first.out.weight[:2].clone()
    assert first.grow(["omega", "omega ", "decide", "decide", "exact  ⟨m + 1, by ring⟩"]) == 2
    assert first.spellings[2:] == ["decide", "exact ⟨m + 1, by ring⟩"]  # whitespace collapsed
    assert torch.equal(first.out.weight[:2], weights) and not first.out.weight[2:].any()  # old rows as they were
    replayed = TacticRanker(seed=0)
    replayed.fit(LISTS + NATS, epochs=20, batch_size=4, seed=1)
    replayed.fit(EVEN + LISTS[:3] + NATS[:3], epochs=20, batch_size=4, seed=1)
    assert ranks(replayed, LISTS + NATS + EVEN) == [0] * 18


def test_it_saves_loads_and_generates_the_same(tmp_path: Path) -> None:
    ranker = TacticRanker(seed=0, buckets=1 << 10, dim=16)
    ranker.fit(LISTS + NATS, epochs=5, batch_size=4, seed=1)
    ranker.save(tmp_path / "tactic-ranker")
    loaded = TacticRanker.load(tmp_path / "tactic-ranker")
    goals = [g for g, _ in LISTS + NATS]
    assert loaded.labels == ranker.labels and torch.equal(loaded(goals), ranker(goals))
    request = GenRequest(NATS[0][0], theorem=None)  # type: ignore[arg-type]  # the ranker reads the state only
    assert RankerGenerator(loaded, batch=1).generate([request, request], 1) == [[ranker.top([NATS[0][0]], 1)[0][0]]] * 2
