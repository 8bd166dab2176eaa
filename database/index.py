"""The premise index: premise embeddings in a FAISS inner-product index, keyed by premise id.

FAISS numbers vectors by row; the id map beside it (``ids``, one string per row) names them. Search can be
restricted per query to the premises accessible from the query's file, exactly: the restriction never
costs recall. Strategies (``bench/bench_index.py`` measures them):

- ``"bitmap"`` (default): FAISS computes scores only for allowed rows, tested against a bitmap
  (``IDSelectorBitmap`` in ``SearchParameters``); as fast as or faster than the others at every allowed
  fraction measured, from 1% (≈ 30× faster than an unfiltered search) to 90% of the index.
- ``"batch"``: the same with ``IDSelectorBatch`` (a hash set): its construction costs more.
- ``"overfetch"``: search the whole index for more than ``k`` hits, drop those not allowed, and fetch
  more until ``k`` allowed hits (or every allowed premise) are in hand (always exact: no partition).

From :data:`ANN_MIN` premises on (a Mathlib-sized corpus), searches go through an inverted-file partition of
the same vectors (FAISS ``IndexIVFFlat``: ``nlist`` k-means cells, about 4·√n; only the cells nearest the
query are scanned, the filter applied while scanning): approximate, but a filtered top-10 over 10⁶ premises
takes 1–3 ms where the exact scan takes 13–65 ms. How many cells are scanned grows as the allowed fraction
shrinks (:func:`cells_to_scan`); below about 1.25% allowed the exact scan is cheaper and is used.
``bench/bench_index.py --real`` measures recall against exact search on real embeddings (≥ 0.99 at every
fraction). The partition is built when first needed, grows with :meth:`PremiseIndex.add`, is retrained when
the index has grown fourfold since, and is saved beside the flat index. Random vectors without neighbourhoods
(no trained encoder's) are the case it is not made for: ``ann_min=None`` keeps every search exact.

Turning premise ids into rows costs more than the search itself for large sets (≈ 0.35 µs an id), so a
caller that searches many times with one accessible set resolves it once with :meth:`PremiseIndex.allow`.
Queries sharing one ``allowed`` object are searched in one FAISS call.
An index directory (``index.faiss``, ``ids.json``, ``manifest.json``, and ``cells.faiss`` when partitioned)
is published atomically.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any, Literal

import numpy as np

__all__ = ["ANN_MIN", "INDEX_FORMAT_VERSION", "Allowed", "Hit", "IndexFormatError", "PremiseIndex", "atomic_directory",
           "cells_to_scan"]

logger = logging.getLogger(__name__)

INDEX_FORMAT_VERSION = 1
PRODUCER = "leanagent.database.index"
Strategy = Literal["bitmap", "batch", "overfetch"]
STRATEGIES = ("bitmap", "batch", "overfetch")
ANN_MIN = 200_000
"""Premises from which searches use the inverted-file partition (below it the exact scan is under 15 ms)."""
_BASE_FRACTION = 0.1
"""Allowed fraction down to which the base number of cells suffices (measured: bench/bench_index.py --real)."""
_SEED = 3407


def cells_to_scan(nlist: int, fraction: float) -> int:
    """Cells of an ``nlist``-cell partition to scan for a filtered top-10 when ``fraction`` of the index is allowed.

    128 cells (1/32 of them from 4096 on; fewer only for a small partition) unfiltered and down to 10%
    allowed (recall@10 ≥ 0.99 against exact search on real embeddings, 10⁶ premises; with 64 cells it fell to
    0.987 at 10%), then inversely to the fraction, as the allowed neighbours thin out.
    """
    base = max(min(128, nlist // 8), nlist // 32, 1)
    return min(nlist, math.ceil(base * max(1.0, _BASE_FRACTION / max(fraction, 1e-9))))


@dataclass(frozen=True)
class Hit:
    """One retrieved premise."""

    premise_id: str
    """Id of the premise (:attr:`database.records.Premise.id`)."""
    score: float = field(compare=False)
    """Similarity to the query (cosine for unit vectors; BM25 score for the baseline): higher is better."""


@dataclass(frozen=True, eq=False)
class Allowed:
    """A set of premises resolved to rows of one index, at one state of it (see :meth:`PremiseIndex.allow`)."""

    rows: np.ndarray
    """Sorted row numbers of the allowed premises present in the index."""
    bitmap: np.ndarray
    """The same rows as a little-endian bit mask (``uint8``, ``ceil(len(index) / 8)`` bytes)."""
    generation: int
    """The index's :attr:`PremiseIndex.generation` when resolved; rows are stale once it changes."""

    def __len__(self) -> int:
        return len(self.rows)


class IndexFormatError(ValueError):
    """An index directory is missing, incomplete, or written by an unknown format version."""


@contextmanager
def atomic_directory(final: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a fresh temporary directory beside ``final``; on success it replaces ``final``.

    A reader sees the old directory or the new one, never a half-written one (``os.replace`` of a
    directory onto the old name, the old one moved aside first). On error the temporary one is removed.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        yield tmp
        old = None
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
            os.replace(final, old / final.name)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _faiss() -> Any:
    import faiss  # imported when an index is used, not when the package is

    return faiss


def _as_matrix(x: Any, dim: int, what: str) -> np.ndarray:
    """``x`` as a C-contiguous float32 ``(n, dim)`` array, or a ValueError naming ``what``."""
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().float().cpu().numpy()
    a = np.ascontiguousarray(x, dtype=np.float32)
    if a.ndim != 2 or a.shape[1] != dim:
        raise ValueError(f"{what} must have shape (n, {dim}), got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{what} contain NaN or infinite values")
    return a


class PremiseIndex:
    """Inner-product search over premise embeddings, keyed by premise id: exact below ``ann_min`` premises,
    through the inverted-file partition from there on (see the module's docstring)."""

    def __init__(self, dim: int, *, checkpoint: str = "", ann_min: int | None = ANN_MIN) -> None:
        if dim <= 0:
            raise ValueError(f"embedding dimension must be positive, got {dim}")
        self.dim = dim
        self.checkpoint = checkpoint
        """Name of the encoder checkpoint that produced the embeddings (recorded in the manifest)."""
        self.generation = 0
        """Bumped by every :meth:`add` and :meth:`remove`; invalidates :class:`Allowed` sets."""
        self.ann_min = ann_min
        """Premises from which searches go through the inverted-file partition; ``None``: always exact."""
        self._index = _faiss().IndexFlatIP(dim)
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._cells: Any = None
        """The inverted-file partition (``IndexIVFFlat``, row numbers as ids), or ``None`` until needed."""
        self._cells_trained_on = 0

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, premise_id: object) -> bool:
        return premise_id in self._row

    @property
    def ids(self) -> tuple[str, ...]:
        """Premise ids in row order (compare as a set with the premise table to check they are in sync)."""
        return tuple(self._ids)

    def add(self, ids: Sequence[str], embeddings: Any) -> None:
        """Append premises; ``embeddings`` is ``(len(ids), dim)``. An id already present is an error."""
        vectors = _as_matrix(embeddings, self.dim, "embeddings")
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids but {len(vectors)} embeddings")
        seen: set[str] = set()
        for pid in ids:
            if pid in self._row or pid in seen:
                raise ValueError(f"premise {pid!r} is already in the index; remove it first")
            seen.add(pid)
        start = len(self._ids)
        self._index.add(vectors)
        if self._cells is not None:
            self._cells.add_with_ids(vectors, np.arange(start, start + len(vectors), dtype=np.int64))
        self._ids.extend(ids)
        self._row.update((pid, start + i) for i, pid in enumerate(ids))
        self.generation += 1

    def remove(self, ids: Collection[str]) -> int:
        """Remove the given premises (unknown ids are ignored); returns how many were removed."""
        rows = np.fromiter((self._row[p] for p in set(ids) if p in self._row), dtype=np.int64)
        if len(rows) == 0:
            return 0
        removed = self._index.remove_ids(_faiss().IDSelectorBatch(rows))
        assert removed == len(rows), (removed, len(rows))
        gone = set(rows.tolist())
        # IndexFlat compacts in order, so the id map does the same.
        self._ids = [pid for row, pid in enumerate(self._ids) if row not in gone]
        self._row = {pid: row for row, pid in enumerate(self._ids)}
        self._cells = None  # rows were renumbered: rebuilt when next needed
        self.generation += 1
        return len(rows)

    def embeddings(self) -> np.ndarray:
        """A read-only view ``(len(self), dim)`` of the stored vectors, in row order (no copy)."""
        n = len(self._ids)
        if n == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        view = _faiss().rev_swig_ptr(self._index.get_xb(), n * self.dim).reshape(n, self.dim)
        view.flags.writeable = False
        return view

    @property
    def partitioned(self) -> bool:
        """Whether searches go through the inverted-file partition (see the module's docstring)."""
        return self.ann_min is not None and len(self._ids) >= max(self.ann_min, 1)

    def _partition(self) -> Any:
        """The inverted-file partition over every row, built or retrained when needed; ``None`` when exact."""
        if not self.partitioned:
            return None
        n = len(self._ids)
        if self._cells is None or n > 4 * self._cells_trained_on:
            faiss = _faiss()
            nlist = max(1, min(2 ** round(math.log2(4 * math.sqrt(n))), n // 39))
            vectors = self.embeddings()
            sample = np.random.default_rng(_SEED).choice(n, min(n, 39 * nlist), replace=False)
            cells = faiss.IndexIVFFlat(faiss.IndexFlatIP(self.dim), self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
            cells.cp.niter, cells.cp.seed = 10, _SEED
            cells.train(np.ascontiguousarray(vectors[np.sort(sample)]))
            for lo in range(0, n, 100_000):
                cells.add_with_ids(vectors[lo:lo + 100_000], np.arange(lo, min(n, lo + 100_000), dtype=np.int64))
            self._cells, self._cells_trained_on = cells, n
            logger.info("partitioned the premise index: %d premises in %d cells", n, nlist)
        return self._cells

    def allow(self, ids: Collection[str]) -> Allowed:
        """Resolve premise ids to rows once, for many searches; ids not in the index are ignored."""
        found = np.fromiter(map(self._row.get, ids, repeat(-1)), dtype=np.int64, count=len(ids))
        mask = np.zeros(len(self._ids), dtype=bool)
        mask[found[found >= 0]] = True  # a mask, not np.unique: sorts and dedupes 100× faster
        return Allowed(np.flatnonzero(mask), np.packbits(mask, bitorder="little"), self.generation)

    def search(self, queries: Any, k: int, allowed: Sequence[Collection[str] | Allowed] | None = None, *,
               strategy: Strategy = "bitmap") -> list[list[Hit]]:
        """The ``k`` premises with the highest inner product with each query, best first.

        ``allowed[i]`` (premise ids, or an :class:`Allowed` from :meth:`allow`) restricts query ``i``; ids
        not in the index are ignored. A query gets fewer than ``k`` hits only when fewer are allowed.
        """
        q = _as_matrix(queries, self.dim, "queries")
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        if allowed is not None and len(allowed) != len(q):
            raise ValueError(f"{len(q)} queries but {len(allowed)} allowed sets")
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown search strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
        n = len(self._ids)
        if n == 0 or len(q) == 0:
            return [[] for _ in q]
        if allowed is None:
            return self._search_selector(q, k, None, "bitmap")
        results: list[list[Hit]] = [[] for _ in q]
        groups: dict[int, list[int]] = {}  # queries sharing one allowed object: resolved and searched once
        for i, a in enumerate(allowed):
            groups.setdefault(id(a), []).append(i)
        for members in groups.values():
            sel = allowed[members[0]]
            if not isinstance(sel, Allowed):
                sel = self.allow(sel)
            elif sel.generation != self.generation:
                raise ValueError("an Allowed set was resolved before the index last changed; call allow() again")
            if len(sel) == 0:
                continue
            if strategy == "overfetch":
                found = self._search_overfetch(q[members], k, sel)
            else:
                found = self._search_selector(q[members], k, sel, strategy)
            for i, hits in zip(members, found):
                results[i] = hits
        return results

    def _hits(self, scores: np.ndarray, rows: np.ndarray) -> list[Hit]:
        return [Hit(self._ids[r], float(s)) for s, r in zip(scores, rows) if r >= 0]

    def _search_selector(self, q: np.ndarray, k: int, sel: Allowed | None, strategy: Strategy) -> list[list[Hit]]:
        """Search the allowed rows (every row when ``sel`` is None) through the partition when there is one."""
        faiss = _faiss()
        n = len(self._ids)
        selector = None
        if sel is not None:
            selector = faiss.IDSelectorBitmap(sel.bitmap) if strategy == "bitmap" else faiss.IDSelectorBatch(sel.rows)
        want = min(k, n if sel is None else len(sel))
        cells = self._partition()
        if cells is not None:
            nprobe = cells_to_scan(cells.nlist, 1.0 if sel is None else len(sel) / n)
            if nprobe <= cells.nlist // 4:  # scanning more cells than that costs more than the exact scan
                scores, found = cells.search(q, want, params=faiss.SearchParametersIVF(sel=selector, nprobe=nprobe))
                short = (found < 0).any(axis=1)  # the scanned cells held fewer than k allowed rows
                if short.any():
                    scores[short], found[short] = self._exact(q[short], want, selector)
                return [self._hits(s, r) for s, r in zip(scores, found)]
        scores, found = self._exact(q, want, selector)
        return [self._hits(s, r) for s, r in zip(scores, found)]

    def _exact(self, q: np.ndarray, k: int, selector: Any) -> tuple[np.ndarray, np.ndarray]:
        params = None if selector is None else _faiss().SearchParameters(sel=selector)
        return self._index.search(q, k, params=params)

    def _search_overfetch(self, q: np.ndarray, k: int, sel: Allowed) -> list[list[Hit]]:
        n = len(self._ids)
        mask = np.unpackbits(sel.bitmap, count=n, bitorder="little").view(bool)
        want = min(k, len(sel))
        # Expect k / (allowed fraction) hits to hold k allowed ones; double until they do.
        fetch = min(n, max(2 * k, math.ceil(1.5 * k * n / len(sel))))
        out: list[list[Hit]] = [[] for _ in q]
        todo = np.arange(len(q))
        while len(todo):
            scores, found = self._index.search(q[todo], fetch)
            retry = []
            for j, s, r in zip(todo, scores, found):
                keep = (r >= 0) & mask[np.maximum(r, 0)]
                if keep.sum() >= want or fetch == n:
                    out[j] = self._hits(s[keep][:want], r[keep][:want])
                else:
                    retry.append(j)
            todo = np.asarray(retry, dtype=np.int64)
            fetch = min(n, 2 * fetch)
        return out

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write ``index.faiss``, ``ids.json`` and ``manifest.json`` to ``directory``, atomically."""
        self._partition()  # built now, when partitioned, so that a loaded index need not build it
        with atomic_directory(directory) as tmp:
            _faiss().write_index(self._index, str(tmp / "index.faiss"))
            if self._cells is not None:
                _faiss().write_index(self._cells, str(tmp / "cells.faiss"))
            (tmp / "ids.json").write_text(json.dumps(self._ids), encoding="utf-8")
            manifest = {"format_version": INDEX_FORMAT_VERSION, "producer": PRODUCER, "dim": self.dim,
                        "count": len(self._ids), "metric": "inner_product", "checkpoint": self.checkpoint}
            if self._cells is not None:
                manifest["cells_trained_on"] = self._cells_trained_on
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        logger.info("saved premise index (%d × %d) to %s", len(self._ids), self.dim, directory)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> PremiseIndex:
        """Read an index written by :meth:`save`; raises :class:`IndexFormatError` when it is not one."""
        directory = Path(directory)
        try:
            manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
            ids = json.loads((directory / "ids.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise IndexFormatError(f"{directory} is not a premise index directory: {e}") from None
        if manifest.get("format_version") != INDEX_FORMAT_VERSION:
            raise IndexFormatError(f"{directory}: index format version {manifest.get('format_version')!r}, "
                                   f"this code reads version {INDEX_FORMAT_VERSION}; rebuild the index")
        index = cls(int(manifest["dim"]), checkpoint=str(manifest.get("checkpoint", "")))
        index._index = _faiss().read_index(str(directory / "index.faiss"))
        if index._index.d != index.dim or index._index.ntotal != len(ids) or manifest["count"] != len(ids):
            raise IndexFormatError(f"{directory}: index.faiss ({index._index.ntotal} × {index._index.d}), "
                                   f"ids.json ({len(ids)}) and manifest.json disagree; rebuild the index")
        index._ids = list(ids)
        index._row = {pid: row for row, pid in enumerate(ids)}
        cells = directory / "cells.faiss"
        if cells.exists():  # the partition saved with it; one that does not match is rebuilt when needed
            partition = _faiss().read_index(str(cells))
            if partition.ntotal == len(ids) and partition.d == index.dim:
                index._cells, index._cells_trained_on = partition, int(manifest.get("cells_trained_on", len(ids)))
        return index
