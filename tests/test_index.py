"""The FAISS premise index against an exact brute-force numpy oracle; its id map; atomic save/load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from database.index import Allowed, Hit, IndexFormatError, PremiseIndex, atomic_directory, cells_to_scan

STRATEGIES = ("bitmap", "batch", "overfetch")


def corpus(n: int = 400, dim: int = 16, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return [f"premise:{i:04d}" for i in range(n)], x


def oracle(ids: list[str], x: np.ndarray, q: np.ndarray, k: int, allowed=None) -> list[list[str]]:
    """Exact top-k by brute force: score every allowed premise, sort."""
    out = []
    for i, scores in enumerate(q @ x.T):
        rows = range(len(ids)) if allowed is None else [r for r, p in enumerate(ids) if p in allowed[i]]
        out.append([ids[r] for r in sorted(rows, key=lambda r: -scores[r])[:k]])
    return out


def hit_ids(hits: list[list[Hit]]) -> list[list[str]]:
    return [[h.premise_id for h in q] for q in hits]


def test_unfiltered_search_matches_oracle_with_scores() -> None:
    ids, x = corpus()
    index = PremiseIndex(16)
    index.add(ids, x)
    q = np.random.default_rng(1).standard_normal((20, 16)).astype(np.float32)
    hits = index.search(q, 10)
    assert hit_ids(hits) == oracle(ids, x, q, 10)
    for row, qh in zip(q, hits):
        expected = [float(row @ x[ids.index(h.premise_id)]) for h in qh]
        assert [h.score for h in qh] == pytest.approx(expected, rel=1e-5)
        assert all(a.score >= b.score for a, b in zip(qh, qh[1:]))
    assert hit_ids(index.search(q[:2], 1000)) == oracle(ids, x, q[:2], 400)  # k > n: everything, ranked


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_filtered_search_matches_oracle(strategy: str) -> None:
    ids, x = corpus()
    rng = np.random.default_rng(2)
    index = PremiseIndex(16)
    index.add(ids, x)
    q = rng.standard_normal((24, 16)).astype(np.float32)
    shared = set(rng.choice(ids, 40, replace=False))  # one file's closure, shared by several queries
    allowed: list = []
    for i in range(len(q)):
        if i % 4 == 0:
            allowed.append(shared)
        else:
            size = [1, 3, 30, 200, 399][i % 5]  # fewer than k, a few percent, most of the corpus
            allowed.append(set(rng.choice(ids, size, replace=False)) | {"premise:not-indexed"})
    allowed[5] = set()  # nothing accessible: no hits
    hits = index.search(q, 10, allowed, strategy=strategy)
    assert hit_ids(hits) == oracle(ids, x, q, 10, allowed)
    assert hits[5] == [] and len(hits[1]) == 3 and len(hits[10]) == 1  # fewer allowed than k
    resolved = [index.allow(a) for a in allowed]
    assert hit_ids(index.search(q, 10, resolved, strategy=strategy)) == hit_ids(hits)


def test_add_in_chunks_remove_and_stale_allowed() -> None:
    ids, x = corpus(300)
    index = PremiseIndex(16)
    index.add(ids[:100], x[:100])
    index.add(ids[100:], x[100:])
    assert index.ids == tuple(ids) and len(index) == 300 and "premise:0007" in index
    np.testing.assert_array_equal(index.embeddings(), x)
    stale = index.allow(ids[:50])
    gone = set(ids[::3])
    assert index.remove(gone | {"premise:unknown"}) == len(gone)
    keep = [r for r, p in enumerate(ids) if p not in gone]
    kept_ids = [ids[r] for r in keep]
    assert index.ids == tuple(kept_ids)
    np.testing.assert_array_equal(index.embeddings(), x[keep])
    q = np.random.default_rng(3).standard_normal((5, 16)).astype(np.float32)
    assert hit_ids(index.search(q, 7)) == oracle(kept_ids, x[keep], q, 7)
    allowed = [set(ids[:60])] * 5
    assert hit_ids(index.search(q, 7, allowed)) == oracle(kept_ids, x[keep], q, 7, allowed)
    with pytest.raises(ValueError, match="allow\\(\\) again"):
        index.search(q[:1], 3, [stale])
    assert index.remove(["premise:unknown"]) == 0


def test_bad_input_is_refused() -> None:
    ids, x = corpus(10)
    index = PremiseIndex(16)
    index.add(ids, x)
    with pytest.raises(ValueError, match="premise:0003.*already in the index"):
        index.add(["premise:0003"], x[:1])
    with pytest.raises(ValueError, match="already in the index"):
        index.add(["a", "a"], x[:2])
    with pytest.raises(ValueError, match=r"shape \(n, 16\)"):
        index.add(["b"], np.zeros((1, 8)))
    with pytest.raises(ValueError, match="2 ids but 1 embeddings"):
        index.add(["b", "c"], x[:1])
    with pytest.raises(ValueError, match="NaN"):
        index.add(["b"], np.full((1, 16), np.nan))
    with pytest.raises(ValueError, match="2 queries but 1 allowed"):
        index.search(x[:2], 3, [set()])
    with pytest.raises(ValueError, match="unknown search strategy"):
        index.search(x[:1], 3, [set()], strategy="fast")  # type: ignore[arg-type]
    assert len(index) == 10
    assert PremiseIndex(4).search(np.zeros((2, 4)), 5) == [[], []]


def test_save_load_roundtrip_is_atomic(tmp_path: Path) -> None:
    ids, x = corpus(200)
    index = PremiseIndex(16, checkpoint="ckpt-after-repo-3")
    index.add(ids, x)
    index.remove(ids[:10])
    target = tmp_path / "premises.index"
    index.save(target)
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest == {"format_version": 1, "producer": "leanagent.database.index", "dim": 16, "count": 190,
                        "metric": "inner_product", "checkpoint": "ckpt-after-repo-3"}
    loaded = PremiseIndex.load(target)
    assert loaded.ids == index.ids and loaded.checkpoint == "ckpt-after-repo-3"
    q = np.random.default_rng(4).standard_normal((6, 16)).astype(np.float32)
    allowed = [set(ids[::2])] * 6
    assert loaded.search(q, 10, allowed) == index.search(q, 10, allowed)
    loaded.add(["premise:new"], x[:1])  # loaded index keeps working incrementally
    # Saving over an existing index replaces it whole and leaves no temporary directories behind.
    small = PremiseIndex(16)
    small.add(ids[:3], x[:3])
    small.save(target)
    assert PremiseIndex.load(target).ids == tuple(ids[:3])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["premises.index"]


def test_load_refuses_foreign_or_broken_directories(tmp_path: Path) -> None:
    with pytest.raises(IndexFormatError, match="not a premise index"):
        PremiseIndex.load(tmp_path)
    ids, x = corpus(5)
    index = PremiseIndex(16)
    index.add(ids, x)
    index.save(tmp_path / "ix")
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    (tmp_path / "ix" / "ids.json").write_text(json.dumps(ids[:4]))
    with pytest.raises(IndexFormatError, match="disagree"):
        PremiseIndex.load(tmp_path / "ix")
    manifest["format_version"] = 99
    (tmp_path / "ix" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexFormatError, match="format version 99"):
        PremiseIndex.load(tmp_path / "ix")


def test_atomic_directory_keeps_old_content_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with atomic_directory(target) as tmp:
        (tmp / "a.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_directory(target) as tmp:
            (tmp / "a.txt").write_text("new")
            raise RuntimeError("interrupted")
    assert (target / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_allowed_resolution() -> None:
    ids, x = corpus(20)
    index = PremiseIndex(16)
    index.add(ids, x)
    a = index.allow(["premise:0019", "premise:0002", "premise:0002", "nope"])
    assert isinstance(a, Allowed) and len(a) == 2
    assert a.rows.tolist() == [2, 19]
    assert np.unpackbits(a.bitmap, count=20, bitorder="little").nonzero()[0].tolist() == [2, 19]


def clustered(n: int, dim: int = 32, centres: int = 60, seed: int = 5) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Vectors around a few centres (as a trained encoder's premises are), and the centres."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    x = c[rng.integers(0, centres, n)] + 0.35 * rng.standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return [f"premise:{i:05d}" for i in range(n)], x, c


def recall(found: list[list[str]], truth: list[list[str]]) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth) if t]))


def test_partitioned_search_keeps_recall_and_the_k_contract() -> None:
    ids, x, c = clustered(6000)
    rng = np.random.default_rng(6)
    index = PremiseIndex(32, ann_min=2000)
    index.add(ids, x)
    assert index.partitioned
    q = c[rng.integers(0, len(c), 40)] + 0.35 * rng.standard_normal((40, 32)).astype(np.float32)
    assert recall(hit_ids(index.search(q, 10)), oracle(ids, x, q, 10)) >= 0.95
    cells = index._partition()
    assert 0 < cells_to_scan(cells.nlist, 1.0) < cells.nlist // 4  # it does scan only part of the cells
    for size in (3000, 600):  # half, a tenth
        allowed = [set(rng.choice(ids, size, replace=False))] * len(q)
        found = hit_ids(index.search(q, 10, allowed))
        assert all(len(f) == 10 and set(f) <= allowed[0] for f in found)
        assert recall(found, oracle(ids, x, q, 10, allowed)) >= 0.95
    tiny = [set(ids[:3])] * len(q)  # too few allowed for the partition: the exact scan, fewer than k hits
    assert hit_ids(index.search(q, 10, tiny)) == oracle(ids, x, q, 10, tiny)
    exact = PremiseIndex(32, ann_min=None)
    exact.add(ids, x)
    assert not exact.partitioned and hit_ids(exact.search(q, 10)) == oracle(ids, x, q, 10)


def test_partition_grows_with_the_index_and_survives_save_load(tmp_path: Path) -> None:
    ids, x, _ = clustered(6000)
    index = PremiseIndex(32, ann_min=2000)
    index.add(ids[:4000], x[:4000])
    cells = index._partition()
    index.add(ids[4000:], x[4000:])  # a new repository: added to the cells, not retrained
    assert index._partition() is cells and cells.ntotal == 6000
    assert hit_ids(index.search(x[5990:5991], 1)) == [[ids[5990]]]
    index.save(tmp_path / "idx")
    assert (tmp_path / "idx" / "cells.faiss").exists()
    loaded = PremiseIndex.load(tmp_path / "idx")
    q = x[::500] + 0.01
    allowed = [set(ids[::2])] * len(q)
    assert loaded._cells is not None and loaded.search(q, 10, allowed) == index.search(q, 10, allowed)
    index.remove(ids[:10])  # rows renumbered: the partition is rebuilt on the next search
    assert index._cells is None
    assert hit_ids(index.search(x[5990:5991], 1)) == [[ids[5990]]] and index._cells.ntotal == 5990
