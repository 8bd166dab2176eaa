"""Retrieval data of one repository, built from the database: training examples and evaluation queries.

For every theorem with a proof: query = its statement (static extraction) or the state before each
tactic (traced data); positives = the premises it uses; candidates = the premises accessible from its
file (:class:`database.datasets.AccessIndex`), so nothing defined later leaks in. Negatives follow ReProver:
``num_negatives`` per example, ``in_file_negatives`` of them from the positive premise's own file.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Sequence

from database.datasets import AccessIndex, Split, novel_premise_split, split_theorems
from database.records import Premise, Repo, Theorem
from database.store import Store
from database.ids import repo_id as make_repo_id
from retrieval.base import premise_text
from retrieval.examples import TrainingExample

__all__ = ["EvalQuery", "RepoDataset", "build_dataset", "corpus_for"]


@dataclass(frozen=True)
class EvalQuery:
    """One evaluation query: what to ask, what counts as found, where to look."""

    theorem_id: str
    """The theorem it comes from."""
    query: str
    """Query text."""
    positives: frozenset[str]
    """Ids of the premises the proof uses (that are accessible)."""
    allowed: frozenset[str]
    """Ids of the premises accessible from the theorem's position."""


@dataclass(frozen=True)
class RepoDataset:
    """A repository's retrieval data for one split strategy."""

    repo: Repo
    """The repository."""
    split: Split
    """Which theorem went where."""
    train: tuple[TrainingExample, ...]
    """Training examples (one per used premise of each training query)."""
    validation: tuple[EvalQuery, ...]
    """Validation queries."""
    test: tuple[EvalQuery, ...]
    """Test queries."""
    corpus_size: int
    """Premises of the repository and its scanned dependencies."""


def corpus_for(store: Store, repo: Repo) -> tuple[list, list[Premise]]:
    """Files and premises a repository's theorems can see: its own plus its stored dependencies'."""
    ids = [repo.id]
    for dep in repo.dependencies:
        dep_id = make_repo_id(dep.url, dep.rev or "path")
        if store.repo(dep_id) is not None:
            ids.append(dep_id)
    files, premises = [], []
    for rid in ids:
        files.extend(store.files(rid))
        premises.extend(store.premises(rid))
    return files, premises


def _queries(theorem: Theorem) -> list[str]:
    """Traced theorems give one query per tactic state; static ones their statement."""
    states = [s.state_before for s in theorem.steps if s.state_before]
    return states or [theorem.statement]


def _rng(seed: int, theorem_id: str) -> random.Random:
    return random.Random(int(hashlib.sha256(f"{seed}\x1f{theorem_id}".encode()).hexdigest()[:16], 16))


def _negatives(rng: random.Random, positive: Premise, accessible: Sequence[Premise], used: set[str],
               num: int, in_file: int) -> tuple[str, ...]:
    pool = [p for p in accessible if p.id not in used]
    same_file = [p for p in pool if p.path == positive.path]
    chosen = rng.sample(same_file, min(in_file, len(same_file), num))
    rest = [p for p in pool if p not in chosen]
    chosen += rng.sample(rest, min(num - len(chosen), len(rest)))
    return tuple(premise_text(p) for p in chosen)


def build_dataset(store: Store, repo: Repo, *, seed: int = 3407, strategy: str = "random",
                  fraction: float = 0.1, num_negatives: int = 3, in_file_negatives: int = 1) -> RepoDataset:
    """The repository's split, training examples and evaluation queries, deterministic for a seed."""
    theorems = store.theorems(repo.id, sorry=False)
    files, premises = corpus_for(store, repo)
    access = AccessIndex(files, premises)
    if strategy == "random":
        split = split_theorems(theorems, seed=seed, fraction=fraction)
    elif strategy == "novel_premises":
        split = novel_premise_split(theorems, seed=seed, fraction=fraction)
    else:
        raise ValueError(f"unknown split strategy {strategy!r} (use 'random' or 'novel_premises')")
    by_id = {t.id: t for t in theorems}
    train: list[TrainingExample] = []
    evals: dict[str, list[EvalQuery]] = {"validation": [], "test": []}
    for name, ids in (("train", split.train), ("validation", split.validation), ("test", split.test)):
        for tid in ids:
            theorem = by_id[tid]
            accessible = access.accessible(theorem)
            by_name = {p.full_name: p for p in accessible}
            used = [by_name[n] for n in theorem.premises if n in by_name]
            if not used:
                continue  # every premise it uses lies outside the scanned corpus (e.g. an unscanned Mathlib)
            if name == "train":
                rng = _rng(seed, tid)
                used_ids = {p.id for p in used}
                all_positive = tuple(premise_text(p) for p in used)
                for query in _queries(theorem):
                    for positive in used:
                        train.append(TrainingExample(
                            query=query, positive=premise_text(positive), all_positives=all_positive,
                            negatives=_negatives(rng, positive, accessible, used_ids, num_negatives,
                                                 in_file_negatives)))
            else:
                allowed = frozenset(p.id for p in accessible)
                for query in _queries(theorem):
                    evals[name].append(EvalQuery(tid, query, frozenset(p.id for p in used), allowed))
    return RepoDataset(repo=repo, split=split, train=tuple(train), validation=tuple(evals["validation"]),
                       test=tuple(evals["test"]), corpus_size=len(premises))
