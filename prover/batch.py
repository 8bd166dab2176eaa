"""Batch proving on Ray: one Lean environment per worker (a Ray actor), a local Ray by default and a
cluster when given its address.

Each theorem runs as one task on an idle worker. A theorem that fails to start or crashes Lean is
recorded as ``error`` and the worker starts a fresh environment; a worker process that dies, or runs past
the theorem's time limit plus a grace period, is killed and replaced, and the theorem recorded as ``error``
or ``timeout``. Every result goes to the database the moment it arrives, so a killed batch resumes with the
theorems not yet recorded for this checkpoint.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from database.records import ProofAttempt, Theorem
from database.store import Store
from prover.checker import CheckResult
from prover.env import EnvCrashed, EnvInitError, LeanEnv
from prover.generators import TacticGenerator
from prover.search import SearchLimits, best_first_search

__all__ = ["BatchOptions", "BatchSummary", "prove_batch", "prove_one", "init_ray", "ray_kept", "RayUnavailable"]

log = logging.getLogger(__name__)

EnvFactory = Callable[[], LeanEnv]
"""Makes a worker's environment (called inside the worker: must be picklable)."""
GeneratorFactory = Callable[[], TacticGenerator]
"""Makes a worker's tactic generator (called inside the worker: must be picklable)."""


class Verifier(Protocol):
    """The final word on a found proof (:meth:`prover.checker.WholeProofChecker.verify`)."""

    def verify(self, theorem: Theorem, tactics: Sequence[str]) -> CheckResult:
        """Lean's verdict on ``tactics`` as the whole proof of ``theorem``."""
        ...


VerifierFactory = Callable[[], Verifier]
"""Makes a worker's verifier (called inside the worker: must be picklable)."""


@dataclass(frozen=True)
class BatchOptions:
    """How a batch runs."""

    checkpoint: str
    """Retriever checkpoint the attempts are recorded under (the resume key with the theorem)."""
    workers: int = 1
    """Ray workers, one environment each."""
    ray_address: str = ""
    """Ray cluster address (``ray://host:10001`` or ``auto``); empty starts a local Ray."""
    limits: SearchLimits = field(default_factory=SearchLimits)
    """Limits of each theorem's search (its ``timeout`` is the per-theorem time limit)."""
    grace: float = 30.0
    """Seconds past the time limit before a worker that does not answer is killed."""
    check_seconds: float = 0.0
    """Seconds the final check of a found proof may add to a theorem (Lean on the whole file: the edited copy, and
    the unedited file once per file), counted in the time before a worker that does not answer is killed."""
    startup: float = 120.0
    """Seconds a new worker may take to start (Ray starting its process, the environment built) before its first
    theorem's time counts: on a loaded machine a replacement worker must not cost the next theorem its search."""
    resume: bool = True
    """Skip theorems that already have an attempt under this checkpoint."""

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        for name in ("grace", "check_seconds", "startup"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be ≥ 0, got {getattr(self, name)}")


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did."""

    attempts: tuple[ProofAttempt, ...]
    """This run's attempts, in the order they arrived."""
    skipped: int
    """Theorems already recorded (resume)."""
    seconds: float = field(compare=False)
    """Wall time."""

    def count(self, outcome: str) -> int:
        """Attempts with ``outcome``."""
        return sum(a.outcome == outcome for a in self.attempts)


def prove_one(env: LeanEnv, generator: TacticGenerator, theorem: Theorem, limits: SearchLimits,
              checkpoint: str, verifier: Verifier | None = None) -> tuple[ProofAttempt, bool]:
    """Search one theorem; (attempt, whether the environment is still usable). A proof the search found
    counts as ``proved`` only when ``verifier`` accepts it; otherwise, or without a verifier, it is stored as
    ``unverified`` with the reason."""
    started = time.monotonic()
    try:
        result = best_first_search(env, theorem, generator, limits)
    except EnvInitError as e:
        return ProofAttempt(theorem.id, checkpoint, "error", seconds=time.monotonic() - started,
                            message=f"cannot start: {e}"), True
    except EnvCrashed as e:
        return ProofAttempt(theorem.id, checkpoint, "error", seconds=time.monotonic() - started,
                            message=f"Lean crashed: {e}"), False
    attempt = result.to_attempt(theorem.id, checkpoint)
    if attempt.outcome != "proved":
        return attempt, True
    if verifier is None:
        why = "found by the search, not checked by Lean on the whole file (no checker in this run)"
    else:
        try:
            verdict = verifier.verify(theorem, result.proof)
        except EnvInitError as e:
            verdict = CheckResult(False, (str(e),))
        if verdict.ok:
            return replace(attempt, seconds=time.monotonic() - started), True
        why = "found by the search, rejected by Lean on the whole file: " + "; ".join(verdict.errors)
    return replace(attempt, outcome="unverified", seconds=time.monotonic() - started, message=why[:2000]), True


class _Worker:
    """A Ray actor: one environment, one generator and one verifier, the environment rebuilt after a crash."""

    def __init__(self, env_factory: EnvFactory, generator_factory: GeneratorFactory,
                 verifier_factory: VerifierFactory | None = None) -> None:
        self.env_factory = env_factory
        self.env = env_factory()
        self.generator = generator_factory()
        self.verifier_factory = verifier_factory
        self.verifier: Verifier | None = None

    def prove(self, theorem: Theorem, limits: SearchLimits, checkpoint: str) -> ProofAttempt:
        if self.verifier is None and self.verifier_factory is not None:
            self.verifier = self.verifier_factory()
        attempt, usable = prove_one(self.env, self.generator, theorem, limits, checkpoint, self.verifier)
        if not usable:
            self.env.close()
            self.env = self.env_factory()
        return attempt

    def close(self) -> None:
        self.env.close()


def _last_error_line(text: str) -> str:
    """The most telling line of a Ray error: the last ``SomethingError: …`` line, else the first line.

    >>> _last_error_line("The actor died.\\n  File x\\nLeanUnavailable: no Lean toolchain\\n")
    'LeanUnavailable: no Lean toolchain'
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[A-Za-z_.]*(Error|Exception|Unavailable|Crashed)\b.*:", line)]
    return (errors[-1] if errors else lines[0] if lines else "")[:300]


class RayUnavailable(RuntimeError):
    """Ray could not be started or reached; the message is one line with the next step."""


def init_ray(workers: int, address: str = "") -> tuple[Any, bool]:
    """Connect to the cluster at ``address``, or start a local Ray with ``workers`` CPUs; (ray, whether
    this call started it). An existing connection is reused.

    ``ray.init`` puts its own SIGTERM handler in place (``sys.exit``); the one before it is put back, so that
    SIGTERM still stops the command as the CLI says (one line, exit 130, a training's state saved)."""
    import ray

    if ray.is_initialized():
        return ray, False
    kwargs: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
    main = threading.current_thread() is threading.main_thread()
    sigterm = signal.getsignal(signal.SIGTERM) if main else None
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=max(1, workers), include_dashboard=False, **kwargs)
    except Exception as err:  # Ray's own errors name no next step
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise RayUnavailable(f"cannot start {where} for proving ({first}); what is stored is kept: run the same "
                             "command again to resume (a loaded machine can make Ray's start time out)") from err
    finally:
        if main and sigterm is not None:  # None: set outside Python, nothing to put back
            signal.signal(signal.SIGTERM, sigterm)
    return ray, True


_kept: dict[str, bool] = {}
"""Inside :func:`ray_kept`: ``{"started": whether a batch there started a local Ray}``; empty outside."""


@contextmanager
def ray_kept() -> Iterator[None]:
    """Within the block, a local Ray that a batch starts stays up for the next batch (a run proves one
    repository after another, and starting Ray costs 10 s on an idle machine, up to minutes on a loaded one); it
    is shut down when the block ends. A Ray that was running before, or a cluster, is left as it is."""
    if _kept:  # nested: the outer block owns it
        yield
        return
    _kept["started"] = False
    try:
        yield
    finally:
        started = _kept.pop("started")
        if started:
            import ray

            if ray.is_initialized():
                ray.shutdown()


def prove_batch(theorems: Sequence[Theorem], env_factory: EnvFactory, generator_factory: GeneratorFactory,
                options: BatchOptions, *, store: Store | None = None,
                on_result: Callable[[ProofAttempt], None] | None = None,
                verifier_factory: VerifierFactory | None = None) -> BatchSummary:
    """Prove ``theorems`` on ``options.workers`` Ray workers; attempts are stored as they arrive. Each found
    proof is checked by the worker's verifier (``verifier_factory``); without one it is ``unverified``."""
    started = time.monotonic()
    done = set()
    if store is not None and options.resume:
        done = {a.theorem_id for a in store.attempts(checkpoint=options.checkpoint) if a.outcome != "skipped"}
    todo = [t for t in theorems if t.id not in done]
    skipped = len(theorems) - len(todo)
    attempts: list[ProofAttempt] = []

    def record(attempt: ProofAttempt) -> None:
        attempts.append(attempt)
        if store is not None:
            store.add_attempt(attempt)
        if on_result is not None:
            on_result(attempt)

    if not todo:
        return BatchSummary((), skipped, time.monotonic() - started)
    ray, started_ray = init_ray(options.workers, options.ray_address)
    from ray.exceptions import RayActorError, RayTaskError

    Worker = ray.remote(num_cpus=1, max_restarts=0)(_Worker)
    deadline = options.limits.timeout + options.check_seconds + options.grace if options.limits.timeout else None
    pending = list(reversed(todo))  # pop() from the end keeps the given order
    fresh: list[Any] = []  # workers not yet given a theorem: their first one's clock allows for their start

    def spawn() -> Any:
        worker = Worker.remote(env_factory, generator_factory, verifier_factory)
        fresh.append(worker)
        return worker

    idle = [spawn() for _ in range(min(options.workers, len(todo)))]
    running: dict[Any, tuple[Any, Theorem, float, float]] = {}  # task → (worker, theorem, start, allowed seconds)
    try:
        while pending or running:
            while pending and idle:
                worker, theorem = idle.pop(), pending.pop()
                task = worker.prove.remote(theorem, options.limits, options.checkpoint)
                allowed = (deadline or 0.0) + (options.startup if any(w is worker for w in fresh) else 0.0)
                fresh[:] = [w for w in fresh if w is not worker]
                running[task] = (worker, theorem, time.monotonic(), allowed)
            wait = None
            if deadline is not None:
                wait = max(0.0, min(s + a for _, _, s, a in running.values()) - time.monotonic())
            ready, _ = ray.wait(list(running), num_returns=1, timeout=wait)
            for task in ready:
                worker, theorem, start, _ = running.pop(task)
                try:
                    record(ray.get(task))
                    idle.append(worker)
                except RayActorError as e:  # the worker process died (os._exit, OOM killer, lost node)
                    why = _last_error_line(str(e))
                    log.warning("worker died on %s: %s", theorem.full_name, why)
                    record(ProofAttempt(theorem.id, options.checkpoint, "error", seconds=time.monotonic() - start,
                                        message=f"the worker process died (Lean out of memory, or killed): {why}"))
                    idle.append(spawn())
                except RayTaskError as e:  # an unexpected exception inside the worker: report, go on
                    cause = e.cause if getattr(e, "cause", None) is not None else e
                    record(ProofAttempt(theorem.id, options.checkpoint, "error", seconds=time.monotonic() - start,
                                        message=f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"))
                    ray.kill(worker)
                    idle.append(spawn())
            now = time.monotonic()
            for task, (worker, theorem, start, allowed) in list(running.items()):
                if deadline is not None and now - start > allowed:
                    running.pop(task)
                    ray.kill(worker)
                    record(ProofAttempt(theorem.id, options.checkpoint, "timeout", seconds=now - start,
                                        message=f"no answer within {allowed:g} s; the worker was killed"))
                    idle.append(spawn())
    finally:
        for worker in idle + [w for w, _, _, _ in running.values()]:
            ray.kill(worker)
        if started_ray and _kept:  # kept for the run's next batch; ray_kept shuts it down
            _kept["started"] = True
        elif started_ray:  # a local Ray this batch started goes with it (the next batch may want more CPUs)
            ray.shutdown()
    return BatchSummary(tuple(attempts), skipped, time.monotonic() - started)
