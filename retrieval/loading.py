"""The retriever a run's checkpoint stands for, loaded for evaluation and for the prover's premises."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from database.records import Premise

__all__ = ["load_retriever"]


def load_retriever(checkpoint_dir: Path, index_dir: Path, max_length: int,
                   corpus: Callable[[], Sequence[Premise]]):
    """The retriever a run's checkpoint stands for: BM25 indexed on ``corpus()`` when the checkpoint is a
    BM25 run's marker, else the dense encoder over the premise index saved with it (``corpus`` unused)."""
    from retrieval.bm25 import BM25Retriever, is_bm25_checkpoint

    if is_bm25_checkpoint(checkpoint_dir):
        retriever = BM25Retriever()
        retriever.index(corpus())
        return retriever
    from database.index import PremiseIndex
    from retrieval.dense import DenseRetriever
    from retrieval.encoder import DualEncoder

    return DenseRetriever(DualEncoder.load(checkpoint_dir), premise_index=PremiseIndex.load(index_dir),
                          max_length=max_length)
