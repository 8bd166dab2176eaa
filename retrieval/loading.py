"""The retriever a run's checkpoint stands for, loaded for evaluation and for the prover's premises.

``ranking`` picks what ranks the premises: the checkpoint's dense encoder (``dense``), BM25 (``bm25``), or
both fused (``hybrid``, :mod:`retrieval.hybrid`; the ``mix`` fusion's dense weight is the one the evaluate
stage picked on validation queries and saved beside the checkpoint as ``hybrid.json``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from database.records import Premise

__all__ = ["load_retriever", "rank_with", "mix_weight", "save_mix_weight", "RANKINGS", "MIX_FILE"]

RANKINGS = ("dense", "bm25", "hybrid")
MIX_FILE = "hybrid.json"
DEFAULT_WEIGHT = 0.5


def mix_weight(checkpoint_dir: Path) -> float:
    """The dense weight of the score mix picked for this checkpoint (0.5 when none was picked)."""
    try:
        return float(json.loads((Path(checkpoint_dir) / MIX_FILE).read_text(encoding="utf-8"))["weight"])
    except (OSError, ValueError, KeyError):
        return DEFAULT_WEIGHT


def save_mix_weight(checkpoint_dir: Path, weight: float, queries: int) -> None:
    """Record the dense weight picked on ``queries`` validation queries beside the checkpoint (atomically)."""
    import os
    import tempfile

    target = Path(checkpoint_dir) / MIX_FILE
    fd, tmp = tempfile.mkstemp(prefix=f".{MIX_FILE}.", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"format": 1, "weight": weight, "validation_queries": queries}, f)
    os.replace(tmp, target)


def rank_with(dense, lexical, ranking: str, *, fusion: str = "rrf", weight: float = DEFAULT_WEIGHT):
    """The retriever for ``ranking`` from a dense one and an indexed BM25."""
    if ranking not in RANKINGS:
        raise ValueError(f"unknown ranking {ranking!r}: use one of {', '.join(RANKINGS)}")
    if ranking == "dense":
        return dense
    if ranking == "bm25":
        return lexical
    from retrieval.hybrid import HybridRetriever

    return HybridRetriever(dense, lexical, fusion=fusion, weight=weight)


def load_retriever(checkpoint_dir: Path, index_dir: Path | None, max_length: int,
                   corpus: Callable[[], Sequence[Premise]], *, ranking: str = "dense", fusion: str = "rrf"):
    """The retriever a run's checkpoint stands for: BM25 indexed on ``corpus()`` when the checkpoint is a
    BM25 run's marker; else the dense encoder over the premise index saved with it (``index_dir``; None: the
    encoder embeds ``corpus()`` now, a corpus it has not indexed), alone or fused with BM25 over ``corpus()``
    as ``ranking`` says."""
    from retrieval.bm25 import BM25Retriever, is_bm25_checkpoint

    lexical = None
    if is_bm25_checkpoint(checkpoint_dir) or ranking != "dense":
        lexical = BM25Retriever()
        lexical.index(corpus())
        if is_bm25_checkpoint(checkpoint_dir) or ranking == "bm25":
            return lexical
    from database.index import PremiseIndex
    from retrieval.dense import DenseRetriever
    from retrieval.encoder import DualEncoder

    if index_dir is None:
        dense = DenseRetriever(DualEncoder.load(checkpoint_dir), max_length=max_length)
        dense.index(corpus())
    else:
        dense = DenseRetriever(DualEncoder.load(checkpoint_dir), premise_index=PremiseIndex.load(index_dir),
                               max_length=max_length)
    return rank_with(dense, lexical, ranking, fusion=fusion, weight=mix_weight(checkpoint_dir))
