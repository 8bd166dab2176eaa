"""Progress reports: a self-contained HTML page (plots embedded), ``metrics.json`` and a Markdown summary.

Plots are drawn with matplotlib's Agg backend into PNG bytes and embedded as data URIs, so the page
opens anywhere, offline, as one file.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

from leanagent.metrics import metric_meaning
from leanagent.workdir import atomic_write_text

__all__ = ["CurriculumRow", "ScoreRow", "SorryRow", "SorryTheoremRow", "ReportData", "write_report",
           "metrics_json"]


@dataclass(frozen=True)
class CurriculumRow:
    """One repository in learning order."""

    repo: str
    """Repository name."""
    commit: str
    """Commit learned."""
    easy: int
    """Easy theorems."""
    medium: int
    """Medium theorems."""
    hard: int
    """Hard theorems."""
    sorry_theorems: int
    """Proving targets."""
    placeholders: int = 0
    """Theorems whose statement is a placeholder (flagged, never counted as proved mathematics)."""


@dataclass(frozen=True)
class SorryRow:
    """Proving results of one repository."""

    repo: str
    """Repository name."""
    attempted: int
    """Sorry theorems attempted."""
    proved: int
    """Proved (accepted by Lean)."""
    skipped_reason: str = ""
    """Why proving was skipped (e.g. no Lean toolchain), empty when it ran."""


@dataclass(frozen=True)
class SorryTheoremRow:
    """One sorry theorem and what became of it."""

    repo: str
    """Repository name."""
    theorem: str
    """Full name."""
    outcome: str
    """``proved``, ``failed``, ``timeout``, ``error``, ``skipped`` or ``not tried``."""
    detail: str = ""
    """The proof found, the error, or why it was skipped."""


@dataclass(frozen=True)
class ScoreRow:
    """Test scores on one repository after the last repository learned, the learned retriever beside BM25."""

    repo: str
    """Repository name."""
    queries: int
    """Test queries the figures rest on (0: not recorded)."""
    recall_at_1: float
    """Learned retriever's Recall@1."""
    recall_at_10: float
    """Learned retriever's Recall@10."""
    mrr: float
    """Learned retriever's MRR."""
    bm25_recall_at_1: float | None = None
    """BM25's Recall@1 on the same queries (None where not measured)."""
    bm25_recall_at_10: float | None = None
    """BM25's Recall@10."""
    bm25_mrr: float | None = None
    """BM25's MRR."""


@dataclass(frozen=True)
class Versus:
    """The run's retriever against BM25 on the same test queries, pooled over the repositories learned: each figure
    an (estimate, low, high) 95% bootstrap interval (:mod:`leanagent.comparison`)."""

    queries: int
    """Test queries both were scored on."""
    recall_at_10: tuple[float, float, float]
    """The run's R@10."""
    bm25_recall_at_10: tuple[float, float, float]
    """BM25's R@10."""
    miss_rate_ratio: tuple[float, float, float]
    """(1 − R@10) / (1 − BM25's R@10), paired: below 1, the run misses less."""
    mrr_ratio: tuple[float, float, float]
    """MRR / BM25's MRR, paired: above 1, the run ranks the used premise higher."""


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows."""

    title: str
    """Heading of the report."""
    order: tuple[str, ...]
    """Repository names in learning order."""
    recall_at_10: tuple[tuple[float | None, ...], ...]
    """Row i: after learning repository i; column j: test R@10 on repository j (None where not seen)."""
    validation_recall_at_10: tuple[float, ...]
    """V[t]: validation R@10 on repository t right after learning it."""
    metrics: dict[str, float | None]
    """Lifelong metrics by name."""
    curriculum: tuple[CurriculumRow, ...] = ()
    """The curriculum table."""
    sorry: tuple[SorryRow, ...] = ()
    """Proving results per repository."""
    model: str = ""
    """Retriever model / strategy."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per stage name."""
    problems: tuple[str, ...] = ()
    """Why lines or repositories were dropped: not fetched, not Lean, nothing to learn (one line each)."""
    scores: tuple[ScoreRow, ...] = ()
    """Test scores after the last repository, with BM25 beside."""
    sorry_theorems: tuple[SorryTheoremRow, ...] = ()
    """Each sorry theorem by name with its outcome."""
    bm25_recall_at_10: tuple[tuple[float | None, ...], ...] = ()
    """BM25's matrix on the same queries (same shape as ``recall_at_10``; empty when not measured)."""
    ranking: str = ""
    """What ranked the premises behind the learned scores (``retriever.ranking``, in words)."""
    tactic_generator: str = ""
    """The tactic generator measured in the evaluate stage (``prover.generator``); empty when not measured."""
    tactic_hit_at_64: tuple[tuple[float | None, ...], ...] = ()
    """Its lifelong matrix: first-tactic hit@64 after learning repository i (row) on repository j's test
    split (None where not seen, or no held-out tactic proof there)."""
    tactic_metrics: dict[str, float | None] = field(default_factory=dict)
    """The lifelong metrics of that matrix (over the repositories with held-out tactic proofs)."""
    tactic_scores: tuple[tuple[str, int, float, float, float], ...] = ()
    """After the last repository: (repository, theorems, hit@1, hit@8, hit@64) on each test split."""
    timesplit: dict = field(default_factory=dict)
    """The latest ``leanagent timesplit`` result (its JSON), when one was run in this workdir."""
    standing: str = ""
    """Where the run stands: finished, or which repository and stage it stopped in and how far it got."""
    finished: bool = True
    """Whether the run has finished (a stopped or running one has not)."""
    retriever: str = ""
    """The retriever in words: its model and how far it was trained."""
    generator: str = ""
    """The tactic generator in words (``combined`` named by its parts)."""
    versus: Versus | None = None
    """The run's retriever against BM25 on the same test queries, with intervals (None: not computed)."""


def metrics_json(data: ReportData) -> dict:
    """The ``metrics.json`` object: order, recall_at_10 matrix, metrics, sorry, and the rest."""
    return {
        "title": data.title,
        "model": data.model,
        "ranking": data.ranking,
        "order": list(data.order),
        "recall_at_10": [list(row) for row in data.recall_at_10],
        "validation_recall_at_10": list(data.validation_recall_at_10),
        "metrics": data.metrics,
        "sorry": {row.repo: {"attempted": row.attempted, "proved": row.proved,
                             "skipped_reason": row.skipped_reason} for row in data.sorry},
        "curriculum": [asdict(row) for row in data.curriculum],
        "timings": data.timings,
        "problems": list(data.problems),
        "scores": [asdict(row) for row in data.scores],
        "sorry_theorems": [asdict(row) for row in data.sorry_theorems],
        "bm25_recall_at_10": [list(row) for row in data.bm25_recall_at_10],
        "timesplit": data.timesplit,
        "tactics": {"generator": data.tactic_generator,
                    "hit_at_64": [list(row) for row in data.tactic_hit_at_64],
                    "metrics": data.tactic_metrics,
                    "scores": [dict(zip(("repo", "theorems", "hit_at_1", "hit_at_8", "hit_at_64"), row))
                               for row in data.tactic_scores]},
        "scale": "fractions in [0, 1] (the paper prints percentage points)",
        "standing": data.standing,
        "finished": data.finished,
        "retriever": data.retriever,
        "generator": data.generator,
        "versus_bm25": {k: [x if math.isfinite(x) else None for x in v] if isinstance(v, tuple) else v
                        for k, v in asdict(data.versus).items()} if data.versus is not None else None,
    }


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _averages(matrix: Sequence[Sequence[float | None]]) -> list[float]:
    """A_t: row t's average over the repositories 1..t learned so far.

    >>> _averages([(0.5, None), (0.25, 0.75)])
    [0.5, 0.5]
    """
    return [sum(v for v in row[: i + 1] if v is not None) / (i + 1) for i, row in enumerate(matrix)]


def _plots(data: ReportData) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots = []
    n = len(data.order)
    labels = [name.rsplit("/", 1)[-1][:18] for name in data.order]
    matrix = [[math.nan if v is None else v for v in row] for row in data.recall_at_10]
    fig, ax = plt.subplots(figsize=(1.2 + 0.7 * n, 1.0 + 0.6 * n))
    image = ax.imshow(matrix, vmin=0.0, vmax=1.0, cmap="viridis")
    ax.set_xticks(range(n), labels, rotation=45, ha="right")
    ax.set_yticks(range(n), [f"after {label}" for label in labels])
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            if not math.isnan(value):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", color="white" if value < 0.6 else "black")
    ax.set_title("Test Recall@10 (row: after learning, column: repository)")
    fig.colorbar(image, ax=ax, fraction=0.046)
    plots.append(("Recall@10 matrix", _png(fig)))
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    for j, label in enumerate(labels):
        xs = [i + 1 for i in range(j, n) if data.recall_at_10[i][j] is not None]
        ax.plot(xs, [data.recall_at_10[i - 1][j] for i in xs], marker="o", label=label, alpha=0.8, zorder=2,
                clip_on=False)
    # The average as a wide pale band and BM25's on top as a thin dashed line with its own markers: where the two
    # are equal both still show.
    ax.plot(range(1, n + 1), _averages(data.recall_at_10), color="black", linewidth=5, alpha=0.35, zorder=3,
            marker="D", markersize=8, label="average", clip_on=False)
    if data.bm25_recall_at_10:
        bm25 = _averages(data.bm25_recall_at_10)
        ax.plot(range(1, len(bm25) + 1), bm25, color="tab:red", linestyle="--", linewidth=1.8, zorder=4,
                marker="x", markersize=7, label="BM25 average (same queries)", clip_on=False)
    ax.set_xlabel("repositories learned")
    ax.set_ylabel("test Recall@10")
    ax.set_ylim(-0.04, 1.04)  # markers at 0 and 1 drawn whole, not cut by the frame
    ax.set_xlim(0.7, n + 0.3)
    ax.set_xticks(range(1, n + 1))
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.set_title("Each repository's Recall@10 over time")
    plots.append(("Recall@10 over time", _png(fig)))
    plt.close(fig)
    return plots


def _numeric(rows: Sequence[Sequence[object]], column: int) -> bool:
    """Whether a column holds numbers only (right-aligned; prose is left-aligned).

    >>> _numeric([(1, "a"), (None, "b")], 0), _numeric([(1, "a")], 1)
    (True, False)
    """
    values = [row[column] for row in rows if row[column] is not None]
    return bool(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    numeric = [_numeric(rows, j) for j in range(len(headers))]
    cls = ["<td class='n'>" if n else "<td>" for n in numeric]
    head = "".join(f"<th class='n'>{html.escape(str(h))}</th>" if n else f"<th>{html.escape(str(h))}</th>"
                   for h, n in zip(headers, numeric))
    body = "".join("<tr>" + "".join(f"{cls[j]}{html.escape(_fmt(c))}</td>" for j, c in enumerate(row)) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


_STYLE = ("body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}"
          "td,th{border:1px solid #bbb;padding:4px 10px;text-align:left;vertical-align:top}th{background:#eee}"
          ".n{text-align:right}img{max-width:100%;display:block;margin:1em 0}.note{color:#555}"
          ".headline{border:2px solid #888;background:#f6f6f6;padding:0.5em 1.2em;margin:1em 0}"
          ".headline li{margin:0.3em 0}")


def _interval(value: tuple[float, float, float], digits: int = 3) -> str:
    """``0.750 [0.250, 1.000]``; ``n/a`` where a ratio has no value (a zero rate below it).

    >>> _interval((0.75, 0.25, 1.0)), _interval((float("inf"), 1.0, float("inf")), 2)
    ('0.750 [0.250, 1.000]', 'n/a')
    """
    if not all(math.isfinite(v) for v in value):
        return "n/a"
    return f"{value[0]:.{digits}f} [{value[1]:.{digits}f}, {value[2]:.{digits}f}]"


def _against_bm25(v: Versus) -> str:
    """The sentence that compares the run's retriever with BM25 on the same queries."""
    low, high = v.miss_rate_ratio[1], v.miss_rate_ratio[2]
    if not all(math.isfinite(x) for x in v.miss_rate_ratio):  # BM25 misses none: no ratio, the intervals tell
        mine, bm25 = v.recall_at_10, v.bm25_recall_at_10
        verdict = ("BM25 misses none of them, " + ("and so does the retriever" if mine[1] >= 1 else
                   "better past the noise" if mine[2] < bm25[1] else "a tie within the noise (the intervals overlap)"))
    elif high < 1:
        verdict = f"it misses {_interval(v.miss_rate_ratio, 2)} times as often as BM25: better, past the noise"
    elif low > 1:
        verdict = f"it misses {_interval(v.miss_rate_ratio, 2)} times as often as BM25: worse, past the noise"
    else:
        verdict = (f"it misses {_interval(v.miss_rate_ratio, 2)} times as often as BM25: a tie (the interval holds 1; "
                   "more test queries would tell)")
    return (f"On the {v.queries} held-out test queries of the repositories learned, the retriever finds a premise "
            f"the proof uses in its top 10 for {_interval(v.recall_at_10)} of them (95% interval), BM25 on the same "
            f"queries for {_interval(v.bm25_recall_at_10)}; {verdict}.")


class _Notes:
    """Long texts said once (an install hint behind many skipped theorems): a cell says ``[k]``, the text comes
    once below."""

    LONG = 60
    """Texts longer than this many characters become notes."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def ref(self, text: str) -> str:
        """``[k]`` for ``text`` (numbered on first use)."""
        if text not in self.texts:
            self.texts.append(text)
        return f"[{self.texts.index(text) + 1}]"

    def short(self, text: str) -> str:
        """A text of a few words as it is; a longer one by its first clause and its note's number.

        >>> notes = _Notes()
        >>> notes.short("no Lean toolchain on this machine: neither lake nor lean is on PATH; install elan (...)")
        'no Lean toolchain on this machine [1]'
        >>> notes.short("600 s"), notes.texts[0][:17]
        ('600 s', 'no Lean toolchain')
        """
        if len(text) <= self.LONG:
            return text
        return f"{text.split(':', 1)[0].split(';', 1)[0].strip()} {self.ref(text)}"


def grouped_outcomes(rows: Sequence[SorryTheoremRow]) -> list[tuple[str, str, str, str]]:
    """Each sorry theorem's row, except that the theorems of a repository not tried yet, or skipped for one reason,
    are one row that counts them (a stopped run does not list hundreds of "not tried").

    >>> grouped_outcomes([SorryTheoremRow("r", "a", "not tried"), SorryTheoremRow("r", "b", "not tried"),
    ...                   SorryTheoremRow("r", "c", "proved", "rfl")])
    [('r', '2 sorry theorems', 'not tried', ''), ('r', 'c', 'proved', 'rfl')]
    """
    groups: dict[tuple, list[SorryTheoremRow]] = {}  # in first-seen order
    for i, row in enumerate(rows):
        key = (row.repo, row.outcome, row.detail) if row.outcome in ("not tried", "skipped") else (i,)
        groups.setdefault(key, []).append(row)
    return [(g[0].repo, g[0].theorem if len(g) == 1 else f"{len(g)} sorry theorems", g[0].outcome, g[0].detail)
            for g in groups.values()]


def headline(data: ReportData, notes: _Notes | None = None) -> list[str]:
    """What a person reads first: where the run stands, what was learned against BM25, what failed, what next."""
    notes = notes or _Notes()
    lines = [data.standing] if data.standing else [] if data.order else ["Nothing was learned."]
    if data.versus is not None:
        lines.append(_against_bm25(data.versus))
    elif data.scores:
        queries = sum(r.queries for r in data.scores)
        mean = sum(r.queries * r.recall_at_10 for r in data.scores) / max(1, queries)
        bm25 = [r for r in data.scores if r.bm25_recall_at_10 is not None]
        beside = (f"; BM25 on the same queries {sum(r.queries * r.bm25_recall_at_10 for r in bm25) / max(1, queries):.3f}"
                  if len(bm25) == len(data.scores) else "")
        lines.append(f"On the {queries} held-out test queries of the repositories learned, the retriever finds a premise "
                     f"the proof uses in its top 10 for {mean:.3f} of them{beside} (`leanagent eval --compare bm25` "
                     "gives the intervals).")
    elif data.recall_at_10:
        lines.append(f"The retriever's average test R@10 over the repositories learned is "
                     f"{_averages(data.recall_at_10)[-1]:.3f}.")
    elif data.order or data.curriculum:
        lines.append("Nothing is measured yet: no repository has finished its evaluate stage.")
    if data.tactic_scores:
        cases = sum(row[1] for row in data.tactic_scores)
        mean = sum(row[1] * row[4] for row in data.tactic_scores) / max(1, cases)
        lines.append(f"The tactic generator puts the human's first tactic among its top 64 for {mean:.3f} of "
                     f"{cases} held-out theorems.")
    outcomes: dict[str, int] = {}
    skipped: dict[str, int] = {}
    for row in data.sorry_theorems:
        outcomes[row.outcome] = outcomes.get(row.outcome, 0) + 1
        if row.outcome == "skipped":
            skipped[row.detail] = skipped.get(row.detail, 0) + 1
    if data.sorry_theorems:
        tried = sum(n for o, n in outcomes.items() if o not in ("not tried", "skipped"))
        said = [f"{outcomes.get('proved', 0)} of the {len(data.sorry_theorems)} sorry theorems proved"]
        said += [f"{n} {o}" for o, n in sorted(outcomes.items()) if o not in ("proved", "skipped")]
        said += [f"{n} skipped: {notes.short(why)}" for why, n in skipped.items()]
        lines.append(f"Proving: {', '.join(said)} ({tried} tried).")
    if data.problems:
        lines.append(f"Failed: {len(data.problems)} repositories or lines were left out (listed under "
                     "\u201cNot learned\u201d).")
    steps = []
    if not data.finished:
        steps.append("when it is not running, start the same command again: it goes on where it stopped and redoes "
                     "nothing finished (`leanagent status` shows the stage under way)")
    lean = [why for why in skipped if "Lean" in why]
    if lean:
        how = f" (how: note {notes.ref(lean[0])})" if len(lean[0]) > notes.LONG else ""
        steps.append(f"install Lean{how} and prove the skipped theorems with `leanagent prove REPO --workdir DIR`")
    if data.problems:
        steps.append("fix or drop the repositories under \u201cNot learned\u201d and run again")
    if steps:
        lines.append("Next: " + "; ".join(steps) + ".")
    return lines


def render_html(data: ReportData) -> str:
    """The report page as one self-contained HTML string."""
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(data.title)}</title>"
             f"<style>{_STYLE}</style></head><body><h1>{html.escape(data.title)}</h1>"]
    notes = _Notes()
    first, *rest = headline(data, notes)
    parts.append(f"<div class='headline'><p><strong>{html.escape(first)}</strong></p><ul>"
                 + "".join(f"<li>{html.escape(line)}</li>" for line in rest) + "</ul></div>")
    if data.retriever:
        parts.append(f"<p>Retriever: {html.escape(data.retriever)}.</p>")
    elif data.model:
        parts.append(f"<p>Retriever checkpoint: <code>{html.escape(data.model)}</code></p>")
    if data.generator:
        parts.append(f"<p>Tactic generator: {html.escape(data.generator)}.</p>")
    if data.problems:
        parts.append("<h2>Not learned</h2><ul>" + "".join(f"<li>{html.escape(p)}</li>" for p in data.problems)
                     + "</ul>")
    if data.scores:
        parts.append("<h2>Test scores after the last repository</h2>")
        if data.ranking:
            parts.append(f"<p>Premises ranked by: {html.escape(data.ranking)}.</p>")
        parts.append(_table(["repository", "test queries", "R@1", "R@10", "MRR", "BM25 R@1", "BM25 R@10",
                             "BM25 MRR"], [(r.repo, r.queries, r.recall_at_1, r.recall_at_10, r.mrr,
                                            r.bm25_recall_at_1, r.bm25_recall_at_10, r.bm25_mrr)
                                           for r in data.scores]))
        parts.append(f"<p class='note'>{html.escape(_small_note(data.scores))}</p>")
    if data.metrics:
        parts.append("<h2>Lifelong metrics of the retriever (its test R@10 matrix)</h2>")
        parts.append(_table(["metric", "value", "better", "meaning"], _metric_rows(data.metrics)))
        parts.append("<p class='note'>n/a: the run is too short for the metric (e.g. WF5 needs more than five "
                     "repositories).</p>")
    if data.tactic_scores:
        parts.append(f"<h2>Tactic generator ({html.escape(data.tactic_generator)})</h2>")
        parts.append("<p class='note'>First-tactic hit@k on held-out theorems after the last repository: the "
                     "human's first tactic among the generator's top k for the goal the proof starts from "
                     "(whitespace collapsed, names cut to their last component). No Lean runs them.</p>")
        parts.append(_table(["repository", "theorems", "hit@1", "hit@8", "hit@64"], data.tactic_scores))
        parts.append("<p>Lifelong metrics of its hit@64 matrix:</p>")
        parts.append(_table(["metric", "value", "better", "meaning"], _metric_rows(data.tactic_metrics, "hit@64")))
    if data.timesplit:
        parts.append(_timesplit_html(data.timesplit))
    for title, uri in (_plots(data) if data.order else []):
        parts.append(f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='{uri}'>")
    if data.curriculum:
        parts.append("<h2>Curriculum</h2>")
        parts.append(_table(["#", "repository", "commit", "easy", "medium", "hard", "sorry", "placeholders"],
                            [(i + 1, r.repo, r.commit[:12], r.easy, r.medium, r.hard, r.sorry_theorems,
                              r.placeholders) for i, r in enumerate(data.curriculum)]))
    if data.sorry:
        parts.append("<h2>Sorry theorems</h2>")
        parts.append(_table(["repository", "attempted", "proved", "note"],
                            [(r.repo, r.attempted, r.proved, notes.short(r.skipped_reason)) for r in data.sorry]))
    if data.sorry_theorems:
        parts.append("<h2>Each sorry theorem</h2>")
        parts.append(_table(["repository", "theorem", "outcome", "proof / why"],
                            [(repo, theorem, outcome, notes.short(detail) if outcome == "skipped" else detail)
                             for repo, theorem, outcome, detail in grouped_outcomes(data.sorry_theorems)]))
    if notes.texts:
        parts.append("<h2>Notes</h2><ol>" + "".join(f"<li>{html.escape(t)}</li>" for t in notes.texts) + "</ol>")
    if data.timings:
        parts.append("<h2>Timings</h2>")
        parts.append(_table(["stage", "seconds"], [(k, v) for k, v in data.timings.items()]))
    parts.append("</body></html>")
    return "".join(parts)


def _timesplit_html(ts: dict) -> str:
    """The time-split section: recall of the new proofs' premises, first-tactic hits, proofs found."""
    def cell(v: dict) -> str:
        if v.get("estimate") is None:
            return "n/a"
        return f"{v['estimate']:.3f} [{v['low']:.3f}, {v['high']:.3f}] (n = {v['theorems']})"

    parts = [f"<h2>Time split: {html.escape(str(ts.get('repo', '')))} "
             f"{html.escape(str(ts.get('old', ''))[:12])} → {html.escape(str(ts.get('new', ''))[:12])}</h2>",
             f"<p>{ts.get('theorems', 0)} theorems sorry at the old commit and proved at the new one, judged with "
             f"<code>{html.escape(str(ts.get('checkpoint', '')))}</code>.</p>"]
    rows = [(f"premises of the new proof in the top {k[3:]}", cell(v)) for k, v in ts.get("recall", {}).items()]
    for name, hits in ts.get("generators", {}).items():
        rows += [(f"first tactic, {name}, hit@{k[7:]}", cell(v)) for k, v in hits.items()]
    proving = ts.get("proving", {})
    rows.append(("proofs found", proving.get("skipped") or f"{proving.get('proved', 0)} of "
                 f"{proving.get('attempted', 0)}"))
    return "".join(parts) + _table(["figure", "value"], rows)


def _metric_rows(metrics: dict[str, float | None], measure: str = "R@10") -> list[tuple[str, float | None, str, str]]:
    """(name, value, "higher" / "lower", meaning) of each metric of a ``measure`` matrix (fractions; the paper prints
    percentage points)."""
    rows = []
    for name, value in metrics.items():
        meaning, higher = metric_meaning(name, measure)
        rows.append((name, value, "higher" if higher else "lower", meaning))
    return rows


def _small_note(scores: Sequence[ScoreRow]) -> str:
    """What the figures can and cannot tell, by the size of their test sets."""
    sizes = [r.queries for r in scores]
    note = (f"Fractions in [0, 1]; each figure rests on the test queries beside it ({min(sizes)}–{max(sizes)} "
            "here).")
    if min(sizes) < 10:
        note += (" With fewer than 10 queries one query moves Recall@10 by 0.1 or more: a repository whose "
                 "figure is 0.000 or 1.000 may differ from BM25 by one or two queries, a tie within the noise.")
    return note


def _md(text: str) -> str:
    """A Markdown table cell: a ``|`` inside would end the cell, a newline the row.

    >>> print(_md("curl x | sh"), _md("by\\n  omega"), sep="; ")
    curl x \\| sh; by   omega
    """
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(data: ReportData) -> str:
    """A short Markdown summary."""
    lines = [f"# {data.title}", ""]
    notes = _Notes()
    first, *rest = headline(data, notes)
    lines += [f"**{first}**", "", *[f"- {line}" for line in rest], ""]
    lines += [f"{what}: {words}." for what, words in (("Retriever", data.retriever), ("Tactic generator",
                                                                                     data.generator)) if words]
    if data.retriever or data.generator:
        lines.append("")
    if data.order:
        lines.append("Learning order: " + " → ".join(data.order))
        lines.append("")
    if data.problems:
        lines += ["Not learned:", *[f"- {p}" for p in data.problems], ""]
    if data.scores:
        if data.ranking:
            lines += [f"Premises ranked by: {data.ranking}.", ""]
        lines += ["| repository | test queries | R@10 | BM25 R@10 | MRR | BM25 MRR |", "|---|---|---|---|---|---|"]
        lines += [f"| {_md(r.repo)} | {r.queries} | {_fmt(r.recall_at_10)} | {_fmt(r.bm25_recall_at_10)} | "
                  f"{_fmt(r.mrr)} | {_fmt(r.bm25_mrr)} |" for r in data.scores]
        lines += ["", _small_note(data.scores), ""]
    if data.metrics:
        lines += ["| retriever metric (R@10) | value | better | meaning |", "|---|---|---|---|"]
        lines += [f"| {k} | {_fmt(v)} | {better} | {_md(meaning)} |"
                  for k, v, better, meaning in _metric_rows(data.metrics)]
    if data.tactic_scores:
        lines += ["", f"Tactic generator ({data.tactic_generator}): first-tactic hit@k on held-out theorems.", "",
                  "| repository | theorems | hit@1 | hit@8 | hit@64 |", "|---|---|---|---|---|"]
        lines += [f"| {_md(name)} | {n} | {_fmt(a)} | {_fmt(b)} | {_fmt(c)} |" for name, n, a, b, c in data.tactic_scores]
        lines += ["", "| generator metric (hit@64) | value |", "|---|---|"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in data.tactic_metrics.items()]
    if data.sorry:
        lines += ["", "| repository | sorry attempted | proved | note |", "|---|---|---|---|"]
        lines += [f"| {_md(r.repo)} | {r.attempted} | {r.proved} | {_md(notes.short(r.skipped_reason))} |"
                  for r in data.sorry]
    if data.sorry_theorems:
        lines += ["", "| repository | sorry theorem | outcome | proof / why |", "|---|---|---|---|"]
        lines += [f"| {_md(repo)} | {_md(theorem)} | {outcome} | "
                  f"{_md(notes.short(detail) if outcome == 'skipped' else detail)} |"
                  for repo, theorem, outcome, detail in grouped_outcomes(data.sorry_theorems)]
    if notes.texts:
        lines += ["", *[f"[{i}] {_md(text)}" for i, text in enumerate(notes.texts, start=1)]]
    return "\n".join(lines) + "\n"


def write_report(data: ReportData, directory: Path) -> dict[str, Path]:
    """Write ``report.html``, ``metrics.json`` and ``summary.md`` atomically; return their paths."""
    paths = {"html": directory / "report.html", "json": directory / "metrics.json",
             "markdown": directory / "summary.md"}
    atomic_write_text(paths["json"], json.dumps(metrics_json(data), indent=2, allow_nan=False) + "\n")
    atomic_write_text(paths["markdown"], render_markdown(data))
    atomic_write_text(paths["html"], render_html(data))
    return paths
