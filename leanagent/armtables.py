"""The comparison tables of several arms, from their results files alone (:mod:`leanagent.armresults`).

For each split: every arm's pooled test figures at its last checkpoint against BM25 on the same queries and
against the default arm (paired bootstrap over queries, :mod:`retrieval.stats`); its lifelong metrics and forward
transfer; the spread over seeds where an arm ran with several; then the claims in words: curriculum vs random
order and progressive vs naive fine-tuning (each seed, then the seeds averaged query by query), the default vs
EWC, joint training and no training. An interval that holds the no-difference value is written as a tie.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence

from leanagent.armresults import ARM, BM25, ArmResults, final_cells, forward_cells, pooled
from retrieval.stats import Interval, difference, mean_interval, miss_rate_ratio, ratio

__all__ = ["DEFAULT_ARM", "fmt", "paired", "render_tables", "verdict"]

DEFAULT_ARM = "default"
"""The arm every other is compared with."""
LIFELONG = (("avg R@10", "average_recall_at_10"), ("FM", "forgetting_measure"), ("BWT", "bwt"),
            ("expanded BWT", "expanded_bwt"), ("WF5", "wf5"), ("CFR", "cfr"))


def fmt(interval: Interval, null: float | None = None) -> str:
    """An estimate with its interval, ``tie`` when the interval holds ``null``.

    >>> fmt(Interval(0.9, 0.8, 1.05, 10), null=1.0)
    '0.900 [0.80, 1.05] tie'
    >>> fmt(Interval(0.12, 0.02, 0.2, 10), null=0.0)
    '+0.120 [0.02, 0.20]'
    >>> fmt(Interval(float("inf"), float("nan"), float("nan"), 4), null=1.0)  # a miss-rate ratio over no miss
    '— (no miss to compare with)'
    """
    if not math.isfinite(interval.estimate):
        return "— (no miss to compare with)"
    sign = "+" if null == 0.0 and interval.estimate > 0 else ""
    text = f"{sign}{interval.estimate:.3f} [{interval.low:.2f}, {interval.high:.2f}]"
    return text + (" tie" if null is not None and not interval.excludes(null) else "")


def _columns(scores: dict[str, tuple], keys: Sequence[str]) -> tuple[list[float], list[float]]:
    """R@10 and reciprocal rank per query, in the order of ``keys``."""
    rows = [scores[k] for k in keys]
    return [r10 for _, _, r10 in rows], [1.0 / rank if rank else 0.0 for rank, _, _ in rows]


def paired(a: dict[str, tuple], b: dict[str, tuple]) -> dict[str, Interval] | None:
    """``a`` against ``b`` on their common queries (None unless both hold the same ones): miss-rate ratio,
    MRR ratio, ΔR@10 and ΔMRR with paired bootstrap intervals.

    >>> a = {f"q{i}": (1, 1.0, 1.0) for i in range(8)} | {"q8": (None, 0.0, 0.0), "q9": (2, 0.0, 1.0)}
    >>> b = {f"q{i}": (3, 0.0, 1.0) for i in range(6)} | {f"q{i}": (None, 0.0, 0.0) for i in range(6, 10)}
    >>> out = paired(a, b)
    >>> round(out["miss_rate_ratio"].estimate, 3), round(out["delta_r10"].estimate, 3)
    (0.25, 0.3)
    """
    if set(a) != set(b) or not a:
        return None
    keys = sorted(a)
    return _versus(*_columns(a, keys), *_columns(b, keys))


def _versus(a10: list[float], arr: list[float], b10: list[float], brr: list[float]) -> dict[str, Interval]:
    return {"miss_rate_ratio": miss_rate_ratio(a10, b10), "mrr_ratio": ratio(arr, brr),
            "delta_r10": difference(a10, b10), "delta_mrr": difference(arr, brr)}


def _seed_mean(arms: Sequence[ArmResults]) -> tuple[list[str], list[float], list[float]] | None:
    """Each query's R@10 and reciprocal rank averaged over ``arms`` (seeds of one arm), keys sorted; None
    unless all hold the same queries."""
    finals = [_final(a) for a in arms]
    if not finals or any(set(f) != set(finals[0]) for f in finals):
        return None
    keys = sorted(finals[0])
    columns = [_columns(f, keys) for f in finals]
    return (keys, [statistics.mean(c[0][i] for c in columns) for i in range(len(keys))],
            [statistics.mean(c[1][i] for c in columns) for i in range(len(keys))])


def _seeds_claim(title: str, a: Sequence[ArmResults], b: Sequence[ArmResults]) -> str | None:
    """``title``'s claim with each side's seeds averaged query by query (paired over the same queries)."""
    x, y = _seed_mean(a), _seed_mean(b)
    if x is None or y is None or x[0] != y[0]:
        return None
    vs = _versus(x[1], x[2], y[1], y[2])
    names = lambda arms: "mean(" + ", ".join(r.arm for r in arms) + ")" if len(arms) > 1 else arms[0].arm  # noqa: E731
    return _said(title, names(a), names(b), vs)


def _final(results: ArmResults, ranker: str = ARM) -> dict[str, tuple]:
    return pooled(final_cells(results, "test", ranker), results)


def _pooled_row(results: ArmResults, default: ArmResults | None) -> str:
    own, bm25 = _final(results), _final(results, BM25)
    keys = sorted(own)
    r10, rr = _columns(own, keys)
    vs_bm25 = paired(own, bm25)
    cells = [results.arm, str(len(keys)), fmt(mean_interval(r10)), fmt(mean_interval(rr))]
    cells += [fmt(vs_bm25["miss_rate_ratio"], 1.0), fmt(vs_bm25["mrr_ratio"], 1.0)] if vs_bm25 else ["—", "—"]
    if default is None or default is results:
        cells += ["", ""]
    else:
        vs = paired(own, _final(default))
        cells += [fmt(vs["delta_r10"], 0.0), fmt(vs["delta_mrr"], 0.0)] if vs else ["other queries", ""]
    return "| " + " | ".join(cells) + " |"


def _bm25_row(results: ArmResults) -> str:
    bm25 = _final(results, BM25)
    r10, rr = _columns(bm25, sorted(bm25))
    return f"| BM25 (same queries) | {len(bm25)} | {fmt(mean_interval(r10))} | {fmt(mean_interval(rr))} | 1 | 1 | | |"


def _forward(results: ArmResults) -> str:
    """Pooled test R@10 on each repository before it was learned, against BM25 on the same queries."""
    arm, bm25 = (pooled(forward_cells(results, ranker), results) for ranker in (ARM, BM25))
    if not arm:
        return "—"
    keys = sorted(arm)
    vs = paired(arm, bm25)
    return (f"{sum(_columns(arm, keys)[0]) / len(keys):.3f} vs {sum(_columns(bm25, keys)[0]) / len(keys):.3f}, "
            f"miss-rate ratio {fmt(vs['miss_rate_ratio'], 1.0)} (n = {len(keys)})")


def _lifelong_row(results: ArmResults) -> str:
    metrics = results.lifelong()
    values = ["—" if metrics.get(key) is None else f"{metrics[key]:.3f}" for _, key in LIFELONG]
    return "| " + " | ".join([results.arm, *values, _forward(results)]) + " |"


def _seed_group(name: str) -> str:
    """``random-s2`` → ``random``; other names stand alone."""
    return re.sub(r"-s\d+$", "", name)


def _spread(arms: Sequence[ArmResults]) -> list[str]:
    groups: dict[str, list[ArmResults]] = {}
    for results in arms:
        groups.setdefault(_seed_group(results.arm), []).append(results)
    lines = []
    for group, members in groups.items():
        if len(members) < 2:
            continue
        figures = {"R@10": [], "MRR": [], "FM": []}
        for results in members:
            final = _final(results)
            r10, rr = _columns(final, sorted(final))
            figures["R@10"].append(sum(r10) / len(r10))
            figures["MRR"].append(sum(rr) / len(rr))
            fm = results.lifelong().get("forgetting_measure")
            if fm is not None:
                figures["FM"].append(fm)
        said = ", ".join(f"{name} {statistics.mean(v):.3f} ± {statistics.stdev(v):.3f} (min {min(v):.3f}, max "
                         f"{max(v):.3f})" for name, v in figures.items() if len(v) >= 2)
        lines.append(f"- {group}, {len(members)} seeds ({', '.join(m.arm for m in members)}): {said}")
    return lines


def _claim(title: str, a: ArmResults, b: ArmResults) -> str:
    vs = paired(_final(a), _final(b))
    if vs is None:
        return f"- {title}: {a.arm} and {b.arm} were scored on other queries; no paired comparison."
    return _said(title, a.arm, b.arm, vs)


def verdict(d10: Interval, dmrr: Interval) -> str:
    """``a`` − ``b`` in a word, from the differences whose intervals leave out 0 (the others are ties).

    >>> i = lambda est, low, high: Interval(est, low, high, 61)
    >>> verdict(i(-0.036, -0.08, -0.001), i(0.013, -0.04, 0.07)), verdict(i(0.04, 0.01, 0.07), i(0.03, 0.01, 0.05))
    ('worse (one of the two a tie)', 'better')
    >>> verdict(i(0.04, 0.01, 0.07), i(-0.03, -0.05, -0.01)), verdict(i(0.01, -0.01, 0.03), i(0.0, -0.1, 0.1))
    ('mixed: better on R@10, worse on MRR', 'a tie')
    """
    signs = [(name, d.estimate > 0) for name, d in (("R@10", d10), ("MRR", dmrr)) if d.excludes(0.0)]
    if not signs:
        return "a tie"
    if len({up for _, up in signs}) > 1:
        return "mixed: " + ", ".join(f"{'better' if up else 'worse'} on {name}" for name, up in signs)
    return ("better" if signs[0][1] else "worse") + (" (one of the two a tie)" if len(signs) == 1 else "")


def _said(title: str, a: str, b: str, vs: dict[str, Interval]) -> str:
    d10, dmrr = vs["delta_r10"], vs["delta_mrr"]
    return (f"- {title}: {a} − {b}, pooled test ΔR@10 {fmt(d10, 0.0)}, ΔMRR {fmt(dmrr, 0.0)} "
            f"(n = {d10.queries}): {verdict(d10, dmrr)}.")


def arm_order(name: str) -> tuple[int, str]:
    """Where an arm's rows go: the default, random orders, naive fine-tuning, joint, untrained, then the rest.

    >>> sorted(["untrained", "naive-s1", "joint", "random-s2", "default", "ewc"], key=arm_order)
    ['default', 'random-s2', 'naive-s1', 'joint', 'untrained', 'ewc']
    """
    ranks = {DEFAULT_ARM: 0, "random": 1, "naive": 2, "joint": 3, "untrained": 4}
    return ranks.get(_seed_group(name), 5), name


def render_tables(arms: Sequence[ArmResults]) -> str:
    """Markdown tables of every split's arms (see the module's docstring)."""
    out = []
    for split in sorted({a.split for a in arms}):
        group = sorted((a for a in arms if a.split == split), key=lambda a: arm_order(a.arm))
        default = next((a for a in group if a.arm == DEFAULT_ARM), None)
        repos = default.order if default else group[0].order
        out.append(f"#### Split `{split}`: {len(group)} arm{'s' * (len(group) != 1)}, {len(repos)} repositories\n")
        out.append("Pooled test figures at each arm's last checkpoint (95% paired bootstrap intervals over queries; "
                   "`tie`: the interval holds no difference).\n")
        out.append("| arm | queries | R@10 | MRR | miss-rate ratio vs BM25 | MRR ratio vs BM25 | ΔR@10 vs default "
                   "| ΔMRR vs default |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        out += [_pooled_row(a, default) for a in group]
        out.append(_bm25_row(default or group[0]))
        out.append("\nLifelong metrics (test R@10 matrix of the arm's checkpoints) and forward transfer (pooled test "
                   "R@10 on each repository with the checkpoint before it was learned, against BM25 there):\n")
        out.append("| arm | " + " | ".join(name for name, _ in LIFELONG) + " | forward transfer |")
        out.append("|---|" + "---:|" * len(LIFELONG) + "---|")
        out += [_lifelong_row(a) for a in group]
        spread = _spread(group)
        if spread:
            out.append("\nSpread over seeds (pooled test figures, mean ± standard deviation):\n")
            out += spread
        claims = []
        for a in group:
            match = re.fullmatch(r"random-s(\d+)", a.arm)
            if match and default is not None:
                claims.append(_claim(f"curriculum vs random order (seed {match[1]})", default, a))
            naive = next((b for b in group if b.arm == f"naive-s{match[1]}"), None) if match else None
            if naive is not None:
                claims.append(_claim(f"progressive (replay) vs naive fine-tuning, random order seed {match[1]}", a,
                                     naive))
        randoms = [a for a in group if re.fullmatch(r"random-s\d+", a.arm)]
        pairs = [(a, n) for a in randoms for n in group if n.arm == "naive-" + a.arm.removeprefix("random-")]
        if default is not None and len(randoms) > 1:
            claims.append(_seeds_claim(f"curriculum vs random order, {len(randoms)} seeds averaged query by query",
                                       [default], randoms))
        if len(pairs) > 1:
            claims.append(_seeds_claim(f"progressive (replay) vs naive fine-tuning in the same random orders, "
                                       f"{len(pairs)} seeds averaged query by query",
                                       [a for a, _ in pairs], [n for _, n in pairs]))
        for a in group:
            if a.arm.startswith("naive-s") and default is not None:
                claims.append(_claim(f"the default vs naive fine-tuning ({a.arm})", default, a))
            if a.arm == "joint" and default is not None:
                claims.append(_claim("the default (lifelong) vs joint training", default, a))
            if a.arm.startswith("ewc") and default is not None:
                claims.append(_claim(f"replay (the default) vs EWC instead ({a.arm})", default, a))
            if a.arm == "untrained" and default is not None:
                claims.append(_claim("what training adds: the default vs the untrained encoder", default, a))
        claims = [c for c in claims if c is not None]
        if claims:
            out.append("\nThe claims, paired over the same test queries:\n")
            out += claims
        out.append("")
    return "\n".join(out)
