"""The prover: Lean environments behind one protocol, best-first search, tactic generators, batch proving
on Ray, and found proofs written back as patches.

Modules: :mod:`prover.env` (the protocol), :mod:`prover.dojo` (LeanDojo), :mod:`prover.checker` (whole-proof
checking with ``lake env lean``), :mod:`prover.testing` (the test double), :mod:`prover.sandbox`
(bubblewrap), :mod:`prover.toolchain`, :mod:`prover.search`, :mod:`prover.generators`, :mod:`prover.batch`,
:mod:`prover.patch`.
"""

from prover.batch import BatchOptions, prove_batch
from prover.env import LeanEnv, LeanUnavailable
from prover.generators import CombinedGenerator, Seq2SeqGenerator, TemplateGenerator
from prover.patch import make_patch
from prover.search import SearchLimits, SearchResult, best_first_search

__all__ = ["LeanEnv", "LeanUnavailable", "SearchLimits", "SearchResult", "best_first_search",
           "TemplateGenerator", "Seq2SeqGenerator", "CombinedGenerator", "BatchOptions", "prove_batch",
           "make_patch"]
