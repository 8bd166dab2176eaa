"""ReProver's loss on hand-computed 2-query batches: column layout, in-batch duplicates, MSE value."""

from __future__ import annotations

import pytest
import torch

from retrieval.examples import TrainingExample
from retrieval.loss import batch_premises, retrieval_loss

# Two queries, one negative each; 2-d unit vectors so every dot product is easy by hand.
Q = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
P = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [0.8, 0.6]])  # p1, p2, n1, n2
# Q @ P.T = [[1, .6, 0, .8], [0, .8, 1, .6]]


def test_columns_and_labels_follow_reprover_layout() -> None:
    batch = [TrainingExample("q1", "p1", ("n1a", "n1b")), TrainingExample("q2", "p2", ("n2a", "n2b"))]
    columns, labels = batch_premises(batch)
    assert columns == ["p1", "p2", "n1a", "n2a", "n1b", "n2b"]
    assert labels.tolist() == [[1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0]]


def test_duplicates_of_a_positive_are_positive_wherever_they_appear() -> None:
    batch = [TrainingExample("q1", "p", ("x",)), TrainingExample("q2", "p", ("y",), all_positives=("x",))]
    columns, labels = batch_premises(batch)
    assert columns == ["p", "p", "x", "y"]
    # q1: both copies of its positive; q2: its positive twice and "x", which its proof also uses.
    assert labels.tolist() == [[1, 1, 0, 0], [1, 1, 1, 0]]


def test_loss_is_mean_squared_error_by_hand() -> None:
    plain = torch.tensor([[1.0, 0, 0, 0], [0, 1, 0, 0]])
    # Squared errors: row 1: 0 + .36 + 0 + .64 = 1.0; row 2: 0 + .04 + 1 + .36 = 1.4; mean over 8 entries.
    assert retrieval_loss(Q, P, plain).item() == pytest.approx(2.4 / 8)
    # q2's negative n1 is q1's positive: labelled 1 for q1, and its similarity 0 now costs 1.
    _, dup = batch_premises([TrainingExample("q1", "p1", ("n1",)), TrainingExample("q2", "p2", ("p1",))])
    assert dup.tolist() == [[1, 0, 0, 1], [0, 1, 0, 0]]
    assert retrieval_loss(Q, P, torch.tensor([[1.0, 0, 1, 0], [0, 1, 0, 0]])).item() == pytest.approx(3.4 / 8)


def test_loss_gradient_and_shape_check() -> None:
    q = Q.clone().requires_grad_()
    retrieval_loss(q, P, torch.tensor([[1.0, 0, 0, 0], [0, 1, 0, 0]])).backward()
    # d/dq1 of (1/8) Σ_k (q1·p_k - y_k)² = (2/8) Σ_k (s_k - y_k) p_k = (1/4)(.6·p2 + .8·n2) = (.25, .24)
    torch.testing.assert_close(q.grad[0], torch.tensor([0.25, 0.24]))
    with pytest.raises(ValueError, match="labels have shape"):
        retrieval_loss(Q, P, torch.zeros(2, 3))


def test_examples_validate_their_fields() -> None:
    with pytest.raises(TypeError, match="negatives must be a tuple"):
        TrainingExample("q", "p", ["n"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="query must be a string"):
        TrainingExample(None, "p", ())  # type: ignore[arg-type]
    assert TrainingExample("q", "p", (), ("r",)).positives == {"p", "r"}
