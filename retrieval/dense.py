"""The dense retriever: a :class:`DualEncoder` embedding premises into a :class:`PremiseIndex`."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

from database.index import Allowed, Hit, PremiseIndex, Strategy
from database.records import Premise
from retrieval.base import premise_text
from retrieval.encoder import DualEncoder

__all__ = ["DenseRetriever"]

logger = logging.getLogger(__name__)


class DenseRetriever:
    """Embeds premises (:func:`premise_text`) and queries with one encoder; exact inner-product search."""

    def __init__(self, encoder: DualEncoder, *, premise_index: PremiseIndex | None = None, batch_size: int = 32,
                 max_length: int | None = None, strategy: Strategy = "bitmap",
                 show_progress: bool = False) -> None:
        if premise_index is not None and premise_index.dim != encoder.dim:
            raise ValueError(f"index has dimension {premise_index.dim}, the encoder {encoder.dim}")
        self.encoder = encoder
        self.premise_index = premise_index or PremiseIndex(encoder.dim, checkpoint=encoder.base_model)
        """Where the premise embeddings live (save it with :meth:`PremiseIndex.save`)."""
        self.batch_size = batch_size
        self.max_length = max_length
        self.strategy: Strategy = strategy
        self.show_progress = show_progress

    def index(self, premises: Sequence[Premise]) -> None:
        """Make ``premises`` the corpus: embed them all (length-bucketed) into a fresh index."""
        self.premise_index = PremiseIndex(self.encoder.dim, checkpoint=self.encoder.base_model)
        self.add(premises)

    def add(self, premises: Sequence[Premise]) -> None:
        """Embed and add premises not yet in the index (a new repository's), keeping the others."""
        new = [p for p in dict((p.id, p) for p in premises).values() if p.id not in self.premise_index]
        if new:
            logger.info("embedding %d premises with %s", len(new), self.encoder.base_model)
            embeddings = self.encoder.embed([premise_text(p) for p in new], batch_size=self.batch_size,
                                            max_length=self.max_length, show_progress=self.show_progress)
            self.premise_index.add([p.id for p in new], embeddings.numpy())

    def retrieve(self, queries: Sequence[str], k: int, allowed: Sequence[Collection[str] | Allowed] | None = None,
                 origins=None) -> list[list[Hit]]:
        """See :class:`~retrieval.base.Retriever`; ``allowed`` may also hold :meth:`PremiseIndex.allow` sets;
        ``origins`` are not used."""
        embeddings = self.encoder.embed(queries, batch_size=self.batch_size, max_length=self.max_length)
        return self.premise_index.search(embeddings.numpy(), k, allowed, strategy=self.strategy)
