"""A run's prove stages share one local Ray (``prover.batch.ray_kept``) instead of starting one each."""

from __future__ import annotations

import functools

from prover.batch import BatchOptions, prove_batch, ray_kept
from prover.search import SearchLimits
from prover.testing import FakeLean, ReplayVerifier, TableGenerator, fake_theorem

env_factory = functools.partial(FakeLean, {"one": "E", "two": "E"}, {("E", "rfl"): ()})
generator_factory = functools.partial(TableGenerator, {"E": [("rfl", -0.1)]})
verifier_factory = functools.partial(ReplayVerifier, {"one": "E", "two": "E"}, {("E", "rfl"): ()})
OPTIONS = BatchOptions(checkpoint="ck", workers=1, limits=SearchLimits(timeout=60.0), grace=30.0)


def test_one_local_ray_serves_every_batch_of_the_block_and_goes_with_it(monkeypatch) -> None:
    import ray

    if ray.is_initialized():  # left by another test
        ray.shutdown()
    starts = []
    real_init = ray.init
    monkeypatch.setattr(ray, "init", lambda *a, **k: starts.append(k) or real_init(*a, **k))
    with ray_kept():
        first = prove_batch([fake_theorem("one", line=1)], env_factory, generator_factory, OPTIONS,
                            verifier_factory=verifier_factory)
        assert ray.is_initialized()  # kept for the next repository's batch
        second = prove_batch([fake_theorem("two", line=2)], env_factory, generator_factory, OPTIONS,
                             verifier_factory=verifier_factory)
    assert [a.outcome for a in first.attempts + second.attempts] == ["proved", "proved"]
    assert len(starts) == 1 and not ray.is_initialized()  # started once, shut down with the block
    prove_batch([fake_theorem("one", line=1)], env_factory, generator_factory, OPTIONS)
    assert len(starts) == 2 and not ray.is_initialized()  # outside a block a batch takes its Ray with it
