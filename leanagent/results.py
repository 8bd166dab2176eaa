"""What a run directory holds, read back from its database: learning order, checkpoints, matrix, report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from database.records import Repo
from database.store import Store
from leanagent.metrics import lifelong_metrics
from leanagent.pipeline import RUN, STAGES, lifelong_matrix, recall_matrix, run_problems
from leanagent.learner import baseline_name
from leanagent.report import CurriculumRow, ReportData, ScoreRow, SorryRow, SorryTheoremRow

__all__ = ["RunState", "run_state", "report_data", "stage_label", "standing", "retriever_words",
           "generator_words"]


@dataclass(frozen=True)
class RunState:
    """The learning order, the checkpoints finished so far, and each repository's stage records."""

    order: tuple[Repo, ...]
    """Repositories in learning order."""
    checkpoints: tuple[str, ...]
    """Checkpoint name after each learned repository, as far as training got."""
    stages: dict[str, dict[str, dict]]
    """repo id → stage → recorded information."""
    strategy: str
    """Curriculum strategy."""
    counts: dict[str, list[int]]
    """repo id → [easy, medium, hard, sorry]."""
    not_learned: tuple[tuple[Repo, str], ...] = ()
    """Repositories ingested but left out of the order, with the reason (nothing to learn)."""
    problems: tuple[str, ...] = ()
    """The latest run's failure lines: bad lines, repositories not fetched, not read, not learned."""


def stage_label(info: dict | None) -> str:
    """How a stage reads in a status table: ``-`` (not yet), ``done``, or ``skipped (reason)``.

    >>> stage_label(None), stage_label({"seconds": 1.0}), stage_label({"skipped": "no Lean toolchain"})
    ('-', 'done', 'skipped (no Lean toolchain)')
    """
    if info is None:
        return "-"
    return f"skipped ({info['skipped']})" if info.get("skipped") else "done"


def run_state(store: Store) -> RunState | None:
    """The state of the run in ``store``; None before ingestion finished (no curriculum, no problems)."""
    curriculum = next((s for s in store.stages(RUN) if s.stage == "curriculum"), None)
    problems = tuple(run_problems(store))
    if curriculum is None and not problems:
        return None
    info = curriculum.info if curriculum is not None else {}
    order = tuple(r for rid in info.get("order", []) if (r := store.repo(rid)) is not None)
    stages: dict[str, dict[str, dict]] = {}
    not_learned = []
    for status in store.stages():
        stages.setdefault(status.repo_id, {})[status.stage] = dict(status.info)
        if status.stage == "train" and status.status == "skipped" and (repo := store.repo(status.repo_id)):
            not_learned.append((repo, str(status.info.get("skipped", ""))))
    checkpoints = []
    for repo in order:
        train = stages.get(repo.id, {}).get("train")
        if train is None:
            break
        checkpoints.append(Path(train["checkpoint"]).name)
    return RunState(order, tuple(checkpoints), stages, info.get("strategy", ""), info.get("counts", {}),
                    tuple(not_learned), problems)


def final_scores(store: Store, repos: list[Repo], checkpoint: str) -> tuple[ScoreRow, ...]:
    """Each repository's test scores with ``checkpoint``, BM25's on the same queries beside them."""
    cells = {(e.checkpoint, e.repo_id): e for e in store.evaluations() if e.split == "test"}
    rows = []
    for repo in repos:
        own, bm25 = cells.get((checkpoint, repo.id)), cells.get((baseline_name(checkpoint), repo.id))
        if own is not None:
            rows.append(ScoreRow(repo.name, own.queries, own.recall_at_1, own.recall_at_10, own.mrr,
                                 *((bm25.recall_at_1, bm25.recall_at_10, bm25.mrr) if bm25 else (None,) * 3)))
    return tuple(rows)


def sorry_outcomes(store: Store, state: RunState) -> tuple[SorryTheoremRow, ...]:
    """Each sorry theorem of the learned repositories: its latest attempt, or why there was none."""
    from leanagent.proving import sorry_targets

    latest = {a.theorem_id: a for a in store.attempts()}  # in the order recorded: the last one wins
    rows = []
    for repo in state.order:
        prove = state.stages.get(repo.id, {}).get("prove")
        for theorem in sorry_targets(store, repo):
            attempt = latest.get(theorem.id)
            if attempt is not None:
                detail = attempt.proof if attempt.outcome == "proved" else attempt.message
                rows.append(SorryTheoremRow(repo.name, theorem.full_name, attempt.outcome, detail))
            elif prove is not None and prove.get("skipped"):
                rows.append(SorryTheoremRow(repo.name, theorem.full_name, "skipped", str(prove["skipped"])))
            else:
                rows.append(SorryTheoremRow(repo.name, theorem.full_name, "not tried",
                                            "the prove stage has not run" if prove is None else ""))
    return tuple(rows)


RANKING_WORDS = {"dense": "dense (the trained encoder alone)", "bm25": "BM25",
                 "hybrid": "hybrid (the trained encoder and BM25 fused)"}
"""How the report names ``retriever.ranking``, the ranker behind the learned scores."""


def tactic_results(store: Store, order: list[Repo], checkpoints: list[str]):
    """The tactic generator's (name, hit@64 matrix, lifelong metrics, last row's scores) over ``checkpoints``.

    The metrics take the columns of repositories with held-out tactic proofs (a column without cases has no
    figure); validation figures missing count 0, as the retriever's do.
    """
    cells = {(e.checkpoint, e.repo_id, e.split): e for e in store.tactic_evaluations()}
    if not checkpoints or not any(c == checkpoints[-1] for c, _, _ in cells):
        return "", (), {}, ()
    matrix, validations = lifelong_matrix({key: e.hit_at_64 for key, e in cells.items()}, order, checkpoints)
    with_cases = [j for j in range(len(order)) if any((c, order[j].id, "test") in cells for c in checkpoints)]
    rows = [i for i in range(len(checkpoints)) if i in with_cases]  # a repository's own row: its column's first
    sub = [[matrix[i][j] for j in with_cases if j <= i] + [None] * sum(j > i for j in with_cases) for i in rows]
    validation = [validations[i] for i in rows]
    complete = all(v is not None for k, row in enumerate(sub) for v in row[: k + 1])
    metrics = lifelong_metrics(sub, validation, measure="hit_at_64") if sub and complete else {}
    last = checkpoints[-1]
    scores = tuple((order[j].name, e.cases, e.hit_at_1, e.hit_at_8, e.hit_at_64) for j in range(len(order))
                   if (e := cells.get((last, order[j].id, "test"))) is not None)
    generator = next(e.generator for (c, _, _), e in cells.items() if c == last)
    return generator, tuple(tuple(row) for row in matrix), metrics, scores


MODEL_WORDS = {"byt5-tiny": "byt5-tiny (a small ByT5 encoder built here, trained from scratch)",
               "minilm": "minilm (all-MiniLM-L6-v2, pretrained, fine-tuned here)",
               "bm25": "BM25 (nothing trained: the keyword baseline as a run of its own)"}
"""How the report names ``retriever.model``."""


def retriever_words(config, state: RunState) -> str:
    """The retriever a run trains, in words: its model, how far it was trained, the checkpoint behind the figures.

    >>> from leanagent.config import load_config
    >>> state = RunState((Repo("u", "c", "a"), Repo("v", "c", "b")), ("01-a",), {}, "easy-first", {})
    >>> retriever_words(load_config(None, {"retriever.model": "byt5-tiny"}), state)
    'byt5-tiny (a small ByT5 encoder built here, trained from scratch), trained on 1 of 2 repositories one after another (easy-first order; checkpoint 01-a)'
    """
    model = MODEL_WORDS.get(config.retriever.model, config.retriever.model)
    if not state.checkpoints:
        return f"{model}, not trained yet"
    return (f"{model}, trained on {len(state.checkpoints)} of {len(state.order)} repositories one after another "
            f"({state.strategy} order; checkpoint {state.checkpoints[-1]})")


def generator_words(config, state: RunState) -> str:
    """The tactic generator the run proves with, in words (``combined`` named by its parts).

    >>> from leanagent.config import load_config
    >>> repo = Repo("u", "c", "a")
    >>> state = RunState((repo,), ("01-a",), {repo.id: {"train": {"tactic_model": {"model": "ngram"}}}}, "", {})
    >>> generator_words(load_config(None), state)
    "combined: templates over the retrieved premises, the proof memory and the run's ngram tactic model"
    """
    p = config.prover
    trained = ""
    for repo in state.order[: len(state.checkpoints)]:
        info = state.stages.get(repo.id, {}).get("train", {}).get("tactic_model") or {}
        trained = info.get("model", trained) if isinstance(info, dict) else trained
    parts = {"templates": "templates over the retrieved premises", "memory": "the proof memory",
             "model": f"the run's {trained or 'own'} tactic model", "reprover": "ReProver's tactic generator (ByT5)"}
    if p.generator == "combined":
        named = [parts["templates"], parts["memory"]] + ([parts["model"]] if trained else [])
        words = f"combined: {', '.join(named[:-1])} and {named[-1]}"
    else:
        words = f"{p.generator}: {parts.get(p.generator, 'a seq2seq model')}"
    return words + (f", with the whole-proof model {p.whole_proof}" if p.whole_proof else "")


def _attempted(store: Store, repo: Repo) -> tuple[int, int]:
    """(sorry theorems with a proof attempt recorded, sorry theorems) of ``repo``."""
    from leanagent.proving import sorry_targets

    targets = {t.id for t in sorry_targets(store, repo)}
    return len(targets & {a.theorem_id for a in store.attempts()}), len(targets)


def standing(store: Store, state: RunState | None, progress=None) -> tuple[str, bool]:
    """Where the run stands, in a sentence or two, and whether it has finished. ``progress``: the workdir's record
    of the stage under way (:func:`leanagent.progress.current_progress`), which says how far that stage got."""
    from leanagent.pipeline import stored_repos

    if state is None:
        read = [r.name for r in stored_repos(store)]
        return (f"Unfinished: the run is reading its repositories ({len(read)} read so far"
                + (f": {', '.join(read)}" if read else "") + "); nothing is learned before every one is read.", False)
    if not state.order:
        if state.not_learned:
            return (f"Nothing was learned: the {len(state.not_learned)} repositories read gave nothing to learn "
                    "(why below).", True)
        return "Nothing was learned: no repository could be fetched and read (why below).", True
    n, learned = len(state.order), len(state.checkpoints)
    names = " → ".join(r.name for r in state.order[:learned])
    left = [(i, repo, stage) for i, repo in enumerate(state.order) for stage in STAGES
            if stage not in state.stages.get(repo.id, {})]
    if not left:
        return f"Finished: all {n} repositories learned ({names}) and their sorry theorems tried.", True
    if all(stage == "prove" for _, _, stage in left) and len(left) == n:
        return f"Finished training (no prove stage, as `leanagent train` runs): all {n} repositories learned ({names}).", \
            True
    i, repo, stage = left[0]
    so_far = f"{learned} of {n} repositories learned" + (f" ({names})" if learned else "")
    if progress is not None and progress.repo_id == repo.id and progress.stage == stage:
        where = progress.describe()
    else:
        where = f"{stage} of {repo.name} (repository {i + 1} of {n}): not finished"
        if stage == "prove":
            tried, targets = _attempted(store, repo)
            where += f", {tried} of its {targets} sorry theorems tried"
    return f"Unfinished: {so_far}; {where}.", False


def report_data(store: Store, title: str = "leanagent run", *, config=None, progress=None) -> ReportData:
    """Everything the report shows, computed from the database; ``config`` (the run's settings) names the retriever
    and the tactic generator, ``progress`` (the record of a stage under way) says how far that stage got."""
    state = run_state(store)
    said, finished = standing(store, state, progress)
    if state is None:
        return ReportData(title=title, order=(), recall_at_10=(), validation_recall_at_10=(), metrics={},
                          standing=said, finished=finished)
    retriever = retriever_words(config, state) if config is not None else ""
    generator_named = generator_words(config, state) if config is not None else ""
    if not state.order:
        return ReportData(title=title, order=(), recall_at_10=(), validation_recall_at_10=(), metrics={},
                          problems=state.problems, standing=said, finished=finished)
    learned = list(state.order[: len(state.checkpoints)])
    matrix, validation = recall_matrix(store, learned, list(state.checkpoints))
    complete = []
    for i, row in enumerate(matrix):  # rows up to the first checkpoint not yet evaluated
        if any(v is None for v in row[: i + 1]):
            break
        complete.append(row)
    metrics = lifelong_metrics(complete, validation[: len(complete)]) if complete else {}
    done = list(state.checkpoints[: len(complete)])
    bm25, _ = recall_matrix(store, learned[: len(complete)], [baseline_name(c) for c in done])
    if any(v is None for i, row in enumerate(bm25) for v in row[: i + 1]):
        bm25 = []  # not measured for every step (a BM25 run, or a run from before it was recorded)
    scores = final_scores(store, learned[: len(complete)], done[-1]) if done else ()
    curriculum = tuple(
        CurriculumRow(r.name, r.commit, *state.counts.get(r.id, [0, 0, 0, 0]),
                      placeholders=store.counts(r.id).placeholders)
        for r in state.order)
    sorry = []
    for repo in state.order:
        prove = state.stages.get(repo.id, {}).get("prove")
        if prove is not None:
            sorry.append(SorryRow(repo.name, prove.get("attempted", 0), prove.get("proved", 0),
                                  prove.get("skipped", "")))
    timings: dict[str, float] = {}
    for per_repo in state.stages.values():
        for stage, info in per_repo.items():
            if stage in ("ingest", *STAGES) and "seconds" in info:
                timings[stage] = round(timings.get(stage, 0.0) + info["seconds"], 3)
    model = ""
    if state.checkpoints:
        model = f"{state.checkpoints[-1]} ({state.strategy})"
    evaluated = state.stages.get(learned[-1].id, {}).get("evaluate") or {} if learned else {}
    ranking = RANKING_WORDS.get(evaluated.get("ranking", "dense"), evaluated.get("ranking", "dense"))
    generator, tactic_matrix, tactic_metrics, tactic_scores = tactic_results(store, learned, list(done))
    return ReportData(title=title, order=tuple(r.name for r in learned), ranking=ranking,
                      tactic_generator=generator, tactic_hit_at_64=tactic_matrix, tactic_metrics=tactic_metrics,
                      tactic_scores=tactic_scores,
                      recall_at_10=tuple(tuple(row) for row in complete),
                      validation_recall_at_10=tuple(validation[: len(complete)]), metrics=metrics,
                      curriculum=curriculum, sorry=tuple(sorry), model=model, timings=timings,
                      problems=state.problems, scores=scores, bm25_recall_at_10=tuple(tuple(r) for r in bm25),
                      sorry_theorems=sorry_outcomes(store, state), standing=said, finished=finished,
                      retriever=retriever, generator=generator_named)
