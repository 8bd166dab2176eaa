"""A tactic model that learns on a CPU: hashed n-grams of the goal, a softmax over the tactics seen in training.

Issue 10, item 2b, where no GPU is lent. The seq2seq model (:mod:`prover.tactic_model`) learns nothing
measurable from 2,000 pairs a repository on 2 CPU cores (docs/benchmarks.md, "The tactic model on a CPU"); a
fastText-style classifier (Joulin et al., 2017, "Bag of Tricks for Efficient Text Classification") learns a
repository in seconds there. It never writes a tactic it has not seen: it learns which of the tactics it has
seen open goals like the one at hand.

* **Features**: the goal's Lean tokens (:func:`extraction.lexer.tokenize`), unigrams and bigrams, those of the
  target (after the last ``⊢``) kept apart from the hypotheses', hashed (CRC-32: the same in every process)
  into ``buckets`` rows of a mean :class:`torch.nn.EmbeddingBag`, then one linear layer onto the vocabulary.
* **Vocabulary**: the training steps' tactics, one label per :func:`~prover.tactic_data.normalise_tactic` form,
  suggested in its most common spelling where it was first seen.
* **Progressive**: each repository appends its new tactics as rows (the old rows kept), then ``epochs`` passes
  of Adam over its pairs and a seeded sample of the earlier repositories' (:data:`REPLAY` × as many, at
  least :data:`REPLAY_MIN`), so that the tactics of the earlier repositories keep more of their place.
* **The repository's own habits**: how often each tactic opens a step of a repository's training proofs
  (:meth:`TacticRanker.count`, per repository URL, never overwritten by later repositories); a goal of that
  repository's theorems is scored ``log_softmax(logits + prior · log(1 + count))`` (:data:`PRIOR`), then mixed
  with the counts' own distribution (weight :data:`MIX`). Counts are not weights: what a later repository's
  passes move, they keep.

Saved as safetensors with its vocabulary in JSON, atomically (:meth:`TacticRanker.save`, :meth:`load`); as a
generator (:class:`RankerGenerator`) its scores are log-probabilities over the whole vocabulary. Deterministic.
"""

from __future__ import annotations

import json
import math
import random
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from extraction.lexer import tokenize
from prover.generators import GenRequest, Suggestion
from prover.tactic_data import normalise_tactic

__all__ = ["TACTIC_RANKER_DIR", "MIX", "PRIOR", "REPLAY", "REPLAY_MIN", "TacticRanker", "RankerGenerator",
           "goal_features", "with_replay"]

TACTIC_RANKER_DIR = "tactic-ranker"
"""The ranker's directory inside a checkpoint directory."""

_FORMAT = 1

REPLAY = 4
"""Earlier repositories' pairs replayed with a repository's own, as a multiple of its own (a seeded sample)..."""
REPLAY_MIN = 16000
"""... and at least this many (all there are, when fewer): a small repository's passes then move the shared
embeddings less (validation FM 0.138 against 0.160 without it, docs/benchmarks.md)."""
PRIOR = 1.0
"""Weight of the log of a tactic's count in the goal's repository (:meth:`TacticRanker.count`) ..."""
MIX = 0.25
"""... and of the counts' own distribution mixed in after (picked on validation, docs/benchmarks.md)."""


def with_replay(own: Sequence[tuple[str, str]], earlier: Sequence[tuple[str, str]], seed: int, *,
                replay: float = REPLAY, at_least: int = REPLAY_MIN) -> list[tuple[str, str]]:
    """A repository's ``own`` pairs, then a seeded sample of the ``earlier`` repositories': ``replay`` × as
    many as its own, at least ``at_least``, all of them when fewer (what one repository's :meth:`~TacticRanker.fit`
    sees in a run)."""
    k = min(len(earlier), max(round(replay * len(own)), at_least))
    return [*own, *random.Random(seed).sample(list(earlier), k)]


def goal_features(goal: str, buckets: int) -> list[int]:
    """Hashed unigrams and bigrams of ``goal``'s tokens, the target's marked apart (at least one feature)."""
    cut = goal.rfind("⊢")
    parts = (("h", goal[:cut]), ("t", goal[cut + 1:])) if cut >= 0 else (("t", goal),)
    grams = []
    for mark, text in parts:
        tokens = [t for t in tokenize(text).texts if t]
        grams += [f"{mark}:{t}" for t in tokens]
        grams += [f"{mark}:{a} {b}" for a, b in zip(tokens, tokens[1:])]
    return [zlib.crc32(g.encode()) % buckets for g in grams] or [0]


def _head(dim: int, rows: int) -> nn.Linear:
    """A linear layer onto ``rows`` labels, all zero (``nn.Linear`` itself warns when ``rows`` is 0)."""
    head = nn.Linear(dim, 1)
    head.weight = nn.Parameter(torch.zeros(rows, dim))
    head.bias = nn.Parameter(torch.zeros(rows))
    head.out_features = rows
    return head


class TacticRanker(nn.Module):
    """Goal → log-probabilities over the tactics in :attr:`labels` (see the module's text)."""

    def __init__(self, *, buckets: int = 1 << 16, dim: int = 64, seed: int = 0) -> None:
        super().__init__()
        self.buckets, self.dim = buckets, dim
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.embedding = nn.EmbeddingBag(buckets, dim, mode="mean", sparse=True)
            nn.init.normal_(self.embedding.weight, std=0.1)
        self.out = _head(dim, 0)
        self.labels: list[str] = []
        """Normalised tactics, one per output row."""
        self.spellings: list[str] = []
        """What each row suggests."""
        self._row: dict[str, int] = {}
        self.counts: dict[str, Counter[int]] = {}
        """Per repository URL, how many of its training steps each row's tactic is (:meth:`count`)."""

    def __len__(self) -> int:
        return len(self.labels)

    def grow(self, tactics: Sequence[str]) -> int:
        """Append the tactics not yet labels as new rows (weights and biases zero); the number added."""
        spellings: dict[str, Counter] = {}
        for tactic in tactics:
            key = normalise_tactic(tactic)
            if key not in self._row:
                spellings.setdefault(key, Counter())[" ".join(tactic.split())] += 1
        if not spellings:
            return 0
        for key, seen in spellings.items():
            self._row[key] = len(self.labels)
            self.labels.append(key)
            self.spellings.append(min(seen, key=lambda s: (-seen[s], s)))
        old = self.out
        self.out = _head(self.dim, len(self.labels))
        with torch.no_grad():
            self.out.weight[:old.out_features] = old.weight
            self.out.bias[:old.out_features] = old.bias
        return len(spellings)

    def count(self, context: str, tactics: Sequence[str]) -> None:
        """Add ``tactics`` (a repository's training steps, new tactics grown as rows) to ``context``'s counts."""
        self.grow(tactics)
        self.counts.setdefault(context, Counter()).update(self._row[normalise_tactic(t)] for t in tactics)

    def _counts(self, contexts: Sequence[str | None]) -> torch.Tensor:
        """The counts per context and row, zeros for a context (or None) never counted."""
        distinct = {c: i for i, c in enumerate(dict.fromkeys(contexts))}
        table = torch.zeros(len(distinct), len(self.labels))
        for context, i in distinct.items():
            seen = self.counts.get(context) if context is not None else None
            if seen:
                rows, counts = zip(*seen.items())
                table[i, list(rows)] = torch.tensor(counts, dtype=torch.float)
        return table[[distinct[c] for c in contexts]]

    def forward(self, goals: Sequence[str]) -> torch.Tensor:
        """Logits ``(len(goals), len(self))``."""
        return self._logits([goal_features(g, self.buckets) for g in goals])

    def _logits(self, features: Sequence[Sequence[int]]) -> torch.Tensor:
        flat = torch.tensor([f for fs in features for f in fs], dtype=torch.long)
        offsets = torch.tensor([0] + [len(fs) for fs in features[:-1]], dtype=torch.long).cumsum(0)
        return self.out(self.embedding(flat, offsets))

    def fit(self, pairs: Sequence[tuple[str, str]], *, epochs: int = 5, lr: float = 0.02, batch_size: int = 128,
            seed: int = 3407, embedding_lr: float | None = None) -> float:
        """``epochs`` passes of cross-entropy over (goal, tactic) pairs, their tactics added first; the last
        pass's mean loss (nan for no pairs). The n-gram embeddings learn at ``embedding_lr`` (``lr`` when None;
        0: frozen)."""
        self.grow([t for _, t in pairs])
        rows = [self._row[normalise_tactic(t)] for _, t in pairs]
        features = [goal_features(g, self.buckets) for g, _ in pairs]  # once, not once an epoch
        embedding_lr = lr if embedding_lr is None else embedding_lr
        self.embedding.weight.requires_grad_(embedding_lr > 0)
        optimisers = ((torch.optim.SparseAdam(self.embedding.parameters(), lr=embedding_lr),)  # rows a batch touches
                      if embedding_lr > 0 else ()) + (torch.optim.Adam(self.out.parameters(), lr=lr),)
        order, shuffle = list(range(len(pairs))), random.Random(seed)
        self.train()
        losses: list[float] = []
        for _ in range(epochs):
            shuffle.shuffle(order)
            losses = []
            for start in range(0, len(order), batch_size):
                batch = order[start:start + batch_size]
                loss = nn.functional.cross_entropy(self._logits([features[i] for i in batch]),
                                                   torch.tensor([rows[i] for i in batch]))
                for optimiser in optimisers:
                    optimiser.zero_grad()
                loss.backward()
                for optimiser in optimisers:
                    optimiser.step()
                losses.append(float(loss.detach()))
        self.eval()
        self.embedding.weight.requires_grad_(True)
        return sum(losses) / len(losses) if losses else float("nan")

    @torch.no_grad()
    def top(self, goals: Sequence[str], n: int, contexts: Sequence[str | None] | None = None,
            prior: float = PRIOR, mix: float = MIX) -> list[list[Suggestion]]:
        """Per goal, the ``n`` likeliest tactics with their log-probabilities; with ``contexts`` (the goals'
        repository URLs), ``prior`` × the log of each tactic's count there added before normalising, and then
        with weight ``mix`` the counts' own distribution mixed in (for a goal whose repository has counts)."""
        if not goals or n <= 0 or not self.labels:
            return [[] for _ in goals]
        logits = self(goals)
        if contexts is not None and (prior or mix):
            counts = self._counts(contexts)
            logprobs = torch.log_softmax(logits + prior * counts.log1p(), dim=-1)
            if mix:
                total = counts.sum(dim=-1, keepdim=True)
                mixed = torch.logaddexp(logprobs + math.log1p(-mix), (counts / total.clamp(min=1)).log()
                                        + math.log(mix))
                logprobs = torch.where(total > 0, mixed, logprobs)  # nothing counted: the ranker alone
        else:
            logprobs = torch.log_softmax(logits, dim=-1)
        values, rows = logprobs.topk(min(n, len(self.labels)), dim=-1)
        return [[Suggestion(self.spellings[i], float(v)) for v, i in zip(vs.tolist(), ix.tolist())]
                for vs, ix in zip(values, rows)]

    def save(self, directory: str | Path) -> None:
        """Weights (safetensors) and vocabulary (JSON) into ``directory``, atomically."""
        from safetensors.torch import save_file

        from database.index import atomic_directory

        with atomic_directory(directory) as tmp:
            save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(tmp / "model.safetensors"))
            (tmp / "ranker.json").write_text(json.dumps(
                {"format": _FORMAT, "buckets": self.buckets, "dim": self.dim, "labels": self.labels,
                 "spellings": self.spellings,
                 "counts": {c: sorted(seen.items()) for c, seen in self.counts.items()}},
                ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> TacticRanker:
        """A ranker :meth:`save` wrote."""
        from safetensors.torch import load_file

        meta = json.loads((Path(directory) / "ranker.json").read_text(encoding="utf-8"))
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{directory}: tactic ranker format {meta.get('format')!r}, expected {_FORMAT}")
        ranker = cls(buckets=int(meta["buckets"]), dim=int(meta["dim"]))
        ranker.labels, ranker.spellings = list(meta["labels"]), list(meta["spellings"])
        ranker._row = {key: i for i, key in enumerate(ranker.labels)}
        ranker.counts = {c: Counter({int(row): int(n) for row, n in seen})
                         for c, seen in meta.get("counts", {}).items()}
        ranker.out = _head(ranker.dim, len(ranker.labels))
        ranker.load_state_dict(load_file(str(Path(directory) / "model.safetensors")))
        ranker.eval()
        return ranker


class RankerGenerator:
    """A :class:`TacticRanker` behind the generator interface (premises are not among its inputs), the counts
    of the request's theorem's repository weighed in with ``prior`` and ``mix`` (:meth:`TacticRanker.top`)."""

    def __init__(self, ranker: TacticRanker, *, batch: int = 256, prior: float = PRIOR,
                 mix: float = MIX) -> None:
        self.ranker = ranker
        self.batch = batch
        self.prior, self.mix = prior, mix

    def generate(self, requests: Sequence[GenRequest], n: int) -> list[list[Suggestion]]:
        out: list[list[Suggestion]] = []
        for start in range(0, len(requests), self.batch):
            batch = requests[start:start + self.batch]
            out += self.ranker.top([r.state for r in batch], n, [r.theorem.url for r in batch], self.prior,
                                    self.mix)
        return out
