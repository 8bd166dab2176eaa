"""Training examples for the retriever: a query, the premise it should find, and premises it should not.

Whoever builds examples from a repository's data (traced tactics or static proofs) chooses the texts:
premises as :func:`retrieval.base.premise_text` writes them, and ReProver's negatives (3 per example, one
of them from the query's own file, an "in-file negative"). Training only consumes these records.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TrainingExample"]


@dataclass(frozen=True)
class TrainingExample:
    """One query with one positive premise and its negatives (texts, not ids: they are what is embedded)."""

    query: str
    """Query text: the proof state before the tactic (traced data) or the theorem statement (static)."""
    positive: str
    """Text of a premise the proof uses."""
    negatives: tuple[str, ...]
    """Texts of premises it does not use."""
    all_positives: tuple[str, ...] = ()
    """Every premise the proof (or tactic) uses (ReProver's ``all_pos_premises``), ``positive`` included or
    not: wherever one of them appears in a batch, it is labelled positive for this query."""

    def __post_init__(self) -> None:
        for name in ("query", "positive"):
            if not isinstance(getattr(self, name), str):
                kind = type(getattr(self, name)).__name__
                raise TypeError(f"TrainingExample.{name} must be a string, got {kind}")
        for name in ("negatives", "all_positives"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(isinstance(t, str) for t in value):
                raise TypeError(f"TrainingExample.{name} must be a tuple of strings, got {value!r:.80}")

    @property
    def positives(self) -> frozenset[str]:
        """Texts labelled positive for this query: ``positive`` and ``all_positives``."""
        return frozenset((self.positive, *self.all_positives))
