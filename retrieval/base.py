"""What every retriever shares: the :class:`Retriever` protocol, :class:`Hit`, and the text of a premise.

Layers (sentence-transformers style): texts → embeddings (:mod:`retrieval.encoder`) → index
(:mod:`database.index`) → hits. A retriever holds a corpus of premises and answers a batch of queries, each
optionally restricted to the premises accessible from its file.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Protocol, runtime_checkable

from database.index import Hit
from database.records import Premise
from retrieval.priors import Origin

__all__ = ["Hit", "Retriever", "premise_text"]


@runtime_checkable
class Retriever(Protocol):
    """Ranks a corpus of premises for text queries."""

    def index(self, premises: Sequence[Premise]) -> None:
        """Make ``premises`` the corpus (replacing any previous one)."""
        ...

    def retrieve(self, queries: Sequence[str], k: int, allowed: Sequence[Collection[str]] | None = None,
                 origins: Sequence[Origin | None] | None = None) -> list[list[Hit]]:
        """The ``k`` best premises for each query, best first; ``allowed[i]`` (premise ids) restricts query
        ``i`` to the premises accessible from its file; ``origins[i]`` says where query ``i`` comes from (only
        rankers with a locality or imported prior use it; the others ignore it)."""
        ...


def premise_text(premise: Premise) -> str:
    """The text embedded for a premise: its code with its name marked ``<a>…</a>`` (ReProver's format).

    ReProver's ``Premise.serialize`` marks the first occurrence of the longest suffix of the full name
    that follows whitespace (optionally in «»), after replacing ``_root_.<name>``. The pretrained
    retriever was trained on this format; every encoder in this project uses it, for training and search.

    >>> from database.records import Pos
    >>> p = Premise("Nat.add_comm", "theorem", "Nat/Basic.lean", Pos(3, 1), Pos(3, 50),
    ...             "theorem add_comm (n m : Nat) : n + m = m + n")
    >>> premise_text(p)
    'theorem <a>Nat.add_comm</a> (n m : Nat) : n + m = m + n'
    """
    marked = f"<a>{premise.full_name}</a>"
    code = premise.code.replace(f"_root_.{premise.full_name}", marked)
    fields = premise.full_name.split(".")
    for i in range(len(fields)):
        suffix = re.escape(".".join(fields[i:]))
        new_code = re.sub(rf"(?<=\s)«?{suffix}»?", lambda _: marked, code)
        if new_code != code:
            return new_code
    return code
