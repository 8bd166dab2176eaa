"""The time-split benchmark: theorems left as ``sorry`` at one commit and proved at a later one.

``leanagent timesplit REPO --old C1 --new C2 --workdir DIR`` (issue 10, item 4). The cases are the theorems that
are proving targets at C1 (a ``sorry`` proof) and proved at C2 under the same name and statement (whitespace
aside). They are judged with what the run in DIR learned (its latest retriever checkpoint, its proof memory),
which should have seen the repository at C1, never at C2: no peer benchmark asks a prover about the future of
a repository it read. Figures:

* **premises**: recall of the C2 proof's premises in the top 10 and 100 retrieved for the statement, among the
  premises accessible at C2 (the C2 scan, its dependencies), ranked as the run ranks them;
* **first tactic**: hit@1 / 8 / 64 of each offline generator (templates, memory, combined) for the C2 proof's
  first tactic;
* **proofs**: where Lean is installed (or a test double is given), the C1 theorems searched with the run's
  generator; without Lean one line says so.

Every figure says how many theorems it rests on, with a 95% bootstrap interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from database.records import Premise, RepoScan, Theorem
from database.store import Store
from retrieval.priors import Origin

__all__ = ["matched_cases", "TimeSplit", "time_split"]


def _statement(theorem: Theorem) -> str:
    return " ".join(theorem.statement.split())


def matched_cases(old: RepoScan, new: RepoScan) -> list[tuple[Theorem, Theorem]]:
    """(theorem at C1, theorem at C2) for each proving target at C1 proved at C2 with the same statement,
    in C2's order. A name that appears twice at either commit is left out (no telling which is which)."""
    def unique(theorems: Sequence[Theorem]) -> dict[str, Theorem]:
        seen: dict[str, list[Theorem]] = {}
        for t in theorems:
            seen.setdefault(t.full_name, []).append(t)
        return {name: ts[0] for name, ts in seen.items() if len(ts) == 1}

    before = unique(old.theorems)
    out = []
    for name, after in unique(new.theorems).items():
        target = before.get(name)
        if (target is not None and target.is_target and not after.has_sorry and not after.is_target
                and _statement(target) == _statement(after)):
            out.append((target, after))
    return out


@dataclass(frozen=True)
class TimeSplit:
    """What :func:`time_split` measured (:meth:`as_dict` for JSON)."""

    repo: str
    old: str
    new: str
    checkpoint: str
    cases: tuple[dict[str, Any], ...]
    recall: dict[str, Any]
    generators: dict[str, dict[str, Any]]
    proving: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"repo": self.repo, "old": self.old, "new": self.new, "checkpoint": self.checkpoint,
                "theorems": len(self.cases), "recall": self.recall, "generators": self.generators,
                "proving": self.proving, "cases": list(self.cases)}


def _interval(values: Sequence[float]) -> dict[str, Any]:
    from retrieval.stats import mean_interval

    if not values:
        return {"estimate": None, "low": None, "high": None, "theorems": 0}
    iv = mean_interval(values)
    return {"estimate": iv.estimate, "low": iv.low, "high": iv.high, "theorems": len(values)}


def _retriever(config, wd, checkpoint: str, corpus: list[Premise]):
    """The run's ranking over ``corpus`` (embedded here with the checkpoint: C2's premises are new to it)."""
    from retrieval.loading import load_retriever

    r = config.retriever
    return load_retriever(wd.checkpoints / checkpoint, None, r.max_length, lambda: corpus, ranking=r.ranking,
                          fusion=r.fusion)


def time_split(config, store: Store, wd, old, new, *, ks: Sequence[int] = (10, 100),
               env_factory: Callable | None = None, generators: Sequence[str] = ("templates", "memory", "combined"),
               echo: Callable[[str], None] = lambda line: None) -> TimeSplit:
    """Judge the C1 → C2 cases of two scans (:class:`~leanagent.scanning.ScanResult`) with the run in ``wd``."""
    from database.datasets import AccessIndex
    from leanagent.results import run_state
    from prover.generators import RetrievedPremises
    from prover.memory import neighbours_for, offline_generator
    from prover.tactic_data import HIT_KS, first_tactic_ranks, hit_rate
    from retrieval.dataset import units

    state = run_state(store)
    if state is None or not state.checkpoints:
        raise LookupError(f"{wd.root}: no retriever trained yet; run `leanagent run` on the repository at the old "
                          "commit first")
    checkpoint = state.checkpoints[-1]
    cases = matched_cases(old.scan, new.scan)
    files = list(new.scan.files) + [f for dep in new.dependencies for f in dep.files]
    corpus = list({p.id: p for p in [*new.scan.premises, *(p for d in new.dependencies for p in d.premises)]}.values())
    access = AccessIndex(files, corpus)
    echo(f"{len(cases)} theorems sorry at {old.scan.repo.commit[:12]} and proved at {new.scan.repo.commit[:12]}; "
         f"corpus {len(corpus)} premises; judged with {checkpoint}")
    retriever = _retriever(config, wd, checkpoint, corpus) if cases else None
    rows: list[dict[str, Any]] = []
    recalls: dict[int, list[float]] = {k: [] for k in ks}
    for before, after in cases:
        accessible = access.accessible(after)
        found = units(after, {p.full_name: p for p in accessible}, config.retriever.static_query)
        row: dict[str, Any] = {"name": after.full_name, "path": after.path,
                               "premises": sorted({p.full_name for u in found for p in u.positives})}
        if found and retriever is not None:
            unit = found[0]  # static records: one unit, the statement and every premise of the proof
            hits = retriever.retrieve([unit.query], max(ks), [{p.id for p in accessible}],
                                      [Origin(after.path, after.start.line, access.imports_of(after))])[0]
            ranked = [h.premise_id for h in hits]
            positives = {p.id for p in unit.positives}
            for k in ks:
                value = len(positives & set(ranked[:k])) / len(positives)
                recalls[k].append(value)
                row[f"recall_at_{k}"] = value
        rows.append(row)
    recall = {f"at_{k}": _interval(v) for k, v in recalls.items()}
    p = config.prover
    names = {t.full_name for _, t in cases}
    remembered = [t for r in store.repos("target") for t in store.theorems(r.id, sorry=False)
                  if t.full_name not in names]  # what the run learned; never a case's own proof
    kinds = {x.full_name: x.kind for x in corpus}
    source = RetrievedPremises(retriever, corpus, access.accessible_ids, access.imports_of) \
        if retriever is not None else None
    with_steps = [(i, after) for i, (_, after) in enumerate(cases) if after.steps]
    scores: dict[str, dict[str, Any]] = {}
    memory = None  # built once, shared by memory and combined
    for kind in generators if with_steps else ():
        if kind != "templates" and memory is None:
            memory = offline_generator("memory", source, p.num_premises, remembered, kinds,
                                       lambda: neighbours_for(p.memory_neighbours, wd.checkpoints / checkpoint,
                                                              config.retriever.max_length))
        generator = offline_generator(kind, source, p.num_premises, remembered, kinds, None, memory=memory)
        ranks = first_tactic_ranks(generator, [t for _, t in with_steps], max(HIT_KS))
        scores[kind] = {f"hit_at_{k}": _interval([1.0 if r is not None and r < k else 0.0 for r in ranks])
                        for k in HIT_KS}
        for (i, _), rank in zip(with_steps, ranks):
            rows[i][f"first_tactic_rank_{kind}"] = rank
        echo(f"first tactic, {kind}: hit@64 {hit_rate(ranks, 64):.3f} ({len(ranks)} theorems)")
    learned = store.repo(old.scan.repo.id) is not None  # the run read the repository at C1: its premises
    proving = _prove(config, wd, checkpoint if learned else "", [before for before, _ in cases], old, env_factory,
                     echo)
    return TimeSplit(new.scan.repo.name, old.scan.repo.commit, new.scan.repo.commit, checkpoint, tuple(rows),
                     recall, scores, proving)


def _prove(config, wd, checkpoint: str, targets: list[Theorem], old, env_factory, echo) -> dict[str, Any]:
    """Search the C1 theorems with the run's generator (premises retrieved with ``checkpoint`` from what the run
    stored of the repository at C1; none when it is empty); one line and nothing else without Lean."""
    from prover.toolchain import find_toolchain

    if not targets:
        return {"attempted": 0, "proved": 0}
    if env_factory is None and find_toolchain() is None:
        line = "proofs not searched: no Lean toolchain (install elan to search and check them)"
        echo(line)
        return {"skipped": line}
    from leanagent.proving import EnvRecipe, GeneratorRecipe, VerifierRecipe, batch_options
    from prover.batch import prove_batch
    from prover.search import SearchLimits

    p = config.prover
    verifier = None  # with a test double for Lean, found proofs stay unverified
    if env_factory is None:
        env_factory = EnvRecipe(p.env, old.scan.repo.path, old.scan.repo.commit,
                                str((wd.root / "prover").resolve()), p.tactic_timeout)
        verifier = VerifierRecipe(old.scan.repo.path, str((wd.root / "prover").resolve()), p.check_timeout)
    generator = GeneratorRecipe(p.generator, str(wd.database.resolve()), old.scan.repo.id,
                                str(wd.checkpoints / checkpoint) if checkpoint else "", str(wd.index),
                                config.retriever.max_length, p.num_premises,
                                config.retriever.ranking, config.retriever.fusion, p.memory_neighbours)
    limits = SearchLimits(timeout=p.timeout, max_expansions=p.max_expansions, tactics_per_node=p.num_sampled_tactics)
    options = batch_options(p, f"timesplit@{checkpoint}", limits, verifying=verifier is not None)
    summary = prove_batch(targets, env_factory, generator, options, verifier_factory=verifier)
    proved = [a for a in summary.attempts if a.outcome == "proved"]
    unverified = summary.count("unverified")
    echo(f"proofs found and checked by Lean: {len(proved)} of {len(targets)}"
         + (f" ({unverified} more found but not accepted by the whole-file check)" if unverified else ""))
    return {"attempted": len(summary.attempts), "proved": len(proved), "unverified": unverified,
            "proofs": {a.theorem_id: a.proof for a in proved}}
