"""The lifelong loop on the offline example: every stage, resume, kill -9 at several moments, report."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from database.store import Store
from leanagent.cli import main
from leanagent.config import load_config
from leanagent.pipeline import STAGES, run
from tests.conftest import EXAMPLES

ROOT = Path(__file__).resolve().parent.parent
# Fast settings: the example is tiny, a short warm-up lets one epoch move the weights. The model is named so
# that a machine with the [minilm] extra runs the same tests (a module-scoped fixture or a child process
# does not see conftest's patch of "auto").
SETTINGS = {"quiet": "true", "retriever.warmup_steps": "5", "retriever.model": "byt5-tiny"}


# Dates, stage timings and stage notes differ between runs; everything else must not.
VOLATILE = ("ingested_at", "finished_at", "info", "applied_at")


def _tables(db: Path) -> dict[str, list[str]]:
    """The content a run must reproduce exactly."""
    with Store.open(db) as store:
        return store.content(skip_columns=VOLATILE)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """One uninterrupted run of the offline example."""
    workdir = tmp_path_factory.mktemp("reference")
    lines: list[str] = []
    result = run(load_config(None, {**SETTINGS, "workdir": str(workdir)}), EXAMPLES / "repos.txt",
                 echo=lines.append)
    assert result.failures == []
    assert [r.name for r in result.order] == ["nat-basics", "list-lemmas", "expr-eval"]
    assert sum(line.startswith("train") for line in lines) == 3
    return workdir


def test_every_stage_of_every_repository_is_recorded(reference: Path) -> None:
    with Store.open(reference / "leanagent.db") as store:
        done = {(s.repo_id, s.stage) for s in store.stages() if s.status == "done"}
        repo_ids = [r.id for r in store.repos(role="target")]
        evaluations = store.evaluations()
    assert len(repo_ids) == 3
    assert all((rid, stage) in done for rid in repo_ids for stage in ("ingest", *STAGES))
    # Test R@10 of every repository learned so far after each step (1 + 2 + 3), validation of each; BM25's
    # test scores beside each on the same queries.
    learned = [e for e in evaluations if not e.checkpoint.startswith("bm25@")]
    splits = [e.split for e in learned]
    assert splits.count("test") == 6 and splits.count("validation") == 3
    bm25 = {(e.checkpoint, e.repo_id, e.split, e.queries) for e in evaluations if e.checkpoint.startswith("bm25@")}
    assert bm25 == {(f"bm25@{e.checkpoint}", e.repo_id, "test", e.queries) for e in learned if e.split == "test"}
    assert all(0.0 <= e.recall_at_10 <= 1.0 and e.queries > 0 for e in evaluations)
    assert sorted(p.name for p in (reference / "checkpoints").iterdir()) == [
        "01-nat-basics", "02-list-lemmas", "03-expr-eval"]
    assert (reference / "index" / "manifest.json").is_file()
    assert "retriever" in (reference / "config.toml").read_text()


def test_the_saved_index_is_the_last_checkpoints_embedding_of_the_corpus(reference: Path) -> None:
    import numpy as np

    from database.index import PremiseIndex
    from leanagent.learner import PENDING_INDEX, corpus_of
    from retrieval.base import premise_text
    from retrieval.encoder import DualEncoder

    index = PremiseIndex.load(reference / "index")
    assert index.checkpoint == "03-expr-eval"
    assert not any((c / PENDING_INDEX).exists() for c in (reference / "checkpoints").iterdir())
    with Store.open(reference / "leanagent.db") as store:
        corpus = corpus_of(store, store.repos("target"))
    assert set(index.ids) == {p.id for p in corpus}
    fresh = DualEncoder.load(reference / "checkpoints" / "03-expr-eval").embed(
        [premise_text(p) for p in corpus], max_length=1024).numpy()
    rows = [index.ids.index(p.id) for p in corpus]
    assert np.allclose(index.embeddings()[rows], fresh, atol=1e-5)


def test_a_second_run_redoes_nothing(reference: Path) -> None:
    before = _tables(reference / "leanagent.db")
    lines: list[str] = []
    run(load_config(None, {**SETTINGS, "workdir": str(reference)}), EXAMPLES / "repos.txt", echo=lines.append)
    assert not [line for line in lines if line.split()[0] in STAGES]
    assert _tables(reference / "leanagent.db") == before


def test_training_is_deterministic_across_processes(reference: Path, tmp_path: Path) -> None:
    run(load_config(None, {**SETTINGS, "workdir": str(tmp_path)}), EXAMPLES / "repos.txt")
    assert _tables(tmp_path / "leanagent.db") == _tables(reference / "leanagent.db")


def _start(workdir: Path) -> subprocess.Popen:
    args = [sys.executable, "-m", "leanagent", "run", str(EXAMPLES / "repos.txt"), "--workdir", str(workdir), "-q",
            "--set", "retriever.warmup_steps=5", "--model", "byt5-tiny"]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONHASHSEED": "0"})


def test_kill_9_at_several_moments_then_resume_gives_the_same_database(reference: Path, tmp_path: Path) -> None:
    # Kill points are stage boundaries seen in the database, so each kill lands at a different place.
    workdir = tmp_path / "killed"
    db = workdir / "leanagent.db"
    kills = 0
    for wanted in (1, 4, 7, 10):  # stages recorded before the kill: inside ingest, training, embedding, ...
        child = _start(workdir)
        deadline = time.monotonic() + 120
        while child.poll() is None and time.monotonic() < deadline:
            try:
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
                count = con.execute("SELECT COUNT(*) FROM stages").fetchone()[0]
                con.close()
            except sqlite3.Error:
                count = 0
            if count >= wanted:
                os.kill(child.pid, signal.SIGKILL)
                kills += 1
                break
            time.sleep(0.02)
        child.wait(timeout=60)
    assert kills >= 2
    final = _start(workdir)
    _, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()[-2000:]
    assert _tables(db) == _tables(reference / "leanagent.db")


def test_eval_picks_the_mix_again_as_the_evaluate_stage_did(reference: Path, tmp_path: Path, capsys) -> None:
    import shutil

    workdir = tmp_path / "run"
    shutil.copytree(reference, workdir)
    last = workdir / "checkpoints" / "03-expr-eval"
    picked = json.loads((last / "hybrid.json").read_text())
    assert main(["eval", "--workdir", str(workdir), "--json"]) == 0
    before = json.loads(capsys.readouterr().out)
    (last / "hybrid.json").write_text(json.dumps({"format": 1, "weight": 0.5, "validation_queries": 1}))
    assert main(["eval", "--workdir", str(workdir), "--pick", "--set", "retriever.priors=false", "--json"]) == 0
    assert json.loads((last / "hybrid.json").read_text())["usage_weight"] == 0.0  # no priors asked for
    assert "hybrid dense weight" in capsys.readouterr().err
    assert main(["eval", "--workdir", str(workdir), "--pick", "--json"]) == 0  # the run's own settings
    assert json.loads((last / "hybrid.json").read_text()) == picked  # the stage's pick, made again
    assert json.loads(capsys.readouterr().out) == before


def test_cli_run_status_eval_report(reference: Path, capsys) -> None:
    assert main(["status", "--workdir", str(reference), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["order"] == ["nat-basics", "list-lemmas", "expr-eval"]
    assert all(set(STAGES) <= set(stages) for stages in status["stages"].values())
    assert main(["eval", "--workdir", str(reference), "--json"]) == 0
    evaluation = json.loads(capsys.readouterr().out)
    assert evaluation["model"] == "03-expr-eval" and evaluation["ranking"] == "hybrid"
    assert set(evaluation["repos"]) == {"nat-basics", "list-lemmas", "expr-eval"}
    assert all({"recall_at_1", "recall_at_10", "mrr"} <= set(v) for v in evaluation["repos"].values())
    # Every figure with the number of test queries it rests on, and BM25's on the same queries beside it.
    with Store.open(reference / "leanagent.db") as store:
        tests = {e.checkpoint: e for e in store.evaluations() if e.split == "test" and e.repo_id == store.repos(
            role="target")[0].id}
    assert all(v["queries"] > 0 and set(v["bm25"]) == {"recall_at_1", "recall_at_10", "mrr"}
               for v in evaluation["repos"].values())
    assert evaluation["average"]["queries"] == sum(v["queries"] for v in evaluation["repos"].values())
    assert main(["eval", "--workdir", str(reference)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[1].split() == ["repository", "n", "R@1", "R@10", "MRR", "BM25", "R@10", "BM25", "MRR"]
    assert "bm25@03-expr-eval" in tests and tests["bm25@03-expr-eval"].queries == tests["03-expr-eval"].queries
    assert main(["eval", "--workdir", str(reference), "--baseline", "bm25", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "bm25"
    assert main(["eval", "--workdir", str(reference), "--compare", "bm25", "--json"]) == 0
    compared = json.loads(capsys.readouterr().out)
    assert [r["repo"] for r in compared["rows"]] == ["nat-basics", "list-lemmas", "expr-eval", "pooled"]
    assert compared["rows"][-1]["queries"] == evaluation["average"]["queries"]
    for row in compared["rows"]:  # the same figures as eval's, now with intervals around them
        for side in ("first", "second"):
            r10 = row[side]["recall_at_10"]
            assert r10["low"] <= r10["estimate"] <= r10["high"]
        if row["repo"] != "pooled":
            assert row["first"]["mrr"]["estimate"] == pytest.approx(evaluation["repos"][row["repo"]]["mrr"])
            assert row["second"]["mrr"]["estimate"] == pytest.approx(evaluation["repos"][row["repo"]]["bm25"]["mrr"])
    assert main(["eval", "--workdir", str(reference), "--compare", "bm25", "--ranking", "hybrid"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("03-expr-eval (hybrid) vs bm25 on the test queries") and table[-1].startswith("pooled")
    assert main(["eval", "--workdir", str(reference), "--json", "--percent"]) == 0  # the paper's scale
    percent = json.loads(capsys.readouterr().out)
    assert percent["scale"] == "percentage points, as the paper prints them"
    assert percent["average"]["mrr"] == pytest.approx(100 * evaluation["average"]["mrr"])
    assert percent["average"]["queries"] == evaluation["average"]["queries"]
    assert percent["repos"]["nat-basics"]["bm25"]["recall_at_10"] == pytest.approx(
        100 * evaluation["repos"]["nat-basics"]["bm25"]["recall_at_10"])
    assert main(["report", "--workdir", str(reference)]) == 0
    metrics = json.loads((reference / "report" / "metrics.json").read_text())
    assert metrics["order"] == ["nat-basics", "list-lemmas", "expr-eval"]
    assert metrics["recall_at_10"][0][1:] == [None, None] and metrics["recall_at_10"][2][2] is not None
    assert {"wf5", "forgetting_measure", "cfr", "expanded_bwt", "wp5", "incremental_plasticity"} <= set(
        metrics["metrics"])
    assert [(row["repo"], row["queries"] > 0, row["bm25_recall_at_10"] is not None) for row in metrics["scores"]] \
        == [("nat-basics", True, True), ("list-lemmas", True, True), ("expr-eval", True, True)]
    assert len(metrics["bm25_recall_at_10"]) == 3
    assert metrics["ranking"] == "hybrid (the trained encoder and BM25 fused)"  # the default ranking, named
    summary = (reference / "report" / "summary.md").read_text()
    assert "| repository | test queries | R@10 | BM25 R@10 | MRR | BM25 MRR |" in summary
    assert "With fewer than 10 queries one query moves Recall@10 by 0.1 or more" in summary
    assert metrics["sorry"]["expr-eval"]["attempted"] == 0
    assert len(metrics["sorry_theorems"]) == 9 and {r["outcome"] for r in metrics["sorry_theorems"]} == {"skipped"}
    assert "NatBasics.double_sub_self" in {r["theorem"] for r in metrics["sorry_theorems"]}
    assert "no Lean toolchain" in metrics["sorry"]["expr-eval"]["skipped_reason"]
    # The tactic generator's matrix beside the retriever's, with its lifelong metrics.
    tactics = metrics["tactics"]
    assert tactics["generator"] == "combined" and len(tactics["hit_at_64"]) == 3
    assert all(v is None for i, row in enumerate(tactics["hit_at_64"]) for v in row[i + 1:])
    assert tactics["scores"] and all(0 <= r["hit_at_64"] <= 1 and r["theorems"] > 0 for r in tactics["scores"])
    assert {"forgetting_measure", "expanded_bwt"} <= set(tactics["metrics"])
    assert "Tactic generator (combined): first-tactic hit@k on held-out theorems." in summary
    assert main(["status", "--workdir", str(reference)]) == 0
    assert "tactic generator combined: first-tactic hit@64" in capsys.readouterr().out


def test_status_of_an_empty_directory_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["status", "--workdir", str(tmp_path)]) == 2
    assert "no leanagent run here" in capsys.readouterr().err


def test_cli_run_logs_each_stage_and_writes_the_report(tmp_path: Path, capsys) -> None:
    workdir = tmp_path / "w"
    assert main(["run", str(EXAMPLES / "repos.txt"), "--workdir", str(workdir), "-q",
                 "--set", "retriever.warmup_steps=5"]) == 0
    assert capsys.readouterr().out.strip() == f"report: {workdir / 'report' / 'report.html'}"
    log = (workdir / "leanagent.log").read_text()
    assert log.count("leanagent.run: train ") == 3 and log.count("leanagent.run: prove ") == 3
    assert "configuration:" in log and (workdir / "report" / "metrics.json").is_file()
    # The corpus is embedded once per repository (for validation); the embed stage keeps those embeddings.
    assert log.count("retrieval.dense: embedding ") == 3 and log.count("the train stage's embeddings") == 3
    # The lock is taken by a run in progress: a second one is refused with one line.
    from leanagent.workdir import Workdir

    with Workdir(workdir).lock():
        assert main(["run", str(EXAMPLES / "repos.txt"), "--workdir", str(workdir), "-q"]) == 2
    assert "is in use by pid" in capsys.readouterr().err


# ---- proving with what the run learned (Lean replaced by its test double) ----------------------------------

def test_prove_without_lean_is_one_line_and_exit_2(reference: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("ELAN_HOME", str(reference / "no-elan"))
    assert main(["prove", "nat-basics", "--workdir", str(reference), "--patch", str(reference / "p.patch")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("leanagent prove: no Lean toolchain") and "elan" in err
    assert main(["prove", "no-such-repo", "--workdir", str(reference)]) == 2
    assert "no repository 'no-such-repo' in this run (known: expr-eval, list-lemmas, nat-basics)" in capsys.readouterr().err


def test_prove_repository_with_the_trained_retriever_and_a_patch(reference: Path, tmp_path: Path) -> None:
    import functools
    import shutil

    from leanagent.proving import GeneratorRecipe, VerifierRecipe, find_repo, prove_repository
    from leanagent.results import run_state
    from leanagent.workdir import Workdir
    from prover.generators import GenRequest
    from prover.testing import FakeLean, LakeDouble
    from tests.conftest import run_git

    workdir = tmp_path / "run"
    shutil.copytree(reference, workdir)  # attempts must not leak into the shared reference run
    wd = Workdir(workdir)
    goals = {"NatBasics.double_sub_self": "double n - n = n", "NatBasics.double_lt_double": "double m < double n",
             "NatBasics.sumTo_two_mul": "2 * sumTo n = n * (n + 1)"}
    rules = {("double n - n = n", "unfold NatBasics.double"): ("n + n - n = n",), ("n + n - n = n", "omega"): (),
             ("double m < double n", "unfold NatBasics.double"): ("m + m < n + n",), ("m + m < n + n", "omega"): ()}
    # the final word: Lean (its double, in today's message formats) on the whole file with the proof spliced in
    verify = VerifierRecipe(str(EXAMPLES / "nat-basics"), str(tmp_path / "check"), runner=LakeDouble(goals, rules))
    # Every tactic the generator offers is tried (fewer than 512, checked below) and the search ends by counts: its
    # outcome depends neither on how a tiny model's floats rank `double` on this CPU nor on the machine's load.
    config = load_config(None, {**SETTINGS, "workdir": str(workdir), "prover.num_premises": "64",
                                "prover.num_sampled_tactics": "512", "prover.max_expansions": "8"})
    with Store.open(wd.database) as store:
        repo = find_repo(store, "nat-basics")
        checkpoint = run_state(store).checkpoints[-1]
        recipe = GeneratorRecipe("templates", str(wd.database), repo.id, str(wd.checkpoints / checkpoint),
                                 str(wd.index), num_premises=64)
        target = store.theorems(repo.id, sorry=True)[0]
        [row] = recipe().generate([GenRequest("⊢ double n - n = n", target)], 500)
        assert "unfold NatBasics.double" in {s.tactic for s in row}  # retrieved: accessible from Double.lean
        p = config.prover
        searched = GeneratorRecipe(p.generator, str(wd.database), repo.id, str(wd.checkpoints / checkpoint),
                                   str(wd.index), config.retriever.max_length, p.num_premises, config.retriever.ranking,
                                   config.retriever.fusion, p.memory_neighbours)()
        [offered] = searched.generate([GenRequest("⊢ double n - n = n", target)], 1000)
        assert len(offered) < p.num_sampled_tactics  # the search tries them all, whatever their order
        done = prove_repository(config, store, wd, repo, checkpoint, checkpoint_dir=wd.checkpoints / checkpoint,
                                index_dir=wd.index, patch=tmp_path / "nat.patch",
                                env_factory=functools.partial(FakeLean, goals, rules), verifier_factory=verify)
        assert (done.targets, done.attempted, done.proved, done.outcomes) == (3, 3, 2, {"proved": 2, "failed": 1})
        proofs = {a.theorem_id: a.proof for a in store.attempts(checkpoint=checkpoint, outcome="proved")}
        assert sorted(proofs.values()) == ["unfold NatBasics.double\nomega"] * 2
        again = prove_repository(config, store, wd, repo, checkpoint, env_factory=functools.partial(FakeLean, goals, rules),
                                 verifier_factory=verify)
        assert (again.attempted, again.resumed, again.proved) == (0, 3, 2)
    copy = tmp_path / "nat-basics"
    shutil.copytree(EXAMPLES / "nat-basics", copy)
    run_git(copy, "init", "-q")
    run_git(copy, "add", ".")
    run_git(copy, "commit", "-qm", "base")
    subprocess.run(["git", "apply", str(tmp_path / "nat.patch")], cwd=copy, check=True, timeout=30)
    text = (copy / "NatBasics" / "Double.lean").read_text()
    assert "double n - n = n := by\n  unfold NatBasics.double\n  omega\n" in text
    assert (copy / "NatBasics" / "Sum.lean").read_text() == (EXAMPLES / "nat-basics" / "NatBasics" / "Sum.lean").read_text()


def test_memory_and_combined_generators_of_a_run(reference: Path) -> None:
    from leanagent.proving import GeneratorRecipe, find_repo
    from leanagent.results import run_state
    from leanagent.workdir import Workdir
    from prover.generators import CombinedGenerator, GenRequest
    from prover.memory import DenseNeighbours, LexicalNeighbours, ProofMemory

    wd = Workdir(reference)
    with Store.open(wd.database) as store:
        repo = find_repo(store, "nat-basics")
        checkpoint = run_state(store).checkpoints[-1]
        target = store.theorems(repo.id, sorry=True)[0]
        proved = sum(len(store.theorems(r.id, sorry=False)) for r in store.repos("target"))

    def recipe(kind: str, neighbours: str = "lexical") -> GeneratorRecipe:
        return GeneratorRecipe(kind, str(wd.database), repo.id, str(wd.checkpoints / checkpoint), str(wd.index),
                               num_premises=64, neighbours=neighbours)  # byt5-tiny ranks `double` 17th of 18

    dense = recipe("memory", "dense")()
    assert isinstance(dense, ProofMemory) and isinstance(dense.neighbours, DenseNeighbours)
    memory = recipe("memory")()
    assert isinstance(memory, ProofMemory) and isinstance(memory.neighbours, LexicalNeighbours)
    assert {e.theorem_id for e in memory.entries} and len({e.theorem_id for e in memory.entries}) <= proved
    state = "m n : Nat\nh : m < n\n⊢ double m < double n"
    [row] = memory.generate([GenRequest(state, target)], 64)
    assert "unfold double" in {s.tactic for s in row}  # nat-basics' proofs of double facts start so
    combined = recipe("combined")()
    assert isinstance(combined, CombinedGenerator)
    [row] = combined.generate([GenRequest(state, target)], 200)
    tactics = {s.tactic for s in row}
    assert {"unfold double", "unfold NatBasics.double", "omega"} <= tactics  # memory's and the templates'


def _run_training_a_tactic_model(tmp_path: Path, until: str, settings: dict[str, str]):
    """The offline example run until ``until`` with ``settings``: its workdir, state, the train stages' tactic
    model records and nat-basics."""
    from leanagent.proving import find_repo
    from leanagent.results import run_state
    from leanagent.workdir import Workdir

    config = load_config(None, {**SETTINGS, "workdir": str(tmp_path), **settings})
    assert run(config, EXAMPLES / "repos.txt", until=until).failures == []
    wd = Workdir(tmp_path)
    with Store.open(wd.database) as store:
        state = run_state(store)
        trained = [state.stages[r.id]["train"]["tactic_model"] for r in state.order]
        repo = find_repo(store, "nat-basics")
    return wd, state, trained, repo


def test_a_run_trains_the_ngram_tactic_ranker_progressively_and_combines_it(tmp_path: Path) -> None:
    from leanagent.proving import GeneratorRecipe
    from prover.generators import CombinedGenerator
    from prover.tactic_ranker import TACTIC_RANKER_DIR, RankerGenerator, TacticRanker

    wd, state, trained, repo = _run_training_a_tactic_model(tmp_path, "embed", {"prover.tactic_model": "ngram"})
    assert [t["model"] for t in trained] == ["ngram"] * 3
    earlier = [sum(u["pairs"] for u in trained[:i]) for i in range(3)]
    assert [t["replayed"] for t in trained] == [min(max(4 * t["pairs"], 16000), e) for t, e in zip(trained, earlier)]
    assert trained[0]["replayed"] == 0 and trained[2]["replayed"] > 0  # every earlier pair, so few are there
    rankers = [TacticRanker.load(wd.checkpoints / c / TACTIC_RANKER_DIR) for c in state.checkpoints]
    assert [len(r) for r in rankers] == [t["tactics"] for t in trained]
    for before, after in itertools.pairwise(rankers):
        assert after.labels[:len(before)] == before.labels and len(after) > len(before)  # grown, nothing dropped
        assert {u: after.counts[u] for u in before.counts} == before.counts  # earlier counts kept as they were
    urls = [r.url for r in state.order[:3]]
    assert [list(r.counts) for r in rankers] == [urls[:1], urls[:2], urls]  # each one's tactics under its URL
    assert sum(rankers[-1].counts[urls[0]].values()) == trained[0]["pairs"]  # one per training step
    combined = GeneratorRecipe("combined", str(wd.database), repo.id, str(wd.checkpoints / state.checkpoints[-1]),
                               str(wd.index))()
    assert isinstance(combined, CombinedGenerator) and isinstance(combined.generators[-1], RankerGenerator)


def test_tactic_freeze_after_leaves_the_rankers_n_gram_embeddings_as_the_first_repository_left_them(
        tmp_path: Path) -> None:
    import torch

    from leanagent.config import ConfigError
    from prover.tactic_ranker import TACTIC_RANKER_DIR, TacticRanker

    wd, state, trained, _ = _run_training_a_tactic_model(
        tmp_path, "embed", {"prover.tactic_model": "ngram", "prover.tactic_freeze_after": "1"})
    rankers = [TacticRanker.load(wd.checkpoints / c / TACTIC_RANKER_DIR) for c in state.checkpoints]
    first, second, third = (r.embedding.weight for r in rankers)
    assert torch.equal(first, second) and torch.equal(second, third)  # frozen after the first ...
    assert not torch.equal(rankers[1].out.weight[:len(rankers[0])], rankers[0].out.weight)  # ... the rows still learn
    assert len(rankers[2]) > len(rankers[1]) > len(rankers[0]) and [t["model"] for t in trained] == ["ngram"] * 3
    with pytest.raises(ConfigError, match="tactic_freeze_after"):
        load_config(None, {"prover.tactic_freeze_after": "-1"})


def test_the_generators_lifelong_matrix_is_recorded(reference: Path) -> None:
    from leanagent.results import run_state

    with Store.open(reference / "leanagent.db") as store:
        state = run_state(store)
        cells = store.tactic_evaluations()
    # The default generator after each repository on every repository seen (1 + 2 + 3 test cells, where a
    # repository has held-out tactic proofs) and on the new one's validation split.
    tests = {(c.checkpoint, c.repo_id) for c in cells if c.split == "test"}
    assert {c.generator for c in cells} == {"combined"}
    expected = {(state.checkpoints[i], state.order[j].id) for i in range(3) for j in range(i + 1)}
    assert tests <= expected and {ck for ck, _ in tests} == set(state.checkpoints)
    assert all(0 <= c.hit_at_1 <= c.hit_at_8 <= c.hit_at_64 <= 1 and c.cases > 0 for c in cells)


def test_traced_extraction_without_lean_keeps_the_static_records(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("ELAN_HOME", str(tmp_path / "no-elan"))
    config = load_config(None, {**SETTINGS, "workdir": str(tmp_path / "w"), "acquire.extractor": "traced"})
    result = run(config, EXAMPLES / "repos.txt", until="train")
    assert len(result.failures) == 3
    assert all("cannot trace" in f and "no Lean toolchain" in f and "static extractor" in f for f in result.failures)
    from leanagent.workdir import Workdir

    with Store.open(Workdir(tmp_path / "w").database) as store:
        assert len(store.repos("target")) == 3  # nothing lost: the static records were stored
    auto = run(load_config(None, {**SETTINGS, "workdir": str(tmp_path / "a"), "acquire.extractor": "auto"}),
               EXAMPLES / "repos.txt", until="train")
    assert auto.failures == []  # auto without Lean: static, silently


def test_a_bm25_run_fills_its_own_lifelong_matrix(tmp_path: Path, capsys) -> None:
    from leanagent.results import report_data

    workdir = tmp_path / "bm25"
    result = run(load_config(None, {**SETTINGS, "workdir": str(workdir), "retriever.model": "bm25"}),
                 EXAMPLES / "repos.txt")
    assert result.failures == []
    from leanagent.workdir import Workdir

    with Store.open(Workdir(workdir).database) as store:
        data = report_data(store)
        matrix = data.recall_at_10
        assert all(None not in row[: i + 1] and set(row[i + 1:]) <= {None} for i, row in enumerate(matrix))
        assert len(matrix) == 3 and data.metrics["average_recall_at_10"] is not None
        # The last row is plain BM25 over the whole corpus: the same numbers as `eval --baseline bm25`.
        assert main(["eval", "--workdir", str(workdir), "--json"]) == 0
        last = json.loads(capsys.readouterr().out)
        assert [round(last["repos"][name]["recall_at_10"], 6) for name in data.order] == \
               [round(x, 6) for x in matrix[-1]]
        assert not (Workdir(workdir).checkpoints / "03-expr-eval" / "leanagent.json").exists()  # no weights


def test_a_run_trains_its_tactic_model_progressively_and_combines_it(tmp_path: Path) -> None:
    from extraction.lexer import gives_up
    from leanagent.proving import GeneratorRecipe
    from prover.generators import CombinedGenerator, GenRequest, Seq2SeqGenerator
    from prover.tactic_model import TACTIC_MODEL_DIR

    wd, state, trained, repo = _run_training_a_tactic_model(
        tmp_path, "evaluate", {"prover.tactic_model": "byt5-tiny", "prover.tactic_pairs": "6",
                               "prover.tactic_eval_cases": "2"})
    with Store.open(wd.database) as store:
        target = store.theorems(repo.id, sorry=True)[0]
        cells = store.tactic_evaluations(checkpoint=state.checkpoints[-1])
    assert [t["pairs"] > 0 and t["steps"] > 0 for t in trained] == [True] * 3  # one epoch on each repository
    assert [t["pairs"] for t in trained] == [min(6, t["of_pairs"]) for t in trained]  # a sample of the bigger ones
    assert any(t["of_pairs"] > 6 for t in trained)
    models = [wd.checkpoints / c / TACTIC_MODEL_DIR / "model.safetensors" for c in state.checkpoints]
    assert all(m.is_file() for m in models)
    assert len({m.read_bytes() for m in models}) == 3  # each repository moved it on from the last
    recipe = GeneratorRecipe("combined", str(wd.database), repo.id, str(wd.checkpoints / state.checkpoints[-1]),
                             str(wd.index))
    combined = recipe()
    assert isinstance(combined, CombinedGenerator) and isinstance(combined.generators[-1], Seq2SeqGenerator)
    model = GeneratorRecipe("model", str(wd.database), repo.id, str(wd.checkpoints / state.checkpoints[-1]),
                            str(wd.index))()
    request = GenRequest("n : Nat\n⊢ double n - n = n", target)
    [row] = model.generate([request], 4)
    # Whatever a model this small writes (junk, or only blanks on some CPUs): each distinct beam of its own beam
    # search that is not blank and gives up nothing, best first, scored as a log-probability.
    inputs = model.tokenizer(model.inputs([request]), return_tensors="pt")
    beams = model.model.generate(**inputs, num_beams=4, num_return_sequences=4, do_sample=False, length_penalty=0.0,
                                 return_dict_in_generate=True, output_scores=True, max_new_tokens=model.max_output_tokens)
    written = [text.strip() for text in model.tokenizer.batch_decode(beams.sequences, skip_special_tokens=True)]
    assert len(written) == 4 and {s.tactic for s in row} == {t for t in written if t and not gives_up(t)}
    assert all(s.logprob <= 0 for s in row) and [s.logprob for s in row] == sorted((s.logprob for s in row), reverse=True)
    assert cells and {c.generator for c in cells} == {"combined"}
    assert max(c.cases for c in cells) == 2  # a beam per theorem: a sample of each split


def test_a_resumed_run_keeps_its_settings_and_says_when_flags_change_them(tmp_path: Path, caplog) -> None:
    from leanagent.cli import main

    repos = tmp_path / "repos.txt"
    repos.write_text(f"{EXAMPLES / 'nat-basics'}\n")
    workdir = tmp_path / "w"
    common = ["train", str(repos), "--workdir", str(workdir), "--offline", "--no-deps", "-q", "--model", "byt5-tiny",
              "--set", "retriever.warmup_steps=5"]
    assert main([*common, "--set", "prover.num_premises=5"]) == 0  # started with a setting of its own
    assert "num_premises = 5" in (workdir / "config.toml").read_text()
    caplog.clear()
    assert main(common) == 0  # the same command without the flag: the run's own setting, not the default
    assert "num_premises = 5" in (workdir / "config.toml").read_text()
    assert "other settings" not in caplog.text
    assert main([*common, "--set", "prover.tactic_pairs=7"]) == 0
    assert "prover.tactic_pairs 2000 → 7" in caplog.text and "the run goes on with other settings" in caplog.text


def test_the_tactic_model_by_default_is_the_ranker_on_a_cpu_and_the_seq2seq_model_on_a_gpu() -> None:
    from leanagent.learner import tactic_model_of

    def start(**settings: str) -> str:
        return tactic_model_of(load_config(None, {f"prover.{k}" if k != "device" else "retriever.device": v
                                                  for k, v in settings.items()}))

    assert start(device="cpu") == "ngram" and start(device="cuda") == "byt5-tiny"  # auto, the default
    assert start(device="cpu", tactic_model="ngram") == "ngram"
    assert start(device="cpu", tactic_model="byt5-tiny") == "byt5-tiny" and start(device="cuda", tactic_model="") == ""
    assert start(device="cpu", tactic_model="some/hub-model") == "some/hub-model"


def test_replay_mixes_the_earlier_repositories_examples_into_each_epoch(reference: Path, tmp_path: Path) -> None:
    from leanagent.results import run_state
    from leanagent.workdir import Workdir

    config = load_config(None, {**SETTINGS, "workdir": str(tmp_path), "retriever.replay": "0.5"})
    assert run(config, EXAMPLES / "repos.txt", until="train").failures == []

    def examples(workdir: Path) -> list[int]:
        with Store.open(Workdir(workdir).database) as store:
            state = run_state(store)
            return [state.stages[r.id]["train"]["examples"] for r in state.order]

    own, mixed = examples(reference), examples(tmp_path)  # the reference run replays nothing
    assert mixed == [own[0], *(n + min(sum(own[:i]), round(0.5 * n)) for i, n in enumerate(own) if i > 0)]
    assert mixed[1:] != own[1:]
