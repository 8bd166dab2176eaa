"""Training data for a tactic generator: (goal, tactic) pairs of every step of every proved ``by`` proof.

The goal a step starts from: with traced records the real state before the tactic (ReProver's
``format_state`` applied); with static records, which have no states, the statement shaped as the goal its
proof starts from (binders as hypotheses, then ``⊢``: :func:`extraction.goal.goal_of`) followed by the
tactics already applied, one ``-- done: …`` line each. ReProver's input puts retrieved premises before the
goal (:func:`prover.generators.augmented_state`); that happens where the retriever is at hand.

Theorems whose proof gives up are never used, nor tactics that give up (``sorry``, ``admit``). Splits follow
the retriever's (:func:`database.datasets.split_theorems`, same seed and fraction): its validation and test
theorems are held out here too, every other proved theorem is training data, also those whose proofs use no
premise (the retriever has no query for them, the generator still learns their tactics).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from database.datasets import Split, novel_premise_split, split_theorems
from database.records import Theorem
from extraction.goal import goal_of
from extraction.lexer import gives_up

__all__ = ["TacticExample", "TacticData", "goal_before", "tactic_examples", "tactic_data", "normalise_tactic",
           "first_tactic_cases", "first_tactic_ranks", "hit_rate", "HIT_KS", "whole_proof_cases", "whole_proof_ranks",
           "WHOLE_PROOF_STEPS", "done_line"]

HIT_KS = (1, 8, 64)
"""The k of first-tactic hit@k."""

WHOLE_PROOF_STEPS = 3
"""Whole-proof exact match is measured on proofs of at most this many tactics."""

_NAME = re.compile(r"[A-Za-z_\u0370-\u03ff][\w.'!?\u0370-\u03ff]*")


@dataclass(frozen=True)
class TacticExample:
    """One step of a human proof: the goal it starts from and the tactic written there."""

    theorem_id: str
    """The theorem it comes from."""
    step: int
    """0-based position of the tactic in the proof."""
    goal: str
    """The goal before the tactic (a traced state, or the statement's goal plus the tactics done)."""
    tactic: str
    """The tactic as written: the target."""


@dataclass(frozen=True)
class TacticData:
    """A repository's tactic examples by split."""

    train: tuple[TacticExample, ...]
    """Steps of training theorems."""
    validation: tuple[TacticExample, ...]
    """Steps of the retriever's validation theorems."""
    test: tuple[TacticExample, ...]
    """Steps of the retriever's test theorems."""


def done_line(tactic: str) -> str:
    """A tactic already applied, as a static state lists it after the goal: ``-- done: rw [h]``."""
    return f"-- done: {' '.join(tactic.split())}"


def goal_before(theorem: Theorem, step: int, start: str | None = None) -> str:
    """The goal before tactic ``step`` of ``theorem``.

    >>> from database.records import Pos, TacticStep
    >>> t = Theorem("u", "c", "A.lean", "t", Pos(1, 1), Pos(3, 1), "theorem t (n : Nat) : n + 0 = n", "by",
    ...             steps=(TacticStep("induction n"), TacticStep("rfl")))
    >>> print(goal_before(t, 1))
    n : Nat
    ⊢ n + 0 = n
    -- done: induction n

    ``start``: the statement's goal when already computed (a proof's steps share it).
    """
    state = theorem.steps[step].state_before
    if state:
        from retrieval.dataset import format_state

        return format_state(state)
    done = [done_line(s.tactic) for s in theorem.steps[:step]]
    return "\n".join([goal_of(theorem.statement) if start is None else start, *done])


def tactic_examples(theorem: Theorem) -> list[TacticExample]:
    """Every step of a proved theorem whose tactic does not give up (none for a theorem that gives up)."""
    if theorem.has_sorry or gives_up(theorem.proof):
        return []
    start = None if any(s.state_before for s in theorem.steps) else goal_of(theorem.statement)
    return [TacticExample(theorem.id, i, goal_before(theorem, i, start), step.tactic)
            for i, step in enumerate(theorem.steps) if step.tactic.strip() and not gives_up(step.tactic)]


def tactic_data(theorems: Sequence[Theorem], *, seed: int = 3407, strategy: str = "random",
                fraction: float = 0.1) -> TacticData:
    """A repository's tactic examples, split as its retriever's data is (no held-out theorem in training)."""
    if strategy == "random":
        split: Split = split_theorems(theorems, seed=seed, fraction=fraction)
    elif strategy == "novel_premises":
        split = novel_premise_split(theorems, seed=seed, fraction=fraction)
    else:
        raise ValueError(f"unknown split strategy {strategy!r} (use 'random' or 'novel_premises')")
    held = set(split.validation) | set(split.test)
    by_id = {t.id: t for t in theorems}

    def steps(ids) -> tuple[TacticExample, ...]:
        return tuple(e for tid in ids for e in tactic_examples(by_id[tid]))

    training = sorted(t.id for t in theorems if t.id not in held)
    return TacticData(steps(training), steps(split.validation), steps(split.test))


def normalise_tactic(tactic: str) -> str:
    """Tactics compared loosely: whitespace collapsed, each dotted name cut to its last component (humans
    write short names inside a namespace, generators often full ones).

    >>> normalise_tactic("rw  [Nat.add_comm,\\n  ← List.length_append]")
    'rw [add_comm, ← length_append]'
    """
    text = " ".join(tactic.split())
    return _NAME.sub(lambda m: m.group(0).rstrip(".").rsplit(".", 1)[-1] or m.group(0), text)


def first_tactic_cases(theorems: Sequence[Theorem], held: TacticData, split: str = "test") -> list[Theorem]:
    """The theorems of ``held``'s split whose proof has a first tactic (the cases of first-tactic hit@k)."""
    chosen = {e.theorem_id for e in (held.test if split == "test" else held.validation) if e.step == 0}
    return [t for t in theorems if t.id in chosen]


def first_tactic_ranks(generator, theorems: Sequence[Theorem], k: int = max(HIT_KS), batch: int = 32
                       ) -> list[int | None]:
    """Per theorem, the 0-based rank of its first tactic among ``generator``'s top ``k`` for the goal its proof
    starts from (:func:`normalise_tactic` on both sides), None when absent."""
    from prover.generators import GenRequest

    requests = [GenRequest(goal_before(t, 0), t) for t in theorems]
    ranks: list[int | None] = []
    for i in range(0, len(requests), batch):
        rows = generator.generate(requests[i:i + batch], k)
        for theorem, row in zip(theorems[i:i + batch], rows):
            target = normalise_tactic(theorem.steps[0].tactic)
            found = [normalise_tactic(s.tactic) for s in row]
            ranks.append(found.index(target) if target in found else None)
    return ranks


def hit_rate(ranks: Sequence[int | None], k: int) -> float:
    """Share of ranks below ``k`` (0 for no cases)."""
    return sum(r is not None and r < k for r in ranks) / len(ranks) if ranks else 0.0


def whole_proof_cases(theorems: Sequence[Theorem], held: TacticData, split: str = "test",
                      max_steps: int = WHOLE_PROOF_STEPS) -> list[Theorem]:
    """The cases of first-tactic hit@k (:func:`first_tactic_cases`) whose proof has at most ``max_steps``
    tactics, none of them giving up."""
    return [t for t in first_tactic_cases(theorems, held, split)
            if len(t.steps) <= max_steps and len(tactic_examples(t)) == len(t.steps)]


def whole_proof_ranks(generator, theorems: Sequence[Theorem], k: int = max(HIT_KS), *, beam: int = 8,
                      depth: int = WHOLE_PROOF_STEPS, batch: int = 32) -> list[int | None]:
    """Per theorem, the 0-based rank of its whole proof among the ``k`` best tactic sequences ``generator``
    proposes, None when absent: whole-proof exact match without Lean.

    A beam search of width ``beam`` over states without Lean, as static records have them: the goal the proof
    starts from, then a :func:`done_line` per tactic chosen (as :func:`goal_before` writes them, so the human's
    prefix reads exactly as in training). Every sequence the beam reaches, of 1 … ``depth`` tactics, is a
    proposed proof, scored by the sum of its tactics' log-probabilities (Lean would say which of them close the goal;
    here none is checked). A hit: the proof's tactics equal a proposal's, each after :func:`normalise_tactic`.
    """
    from prover.generators import GenRequest

    ranks: list[int | None] = []
    for i in range(0, len(theorems), batch):
        chunk = theorems[i:i + batch]
        starts = [goal_before(t, 0) for t in chunk]
        frontier: list[list[tuple[tuple[str, ...], float]]] = [[((), 0.0)] for _ in chunk]
        proposed: list[dict[tuple[str, ...], float]] = [{} for _ in chunk]
        for _ in range(depth):
            requests, owners = [], []
            for j, entries in enumerate(frontier):
                for prefix, score in entries:
                    requests.append(GenRequest("\n".join([starts[j], *map(done_line, prefix)]), chunk[j]))
                    owners.append((j, prefix, score))
            if not requests:
                break
            rows = generator.generate(requests, beam)
            grown: list[list[tuple[tuple[str, ...], float]]] = [[] for _ in chunk]
            for (j, prefix, score), row in zip(owners, rows):
                for s in row:
                    grown[j].append((prefix + (s.tactic,), score + s.logprob))
            for j, entries in enumerate(grown):
                for sequence, score in entries:
                    key = tuple(normalise_tactic(t) for t in sequence)
                    proposed[j][key] = max(score, proposed[j].get(key, float("-inf")))
                frontier[j] = sorted(entries, key=lambda e: -e[1])[:beam]
        for theorem, found in zip(chunk, proposed):
            target = tuple(normalise_tactic(s.tactic) for s in theorem.steps)
            best = sorted(found, key=lambda key: -found[key])[:k]
            ranks.append(best.index(target) if target in best else None)
    return ranks
