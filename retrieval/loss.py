"""ReProver's retrieval loss: mean squared error between a batch's similarity matrix and 0/1 labels.

For B queries with one positive and N negatives each, every query is scored against all B positives and
all B·N negatives of the batch (the other queries' premises act as extra negatives). A column is labelled
1 for a query when its premise is one of that query's positives, wherever it appears: another query's
positive or negative that happens to be the same premise counts as positive too.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from retrieval.examples import TrainingExample

__all__ = ["batch_premises", "retrieval_loss", "info_nce_loss", "LOSSES"]

LOSSES = ("mse", "infonce")


def batch_premises(batch: Sequence[TrainingExample]) -> tuple[list[str], torch.Tensor]:
    """The batch's premise columns and the ``(B, columns)`` 0/1 label matrix.

    Columns follow ReProver: the B positives, then every example's first negative, then the second, ...
    (an example with fewer negatives simply contributes fewer columns).

    >>> a = TrainingExample("q1", "p1", ("n1",))
    >>> b = TrainingExample("q2", "p2", ("p1",))  # q2's negative is q1's positive
    >>> columns, labels = batch_premises([a, b])
    >>> columns
    ['p1', 'p2', 'n1', 'p1']
    >>> labels.tolist()
    [[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0]]
    """
    columns = [ex.positive for ex in batch]
    for i in range(max((len(ex.negatives) for ex in batch), default=0)):
        columns += [ex.negatives[i] for ex in batch if i < len(ex.negatives)]
    labels = torch.tensor([[float(c in ex.positives) for c in columns] for ex in batch])
    return columns, labels


def retrieval_loss(queries: torch.Tensor, premises: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``mean((queries @ premises.T - labels)²)`` for unit-norm ``(B, d)`` queries and ``(P, d)`` premises."""
    if labels.shape != (queries.shape[0], premises.shape[0]):
        expected = (queries.shape[0], premises.shape[0])
        raise ValueError(f"labels have shape {tuple(labels.shape)}, expected {expected}")
    similarity = queries @ premises.T
    return F.mse_loss(similarity.float(), labels.to(similarity.device, torch.float32))


def info_nce_loss(queries: torch.Tensor, premises: torch.Tensor, labels: torch.Tensor,
                  temperature: float = 0.05) -> torch.Tensor:
    """Contrastive (InfoNCE) loss with several positives: for each query, ``−log`` of the softmax mass of
    its positive columns among all the batch's columns (the other queries' premises are in-batch negatives),
    similarities divided by ``temperature``; the mean over queries that have a positive column.

    >>> q = torch.tensor([[1.0, 0.0]]); p = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> round(float(info_nce_loss(q, p, torch.tensor([[1.0, 0.0]]), temperature=1.0)), 4)  # −log(e / (e + 1))
    0.3133
    """
    if labels.shape != (queries.shape[0], premises.shape[0]):
        expected = (queries.shape[0], premises.shape[0])
        raise ValueError(f"labels have shape {tuple(labels.shape)}, expected {expected}")
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    logits = (queries @ premises.T).float() / temperature
    positive = labels.to(logits.device, torch.bool)
    has = positive.any(dim=1)
    if not has.any():
        return logits.sum() * 0.0
    masked = logits.masked_fill(~positive, float("-inf"))
    per_query = torch.logsumexp(logits, dim=1) - torch.logsumexp(masked, dim=1)
    return per_query[has].mean()
