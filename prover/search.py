"""Best-first proof search (ReProver's, batched): expand the open state with the highest cumulative
log-probability, try the generator's tactics on it, stop at the first complete proof or at a limit.

Repeated states (same pretty-printed goals) are merged into one node, so a loop or two ways to the same
goals are searched once. Generation is batched over the ``frontier_batch`` best open nodes.

>>> from prover.testing import FakeLean, fake_theorem
>>> from prover.generators import TemplateGenerator
>>> env = FakeLean({"t": "a = a"}, {("a = a", "rfl"): ()})
>>> r = best_first_search(env, fake_theorem("t"), TemplateGenerator(), SearchLimits(timeout=5))
>>> r.outcome, r.proof, r.nodes
('proved', ('rfl',), 1)
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from database.records import ProofAttempt, Theorem
from prover.env import Finished, LeanEnv, State, TacticError, TacticTimeout
from prover.generators import GenRequest, TacticGenerator

__all__ = ["SearchLimits", "SearchResult", "best_first_search", "proof_text"]

log = logging.getLogger(__name__)

SearchOutcome = Literal["proved", "failed", "timeout"]


@dataclass(frozen=True)
class SearchLimits:
    """Limits of one theorem's search (0 disables a limit)."""

    timeout: float = 600.0
    """Wall-clock seconds (LeanAgent: 600)."""
    max_expansions: int = 0
    """Nodes expanded at most."""
    tactics_per_node: int = 64
    """Tactics asked of the generator, and tried, per node (LeanAgent: 64)."""
    max_depth: int = 0
    """Nodes deeper than this (tactics from the start) are not expanded."""
    frontier_batch: int = 1
    """Open nodes whose tactics are generated in one batch."""

    def __post_init__(self) -> None:
        for name in ("timeout", "max_expansions", "tactics_per_node", "max_depth", "frontier_batch"):
            if getattr(self, name) < 0:
                raise ValueError(f"search limit {name} must be ≥ 0, got {getattr(self, name)}")
        if self.frontier_batch < 1 or self.tactics_per_node < 1:
            raise ValueError("frontier_batch and tactics_per_node must be ≥ 1")


@dataclass(frozen=True)
class SearchResult:
    """How one theorem's search ended."""

    outcome: SearchOutcome
    """``proved``; ``failed`` (nothing left to try, or an expansion/depth limit); ``timeout``."""
    proof: tuple[str, ...] = ()
    """The tactics of the proof, in order (empty unless proved)."""
    seconds: float = field(default=0.0, compare=False)
    """Wall time of the search."""
    nodes: int = field(default=0, compare=False)
    """Nodes expanded."""
    depth: int = field(default=0, compare=False)
    """Deepest node reached (tactics from the start)."""
    tactics: int = field(default=0, compare=False)
    """Tactics run in Lean."""
    message: str = field(default="", compare=False)
    """Why the search stopped, when it did not prove the theorem."""

    def to_attempt(self, theorem_id: str, checkpoint: str) -> ProofAttempt:
        """The database record of this search."""
        return ProofAttempt(theorem_id=theorem_id, checkpoint=checkpoint, outcome=self.outcome,
                            proof=proof_text(self.proof), seconds=self.seconds, nodes=self.nodes,
                            message=self.message)


def proof_text(tactics: Sequence[str]) -> str:
    """Tactics one per line, as stored and as written into a ``by`` block.

    >>> proof_text(["intro h", "exact h"])
    'intro h\\nexact h'
    """
    return "\n".join(tactics)


@dataclass
class _Node:
    state: State
    logprob: float
    depth: int
    parent: _Node | None = None
    tactic: str = ""
    expanded: bool = False

    def path(self) -> list[str]:
        node, tactics = self, []
        while node is not None and node.parent is not None:
            tactics.append(node.tactic)
            node = node.parent
        return tactics[::-1]


def best_first_search(env: LeanEnv, theorem: Theorem, generator: TacticGenerator, limits: SearchLimits,
                      *, clock=time.monotonic) -> SearchResult:
    """Search a proof of ``theorem`` in ``env`` (already able to start it). :class:`~prover.env.EnvInitError`
    and :class:`~prover.env.EnvCrashed` propagate: they are breakdowns, not search outcomes."""
    started = clock()
    root = _Node(env.start(theorem), 0.0, 0)
    nodes = {root.state.pp: root}
    tie = itertools.count()
    frontier: list[tuple[float, int, _Node]] = [(0.0, next(tie), root)]
    expanded = tactics_run = max_depth = 0
    depth_capped = False

    def result(outcome: SearchOutcome, proof: Sequence[str] = (), message: str = "") -> SearchResult:
        return SearchResult(outcome, tuple(proof), clock() - started, expanded, max_depth, tactics_run, message)

    while frontier:
        if limits.timeout and clock() - started >= limits.timeout:
            return result("timeout", message=f"search time limit ({limits.timeout:g} s) reached")
        if limits.max_expansions and expanded >= limits.max_expansions:
            return result("failed", message=f"expansion limit ({limits.max_expansions}) reached")
        batch: list[_Node] = []
        room = limits.frontier_batch
        if limits.max_expansions:
            room = min(room, limits.max_expansions - expanded)
        while frontier and len(batch) < room:
            priority, _, node = heapq.heappop(frontier)
            if node.expanded or -priority != node.logprob:
                continue  # a stale entry: the node was expanded, or re-queued after a better path was found
            if limits.max_depth and node.depth >= limits.max_depth:
                depth_capped = True
                continue
            batch.append(node)
        if not batch:
            break
        suggestions = generator.generate([GenRequest(n.state.pp, theorem) for n in batch],
                                         limits.tactics_per_node)
        for node, row in zip(batch, suggestions):
            node.expanded = True
            expanded += 1
            for s in row[:limits.tactics_per_node]:
                if limits.timeout and clock() - started >= limits.timeout:
                    return result("timeout", message=f"search time limit ({limits.timeout:g} s) reached")
                step = env.run_tactic(node.state, s.tactic)
                tactics_run += 1
                if isinstance(step, Finished):
                    max_depth = max(max_depth, node.depth + 1)
                    return result("proved", node.path() + [s.tactic])
                if isinstance(step, (TacticError, TacticTimeout)):
                    continue
                known = nodes.get(step.pp)
                if known is not None:  # merge: this state is already in the tree
                    better = node.logprob + s.logprob
                    if not known.expanded and better > known.logprob:  # a likelier way to it: move it up
                        known.logprob, known.parent, known.tactic, known.depth = better, node, s.tactic, node.depth + 1
                        heapq.heappush(frontier, (-better, next(tie), known))
                    continue
                child = _Node(step, node.logprob + s.logprob, node.depth + 1, node, s.tactic)
                nodes[step.pp] = child
                max_depth = max(max_depth, child.depth)
                heapq.heappush(frontier, (-child.logprob, next(tie), child))
    why = f"depth limit ({limits.max_depth}) reached" if depth_capped else "no tactic left to try"
    return result("failed", message=why)
