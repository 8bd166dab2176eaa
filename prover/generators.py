"""Tactic generators: from proof states (plus retrieved premises) to scored tactic suggestions.

Every generator answers a batch of :class:`GenRequest` (one per frontier node) with suggestions whose
``logprob`` is a log-probability, so best-first search can add them up along a path:

* :class:`TemplateGenerator` — the retriever's top premises in templates (``exact p``, ``apply p``,
  ``rw [p]``, ``simp [p, q]``, …), the state's hypotheses, and automation (``rfl``, ``simp``, ``omega``, …);
* :class:`Seq2SeqGenerator` — a Hugging Face seq2seq model fed ReProver's input (retrieved premises, then
  the state), beam search; ``kaiyuy/leandojo-lean4-retriever-tacgen-byt5-small`` when the hub is reachable;
* :class:`CombinedGenerator` — the union of several, each weighted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from database.records import Premise, Theorem
from extraction.lexer import gives_up
from retrieval.base import premise_text
from retrieval.priors import Origin

__all__ = [
    "Suggestion",
    "GenRequest",
    "TacticGenerator",
    "PremiseSource",
    "RetrievedPremises",
    "TemplateGenerator",
    "Seq2SeqGenerator",
    "CombinedGenerator",
    "GeneratorUnavailable",
    "REPROVER_TACGEN",
    "AUTOMATION",
    "augmented_state",
]

REPROVER_TACGEN = "kaiyuy/leandojo-lean4-retriever-tacgen-byt5-small"
"""ReProver's retrieval-augmented tactic generator for Lean 4 (ByT5-small)."""


class GeneratorUnavailable(RuntimeError):
    """A tactic generator's model could not be loaded (not on disk, not cached, hub out of reach)."""


@dataclass(frozen=True)
class Suggestion:
    """A tactic to try and the generator's log-probability for it."""

    tactic: str
    """Tactic text, as it would appear in a ``by`` block."""
    logprob: float = field(compare=False)
    """Log-probability (≤ 0); higher is tried first."""


@dataclass(frozen=True)
class GenRequest:
    """One proof state to suggest tactics for."""

    state: str
    """The state, pretty-printed (``State.pp``)."""
    theorem: Theorem
    """The theorem being proved (its file decides which premises are accessible)."""


@runtime_checkable
class TacticGenerator(Protocol):
    """Suggests tactics for a batch of states (one call per search expansion batch)."""

    def generate(self, requests: Sequence[GenRequest], n: int) -> list[list[Suggestion]]:
        """At most ``n`` distinct suggestions per request, best first."""
        ...


@runtime_checkable
class PremiseSource(Protocol):
    """Retrieved premises for states."""

    def premises(self, requests: Sequence[GenRequest], k: int) -> list[list[Premise]]:
        """The ``k`` best accessible premises for each request, best first."""
        ...


class RetrievedPremises:
    """A :class:`PremiseSource` over a retriever: queries are states, candidates the premises accessible
    from the theorem's file (``accessible`` maps a theorem to premise ids; ``None`` allows all).

    The premises of the last states asked for are remembered (``MEMO`` of them), so that the generators of a
    combined one, each asking for the same states, share one retrieval.
    """

    MEMO = 4096

    def __init__(self, retriever, premises: Sequence[Premise], accessible=None, imports=None) -> None:
        self.retriever = retriever
        self.by_id = {p.id: p for p in premises}
        self.accessible = accessible
        self.imports = imports
        """Maps a theorem to the modules its file imports directly, for the ranking's imported prior (None: none
        known)."""
        self._allowed: dict[str, object] = {}
        self._memo: dict[tuple[str, str, int], list[Premise]] = {}

    def _allowed_for(self, theorem: Theorem):
        """The theorem's accessible premises, resolved once per theorem (a search asks for every state)."""
        found = self._allowed.get(theorem.id)
        if found is None:
            ids = self.accessible(theorem)
            index = getattr(self.retriever, "premise_index", None)
            found = index.allow(ids) if index is not None else ids  # FAISS rows resolved once
            if len(self._allowed) > 1024:
                self._allowed.clear()
            self._allowed[theorem.id] = found
        return found

    def premises(self, requests: Sequence[GenRequest], k: int) -> list[list[Premise]]:
        if not requests or k <= 0:
            return [[] for _ in requests]
        keys = [(r.theorem.id, r.state, k) for r in requests]
        missing = {key: r for key, r in zip(keys, requests) if key not in self._memo}
        if missing:
            asked = list(missing.values())
            allowed = [self._allowed_for(r.theorem) for r in asked] if self.accessible else None
            origins = [Origin(r.theorem.path, r.theorem.start.line,
                              self.imports(r.theorem) if self.imports else frozenset()) for r in asked]
            hits = self.retriever.retrieve([r.state for r in asked], k, allowed, origins)
            if len(self._memo) + len(missing) > self.MEMO:
                self._memo.clear()
            for key, row in zip(missing, hits):
                self._memo[key] = [self.by_id[h.premise_id] for h in row if h.premise_id in self.by_id]
        return [list(self._memo[key]) for key in keys]


def _log_softmax(scores: Sequence[float]) -> list[float]:
    """Scores to log-probabilities (stable).

    >>> [round(x, 3) for x in _log_softmax([0.0, 0.0])]
    [-0.693, -0.693]
    """
    top = max(scores)
    total = top + math.log(sum(math.exp(s - top) for s in scores))
    return [s - total for s in scores]


def _ranked(candidates: dict[str, float], n: int) -> list[Suggestion]:
    """The ``n`` best of ``tactic → score`` as suggestions with log-softmax scores, ties by text."""
    if not candidates:
        return []
    tactics = list(candidates)
    logps = _log_softmax([candidates[t] for t in tactics])
    ranked = sorted(zip(tactics, logps), key=lambda x: (-x[1], x[0]))
    return [Suggestion(t, lp) for t, lp in ranked[:n]]


AUTOMATION: tuple[tuple[str, float], ...] = (
    ("rfl", 0.0), ("simp", -0.3), ("omega", -0.5), ("decide", -0.8), ("trivial", -0.8), ("assumption", -0.8),
    ("simp_all", -1.0), ("aesop", -1.0), ("norm_num", -1.2), ("linarith", -1.2), ("constructor", -1.5),
    ("intro", -1.5), ("intros", -1.8), ("contradiction", -2.0), ("exact?", -4.0),
)
"""Automation tactics and their prior scores (before normalisation); Mathlib-only ones fail fast without it."""

THEOREM_KINDS = frozenset({"theorem", "lemma", "axiom", "instance"})
DEFINITION_KINDS = frozenset({"def", "abbrev", "definition"})
_HYPOTHESIS = re.compile(r"^([^\s:⊢][^:⊢]*?) : ", re.M)


def hypotheses(state: str) -> list[str]:
    """Names of the hypotheses in a pretty-printed state, in order, without inaccessible ones (``x✝``).

    >>> hypotheses("n m : Nat\\nh : n = m\\n⊢ m = n")
    ['n', 'm', 'h']
    """
    names: list[str] = []
    for match in _HYPOTHESIS.finditer(state):
        for name in match.group(1).split():
            if "✝" not in name and name not in names:
                names.append(name)
    return names


class TemplateGenerator:
    """Tactics from templates: retrieved premises, the state's hypotheses, automation.

    Premise ``p`` at rank ``r`` (0 = best) scores ``template weight - rank_decay · r``; the pair template
    ``simp [p, q]`` uses the top ``pairs`` premises. Scores become log-probabilities by a softmax over
    everything suggested for the state. Deterministic.
    """

    def __init__(self, premises: PremiseSource | None = None, *, num_premises: int = 8,
                 automation: Sequence[tuple[str, float]] = AUTOMATION, rank_decay: float = 0.3,
                 pairs: int = 3) -> None:
        self.source = premises
        self.num_premises = num_premises
        self.automation = tuple(automation)
        self.rank_decay = rank_decay
        self.pairs = pairs

    def _candidates(self, state: str, premises: Sequence[Premise]) -> dict[str, float]:
        out: dict[str, float] = {}

        def add(tactic: str, score: float) -> None:
            if score > out.get(tactic, -math.inf):
                out[tactic] = score

        for tactic, score in self.automation:
            add(tactic, score)
        for name in hypotheses(state):
            add(f"exact {name}", -0.6)
            add(f"rw [{name}]", -1.0)
            add(f"simp [{name}]", -1.1)
            add(f"cases {name}", -1.6)
            add(f"induction {name}", -1.8)
        lemmas = []
        for rank, p in enumerate(premises):
            decay = self.rank_decay * rank
            if p.kind in THEOREM_KINDS:
                lemmas.append(p.full_name)
                add(f"exact {p.full_name}", -0.4 - decay)
                add(f"apply {p.full_name}", -0.7 - decay)
                add(f"rw [{p.full_name}]", -0.7 - decay)
                add(f"simp [{p.full_name}]", -0.9 - decay)
                add(f"rw [← {p.full_name}]", -1.4 - decay)
            elif p.kind in DEFINITION_KINDS:
                add(f"simp [{p.full_name}]", -0.8 - decay)
                add(f"unfold {p.full_name}", -1.0 - decay)
        top = lemmas[:self.pairs]
        for i, a in enumerate(top):
            for b in top[i + 1:]:
                add(f"simp [{a}, {b}]", -1.5 - self.rank_decay * i)
        return out

    def generate(self, requests: Sequence[GenRequest], n: int) -> list[list[Suggestion]]:
        found = (self.source.premises(requests, self.num_premises) if self.source is not None
                 else [[] for _ in requests])
        return [_ranked(self._candidates(r.state, ps), n) for r, ps in zip(requests, found)]


def load_hf_model(auto_class, name_or_path: str, what: str, *, local_files_only: bool = False):
    """(model, tokenizer) of a Hugging Face model by hub name or directory, in float32; raises
    :class:`GeneratorUnavailable` in one line with the next step when it is neither cached nor reachable."""
    import torch
    from huggingface_hub.errors import RepositoryNotFoundError
    from transformers import AutoTokenizer

    from retrieval.encoder import quiet_transformers

    try:
        with quiet_transformers():  # no "Loading weights" bar in a log or under -q
            tokenizer = AutoTokenizer.from_pretrained(name_or_path, local_files_only=local_files_only)
            model = auto_class.from_pretrained(name_or_path, local_files_only=local_files_only, dtype=torch.float32)
    except RepositoryNotFoundError:
        raise GeneratorUnavailable(f"cannot load {what} {name_or_path!r}: no such model on the Hugging Face hub; "
                                   "check the name, or pass a local directory") from None
    except (OSError, ValueError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise GeneratorUnavailable(
            f"cannot load {what} {name_or_path!r} ({first}); without the hub, download it elsewhere "
            f"(`huggingface-cli download {name_or_path}`) and pass its directory, or use the offline generators "
            "(`--generator combined`)") from None
    return model, tokenizer


def augmented_state(state: str, premises: Sequence[Premise], max_bytes: int) -> str:
    """ReProver's generator input: premises (best nearest the state) then the state, within ``max_bytes``.

    A leading ``N goals`` line is dropped, as ReProver's ``format_state`` does; premises that would not
    fit are skipped, not cut.

    >>> from database.records import Pos
    >>> p = Premise("f_eq", "theorem", "A.lean", Pos(1, 1), Pos(1, 9), "theorem f_eq : f = g")
    >>> augmented_state("2 goals\\n⊢ f = g", [p], 100)
    'theorem <a>f_eq</a> : f = g\\n\\n⊢ f = g'
    """
    m = re.match(r"\d+ goals", state)
    if m:
        state = state[len(m.group()):].strip()
    budget = max_bytes - len(state.encode("utf-8"))
    text, used = "", 0
    for p in premises:
        piece = premise_text(p) + "\n\n"
        size = len(piece.encode("utf-8"))
        if used + size > budget:
            continue
        used += size
        text = piece + text
    return text + state


class Seq2SeqGenerator:
    """A Hugging Face encoder-decoder that writes tactics (ReProver's tactic generator), beam search.

    Inputs follow ReProver: :func:`augmented_state` with ``num_premises`` retrieved premises (none when no
    source is given). Scores are the beams' summed token log-probabilities (``length_penalty=0``).
    """

    def __init__(self, model, tokenizer, premises: PremiseSource | None = None, *, num_premises: int = 16,
                 max_input_bytes: int = 2300, max_output_tokens: int = 128, device: str = "cpu") -> None:
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.source = premises
        self.num_premises = num_premises
        self.max_input_bytes = max_input_bytes
        self.max_output_tokens = max_output_tokens
        self.device = device

    @classmethod
    def from_pretrained(cls, name_or_path: str = REPROVER_TACGEN, premises: PremiseSource | None = None, *,
                        local_files_only: bool = False, **kwargs) -> Seq2SeqGenerator:
        """Load a seq2seq model (default: ReProver's Lean 4 tactic generator) from the hub or a directory.

        Raises :class:`GeneratorUnavailable` with the next step when it is neither cached nor reachable.
        """
        from transformers import AutoModelForSeq2SeqLM

        model, tokenizer = load_hf_model(AutoModelForSeq2SeqLM, name_or_path, "tactic generator",
                                         local_files_only=local_files_only)
        return cls(model, tokenizer, premises, **kwargs)

    def inputs(self, requests: Sequence[GenRequest]) -> list[str]:
        """The model's input texts for ``requests`` (premises retrieved when a source is set)."""
        found = (self.source.premises(requests, self.num_premises) if self.source is not None
                 else [[] for _ in requests])
        return [augmented_state(r.state, ps, self.max_input_bytes) for r, ps in zip(requests, found)]

    def generate(self, requests: Sequence[GenRequest], n: int) -> list[list[Suggestion]]:
        import torch

        if not requests or n <= 0:
            return [[] for _ in requests]
        batch = self.tokenizer(self.inputs(requests), return_tensors="pt", padding="longest", truncation=True,
                               max_length=self.max_input_bytes).to(self.device)
        with torch.no_grad():
            out = self.model.generate(**batch, num_beams=n, num_return_sequences=n, do_sample=False,
                                      length_penalty=0.0, early_stopping=False, output_scores=True,
                                      return_dict_in_generate=True, max_new_tokens=self.max_output_tokens)
        texts = self.tokenizer.batch_decode(out.sequences, skip_special_tokens=True)
        scores = out.sequences_scores.tolist()
        result = []
        for i in range(len(requests)):
            best: dict[str, float] = {}
            for text, score in zip(texts[i * n:(i + 1) * n], scores[i * n:(i + 1) * n]):
                text = text.strip()
                if gives_up(text):
                    continue  # a proof with sorry/admit is no proof
                if text and score > best.get(text, -math.inf):
                    best[text] = score
            result.append([Suggestion(t, min(0.0, s))
                           for t, s in sorted(best.items(), key=lambda x: (-x[1], x[0]))])
        return result


class CombinedGenerator:
    """The union of several generators; a tactic's log-probability is the best of
    ``log(weight) + logprob`` over the generators that suggest it."""

    def __init__(self, generators: Sequence[TacticGenerator], weights: Sequence[float] | None = None) -> None:
        if not generators:
            raise ValueError("CombinedGenerator needs at least one generator")
        weights = list(weights) if weights is not None else [1.0 / len(generators)] * len(generators)
        if len(weights) != len(generators) or any(w <= 0 for w in weights):
            raise ValueError(f"weights must be positive, one per generator; got {weights}")
        self.generators = list(generators)
        self.log_weights = [math.log(w / sum(weights)) for w in weights]

    def generate(self, requests: Sequence[GenRequest], n: int) -> list[list[Suggestion]]:
        merged: list[dict[str, float]] = [{} for _ in requests]
        for generator, lw in zip(self.generators, self.log_weights):
            for best, row in zip(merged, generator.generate(requests, n)):
                for s in row:
                    if lw + s.logprob > best.get(s.tactic, -math.inf):
                        best[s.tactic] = lw + s.logprob
        return [[Suggestion(t, lp) for t, lp in sorted(b.items(), key=lambda x: (-x[1], x[0]))[:n]]
                for b in merged]
