"""Proving a repository's sorry theorems with what a run has learned: the glue between the database,
the retriever checkpoint, the tactic generator, Lean environments and batch proving on Ray.

Used by the ``prove`` stage of ``leanagent run`` and by ``leanagent prove``. Everything sent to Ray
workers is a small picklable recipe (:class:`GeneratorRecipe`, :class:`EnvRecipe`); each worker builds its
own retriever, generator and Lean environment from it.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from database.records import ProofAttempt, Repo, Theorem
from database.store import Store
from leanagent.config import Config, ProverConfig
from leanagent.workdir import Workdir, atomic_write_text

__all__ = ["ProveSummary", "GeneratorRecipe", "EnvRecipe", "VerifierRecipe", "find_repo", "sorry_targets", "skipped_targets", "prove_repository",
           "write_patch"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProveSummary:
    """What proving one repository did."""

    targets: int
    """Sorry theorems asked for (placeholder statements excluded; skipped ones included)."""
    attempted: int
    """Attempted in this call."""
    proved: int
    """Proved under this checkpoint (this call and earlier ones)."""
    resumed: int = 0
    """Already attempted under this checkpoint, skipped."""
    outcomes: dict[str, int] = field(default_factory=dict)
    """This call's attempts by outcome."""
    patch: str | None = None
    """Path of the patch written, if any."""
    seconds: float = field(default=0.0, compare=False)
    """Wall time."""
    skipped: int = 0
    """Sorry theorems listed but not attempted (placeholder definitions, exercises), each recorded ``skipped``
    with its reason."""


def find_repo(store: Store, name: str) -> Repo:
    """The stored target repository called ``name`` (its name, URL, local path or id)."""
    repos = store.repos("target")
    wanted = name.rstrip("/")
    for repo in repos:
        candidates = {repo.name, repo.url.rstrip("/"), repo.id}
        if repo.path:
            candidates |= {repo.path.rstrip("/"), str(Path(repo.path).resolve())}
        if wanted in candidates or (Path(wanted).exists() and str(Path(wanted).resolve()) in candidates):
            return repo
    known = ", ".join(sorted(r.name for r in repos)) or "none"
    raise LookupError(f"no repository {name!r} in this run (known: {known})")


def sorry_targets(store: Store, repo: Repo, theorem: str | None = None) -> list[Theorem]:
    """The repository's provable sorry theorems (statement without ``sorry``), optionally one by name."""
    targets = [t for t in store.theorems(repo.id, sorry=True) if t.is_target]
    if theorem is not None:
        chosen = [t for t in targets if t.full_name == theorem or t.full_name.endswith("." + theorem)]
        if not chosen:
            raise LookupError(f"{repo.name}: no sorry theorem named {theorem!r} "
                              f"({len(targets)} sorry theorems; `leanagent scan {repo.path} --sorries` lists them)")
        return chosen
    return targets


def skipped_targets(store: Store, repo: Repo) -> dict[str, str]:
    """Sorry theorem id → why it is listed but not attempted (a placeholder definition in its statement, an
    exercise): :mod:`prover.targets`, over the repository's stored declarations and its checkout's files."""
    from prover.targets import file_reader, skip_reasons

    source = file_reader(Path(repo.path)) if repo.path else (lambda path: None)
    return skip_reasons(store.theorems(repo.id, sorry=True), store.premises(repo.id), source,
                        textbook=repo.textbook)


@dataclass(frozen=True)
class GeneratorRecipe:
    """How a worker builds its tactic generator: which model, and the retriever that feeds it premises."""

    kind: str
    """``templates``, ``memory``, ``model`` (the run's tactic model), ``combined`` (templates, memory, and the run's
    tactic model when it trained one), ``reprover``, or a Hugging Face name / directory of a seq2seq model."""
    database: str
    """The run's SQLite file (premises and files, read by the worker)."""
    repo_id: str
    """Repository whose accessible premises are candidates."""
    checkpoint_dir: str = ""
    """Retriever checkpoint; empty: no retrieval (templates then use hypotheses and automation only)."""
    index_dir: str = ""
    """The FAISS premise index embedded with that checkpoint."""
    max_length: int = 512
    """Retriever's maximum query length."""
    num_premises: int = 8
    """Premises retrieved per state."""
    ranking: str = "dense"
    """``dense``, ``bm25`` or ``hybrid`` (``retriever.ranking``)."""
    fusion: str = "rrf"
    """How ``hybrid`` fuses (``retriever.fusion``)."""
    neighbours: str = "lexical"
    """How the proof memory finds the nearest proved steps (``prover.memory_neighbours``)."""
    whole_proof: str = ""
    """A whole-proof model combined with the generator (``prover.whole_proof``); empty for none."""
    endpoint: tuple[str, str, str] = ("", "", "OPENAI_API_KEY")
    """(URL, model, name of the key's environment variable) of an OpenAI-compatible endpoint."""
    whole_proof_samples: int = 8
    """Proofs asked per theorem."""

    def premise_source(self):
        """A :class:`~prover.generators.RetrievedPremises` over the checkpoint, or None."""
        if not self.checkpoint_dir:
            return None
        from database.datasets import AccessIndex
        from retrieval.loading import load_retriever
        from prover.generators import RetrievedPremises
        from retrieval.dataset import corpus_for

        with Store.open(self.database) as store:
            repo = store.repo(self.repo_id)
            assert repo is not None, f"repository {self.repo_id} vanished from {self.database}"
            files, premises = corpus_for(store, repo)
        retriever = load_retriever(Path(self.checkpoint_dir), Path(self.index_dir), self.max_length,
                                   lambda: premises, ranking=self.ranking, fusion=self.fusion)
        access = AccessIndex(files, premises)
        return RetrievedPremises(retriever, premises, access.accessible_ids, access.imports_of)

    def __call__(self):
        generator = self._tactics()
        if not self.whole_proof:
            return generator
        from prover.generators import CombinedGenerator
        from prover.whole_proof import CausalLM, OpenAICompatible, WholeProofGenerator

        url, model, key_env = self.endpoint
        source = (OpenAICompatible(url, model, key_env=key_env) if self.whole_proof == "endpoint"
                  else CausalLM.from_pretrained(self.whole_proof))
        return CombinedGenerator([generator, WholeProofGenerator(source, samples=self.whole_proof_samples)])

    def _tactics(self):
        from prover.generators import REPROVER_TACGEN, Seq2SeqGenerator
        from prover.memory import OFFLINE_GENERATORS, neighbours_for, offline_generator

        source = self.premise_source()
        if self.kind in OFFLINE_GENERATORS:
            theorems, kinds = [], {}
            if self.kind not in ("templates", "model"):
                with Store.open(self.database) as store:
                    theorems = [t for r in store.repos("target") for t in store.theorems(r.id, sorry=False)]
                    kinds = {p.full_name: p.kind for p in store.premises()}
            return offline_generator(self.kind, source, self.num_premises, theorems, kinds,
                                     lambda: neighbours_for(self.neighbours, self.checkpoint_dir, self.max_length),
                                     model_dir=self.checkpoint_dir or None)
        return Seq2SeqGenerator.from_pretrained(REPROVER_TACGEN if self.kind == "reprover" else self.kind, source)


@dataclass(frozen=True)
class EnvRecipe:
    """How a worker builds its Lean environment."""

    kind: str
    """``repl`` (the Lean REPL through lean-interact), ``dojo`` (LeanDojo, tactic by tactic) or ``checker``
    (``lake env lean`` on the whole file)."""
    repo_dir: str
    """Local checkout of the repository (built by Lean)."""
    commit: str
    """Its commit."""
    workdir: str
    """Scratch space (LeanDojo's cache, the REPL's build, edited copies)."""
    tactic_timeout: int = 60
    """Seconds per tactic (per check for ``checker``)."""
    memory_mb: int = 32768
    """The Lean REPL's memory limit (``repl``; ``prover.repl_memory_mb``)."""
    file_timeout: float = 600.0
    """Seconds the Lean REPL may take to elaborate one file (``repl``): at most a theorem's time limit, so a
    worker is never killed by the batch while a big file is still elaborating."""

    def __call__(self):
        if self.kind == "repl":
            from prover.repl import ReplEnv

            return ReplEnv(self.repo_dir, self.workdir, tactic_timeout=self.tactic_timeout, memory_mb=self.memory_mb,
                           file_timeout=self.file_timeout)
        if self.kind == "checker":
            from prover.checker import WholeProofChecker

            return WholeProofChecker(self.repo_dir, self.workdir, timeout=self.tactic_timeout)
        from prover.dojo import open_dojo_env

        return open_dojo_env(self.repo_dir, self.commit, self.workdir, tactic_timeout=self.tactic_timeout)


@dataclass(frozen=True)
class VerifierRecipe:
    """How a worker builds the final check of its proofs: Lean on the whole file
    (:meth:`prover.checker.WholeProofChecker.verify`), whatever environment found them."""

    repo_dir: str
    """The built checkout the edited copies are compiled against."""
    workdir: str
    """Scratch space (the edited copies)."""
    timeout: float = 600.0
    """Seconds for one whole file (``prover.check_timeout``)."""
    runner: Callable | None = None
    """Runs ``lake env lean`` (tests give a double); None: the sandbox."""

    def __call__(self):
        from prover.checker import WholeProofChecker

        return WholeProofChecker(self.repo_dir, self.workdir, timeout=self.timeout, runner=self.runner)


def write_patch(store: Store, repo: Repo, checkpoint: str, path: Path) -> int:
    """Write the proofs found under ``checkpoint`` as one patch for ``repo``; the number of proofs in it."""
    from prover.patch import make_patch

    by_id = {t.id: t for t in store.theorems(repo.id, sorry=True)}
    proofs: dict[str, list[tuple[Theorem, tuple[str, ...]]]] = defaultdict(list)
    for attempt in store.attempts(checkpoint=checkpoint, outcome="proved"):
        theorem = by_id.get(attempt.theorem_id)
        if theorem is not None:
            proofs[theorem.path].append((theorem, tuple(attempt.proof.split("\n"))))
    atomic_write_text(Path(path), make_patch(Path(repo.path), proofs))
    return sum(len(v) for v in proofs.values())


def batch_options(p: ProverConfig, checkpoint: str, limits, *, verifying: bool):
    """A batch's :class:`~prover.batch.BatchOptions` from the prover settings ``p``; ``verifying``: each found
    proof is then compiled whole (the edited copy, and the unedited file once per file), two
    ``prover.check_timeout`` allowed for it before a worker that does not answer is killed."""
    from prover.batch import BatchOptions

    return BatchOptions(checkpoint=checkpoint, workers=p.workers, ray_address=p.ray_address, limits=limits,
                        check_seconds=2 * p.check_timeout if verifying else 0.0)


def prove_repository(config: Config, store: Store, wd: Workdir, repo: Repo, checkpoint: str, *,
                     checkpoint_dir: Path | None = None, index_dir: Path | None = None,
                     theorem: str | None = None, patch: Path | None = None,
                     env_factory: Callable | None = None, generator_factory: Callable | None = None,
                     verifier_factory: Callable | None = None,
                     on_result: Callable | None = None, show_progress: bool = False) -> ProveSummary:
    """Prove ``repo``'s sorry theorems with the retriever ``checkpoint``; optionally write a patch (of the
    ``proved`` ones only: found, and accepted by Lean on the whole file).

    Without a Lean toolchain this raises :class:`~prover.env.LeanUnavailable` (one line) before any work. With
    ``env_factory`` given (a test double) and no ``verifier_factory``, found proofs are ``unverified``.
    """
    from prover.batch import prove_batch
    from prover.search import SearchLimits
    from prover.toolchain import require_lean

    # by file, then position: a worker's REPL elaborates each file once for all of its theorems
    targets = sorted(sorry_targets(store, repo, theorem), key=lambda t: (t.path, t.start))
    p = config.prover
    if env_factory is None:
        if not repo.path:
            raise LookupError(f"{repo.name}: no local checkout recorded; run `leanagent run` on it first")
        require_lean(repo.path)
        from leanagent.project import prepare_for_run

        # A git work tree at a real commit, Lake's packages at their pinned revisions, built in the sandbox:
        # what every environment and the final check compile against (raises ProjectError in one line).
        project = prepare_for_run(repo, config, wd)
        for warning in project.warnings:
            log.warning("%s: %s", repo.name, warning)
        scratch = wd.root if p.env == "dojo" else wd.root / "prover"  # dojo: WORKDIR/lean_dojo, tracing's cache
        env_factory = EnvRecipe(p.env, str(project.root), project.commit, str(scratch.resolve()), p.tactic_timeout,
                                p.repl_memory_mb, min(600.0, p.timeout))
        if verifier_factory is None:
            verifier_factory = VerifierRecipe(str(project.root), str((wd.root / "prover").resolve()), p.check_timeout)
    if generator_factory is None:
        generator_factory = GeneratorRecipe(
            p.generator, str(wd.database.resolve()), repo.id,
            str(checkpoint_dir or ""), str(index_dir or ""), config.retriever.max_length, p.num_premises,
            config.retriever.ranking, config.retriever.fusion, p.memory_neighbours, p.whole_proof,
            (p.endpoint_url, p.endpoint_model, p.endpoint_key_env), p.whole_proof_samples)
    skipped: list[ProofAttempt] = []
    new: list[ProofAttempt] = []
    if not p.include_placeholders:
        reasons = skipped_targets(store, repo)
        recorded = {a.theorem_id: a.outcome for a in store.attempts(checkpoint=checkpoint)}
        skipped = [ProofAttempt(t.id, checkpoint, "skipped", message=reasons[t.id]) for t in targets
                   if t.id in reasons and recorded.get(t.id, "skipped") == "skipped"]
        targets = [t for t in targets if t.id not in reasons]
        new = [a for a in skipped if a.theorem_id not in recorded]  # each recorded once, with its reason
        store.add_attempts(new)
        for attempt in new if on_result is not None else ():
            on_result(attempt)
    limits = SearchLimits(timeout=p.timeout, max_expansions=p.max_expansions,
                          tactics_per_node=p.num_sampled_tactics, frontier_batch=p.frontier_batch)
    options = batch_options(p, checkpoint, limits, verifying=verifier_factory is not None)
    bar = None
    if show_progress:
        from tqdm import tqdm

        bar = tqdm(total=len(targets), desc=f"prove {repo.name}", unit="thm", leave=False)
        bar.update(len({a.theorem_id for a in store.attempts(checkpoint=checkpoint)} & {t.id for t in targets}))

    def arrived(attempt) -> None:
        if bar is not None:
            bar.update(1)
        if on_result is not None:
            on_result(attempt)

    try:
        summary = prove_batch(targets, env_factory, generator_factory, options, store=store, on_result=arrived,
                              verifier_factory=verifier_factory)
    finally:
        if bar is not None:
            bar.close()
    ids = {t.id for t in targets}
    proved = sum(a.theorem_id in ids for a in store.attempts(checkpoint=checkpoint, outcome="proved"))
    outcomes = Counter(a.outcome for a in (*new, *summary.attempts))
    written = None
    if patch is not None:
        write_patch(store, repo, checkpoint, patch)
        written = str(patch)
    return ProveSummary(len(targets) + len(skipped), len(summary.attempts), proved, summary.skipped, dict(outcomes),
                        written, summary.seconds, len(skipped))
