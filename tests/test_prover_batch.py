"""Batch proving on a local Ray: results stored as they arrive, crashes and dying workers isolated, hard
per-theorem time limits, and resume after a killed batch."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from database.records import ProofAttempt
from database.store import Store
from prover.batch import BatchOptions, prove_batch
from prover.search import SearchLimits
from prover.testing import Bug, Crash, Die, FakeLean, ReplayVerifier, Stall, TableGenerator, fake_theorem

NAMES = ["easy", "two_steps", "crashes", "dies", "stuck", "missing", "buggy", "after"]
GOALS = {"easy": "E", "two_steps": "T", "crashes": "C", "dies": "D", "stuck": "S", "buggy": "B", "after": "A"}
RULES = {("E", "rfl"): (), ("T", "constructor"): ("T1", "T2"), ("T1", "rfl"): (), ("T2", "rfl"): (),
         ("C", "rfl"): Crash(), ("D", "rfl"): Die(), ("S", "rfl"): Stall(3600.0), ("B", "rfl"): Bug("adapter bug"), ("A", "rfl"): ()}
TABLE = {g: [("rfl", -0.1), ("constructor", -0.5)] for g in ("E", "T", "T1", "T2", "C", "D", "S", "B", "A")}
THEOREMS = [fake_theorem(n, line=i + 1) for i, n in enumerate(NAMES)]

env_factory = functools.partial(FakeLean, GOALS, RULES)
generator_factory = functools.partial(TableGenerator, TABLE)
verifier_factory = functools.partial(ReplayVerifier, GOALS, RULES)


@pytest.fixture(scope="module", autouse=True)
def ray_local():
    import ray

    if ray.is_initialized():  # started by another test with other resources
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def options(**kw) -> BatchOptions:
    return BatchOptions(**{"checkpoint": "ck1", "workers": 2, "limits": SearchLimits(timeout=2.0), "grace": 1.0, **kw})


class VirtualTime:
    """The batch's clock (``prover.batch.time``) and its ``ray.wait``: seconds pass only while every theorem not yet
    answered is one that never answers (Lean stuck in a tactic), so that no other theorem's outcome depends on how
    long a loaded machine takes to start a Ray worker or run a search."""

    def __init__(self, real_wait, theorems, stuck: set[str]) -> None:
        self.now = 0.0
        self.real_wait = real_wait
        self.left = {t.id for t in theorems}
        self.stuck = stuck

    def monotonic(self) -> float:
        return self.now

    def answered(self, attempt: ProofAttempt) -> None:
        self.left.discard(attempt.theorem_id)

    def wait(self, refs, *, num_returns: int = 1, timeout: float | None = None, **kwargs):
        ready, rest = self.real_wait(refs, num_returns=num_returns, timeout=0.05, **kwargs)
        if not ready and timeout is not None and self.left <= self.stuck:
            self.now += timeout + 0.5  # past the deadline the batch waits for
        return ready, rest


def test_batch_survives_crashes_dead_workers_and_stuck_lean(tmp_path: Path, monkeypatch):
    import ray

    import prover.batch

    stuck = {t.id for t in THEOREMS if t.full_name == "stuck"}
    clock = VirtualTime(ray.wait, THEOREMS, stuck)
    monkeypatch.setattr(prover.batch, "time", clock)
    monkeypatch.setattr(ray, "wait", clock.wait)
    arrived: list[str] = []

    def on_result(attempt: ProofAttempt) -> None:
        arrived.append(attempt.theorem_id)
        clock.answered(attempt)

    # A search limit no search of these reaches on any machine (the workers keep the real clock): only the batch's
    # deadline, on the virtual clock, ends the stuck one.
    limits = SearchLimits(timeout=60.0)
    with Store.open(tmp_path / "db.sqlite") as store:
        summary = prove_batch(THEOREMS, env_factory, generator_factory, options(limits=limits, startup=0.0),
                              store=store, on_result=on_result, verifier_factory=verifier_factory)
        stored = {a.theorem_id: a for a in store.attempts(checkpoint="ck1")}
    by_name = {t.full_name: stored[t.id] for t in THEOREMS}
    assert {n: a.outcome for n, a in by_name.items()} == {
        "easy": "proved", "two_steps": "proved", "crashes": "error", "dies": "error", "stuck": "timeout",
        "missing": "error", "buggy": "error", "after": "proved"}
    assert by_name["two_steps"].proof == "constructor\nrfl\nrfl"
    assert "Lean crashed" in by_name["crashes"].message
    assert "worker process died" in by_name["dies"].message
    assert "worker was killed" in by_name["stuck"].message and 61.0 < by_name["stuck"].seconds <= 61.5  # 60 + grace 1
    assert "not found" in by_name["missing"].message
    assert by_name["buggy"].message == "ValueError: adapter bug"
    assert sorted(arrived) == sorted(stored) and len(summary.attempts) == 8 and summary.count("proved") == 3


def test_a_new_workers_start_and_the_final_check_are_allowed_for(monkeypatch):
    """A theorem is killed only past its search limit, the final check's allowance and the grace, plus, on a worker
    that was just started (after a crash, or the first), the time that worker may take to start."""
    import ray

    import prover.batch

    [stuck] = [t for t in THEOREMS if t.full_name == "stuck"]
    clock = VirtualTime(ray.wait, [stuck], {stuck.id})
    monkeypatch.setattr(prover.batch, "time", clock)
    monkeypatch.setattr(ray, "wait", clock.wait)
    summary = prove_batch([stuck], env_factory, generator_factory,
                          options(limits=SearchLimits(timeout=60.0), workers=1, check_seconds=20.0, startup=5.0))
    [attempt] = summary.attempts
    assert attempt.outcome == "timeout" and attempt.message == "no answer within 86 s; the worker was killed"
    assert 86.0 < attempt.seconds <= 86.5  # 60 + 20 + grace 1 + 5: started with the batch


def test_a_killed_batch_resumes_with_what_is_left(tmp_path: Path):
    theorems = [fake_theorem(f"t{i}", line=i) for i in range(6)]
    goals = {f"t{i}": "E" for i in range(6)}
    factory = functools.partial(FakeLean, goals, RULES)
    verify = functools.partial(ReplayVerifier, goals, RULES)

    class Killed(Exception):
        pass

    def kill_after_two(attempt: ProofAttempt) -> None:
        if len(seen) == 1:
            seen.append(attempt)
            raise Killed
        seen.append(attempt)

    seen: list[ProofAttempt] = []
    with Store.open(tmp_path / "db.sqlite") as store:
        with pytest.raises(Killed):
            prove_batch(theorems, factory, generator_factory, options(workers=1), store=store, on_result=kill_after_two,
                        verifier_factory=verify)
        assert len(store.attempts(checkpoint="ck1")) == 2  # stored before the batch died
    with Store.open(tmp_path / "db.sqlite") as store:
        summary = prove_batch(theorems, factory, generator_factory, options(workers=1), store=store,
                              verifier_factory=verify)
        assert summary.skipped == 2 and len(summary.attempts) == 4
        assert {a.theorem_id for a in store.attempts(checkpoint="ck1", outcome="proved")} == {t.id for t in theorems}
        again = prove_batch(theorems, factory, generator_factory, options(workers=1), store=store)
        assert (again.skipped, again.attempts) == (6, ())
        other = prove_batch(theorems[:1], factory, generator_factory, options(checkpoint="ck2"), store=store)
        assert len(other.attempts) == 1  # another checkpoint is a new attempt


def test_a_cluster_address_goes_to_ray_init(monkeypatch):
    import ray

    from prover.batch import init_ray

    calls = []
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: calls.append(kw))
    assert init_ray(4, "ray://head:10001") == (ray, True)
    assert init_ray(3) == (ray, True)
    assert calls[0]["address"] == "ray://head:10001" and "num_cpus" not in calls[0]
    assert calls[1]["num_cpus"] == 3 and "address" not in calls[1]


def test_ray_init_leaves_the_clis_sigterm_handler_in_place(monkeypatch):
    import signal
    import sys

    import ray
    from ray._private.utils import set_sigterm_handler

    from leanagent.cli import _interrupted
    from prover.batch import init_ray

    def init(**kw):  # what ray.init does first, before it connects: its own handler, sys.exit
        set_sigterm_handler(lambda signum, frame: sys.exit(signum))
        if kw.get("address"):
            raise ConnectionError("no cluster there")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", init)
    before = signal.signal(signal.SIGTERM, _interrupted)
    try:
        init_ray(1)
        assert signal.getsignal(signal.SIGTERM) is _interrupted  # SIGTERM still stops the command as the CLI says
        with pytest.raises(Exception, match="no cluster there"):
            init_ray(1, "ray://nowhere:10001")
        assert signal.getsignal(signal.SIGTERM) is _interrupted
    finally:
        signal.signal(signal.SIGTERM, before)


def test_a_found_proof_is_proved_only_when_the_final_check_accepts_it(tmp_path: Path):
    cheat_rules = {("E", "sorry"): ()}  # an environment that lets `sorry` close the goal (as a lax REPL might)
    theorems = [fake_theorem("t", line=1)]
    cheats = functools.partial(FakeLean, {"t": "E"}, cheat_rules)
    sorry_first = functools.partial(TableGenerator, {"E": [("sorry", -0.1)]})
    with Store.open(tmp_path / "db.sqlite") as store:
        unchecked = prove_batch(theorems, cheats, sorry_first, options(workers=1, checkpoint="a"), store=store)
        checked = prove_batch(theorems, cheats, sorry_first, options(workers=1, checkpoint="b"), store=store,
                              verifier_factory=functools.partial(ReplayVerifier, {"t": "E"}, cheat_rules))
        assert store.attempts(outcome="proved") == []
    [first], [second] = unchecked.attempts, checked.attempts
    assert (first.outcome, first.proof) == ("unverified", "sorry") and "not checked" in first.message
    assert second.outcome == "unverified" and "rejected by Lean on the whole file" in second.message


def test_options_are_validated():
    with pytest.raises(ValueError, match="workers must be at least 1"):
        BatchOptions(checkpoint="c", workers=0)


KILLED_BATCH = """
import functools, sys
from database.store import Store
from prover.batch import BatchOptions, prove_batch
from prover.search import SearchLimits
from prover.testing import FakeLean, ReplayVerifier, TableGenerator, fake_theorem
theorems = [fake_theorem(f"t{i}", line=i) for i in range(8)]
env = functools.partial(FakeLean, {t.full_name: "E" for t in theorems}, {("E", "rfl"): ()}, latency=0.3)
gen = functools.partial(TableGenerator, {"E": [("rfl", -0.1)]})
with Store.open(sys.argv[1]) as store:
    s = prove_batch(theorems, env, gen, BatchOptions(checkpoint="ck", workers=1, limits=SearchLimits(timeout=30)),
                    store=store, verifier_factory=functools.partial(ReplayVerifier, {t.full_name: "E" for t in theorems},
                                                                    {("E", "rfl"): ()}))
print(len(s.attempts), s.skipped)
"""


def test_a_batch_killed_with_sigkill_resumes(tmp_path: Path):
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    db = tmp_path / "db.sqlite"

    def stored() -> int:
        try:
            with sqlite3.connect(db, timeout=5) as conn:
                return conn.execute("SELECT COUNT(*) FROM proof_attempts").fetchone()[0]
        except sqlite3.OperationalError:
            return 0

    proc = subprocess.Popen([sys.executable, "-c", KILLED_BATCH, str(db)], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while stored() < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch (driver and the local Ray it started) dies mid-batch
    proc.wait(30)
    before = stored()
    assert 3 <= before < 8
    done = subprocess.run([sys.executable, "-c", KILLED_BATCH, str(db)], capture_output=True, text=True, timeout=180)
    attempted, skipped = map(int, done.stdout.split())
    assert (attempted, skipped) == (8 - before, before)
    with Store.open(db) as store:
        assert len(store.attempts(checkpoint="ck", outcome="proved")) == 8


def test_a_ray_that_cannot_start_is_one_line_with_the_next_step(monkeypatch):
    import ray

    from prover.batch import RayUnavailable, init_ray

    def fail(**kwargs):
        raise TimeoutError("The current node timed out during startup.\nmore detail")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", fail)
    with pytest.raises(RayUnavailable) as caught:
        init_ray(1)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("cannot start a local Ray for proving (The current node")
    assert "run the same command again to resume" in message
    with pytest.raises(RayUnavailable, match="the Ray cluster at ray://head:10001"):
        init_ray(1, "ray://head:10001")
