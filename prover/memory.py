"""Proof memory: the tactics of proved steps whose goals are nearest the current one, adapted to it.

A tactic generator with nothing to train (issue 10, item 2a). Its memory holds every step of every proved
``by`` proof it is given (:func:`prover.tactic_data.tactic_examples`: the goal before the step, the tactic
written there); it grows with the database. For a state it finds the ``neighbours`` nearest goals, by the
retriever's encoder (:class:`DenseNeighbours`: cosine of the embeddings) or by BM25 over Lean tokens
(:class:`LexicalNeighbours`), and suggests their tactics, adapted to the state:

* **binder names mapped**: the neighbour goal's hypotheses, in order, renamed to the state's (``h`` → ``hab``),
  the unmapped tactic kept behind it;
* **premises replaced**: a name in the tactic that is a premise the neighbour's proof uses is replaced by each
  of the state's top retrieved premises of the same kind (a theorem by a theorem, a definition by a
  definition), best first, the original kept ahead of them.

Scores: a neighbour's similarity over ``temperature``, minus a penalty per adaptation; a tactic suggested by
several neighbours gets the log-sum-exp of theirs; a log-softmax over everything suggested for the state makes
them log-probabilities. Deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from database.records import Premise, Theorem
from extraction.lexer import IDENT, tokenize
from prover.generators import (DEFINITION_KINDS, THEOREM_KINDS, GeneratorUnavailable, GenRequest, PremiseSource,
                               Suggestion, _ranked, hypotheses)
from prover.tactic_data import tactic_examples

__all__ = ["Remembered", "Neighbours", "DenseNeighbours", "LexicalNeighbours", "ProofMemory", "adapt",
           "rename", "OFFLINE_GENERATORS", "offline_generator", "saved_tactic_model", "neighbours_for"]

OFFLINE_GENERATORS = ("templates", "memory", "combined", "model")
"""``prover.generator`` values that need no model download: templates, proof memory, the run's own tactic model
(:mod:`prover.tactic_model`), and ``combined`` (templates, memory, and the model when the run trains one)."""


@dataclass(frozen=True)
class Remembered:
    """One step of a proved theorem, as the memory keeps it."""

    theorem_id: str
    """The theorem it comes from."""
    goal: str
    """The goal before the step (what states are compared with)."""
    tactic: str
    """The tactic written there."""
    premises: tuple[str, ...]
    """Full names of the premises the step uses (the proof's, for static records without per-step ones)."""


class Neighbours(Protocol):
    """Nearest texts by similarity; scores comparable across queries (higher is nearer)."""

    def fit(self, texts: Sequence[str]) -> None:
        """Make ``texts`` the ones searched."""
        ...

    def nearest(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        """Per query, up to ``k`` (row, similarity) pairs, nearest first."""
        ...


class DenseNeighbours:
    """Cosine similarity of an encoder's unit-norm embeddings (the retriever's :class:`DualEncoder`)."""

    temperature = 0.05
    """Similarity to logit: a cosine difference of 0.05 is a factor e."""

    def __init__(self, encoder, *, max_length: int | None = None, batch_size: int = 32) -> None:
        self.encoder = encoder
        self.max_length = max_length
        self.batch_size = batch_size
        self._matrix = np.zeros((0, 1), dtype=np.float32)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.embed(list(texts), batch_size=self.batch_size, max_length=self.max_length).numpy()

    def fit(self, texts: Sequence[str]) -> None:
        self._matrix = self._embed(texts) if texts else np.zeros((0, 1), dtype=np.float32)

    def nearest(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        if not len(queries) or not len(self._matrix) or k <= 0:
            return [[] for _ in queries]
        sims = self._embed(queries) @ self._matrix.T
        return [_top(row, k) for row in sims]


class LexicalNeighbours:
    """BM25 over Lean tokens (:func:`retrieval.bm25.lean_tokens`), each query's scores divided by its best, so
    the nearest has similarity 1."""

    temperature = 0.25

    def __init__(self, *, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self._bm25 = None
        self._n = 0

    def fit(self, texts: Sequence[str]) -> None:
        from retrieval.bm25 import import_bm25s, lean_tokens

        bm25s = import_bm25s()
        self._n = len(texts)
        self._bm25 = bm25s.BM25(k1=self.k1, b=self.b)
        lines: dict[str, list[str]] = {}  # no token spans a line, and a proof's steps repeat their goal's lines

        def tokens(text: str) -> list[str]:
            out: list[str] = []
            for line in text.split("\n"):
                found = lines.get(line)
                if found is None:
                    found = lines[line] = lean_tokens(line)
                out += found
            return out

        if texts:
            self._bm25.index([tokens(t) for t in texts], show_progress=False)

    def nearest(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        from retrieval.bm25 import lean_tokens

        out: list[list[tuple[int, float]]] = []
        for query in queries:
            ids = self._bm25.get_tokens_ids(lean_tokens(query)) if self._n and k > 0 else []
            if not ids:
                out.append([])
                continue
            scores = self._bm25.get_scores_from_ids(ids)
            top = _top(scores, k)
            best = top[0][1] if top and top[0][1] > 0 else 0.0
            out.append([(i, s / best) for i, s in top if s > 0] if best else [])
        return out


def _top(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best (row, score), best first, ties by row (deterministic)."""
    k = min(k, len(scores))
    if k <= 0:
        return []
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    rows = sorted(part.tolist(), key=lambda i: (-float(scores[i]), i))
    return [(i, float(scores[i])) for i in rows]


def _replace_idents(tactic: str, mapping: Mapping[str, str]) -> str:
    """``tactic`` with each identifier (or a dotted one's first component) in ``mapping`` replaced."""
    toks = tokenize(tactic)
    out, last = [], 0
    for kind, text, start, end in zip(toks.kinds, toks.texts, toks.starts, toks.ends):
        if kind != IDENT:
            continue
        head, dot, rest = text.partition(".")
        if text in mapping:
            new = mapping[text]
        elif dot and head in mapping:
            new = f"{mapping[head]}.{rest}"
        else:
            continue
        out += [tactic[last:start], new]
        last = end
    return "".join(out) + tactic[last:] if out else tactic


def rename(tactic: str, old: Sequence[str], new: Sequence[str]) -> str:
    """The tactic with the neighbour's hypotheses ``old`` renamed, position by position, to ``new``.

    >>> rename("exact Nat.le_of_lt h.1", ["n", "h"], ["m", "hab"])
    'exact Nat.le_of_lt hab.1'
    """
    mapping = {a: b for a, b in zip(old, new) if a != b}
    return _replace_idents(tactic, mapping) if mapping else tactic


def _premise_tokens(tactic: str, used: Sequence[str]) -> list[tuple[str, str]]:
    """(identifier as written, the used premise's full name it stands for), each identifier once, in order:
    a name matches when it is the full name or a suffix of it at a dot (written inside its namespace)."""
    found: dict[str, str] = {}
    toks = tokenize(tactic)
    for kind, text in zip(toks.kinds, toks.texts):
        if kind != IDENT or text in found:
            continue
        for full in used:
            if full == text or full.endswith("." + text):
                found[text] = full
                break
    return list(found.items())


def adapt(tactic: str, old_hyps: Sequence[str], new_hyps: Sequence[str], used: Sequence[str],
          kinds: Mapping[str, str], current: Sequence[Premise], *, substitutions: int = 3,
          names: int = 2, rename_penalty: float = 1.0, swap_penalty: float = 0.6) -> dict[str, float]:
    """The tactic's variants for the current state and their penalties (0 for the tactic as mapped).

    >>> from database.records import Pos
    >>> p = Premise("Nat.mul_comm", "theorem", "A.lean", Pos(1, 1), Pos(1, 9), "theorem mul_comm : …")
    >>> sorted(adapt("rw [add_comm] at h", ["h"], ["hx"], ["Nat.add_comm"], {"Nat.add_comm": "theorem"}, [p]).items())
    [('rw [Nat.mul_comm] at hx', 0.6), ('rw [add_comm] at h', 1.0), ('rw [add_comm] at hx', 0.0)]
    """
    mapped = rename(tactic, old_hyps, new_hyps)
    out = {mapped: 0.0}
    if mapped != tactic:
        out.setdefault(tactic, rename_penalty)
    for written, full in _premise_tokens(mapped, used)[:names]:
        kind = kinds.get(full)
        family = THEOREM_KINDS if kind in THEOREM_KINDS else DEFINITION_KINDS if kind in DEFINITION_KINDS else None
        if family is None:
            continue
        same = [p for p in current if p.kind in family and p.full_name != full][:substitutions]
        for rank, p in enumerate(same):
            variant = _replace_idents(mapped, {written: p.full_name})
            penalty = swap_penalty * (1 + rank)
            if penalty < out.get(variant, math.inf):
                out[variant] = penalty
    return out


def _logsumexp(a: float, b: float) -> float:
    top = max(a, b)
    return top + math.log(math.exp(a - top) + math.exp(b - top))


class ProofMemory:
    """Tactic suggestions from the nearest remembered steps (see the module's text).

    ``kinds``: premise full name → kind (``theorem``, ``def``, …), for replacing like with like; ``premises``:
    where the state's top premises come from (none: no replacement).
    """

    def __init__(self, entries: Sequence[Remembered], neighbours: Neighbours, *,
                 premises: PremiseSource | None = None, kinds: Mapping[str, str] | None = None,
                 num_neighbours: int = 32, num_premises: int = 8, temperature: float | None = None,
                 substitutions: int = 3) -> None:
        self.entries = list(entries)
        self.neighbours = neighbours
        self.source = premises
        self.kinds = dict(kinds or {})
        self.num_neighbours = num_neighbours
        self.num_premises = num_premises
        self.temperature = temperature or getattr(neighbours, "temperature", 0.1)
        self.substitutions = substitutions
        self._hyps = [tuple(hypotheses(e.goal)) for e in self.entries]
        neighbours.fit([e.goal for e in self.entries])

    @staticmethod
    def remember(theorems: Sequence[Theorem], exclude: set[str] | frozenset[str] = frozenset()
                 ) -> list[Remembered]:
        """Every step of every proved theorem not in ``exclude`` (held-out ones), in the given order."""
        out: list[Remembered] = []
        for theorem in theorems:
            if theorem.id in exclude:
                continue
            for example in tactic_examples(theorem):
                step = theorem.steps[example.step]
                used = tuple(step.premises) or tuple(theorem.premises)
                out.append(Remembered(theorem.id, example.goal, example.tactic, used))
        return out

    def __len__(self) -> int:
        return len(self.entries)

    def generate(self, requests: Sequence[GenRequest], n: int) -> list[list[Suggestion]]:
        if not requests or n <= 0:
            return [[] for _ in requests]
        found = self.neighbours.nearest([r.state for r in requests], self.num_neighbours)
        needs = self.source is not None and self.num_premises > 0
        current = (self.source.premises(requests, self.num_premises) if needs else [[] for _ in requests])
        result = []
        for request, near, premises in zip(requests, found, current):
            state_hyps = hypotheses(request.state)
            best = near[0][1] if near else 0.0
            scores: dict[str, float] = {}
            for row, similarity in near:
                entry = self.entries[row]
                if entry.theorem_id == request.theorem.id:
                    continue  # a theorem's own proof is no suggestion for it
                logit = (similarity - best) / self.temperature
                for tactic, penalty in adapt(entry.tactic, self._hyps[row], state_hyps, entry.premises,
                                             self.kinds, premises, substitutions=self.substitutions).items():
                    score = logit - penalty
                    scores[tactic] = _logsumexp(scores[tactic], score) if tactic in scores else score
            result.append(_ranked(scores, n))
        return result


def neighbours_for(kind: str, checkpoint_dir=None, max_length: int | None = None) -> Neighbours:
    """``lexical`` (BM25), or ``dense`` (the checkpoint's encoder; BM25 when the checkpoint is BM25's or
    none is given)."""
    if kind not in ("lexical", "dense"):
        raise ValueError(f"unknown memory neighbours {kind!r}: use lexical or dense")
    if kind == "dense" and checkpoint_dir:
        from retrieval.bm25 import is_bm25_checkpoint

        if not is_bm25_checkpoint(checkpoint_dir):
            from retrieval.encoder import DualEncoder

            return DenseNeighbours(DualEncoder.load(checkpoint_dir), max_length=max_length)
    return LexicalNeighbours()


def saved_tactic_model(model_dir=None):
    """The run's tactic model saved in checkpoint directory ``model_dir`` as a generator: the ``ngram`` ranker
    (:mod:`prover.tactic_ranker`) or a seq2seq model (no premises in its input, as it was trained); None when
    that checkpoint has neither."""
    from pathlib import Path

    from prover.generators import Seq2SeqGenerator
    from prover.tactic_model import TACTIC_MODEL_DIR
    from prover.tactic_ranker import TACTIC_RANKER_DIR, RankerGenerator, TacticRanker

    if not model_dir:
        return None
    if (Path(model_dir) / TACTIC_RANKER_DIR).is_dir():
        return RankerGenerator(TacticRanker.load(Path(model_dir) / TACTIC_RANKER_DIR))
    saved = Path(model_dir) / TACTIC_MODEL_DIR
    if not saved.is_dir():
        return None
    return Seq2SeqGenerator.from_pretrained(str(saved), num_premises=0, max_output_tokens=128)


def offline_generator(kind: str, source: PremiseSource | None, num_premises: int, theorems: Sequence[Theorem],
                      kinds: Mapping[str, str], neighbours, exclude: set[str] | frozenset[str] = frozenset(),
                      model_dir=None, memory: ProofMemory | None = None):
    """The generator ``kind`` (one of :data:`OFFLINE_GENERATORS`) over premises from ``source``; a memory
    remembers ``theorems`` but those in ``exclude``, its neighbours made by ``neighbours()``; the tactic model is
    the one saved in ``model_dir`` (a checkpoint directory), if any; ``memory``: one already built, to share."""
    from prover.generators import CombinedGenerator, TemplateGenerator

    if kind not in OFFLINE_GENERATORS:
        raise ValueError(f"{kind!r} is not one of {', '.join(OFFLINE_GENERATORS)}")
    model = saved_tactic_model(model_dir)
    if kind == "model":
        if model is None:
            raise GeneratorUnavailable(f"no tactic model in {model_dir or 'the run'}: set prover.tactic_model "
                                       "(e.g. byt5-tiny) and train")
        return model
    templates = TemplateGenerator(source, num_premises=num_premises)
    if kind == "templates":
        return templates
    if memory is None:
        memory = ProofMemory(ProofMemory.remember(theorems, exclude), neighbours(), premises=source, kinds=kinds,
                             num_premises=num_premises)
    if kind == "memory":
        return memory
    return CombinedGenerator([templates, memory] + ([model] if model is not None else []))
