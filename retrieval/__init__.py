"""The premise retriever: texts → embeddings → index → hits (see DESIGN.md, Retrieval).

Entry points are imported on first use, so ``import retrieval`` stays cheap (torch and transformers load
only when an encoder is needed).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "DualEncoder",
    "ModelUnavailable",
    "DenseRetriever",
    "BM25Retriever",
    "Retriever",
    "Hit",
    "premise_text",
    "TrainingExample",
    "train_epoch",
    "EWC",
    "recall_at_k",
    "mrr",
]

_HOME = {
    "DualEncoder": "retrieval.encoder",
    "ModelUnavailable": "retrieval.encoder",
    "DenseRetriever": "retrieval.dense",
    "BM25Retriever": "retrieval.bm25",
    "Retriever": "retrieval.base",
    "Hit": "retrieval.base",
    "premise_text": "retrieval.base",
    "TrainingExample": "retrieval.examples",
    "train_epoch": "retrieval.train",
    "EWC": "retrieval.train",
    "recall_at_k": "retrieval.metrics",
    "mrr": "retrieval.metrics",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module 'retrieval' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
