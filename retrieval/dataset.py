"""Retrieval data of one repository, built from the database: training examples and evaluation queries.

For every theorem with a proof, its retrieval units (:func:`units`): with traced records, one per tactic,
query = the state before it, positives = the premises that tactic uses (LeanDojo's annotated tactic, as
ReProver and LeanAgent train and evaluate); with static records, one per theorem, query = its statement,
positives = every premise its proof uses. Candidates are the premises accessible from its file
(:class:`database.datasets.AccessIndex`), so nothing defined later leaks in. Negatives follow ReProver:
``num_negatives`` per example, ``in_file_negatives`` of them from the positive premise's own file.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Sequence

from database.datasets import AccessIndex, Split, novel_premise_split, split_theorems
from database.records import Premise, Repo, Theorem
from database.store import Store
from database.ids import repo_id as make_repo_id
from extraction.goal import goal_of
from retrieval.base import premise_text
from retrieval.examples import TrainingExample
from retrieval.priors import Origin

__all__ = ["EvalQuery", "RepoDataset", "build_dataset", "corpus_for", "format_state", "Unit", "units"]


@dataclass(frozen=True)
class EvalQuery:
    """One evaluation query: what to ask, what counts as found, where to look."""

    theorem_id: str
    """The theorem it comes from."""
    query: str
    """Query text."""
    positives: frozenset[str]
    """Ids of the accessible premises the unit uses (its tactic's when traced, the proof's when static)."""
    allowed: frozenset[str]
    """Ids of the premises accessible from the theorem's position."""
    origin: Origin | None = None
    """Where the theorem is (for a ranking's locality and imported priors)."""


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
    usage: Mapping[str, int] = field(default_factory=dict)
    """How many training units use each premise (by id): the usage prior's counts."""


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


def format_state(state: str) -> str:
    r"""A pretty-printed state as ReProver's queries hold it: without LeanDojo's leading ``N goals`` line.

    >>> format_state("2 goals\nn : Nat\n⊢ n = n\n\n⊢ True")
    'n : Nat\n⊢ n = n\n\n⊢ True'
    >>> format_state("n : Nat\n⊢ n = n")
    'n : Nat\n⊢ n = n'
    """
    first, _, rest = state.partition("\n")
    words = first.split()
    return rest.strip() if len(words) == 2 and words[0].isdigit() and words[1] == "goals" else state


@dataclass(frozen=True)
class Unit:
    """What one query asks for: the unit of training and evaluation."""

    query: str
    """The state before a tactic (traced) or the theorem's statement (static)."""
    positives: tuple[Premise, ...]
    """Premises that tactic (traced) or the whole proof (static) uses."""


QUERY_FORMS = ("statement", "goal")


def units(theorem: Theorem, by_name: dict[str, Premise], static_query: str = "statement") -> list[Unit]:
    """The units a theorem gives, keeping only premises in ``by_name`` (its accessible ones).

    Traced records give one unit per tactic with a state and at least one annotated premise (ReProver skips
    the others); static records, which have no states, one unit: the statement (as written, or shaped as the
    goal its proof starts from with ``static_query="goal"``: :func:`extraction.goal.goal_of`) and the
    proof's premises.
    """
    def known(names) -> tuple[Premise, ...]:
        return tuple({n: by_name[n] for n in names if n in by_name}.values())

    if any(step.state_before for step in theorem.steps):
        return [Unit(format_state(step.state_before), used) for step in theorem.steps
                if step.state_before and (used := known(step.premises))]
    used = known(theorem.premises)
    if not used:
        return []
    return [Unit(goal_of(theorem.statement) if static_query == "goal" else theorem.statement, used)]


def _rng(seed: int, theorem_id: str) -> random.Random:
    return random.Random(int(hashlib.sha256(f"{seed}\x1f{theorem_id}".encode()).hexdigest()[:16], 16))


def _negatives(rng: random.Random, positive: Premise, accessible: Sequence[Premise], used: set[str],
               num: int, in_file: int, hard: Sequence[Premise] = ()) -> tuple[str, ...]:
    """``hard`` (already chosen, none used), then ``in_file`` from the positive's file, then random ones,
    ``num`` in all."""
    chosen = list(hard[:num])
    taken = used | {p.id for p in chosen}  # ids, not premises: comparing dataclasses field by field is slow
    pool = [p for p in accessible if p.id not in taken]
    same_file = [p for p in pool if p.path == positive.path]
    chosen += rng.sample(same_file, min(in_file, len(same_file), num - len(chosen)))
    taken = {p.id for p in chosen}
    rest = [p for p in pool if p.id not in taken]
    chosen += rng.sample(rest, min(num - len(chosen), len(rest)))
    return tuple(premise_text(p) for p in chosen)


class _HardNegatives:
    """A ranker's best accessible premises for a query that it does not use: what it confuses (BM25 by
    default: a keyword ranker's confusions; or the encoder about to be trained, its own)."""

    POOL = 10

    def __init__(self, premises: Sequence[Premise], ranker=None) -> None:
        if ranker is None:
            from retrieval.bm25 import BM25Retriever

            ranker = BM25Retriever()
        ranker.index(premises)
        self.ranker = ranker
        self.by_id = {p.id: p for p in premises}

    def pool(self, unit: Unit, accessible: Sequence[Premise]) -> list[Premise]:
        """The candidates for ``unit``'s hard negatives, best first."""
        used = {p.id for p in unit.positives}
        hits = self.ranker.retrieve([unit.query], self.POOL + len(used), [{p.id for p in accessible}])[0]
        return [self.by_id[h.premise_id] for h in hits if h.premise_id not in used and h.score > 0][:self.POOL]


def build_dataset(store: Store, repo: Repo, *, seed: int = 3407, strategy: str = "random",
                  fraction: float = 0.1, num_negatives: int = 3, in_file_negatives: int = 1,
                  hard_negatives: int = 0, static_query: str = "statement", negatives: bool = True,
                  hard_ranker=None) -> RepoDataset:
    """The repository's split, training examples and evaluation queries, deterministic for a seed.

    Of each example's ``num_negatives``, ``hard_negatives`` are drawn from the ten best accessible premises
    for its query that it does not use, as ``hard_ranker`` ranks them (an unindexed retriever; None: BM25),
    ``in_file_negatives`` from the positive premise's file,
    the rest at random among the accessible ones. Without ``negatives`` the training examples have none (the
    split and the queries are the same): for evaluation, which needs the queries and at most a count of the
    examples, and spares drawing negatives over every accessible premise.
    """
    if static_query not in QUERY_FORMS:
        raise ValueError(f"unknown query form {static_query!r}: use one of {', '.join(QUERY_FORMS)}")
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
    hard = _HardNegatives(premises, hard_ranker) if negatives and hard_negatives > 0 and split.train else None
    train: list[TrainingExample] = []
    usage: Counter[str] = Counter()
    evals: dict[str, list[EvalQuery]] = {"validation": [], "test": []}
    for name, ids in (("train", split.train), ("validation", split.validation), ("test", split.test)):
        for tid in ids:
            theorem = by_id[tid]
            accessible = access.accessible(theorem)
            found = units(theorem, {p.full_name: p for p in accessible}, static_query)
            if name == "train":
                rng = _rng(seed, tid)
                for unit in found:
                    usage.update(p.id for p in unit.positives)
                    used_ids = {p.id for p in unit.positives}
                    all_positive = tuple(premise_text(p) for p in unit.positives)
                    pool = hard.pool(unit, accessible) if hard is not None else []
                    for positive in unit.positives:
                        confusable = rng.sample(pool, min(hard_negatives, len(pool)))
                        train.append(TrainingExample(
                            query=unit.query, positive=premise_text(positive), all_positives=all_positive,
                            negatives=_negatives(rng, positive, accessible, used_ids, num_negatives,
                                                 in_file_negatives, confusable) if negatives else ()))
            else:
                allowed = frozenset(p.id for p in accessible)
                origin = Origin(theorem.path, theorem.start.line, access.imports_of(theorem))
                evals[name].extend(EvalQuery(tid, u.query, frozenset(p.id for p in u.positives), allowed, origin)
                                   for u in found)
    return RepoDataset(repo=repo, split=split, train=tuple(train), validation=tuple(evals["validation"]),
                       test=tuple(evals["test"]), corpus_size=len(premises), usage=dict(usage))
