"""Two rankers of a run on the same queries: each figure with its interval, and their paired ratios.

Per repository and pooled over every query of the repositories learned: R@1, R@10 and MRR of each ranker
with 95% bootstrap intervals, the R@10 miss-rate ratio (1 − R@10) / (1 − R@10 of the other) and the MRR
ratio, both paired over the same queries (:mod:`retrieval.stats`). A ratio whose interval holds 1 is a tie.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from database.records import Repo
from database.store import Store
from leanagent.config import RetrieverConfig
from leanagent.learner import repo_dataset
from retrieval.evaluate import score_queries
from retrieval.stats import Interval, QueryScore, mean_interval, miss_rate_ratio, ratio

__all__ = ["Figures", "Comparison", "compare_rankers", "versus_bm25"]


@dataclass(frozen=True)
class Figures:
    """One ranker's figures on a set of queries."""

    recall_at_1: Interval
    """Recall@1."""
    recall_at_10: Interval
    """Recall@10."""
    mrr: Interval
    """Mean reciprocal rank."""


@dataclass(frozen=True)
class Comparison:
    """Two rankers on the same queries of one repository (or of all of them, ``repo`` = ``"pooled"``)."""

    repo: str
    """Repository name, or ``pooled``."""
    queries: int
    """Queries both were scored on."""
    first: Figures
    """The run's ranker."""
    second: Figures
    """The ranker it is compared with."""
    miss_rate_ratio: Interval
    """(1 − R@10 of the first) / (1 − R@10 of the second): below 1, the first misses less."""
    mrr_ratio: Interval
    """MRR of the first / MRR of the second: above 1, the first ranks the positive higher."""


def _figures(scores: list[QueryScore]) -> Figures:
    return Figures(*(mean_interval([getattr(s, m) for s in scores])
                     for m in ("recall_at_1", "recall_at_10", "reciprocal_rank")))


def _compare(name: str, a: list[QueryScore], b: list[QueryScore]) -> Comparison:
    a10, b10 = [s.recall_at_10 for s in a], [s.recall_at_10 for s in b]
    arr, brr = [s.reciprocal_rank for s in a], [s.reciprocal_rank for s in b]
    return Comparison(name, len(a), _figures(a), _figures(b), miss_rate_ratio(a10, b10), ratio(arr, brr))


def compare_rankers(store: Store, repos: list[Repo], settings: RetrieverConfig, first, second, *,
                    split: str = "test", datasets: dict | None = None) -> list[Comparison]:
    """``first`` against ``second`` on ``split`` of each repository (those with queries), then pooled;
    ``datasets`` (repository id → :func:`~leanagent.learner.repo_dataset`) spares building them again."""
    rows, pooled_a, pooled_b = [], [], []
    for repo in repos:
        data = datasets[repo.id] if datasets is not None else repo_dataset(store, repo, settings)
        queries = getattr(data, split)
        if not queries:
            continue
        a, b = score_queries(first, queries), score_queries(second, queries)
        rows.append(_compare(repo.name, a, b))
        pooled_a += a
        pooled_b += b
    if pooled_a:
        rows.append(_compare("pooled", pooled_a, pooled_b))
    return rows


def versus_bm25(store: Store, repos: list[Repo], settings: RetrieverConfig, checkpoint_dir: Path, index_dir: Path, *,
                device: str = "cpu") -> Comparison | None:
    """The run's ranking with the checkpoint in ``checkpoint_dir`` against BM25 on the test queries of ``repos``
    (those learned up to it), pooled; None for a BM25 run, without test queries, or when the premise index in
    ``index_dir`` was embedded with another checkpoint (a run that went on past it: embedding the corpus again is
    the work of ``leanagent eval``, not of a report)."""
    from database.index import PremiseIndex
    from leanagent.learner import corpus_of
    from retrieval.bm25 import BM25Retriever, is_bm25_checkpoint
    from retrieval.loading import load_retriever

    if (is_bm25_checkpoint(checkpoint_dir) or not (index_dir / "manifest.json").is_file()
            or PremiseIndex.load(index_dir).checkpoint != checkpoint_dir.name):
        return None
    corpus = corpus_of(store, repos)
    bm25 = BM25Retriever()
    bm25.index(corpus)
    mine = load_retriever(checkpoint_dir, index_dir, settings.max_length, lambda: corpus, ranking=settings.ranking,
                          fusion=settings.fusion, device=device)
    rows = compare_rankers(store, repos, settings, mine, bm25)
    return rows[-1] if rows else None
