"""Retrieval data from the database: no leaks from the future, ReProver negatives, deterministic."""

from __future__ import annotations

import random

import pytest

from database.datasets import module_of
from database.store import Store
from retrieval.base import premise_text
from retrieval.dataset import _negatives, build_dataset, corpus_for


@pytest.fixture(scope="module")
def stored(examples_store) -> tuple[Store, list]:
    return examples_store


def test_queries_only_see_premises_declared_before_them(stored) -> None:
    store, repos = stored
    for repo in repos:
        data = build_dataset(store, repo)
        files, premises = corpus_for(store, repo)
        imports = {f.module: set(f.imports) for f in files}
        by_id = {p.id: p for p in premises}
        theorems = {t.id: t for t in store.theorems(repo.id)}
        for query in data.validation + data.test:
            theorem = theorems[query.theorem_id]
            assert query.positives and query.positives <= query.allowed
            for pid in query.allowed:
                p = by_id[pid]
                if p.path == theorem.path:
                    assert p.start < theorem.start  # nothing later in the same file
                else:  # only from imported modules (the examples import one level at a time)
                    reach, todo = set(), [module_of(theorem.path)]
                    while todo:
                        for m in imports.get(todo.pop(), ()):
                            if m not in reach:
                                reach.add(m)
                                todo.append(m)
                    assert module_of(p.path) in reach


def test_training_examples_follow_reprover(stored) -> None:
    store, repos = stored
    data = build_dataset(store, repos[1], num_negatives=3, in_file_negatives=1)
    assert len(data.train) > 10
    premise_texts = {premise_text(p) for p in corpus_for(store, repos[1])[1]}
    for example in data.train:
        assert example.positive in premise_texts and example.positive in example.all_positives
        assert not set(example.negatives) & set(example.all_positives)
        assert len(example.negatives) <= 3 and set(example.negatives) <= premise_texts
    # Splits are disjoint and the same on every call.
    assert build_dataset(store, repos[1]) == data
    assert not set(data.split.train) & set(data.split.test)
    assert build_dataset(store, repos[1], seed=1).split != data.split


def test_queries_say_where_they_come_from_and_usage_counts_the_training_units(stored) -> None:
    from collections import Counter

    from retrieval.dataset import units
    from retrieval.priors import Origin

    store, repos = stored
    data = build_dataset(store, repos[1])
    theorems = {t.id: t for t in store.theorems(repos[1].id)}
    imports = {f.path: frozenset(f.imports) for f in store.files(repos[1].id)}
    for query in data.validation + data.test:
        theorem = theorems[query.theorem_id]
        assert query.origin == Origin(theorem.path, theorem.start.line, imports[theorem.path])
    assert any(query.origin.imports for query in data.validation + data.test)  # the fixture's files import
    by_name = {p.full_name: p for p in corpus_for(store, repos[1])[1]}
    counted = Counter(p.id for tid in data.split.train for u in units(theorems[tid], by_name) for p in u.positives)
    assert data.usage and data.usage == dict(counted)  # training theorems only: held-out proofs are not counted
    assert sum(counted.values()) == len(data.train)  # one training example per use
    assert build_dataset(store, repos[1], negatives=False).usage == data.usage


def test_unknown_split_strategy(stored) -> None:
    store, repos = stored
    with pytest.raises(ValueError, match="unknown split strategy"):
        build_dataset(store, repos[0], strategy="by-file")
    novel = build_dataset(store, repos[1], strategy="novel_premises")
    assert novel.split.strategy == "novel_premises"


def test_sorry_theorems_are_never_training_data(stored) -> None:
    store, repos = stored
    data = build_dataset(store, repos[2])
    sorry_ids = {t.id for t in store.theorems(repos[2].id, sorry=True)}
    assert sorry_ids and not sorry_ids & set(data.split.train + data.split.validation + data.split.test)



def test_hard_negatives_are_what_bm25_confuses(stored) -> None:
    from database.datasets import AccessIndex
    from retrieval.bm25 import BM25Retriever
    from retrieval.dataset import units

    store, repos = stored
    files, premises = corpus_for(store, repos[1])
    plain = build_dataset(store, repos[1])
    data = build_dataset(store, repos[1], hard_negatives=1)
    assert data.split == plain.split and data.test == plain.test  # only training examples change
    assert build_dataset(store, repos[1], hard_negatives=1) == data  # seeded
    bm25 = BM25Retriever()
    bm25.index(premises)
    access = AccessIndex(files, premises)
    theorems = {t.id: t for t in store.theorems(repos[1].id)}
    allowed: dict[str, set[str]] = {}  # query -> ids of the premises its theorem may use
    for tid in data.split.train:
        accessible = access.accessible(theorems[tid])
        for unit in units(theorems[tid], {p.full_name: p for p in accessible}):
            allowed[unit.query] = {p.id for p in accessible}
    text_of = {p.id: premise_text(p) for p in premises}
    changed = 0
    for example, before in zip(data.train, plain.train):
        assert len(example.negatives) == len(before.negatives) and not set(example.negatives) & example.positives
        hits = bm25.retrieve([example.query], 20, [allowed[example.query]])[0]
        top = {text_of[h.premise_id] for h in hits if h.score > 0}
        assert example.negatives[0] in top or not top - example.positives  # BM25's, when it offers one
        changed += example.negatives != before.negatives
    assert changed > len(data.train) // 2


def test_static_queries_can_be_shaped_as_goals(stored) -> None:
    from extraction.goal import goal_of

    store, repos = stored
    plain = build_dataset(store, repos[0])
    goals = build_dataset(store, repos[0], static_query="goal")
    assert [q.query for q in goals.test] == [goal_of(q.query) for q in plain.test]
    assert all("⊢" in q.query for q in goals.test + goals.validation)
    with pytest.raises(ValueError, match="unknown query form"):
        build_dataset(store, repos[0], static_query="state")


def test_evaluation_data_draws_no_negatives_and_keeps_the_split_and_queries(stored) -> None:
    store, repos = stored
    full = build_dataset(store, repos[1], hard_negatives=1)
    bare = build_dataset(store, repos[1], hard_negatives=1, negatives=False)
    assert (bare.split, bare.validation, bare.test) == (full.split, full.validation, full.test)
    assert [(e.query, e.positive, e.all_positives) for e in bare.train] == \
        [(e.query, e.positive, e.all_positives) for e in full.train]
    assert all(e.negatives == () for e in bare.train) and all(e.negatives for e in full.train)


def _negatives_spelled_out(rng, positive, accessible, used, num, in_file, hard=()):
    """ReProver's rule with premises compared whole, as first written (the code compares ids, faster)."""
    chosen = list(hard[:num])
    pool = [p for p in accessible if p.id not in used and p not in chosen]
    same_file = [p for p in pool if p.path == positive.path]
    chosen += rng.sample(same_file, min(in_file, len(same_file), num - len(chosen)))
    rest = [p for p in pool if p not in chosen]
    chosen += rng.sample(rest, min(num - len(chosen), len(rest)))
    return tuple(premise_text(p) for p in chosen)


def test_negatives_are_drawn_as_the_rule_spelled_out_draws_them(stored) -> None:
    store, repos = stored
    premises = corpus_for(store, repos[2])[1]
    pick = random.Random(7)
    for trial in range(200):
        accessible = pick.sample(premises, pick.randint(1, len(premises)))
        positive = pick.choice(accessible)
        used = {positive.id} | {p.id for p in pick.sample(accessible, min(2, len(accessible)))}
        hard = [p for p in pick.sample(accessible, min(3, len(accessible))) if p.id not in used][:pick.randint(0, 2)]
        num, in_file = pick.randint(0, 4), pick.randint(0, 2)
        got = _negatives(random.Random(trial), positive, accessible, used, num, in_file, hard)
        assert got == _negatives_spelled_out(random.Random(trial), positive, accessible, used, num, in_file, hard)


def test_hard_negatives_can_be_the_encoders_own_confusions(stored) -> None:
    from database.datasets import AccessIndex
    from retrieval.dataset import units
    from retrieval.dense import DenseRetriever
    from retrieval.encoder import DualEncoder

    store, repos = stored
    files, premises = corpus_for(store, repos[1])
    encoder = DualEncoder.tiny_byt5(3, max_length=64)
    encoder.eval()
    dense = DenseRetriever(encoder, max_length=64)
    mined = build_dataset(store, repos[1], hard_negatives=1, hard_ranker=dense)
    by_bm25 = build_dataset(store, repos[1], hard_negatives=1)
    assert mined.split == by_bm25.split and mined.test == by_bm25.test  # only training examples change
    access = AccessIndex(files, premises)
    theorems = {t.id: t for t in store.theorems(repos[1].id)}
    allowed: dict[str, set[str]] = {}
    for tid in mined.split.train:
        accessible = access.accessible(theorems[tid])
        for unit in units(theorems[tid], {p.full_name: p for p in accessible}):
            allowed[unit.query] = {p.id for p in accessible}
    text_of = {p.id: premise_text(p) for p in premises}
    for example in mined.train:  # the first negative is one of the encoder's ten best wrong premises
        hits = dense.retrieve([example.query], 10 + len(example.all_positives), [allowed[example.query]])[0]
        top = [text_of[h.premise_id] for h in hits if text_of[h.premise_id] not in example.all_positives][:10]
        assert example.negatives[0] in top
    assert [e.negatives[0] for e in mined.train] != [e.negatives[0] for e in by_bm25.train]
