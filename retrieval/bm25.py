"""A BM25 baseline behind the same :class:`~retrieval.base.Retriever` interface as the dense retriever.

Scoring is ``bm25s`` (MIT, numpy only; Lucene's BM25 variant, k1=1.5, b=0.75); tokenisation is ours,
made for Lean: each identifier yields its whole name, its dotted components and the words inside them
(split on ``_`` and camelCase), lower-cased, so ``Nat.add_comm`` in a proof state matches the premise
``add_comm`` declared in ``namespace Nat``. Operators (``≤``, ``∣``, ``+``) are tokens too.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from database.index import Hit
from database.records import Premise

__all__ = ["BM25Retriever", "import_bm25s", "lean_tokens"]

# A Lean identifier: dotted components of letters, digits, `_`, `'`, `!`, `?` (subscripts are \w).
_IDENT = r"[^\W\d][\w'!?]*(?:\.[^\W\d][\w'!?]*)*"
_TOKEN = re.compile(rf"(?P<ident>{_IDENT})|(?P<num>\d+)|(?P<sym>[^\w\s()\[\]{{}},;:.`«»⟨⟩])")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[^\W_A-Z]+|[A-Z]")


def import_bm25s():
    """The ``bm25s`` module, imported so that it leaves any GPU alone.

    Where JAX is installed, importing bm25s runs a JAX top-k on a dummy array, and JAX's first use on a GPU takes
    75% of its memory (seen on an H200: 105 of 140 GiB in each process, so that a second training process ran
    out of memory). We use bm25s's scores only, never its JAX top-k: the import runs with ``JAX_PLATFORMS=cpu``
    unless JAX was imported already or the variable is set (the variable is restored after it).
    """
    if "bm25s" in sys.modules or "jax" in sys.modules or "JAX_PLATFORMS" in os.environ:
        import bm25s
    else:
        os.environ["JAX_PLATFORMS"] = "cpu"
        try:
            import bm25s
        finally:
            os.environ.pop("JAX_PLATFORMS", None)
    # bm25s sets its own logger to DEBUG when imported, which would print through any root handler.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _words(component: str) -> list[str]:
    """``foldlM`` → ``foldl``, ``M``; ``add_comm`` → ``add``, ``comm``; ``HEq`` → ``H``, ``Eq``."""
    return [w for part in component.split("_") for w in _WORD.findall(part)]


def lean_tokens(text: str) -> list[str]:
    """BM25 tokens of Lean source or a proof state, in order of appearance.

    >>> lean_tokens("theorem Nat.add_comm : n + m = m + n")
    ['theorem', 'nat.add_comm', 'nat', 'add_comm', 'add', 'comm', 'n', '+', 'm', '=', 'm', '+', 'n']
    >>> lean_tokens("h : a ≤ List.foldlM f x₁ 37")
    ['h', 'a', '≤', 'list.foldlm', 'list', 'foldlm', 'foldl', 'm', 'f', 'x₁', '37']
    """
    tokens: list[str] = []
    for m in _TOKEN.finditer(text):
        if m.lastgroup != "ident":
            tokens.append(m.group())
            continue
        name = m.group()
        pieces = [name]
        components = name.split(".")
        if len(components) > 1:
            pieces += components
        for c in components:
            words = _words(c)
            if len(words) > 1:
                pieces += words
        seen: set[str] = set()
        for piece in (p.lower() for p in pieces):
            if piece not in seen:
                seen.add(piece)
                tokens.append(piece)
    return tokens


BM25_MARKER = "bm25.json"
"""File that marks a run's checkpoint directory as BM25's (no weights: a run with ``retriever.model = bm25``)."""


def is_bm25_checkpoint(directory) -> bool:
    """Whether a checkpoint directory stands for the BM25 baseline."""
    from pathlib import Path

    return (Path(directory) / BM25_MARKER).is_file()


class BM25Retriever:
    """BM25 over each premise's full name and code."""

    def __init__(self, *, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self._bm25: Any = None
        self._ids: list[str] = []
        self._row: dict[str, int] = {}

    def index(self, premises: Sequence[Premise]) -> None:
        """Make ``premises`` the corpus (BM25's statistics are global, so this rebuilds it)."""
        bm25s = import_bm25s()  # imported when a BM25 corpus is built, not when the package is
        self._ids = [p.id for p in premises]
        self._row = {pid: i for i, pid in enumerate(self._ids)}
        self._bm25 = bm25s.BM25(k1=self.k1, b=self.b)
        if premises:
            self._bm25.index([lean_tokens(f"{p.full_name} {p.code}") for p in premises], show_progress=False)

    def __len__(self) -> int:
        return len(self._ids)

    def retrieve(self, queries: Sequence[str], k: int, allowed: Sequence[Collection[str]] | None = None,
                 origins=None) -> list[list[Hit]]:
        """The ``k`` best-scoring premises per query (ties in corpus order); see :class:`Retriever`
        (``origins`` are not used)."""
        if self._bm25 is None:
            raise ValueError("BM25Retriever has no corpus: call index(premises) first")
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        if allowed is not None and len(allowed) != len(queries):
            raise ValueError(f"{len(queries)} queries but {len(allowed)} allowed sets")
        results = []
        for i, query in enumerate(queries):
            scores = self._scores(query)
            if allowed is None:
                rows = np.arange(len(scores))
            else:
                rows = np.array(sorted(self._row[p] for p in allowed[i] if p in self._row), dtype=np.int64)
            if len(rows) == 0:
                results.append([])
                continue
            # A stable sort on -score: equal scores keep corpus order, so results are deterministic.
            cand = scores[rows]
            top = rows[np.argsort(-cand, kind="stable")[:k]]
            results.append([Hit(self._ids[r], float(scores[r])) for r in top])
        return results

    def _scores(self, query: str) -> np.ndarray:
        if not self._ids:
            return np.zeros(0, dtype=np.float32)
        token_ids = self._bm25.get_tokens_ids(lean_tokens(query))  # unknown tokens are dropped
        if not token_ids:
            return np.zeros(len(self._ids), dtype=np.float32)
        return self._bm25.get_scores_from_ids(token_ids)
