"""The ngram tactic ranker: it learns which tactic opens which goal, grows without losing its old tactics,
weighs a repository's own tactic counts for its goals, saves and loads the same, and serves as a generator."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from database.records import Pos, Theorem
from prover.generators import GenRequest
from prover.tactic_ranker import RankerGenerator, TacticRanker, goal_features

LISTS = [(f"xs : List Nat\n⊢ (xs ++ []).length = xs.length + {i}", "simp [List.length_append]") for i in range(6)]
NATS = [(f"n : Nat\nh : n > {i}\n⊢ n ≠ 0", "omega") for i in range(6)]
EVEN = [(f"m : Nat\n⊢ Even (2 * m + {2 * i})", "exact ⟨m + 1, by ring⟩") for i in range(6)]


def request(goal: str, url: str = "https://github.com/a/a") -> GenRequest:
    return GenRequest(goal, Theorem(url, "c", "A.lean", "t", Pos(1, 1), Pos(2, 1), "theorem t : True", "by trivial"))


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
    asked = request(NATS[0][0], "elsewhere")  # counted nowhere: the ranker alone
    assert RankerGenerator(loaded, batch=1).generate([asked, asked], 1) == [[ranker.top([NATS[0][0]], 1)[0][0]]] * 2


def test_a_repositorys_own_tactic_counts_lift_its_tactics_for_its_goals_only(tmp_path: Path) -> None:
    ranker = TacticRanker(seed=0, buckets=1 << 10, dim=16)
    ranker.fit(LISTS + NATS, epochs=20, batch_size=4, seed=1)  # both repositories' goals, learned apart
    ranker.count("https://github.com/a/a", ["omega"] * 5 + ["decide"])  # a: mostly omega; decide grown a row
    assert len(ranker) == 3 and ranker.counts["https://github.com/a/a"] == {1: 5, 2: 1}
    goal = LISTS[0][0]
    [alone] = ranker.top([goal], 3)
    [here, there] = RankerGenerator(ranker, prior=4.0, mix=0.0).generate([request(goal), request(goal, "b")], 3)
    assert alone[0].tactic == there[0].tactic == "simp [List.length_append]" and alone == there  # b counted none
    assert [s.tactic for s in alone] == ["simp [List.length_append]", "decide", "omega"]
    assert [s.tactic for s in here] == ["simp [List.length_append]", "omega", "decide"]  # a's habit lifted ...
    [heavier] = RankerGenerator(ranker, prior=16.0, mix=0.0).generate([request(goal)], 3)
    assert heavier[0].tactic == "omega"  # ... and with more weight, above what the goal's n-grams say
    assert abs(sum(torch.tensor([s.logprob for s in here]).exp().tolist()) - 1.0) < 1e-5  # still a distribution
    assert RankerGenerator(ranker, prior=0.0, mix=0.0).generate([request(goal)], 3) == [alone]  # the ranker alone
    [mixed, elsewhere] = RankerGenerator(ranker, prior=0.0, mix=0.5).generate([request(goal), request(goal, "b")], 3)
    assert [s.tactic for s in mixed] == ["simp [List.length_append]", "omega", "decide"]
    by = {s.tactic: math.exp(s.logprob) for s in mixed}
    assert by["omega"] > 0.5 * 5 / 6 and by["decide"] > 0.5 * 1 / 6  # at least their share of a's counts
    assert abs(sum(by.values()) - 1.0) < 1e-5
    assert elsewhere == alone  # no counts: the ranker alone
    ranker.save(tmp_path / "r")
    loaded = TacticRanker.load(tmp_path / "r")
    assert loaded.counts == ranker.counts
    assert RankerGenerator(loaded, prior=4.0, mix=0.0).generate([request(goal)], 3) == [here]


def test_frozen_embeddings_leave_the_n_gram_rows_as_they_were_and_train_the_tactic_rows() -> None:
    ranker = TacticRanker(seed=0, buckets=1 << 10, dim=16)
    ranker.fit(LISTS, epochs=2, batch_size=4, seed=1)
    embeddings, head = ranker.embedding.weight.clone(), ranker.out.weight.clone()
    ranker.fit(NATS + LISTS[:2], epochs=20, batch_size=4, seed=1, embedding_lr=0.0)
    assert torch.equal(ranker.embedding.weight, embeddings) and ranker.embedding.weight.requires_grad
    assert not torch.equal(ranker.out.weight[:1], head) and ranks(ranker, NATS) == [0] * 6  # learned on the head
