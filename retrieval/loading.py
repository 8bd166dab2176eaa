"""The retriever a run's checkpoint stands for, loaded for evaluation and for the prover's premises.

``ranking`` picks what ranks the premises: the checkpoint's dense encoder (``dense``), BM25 (``bm25``), or
both fused (``hybrid``, :mod:`retrieval.hybrid`). The ``mix`` fusion's weights are the ones the evaluate stage
picked on validation queries, saved beside the checkpoint as ``hybrid.json``; the usage counts of its prior,
when it uses one, as ``premise-usage.json``.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from database.records import Premise

__all__ = ["load_retriever", "rank_with", "load_mix", "save_mix", "load_usage", "RANKINGS", "MIX_FILE",
           "USAGE_FILE"]

RANKINGS = ("dense", "bm25", "hybrid")
MIX_FILE = "hybrid.json"
USAGE_FILE = "premise-usage.json"
DEFAULT_WEIGHT = 0.5


def load_mix(checkpoint_dir: Path):
    """The score mix's weights picked for this checkpoint (:class:`~retrieval.hybrid.Mix`; dense weight 0.5 and
    no priors when none was picked, or the file predates the priors)."""
    from retrieval.hybrid import Mix

    try:
        saved = json.loads((Path(checkpoint_dir) / MIX_FILE).read_text(encoding="utf-8"))
        return Mix(float(saved["weight"]), float(saved.get("usage_weight", 0.0)),
                   float(saved.get("locality_weight", 0.0)), float(saved.get("imported_weight", 0.0)))
    except (OSError, ValueError, KeyError, TypeError):
        return Mix(DEFAULT_WEIGHT)


def load_usage(checkpoint_dir: Path) -> dict[str, int]:
    """The usage prior's counts saved with this checkpoint (empty when none were)."""
    try:
        saved = json.loads((Path(checkpoint_dir) / USAGE_FILE).read_text(encoding="utf-8"))
        return {str(pid): int(n) for pid, n in saved["usage"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _write_json(target: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, target)


def save_mix(checkpoint_dir: Path, mix, queries: int, usage: Mapping[str, int] | None = None) -> None:
    """Record the weights picked on ``queries`` validation queries beside the checkpoint, and the usage counts
    their prior needs when it counts (each file written atomically)."""
    _write_json(Path(checkpoint_dir) / MIX_FILE, {"format": 3, "weight": mix.dense, "usage_weight": mix.usage,
                                                   "locality_weight": mix.locality, "imported_weight": mix.imported,
                                                   "validation_queries": queries})
    if usage is not None and mix.usage > 0:
        _write_json(Path(checkpoint_dir) / USAGE_FILE, {"format": 1, "usage": dict(sorted(usage.items()))})


def rank_with(dense, lexical, ranking: str, *, fusion: str = "rrf", mix=None, priors=None):
    """The retriever for ``ranking`` from a dense one and an indexed BM25 (``mix``: the mix fusion's weights,
    dense weight 0.5 when None; ``priors``: what its prior weights weigh)."""
    if ranking not in RANKINGS:
        raise ValueError(f"unknown ranking {ranking!r}: use one of {', '.join(RANKINGS)}")
    if ranking == "dense":
        return dense
    if ranking == "bm25":
        return lexical
    from retrieval.hybrid import HybridRetriever, Mix

    mix = mix if mix is not None else Mix(DEFAULT_WEIGHT)
    if fusion == "mix":
        return HybridRetriever.mixing(dense, lexical, mix, priors if mix.uses_priors else None)
    return HybridRetriever(dense, lexical, fusion=fusion, weight=mix.dense)


def load_retriever(checkpoint_dir: Path, index_dir: Path | None, max_length: int,
                   corpus: Callable[[], Sequence[Premise]], *, ranking: str = "dense", fusion: str = "rrf",
                   device: str = "cpu"):
    """The retriever a run's checkpoint stands for: BM25 indexed on ``corpus()`` when the checkpoint is a
    BM25 run's marker; else the dense encoder over the premise index saved with it (``index_dir``; None: the
    encoder embeds ``corpus()`` now, a corpus it has not indexed), alone or fused with BM25 over ``corpus()``
    as ``ranking`` says (a ``mix`` with the weights and priors saved beside the checkpoint); the encoder embeds
    queries on ``device``."""
    from retrieval.bm25 import BM25Retriever, is_bm25_checkpoint

    corpus = functools.cache(corpus)  # asked for by BM25 and by the priors: built once
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
        dense = DenseRetriever(DualEncoder.load(checkpoint_dir).to(device), max_length=max_length)
        dense.index(corpus())
    else:
        dense = DenseRetriever(DualEncoder.load(checkpoint_dir).to(device), premise_index=PremiseIndex.load(index_dir),
                               max_length=max_length)
    mix, priors = load_mix(checkpoint_dir), None
    if ranking == "hybrid" and fusion == "mix" and mix.uses_priors:
        from retrieval.priors import PremisePriors

        priors = PremisePriors(corpus(), load_usage(checkpoint_dir))
    return rank_with(dense, lexical, ranking, fusion=fusion, mix=mix, priors=priors)
