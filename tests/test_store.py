"""The SQLite store: migrations, whole-record round trips, idempotent and atomic ingest, stages, results."""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlite_utils import Database

from database import (
    Dependency, Evaluation, Pos, Premise, ProofAttempt, Repo, RepoCounts, RepoScan, ScanError, SourceFile,
    StageStatus, Store, StoreError, TacticStep, Theorem, UnknownRepo,
)
from database.migrations import LATEST_VERSION, SchemaError, migrate
from database.store import Changes, IngestResult

ROOT = Path(__file__).resolve().parent.parent
URL = "https://github.com/example/proj"


# ---------------------------------------------------------------- builders


def premise(name: str, path: str, line: int, code: str | None = None, kind: str = "theorem") -> Premise:
    return Premise(name, kind, path, Pos(line, 1), Pos(line + 1, 10), code or f"{kind} {name} : True")


def theorem(repo: Repo, name: str, path: str, line: int, **kw) -> Theorem:
    fields = dict(statement=f"theorem {name} : True", proof=":= by\n  trivial", steps=(TacticStep("trivial"),))
    fields.update(kw)
    return Theorem(repo.url, repo.commit, path, name, Pos(line, 1), Pos(line + 2, 12), **fields)


def small_scan(url: str = URL, commit: str = "c" * 40) -> RepoScan:
    """A hand-written scan touching every field, in the store's read order (by path, then position)."""
    repo = Repo(url, commit, "example/proj", "leanprover/lean4:v4.9.0", path="/tmp/proj",
                dependencies=(Dependency("batteries", "https://github.com/leanprover-community/batteries",
                                         "d" * 40),))
    basic, more = "Proj/Basic.lean", "Proj/More.lean"
    files = (SourceFile(basic, "Proj.Basic", ("Init",), lines=30),
             SourceFile(more, "Proj.More", ("Proj.Basic", "Batteries"), lines=12))
    premises = (premise("Proj.add_zero'", basic, 1), premise("Proj.double", basic, 5, kind="def",
                                                             code="def Proj.double (n : ℕ) : ℕ"),
                premise("Proj.more", more, 3))
    traced = theorem(repo, "Proj.traced", basic, 10, extractor="traced", premises=("Proj.add_zero'", "Nat.add"),
                     steps=(TacticStep("intro n", "⊢ ∀ n, n + 0 = n", "n : ℕ\n⊢ n + 0 = n", ()),
                            TacticStep("rw [Proj.add_zero']", "n : ℕ\n⊢ n + 0 = n", "", ("Proj.add_zero'",))))
    target = theorem(repo, "Proj.todo", basic, 20, proof=":= by\n  sorry", steps=(TacticStep("sorry"),),
                     has_sorry=True)
    placeholder = theorem(repo, "Proj.weird", more, 5, statement="theorem Proj.weird : sorry",
                          proof=":= sorry", steps=(), has_sorry=True, placeholder=True)
    return RepoScan(repo, files, premises, (traced, target, placeholder), warnings=("Proj/X.lean: bad UTF-8",))


def big_scan(n_theorems: int = 2000, n_premises: int = 8000, *, commit: str = "b" * 40, variant: int = 0,
             url: str = "https://github.com/example/big") -> RepoScan:
    """A synthetic repository of many files, premises and theorems; ``variant`` changes every proof."""
    repo = Repo(url, commit, "example/big", "leanprover/lean4:v4.9.0")
    n_files = 50
    paths = [f"Big/F{i:03d}.lean" for i in range(n_files)]
    files = tuple(SourceFile(p, p[:-5].replace("/", "."), ("Init",), lines=1000) for p in paths)
    premises = tuple(premise(f"Big.p{i}", paths[i % n_files], 1 + i // n_files * 3) for i in range(n_premises))
    theorems = tuple(theorem(repo, f"Big.t{i}", paths[i % n_files], 100_000 + i // n_files * 5,
                             proof=f":= by\n  simp [Big.p{i}]  -- v{variant}",
                             steps=(TacticStep(f"simp [Big.p{i}]", "⊢ True", "", (f"Big.p{i}",)),),
                             premises=(f"Big.p{i}", f"Big.p{i + 1}"), has_sorry=i % 7 == 0)
                     for i in range(n_theorems))
    return RepoScan(repo, files, premises, theorems)


def canonical(scan: RepoScan) -> RepoScan:
    """``scan`` with its lists in the store's read order."""
    return dataclasses.replace(
        scan, files=tuple(sorted(scan.files, key=lambda f: f.path)),
        premises=tuple(sorted(scan.premises, key=lambda p: (p.path, p.start, p.full_name, p.id))),
        theorems=tuple(sorted(scan.theorems, key=lambda t: (t.path, t.start, t.full_name, t.id))))


def dump(store: Store, *, skip_columns: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Every row of every table, order-free (see :meth:`Store.content`)."""
    return store.content(skip_columns=skip_columns)


def new_repo_result(rid: str, files: int, premises: int, theorems: int, role: str = "target") -> IngestResult:
    """What ingesting a repository the store did not hold reports."""
    return IngestResult(rid, role, "added", Changes(added=files), Changes(added=premises),
                        Changes(added=theorems))


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "run" / "leanagent.db") as s:
        yield s


# ---------------------------------------------------------------- opening and migrations


def test_open_creates_schema_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "db.sqlite"
    with Store.open(path) as s:
        assert path.exists()
        assert s.schema_version == LATEST_VERSION == 5
        assert s.db.journal_mode == "wal"
        assert s.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert {"repos", "files", "premises", "repo_premises", "theorems", "theorem_premises", "stages",
                "evaluations", "proof_attempts", "tactic_evaluations", "migrations"} <= set(s.db.table_names())
        ran = [(r["name"], r["applied_at"][:2]) for r in s.db.query("SELECT * FROM migrations ORDER BY id")]
        assert ran == [("0001_initial", "20"), ("0002_results", "20"), ("0003_evaluation_queries", "20"),
                       ("0004_tactic_evaluations", "20"), ("0005_repo_textbook", "20")]
        with pytest.raises(sqlite3.IntegrityError):  # foreign keys are enforced
            with s.db.atomic():
                s.db["files"].insert({"id": "f", "repo_id": "nope", "path": "a", "module": "a", "imports": "[]",
                                      "lines": 0})
    with Store.open(path) as s:  # reopening applies nothing again
        assert s.db["migrations"].count == 5


def test_evaluations_of_an_older_run_keep_their_figures_with_no_query_count(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(path)
    assert migrate(db, stop_before="0003_evaluation_queries") == 2
    db["evaluations"].insert({"checkpoint": "c", "repo_id": "r", "split": "test", "recall_at_1": 0.5,
                              "recall_at_10": 0.75, "mrr": 0.6})
    db.close()
    with Store.open(path) as s:
        (old,) = s.evaluations()
        assert (old.recall_at_10, old.queries) == (0.75, 0)
        s.add_evaluation(Evaluation("c2", "r", "test", 0.25, 0.5, 0.3, queries=12))
        assert [e.queries for e in s.evaluations()] == [0, 12]


def test_tactic_evaluations_are_cells_replaced_by_key(tmp_path: Path) -> None:
    from database.records import TacticEvaluation

    with Store.open(tmp_path / "db.sqlite") as s:
        first = TacticEvaluation("01-a", "r1", "test", "combined", 0.1, 0.25, 0.5, cases=8)
        s.add_tactic_evaluations([first, TacticEvaluation("01-a", "r1", "validation", "combined", 0, 0, 0.5, 2)])
        s.add_tactic_evaluations([TacticEvaluation("01-a", "r1", "test", "combined", 0.2, 0.3, 0.6, cases=9)])
        cells = s.tactic_evaluations(checkpoint="01-a")
        assert [(c.split, c.hit_at_64, c.cases) for c in cells] == [("test", 0.6, 9), ("validation", 0.5, 2)]
        assert s.tactic_evaluations(checkpoint="02-b") == []


def test_upgrade_from_first_migration_keeps_data(tmp_path: Path, monkeypatch) -> None:
    from database import schema

    path = tmp_path / "old.db"
    db = Database(path)
    db.execute("PRAGMA foreign_keys = ON")
    assert migrate(db, stop_before="0002_results") == 1
    old = Store(db)  # the code of that time only touched the tables of 0001, and the repos' columns of 0001
    scan = small_scan()
    with monkeypatch.context() as m:
        real = schema.repo_row
        m.setattr(schema, "repo_row", lambda repo: {k: v for k, v in real(repo).items() if k != "textbook"})
        old.ingest(scan)
    old.mark_stage(scan.repo.id, "extract", {"seconds": 1.5})
    before = dump(old)
    assert "evaluations" not in before
    old.close()

    with Store.open(path) as s:
        assert s.schema_version == 5
        after = dump(s, skip_columns=("textbook",))  # 0005 added a column (0 for every repository)
        assert [r.textbook for r in s.repos()] == [False]
        assert {t: after[t] for t in before if t != "migrations"} == {t: v for t, v in before.items()
                                                                      if t != "migrations"}
        assert after["evaluations"] == after["proof_attempts"] == []
        assert s.scan(scan.repo.id) == scan
        s.add_evaluation(Evaluation("ckpt-1", scan.repo.id, "test", 0.5, 0.75, 0.6))
        assert s.evaluations() == [Evaluation("ckpt-1", scan.repo.id, "test", 0.5, 0.75, 0.6)]


def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db"
    Store.open(path).close()
    db = Database(path)
    with db.atomic():
        db["migrations"].insert({"migration_set": "leanagent", "name": "9999_future", "applied_at": "x"})
    db.close()
    with pytest.raises(SchemaError, match="9999_future"):
        Store.open(path)


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="junk.db"):
        Store.open(path)


def test_memory_store() -> None:
    with Store.open(":memory:") as s:
        s.ingest(small_scan())
        assert len(s.repos()) == 1


# ---------------------------------------------------------------- round trips


def test_round_trip_of_whole_records(store: Store) -> None:
    scan = small_scan()
    result = store.ingest(scan)
    rid = scan.repo.id
    assert result == new_repo_result(rid, 2, 3, 3)
    assert store.repos() == store.repos("target") == [scan.repo] and store.repos("dependency") == []
    assert store.repo(rid) == scan.repo and store.repo(rid).path == "/tmp/proj"
    assert store.files(rid) == list(scan.files) and [f.lines for f in store.files(rid)] == [30, 12]
    assert store.premises(rid) == store.premises() == list(scan.premises)
    assert store.theorems(rid) == list(scan.theorems)
    assert [t.extractor for t in store.theorems(rid)] == ["traced", "static", "static"]
    assert store.theorems(rid, sorry=True) == list(scan.theorems[1:])
    assert store.theorems(rid, sorry=False) == [scan.theorems[0]]
    assert store.scan(rid) == scan and store.scan(rid).warnings == scan.warnings
    assert store.counts(rid) == RepoCounts(files=2, theorems=3, sorry_theorems=1, placeholders=1, premises=3)
    assert store.role(rid) == "target"
    row = next(store.db.query("SELECT * FROM repos"))
    assert (row["n_files"], row["n_theorems"], row["n_sorry"], row["n_premises"]) == (2, 3, 1, 3)


def test_reads_come_back_in_canonical_order(store: Store) -> None:
    scan = small_scan()
    shuffled = dataclasses.replace(scan, files=scan.files[::-1], premises=scan.premises[::-1],
                                   theorems=scan.theorems[::-1])
    store.ingest(shuffled)
    assert store.scan(scan.repo.id) == canonical(shuffled) == scan


def test_unknown_repository(store: Store) -> None:
    assert store.repo("repo:nothing") is None and store.scan("repo:nothing") is None
    for read in (store.files, store.theorems, store.premises, store.counts):
        with pytest.raises(UnknownRepo, match="repo:nothing"):
            read("repo:nothing")


# ---------------------------------------------------------------- ingest semantics


def test_second_ingest_changes_nothing(store: Store) -> None:
    scan, other = small_scan(), big_scan(50, 100)
    store.ingest(scan)
    store.ingest(other)
    before, changes = dump(store), store.db.conn.total_changes
    result = store.ingest(scan)
    assert not result.changed and result.repo == "unchanged"
    assert result.theorems == Changes(unchanged=3) and result.premises == Changes(unchanged=3)
    assert store.db.conn.total_changes == changes
    assert dump(store) == before


def test_reingest_with_changed_content_replaces_exactly(tmp_path: Path) -> None:
    v1 = small_scan()
    repo = v1.repo
    shared = v1.premises[0]
    # Another repository defines the same premise (same id) at another position.
    b_repo = Repo("https://github.com/example/b", "e" * 40, "example/b")
    b_shared = dataclasses.replace(shared, start=Pos(40, 1), end=Pos(41, 3))
    b = RepoScan(b_repo, (SourceFile(shared.path, "Proj.Basic"),), (b_shared,), ())
    # v2: a file, a premise shared with b and one of its own gone; a theorem changed, one gone, one new.
    traced, target, _ = v1.theorems
    v2 = dataclasses.replace(
        v1, files=v1.files[:1], premises=(premise("Proj.new", "Proj/Basic.lean", 8),),
        theorems=(dataclasses.replace(traced, premises=("Nat.add",), proof=":= by simp"),
                  target, theorem(repo, "Proj.fresh", "Proj/Basic.lean", 25)),
        extractor="traced")

    with Store.open(tmp_path / "a.db") as s:
        s.ingest(b)
        s.ingest(v1)
        s.set_difficulty([traced.id, target.id], "easy")
        result = s.ingest(v2)
        assert result.repo == "updated"
        assert result.files == Changes(removed=1, unchanged=1)
        assert result.premises == Changes(added=1, removed=3)
        assert result.theorems == Changes(added=1, updated=1, removed=1, unchanged=1)
        assert s.scan(repo.id) == canonical(v2)
        assert s.scan(b_repo.id) == b  # the shared premise row stays, with b's own positions
        assert s.premises() == sorted([b_shared, *v2.premises], key=lambda p: (p.path, p.start))
        assert s.theorems(repo.id, difficulty="easy") == [target]  # the changed one lost its bucket
        got = dump(s, skip_columns=("ingested_at", "applied_at", "difficulty"))

    with Store.open(tmp_path / "b.db") as fresh:  # oracle: v2 ingested into a database that never saw v1
        fresh.ingest(b)
        fresh.ingest(v2)
        assert got == dump(fresh, skip_columns=("ingested_at", "applied_at", "difficulty"))


def test_dependency_keeps_files_and_premises_only(store: Store) -> None:
    scan = small_scan()
    rid = scan.repo.id
    result = store.ingest(scan, role="dependency")
    assert result == new_repo_result(rid, 2, 3, 0, role="dependency")
    assert store.repos("dependency") == [scan.repo] and store.repos("target") == []
    assert store.theorems(rid) == [] and store.premises(rid) == list(scan.premises)
    assert store.counts(rid) == RepoCounts(files=2, theorems=0, sorry_theorems=0, placeholders=0, premises=3)
    assert store.ingest(scan, role="target").theorems == Changes(added=3)
    assert store.ingest(scan, role="dependency").theorems == Changes(removed=3)
    assert store.db["theorems"].count == store.db["theorem_premises"].count == 0
    assert store.role(rid) == "dependency"


def test_bad_scans_are_refused_before_writing(store: Store) -> None:
    scan = small_scan()
    before = dump(store)
    with pytest.raises(ScanError, match="duplicate theorems"):
        store.ingest(dataclasses.replace(scan, theorems=scan.theorems + scan.theorems[:1]))
    with pytest.raises(ScanError, match="duplicate files"):
        store.ingest(dataclasses.replace(scan, files=scan.files * 2))
    alien = theorem(Repo("https://elsewhere", "f" * 40, "x"), "X.t", "X.lean", 1)
    with pytest.raises(ScanError, match="X.t belongs to https://elsewhere"):
        store.ingest(dataclasses.replace(scan, theorems=(alien,)))
    with pytest.raises(ScanError, match="twice"):
        store.ingest(dataclasses.replace(scan, theorems=(dataclasses.replace(scan.theorems[0],
                                                                             premises=("a", "a")),)))
    with pytest.raises(ValueError, match="role"):
        store.ingest(scan, role="library")  # type: ignore[arg-type]
    assert dump(store) == before


@pytest.mark.parametrize("existing", [False, True], ids=["new-repo", "replacing"])
def test_failure_mid_ingest_leaves_no_trace(store: Store, monkeypatch: pytest.MonkeyPatch,
                                            existing: bool) -> None:
    store.ingest(big_scan(30, 60))
    if existing:
        store.ingest(small_scan())
    before, changes = dump(store), store.db.conn.total_changes
    real = Store._sync_theorems

    def sync_then_fail(self: Store, *args):
        real(self, *args)  # files, premises and theorems written: the transaction is nearly done
        assert self.db.conn.total_changes > changes
        raise RuntimeError("injected")

    monkeypatch.setattr(Store, "_sync_theorems", sync_then_fail)
    changed = dataclasses.replace(small_scan(), files=(), premises=(), theorems=small_scan().theorems[:1])
    with pytest.raises(RuntimeError, match="injected"):
        store.ingest(changed)
    assert not store.db.conn.in_transaction
    assert dump(store) == before


_CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.test_store import big_scan
from database.store import Store

db, marker, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
store = Store.open(db)
store.ingest(big_scan(commit="0" * 40))
if mode == "inside":  # stop inside the transaction, after every row is written, and wait for the kill
    real = Store._sync_theorems
    def sync_and_wait(self, *args):
        result = real(self, *args)
        marker.write_text("inside")
        time.sleep(120)
        return result
    Store._sync_theorems = sync_and_wait
    store.ingest(big_scan(commit="1" * 40))
else:  # replace one repository's content back and forth until killed, wherever that lands
    for i in range(10_000):
        store.ingest(big_scan(commit="1" * 40, variant=i % 2))
        marker.write_text(str(i))
"""


def _run_and_kill(tmp_path: Path, mode: str, delay: float) -> Path:
    db, marker, script = tmp_path / "kill.db", tmp_path / "marker", tmp_path / "child.py"
    script.write_text(_CHILD.format(root=str(ROOT)))
    with open(tmp_path / "child.log", "w") as log:
        child = subprocess.Popen([sys.executable, str(script), str(db), str(marker), mode], cwd=ROOT,
                                 stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, (tmp_path / "child.log").read_text()
            assert time.monotonic() < deadline, "child never reached the marker"
            time.sleep(0.01)
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    return db


def test_kill_9_inside_ingest_transaction_leaves_nothing(tmp_path: Path) -> None:
    db = _run_and_kill(tmp_path, "inside", 0.0)
    with Store.open(db) as s:
        assert s.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        first = big_scan(commit="0" * 40)
        assert s.repos() == [first.repo]
        assert s.repo(big_scan(commit="1" * 40).repo.id) is None
        assert s.scan(first.repo.id) == canonical(first)
        assert s.db["files"].count == 50 and s.db["theorems"].count == 2000
        assert s.db["repo_premises"].count == s.db["premises"].count == 8000


def test_kill_9_while_reingesting_leaves_one_whole_version(tmp_path: Path) -> None:
    db = _run_and_kill(tmp_path, "loop", 0.15)
    with Store.open(db) as s:
        assert s.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        versions = [canonical(big_scan(commit="1" * 40, variant=v)) for v in (0, 1)]
        assert s.scan(versions[0].repo.id) in versions
        assert s.db["theorems"].count == 4000 and s.db["theorem_premises"].count == 8000


def test_ingest_2k_theorems_smoke(store: Store) -> None:
    """Not a timed test: it keeps a realistic size in the suite (bench/ measures speed)."""
    scan = big_scan(2000, 8000)
    assert store.ingest(scan).theorems == Changes(added=2000)
    assert store.counts(scan.repo.id) == RepoCounts(files=50, theorems=2000, sorry_theorems=286,
                                                    placeholders=0, premises=8000)
    assert store.ingest(scan).changed is False


# ---------------------------------------------------------------- stages and results


def test_stages(store: Store) -> None:
    rid = small_scan().repo.id
    assert not store.stage_done(rid, "train") and store.stages() == []
    store.mark_stage(rid, "extract", {"seconds": 2.5, "files": ["a", "b"]})
    store.mark_stage(rid, "train", status="failed")
    store.mark_stage("", "curriculum")
    assert store.stage_done(rid, "extract") and not store.stage_done(rid, "train")
    got = store.stages()
    assert [(g.repo_id, g.stage, g.status, g.info) for g in got] == [
        (rid, "extract", "done", {"seconds": 2.5, "files": ["a", "b"]}), (rid, "train", "failed", {}),
        ("", "curriculum", "done", {})]
    assert all(isinstance(g, StageStatus) and g.finished_at.startswith("20") for g in got)
    store.mark_stage(rid, "train", {"epoch": 1})
    assert store.stage_done(rid, "train")
    assert [g.stage for g in store.stages(rid)] == ["extract", "train"]
    with pytest.raises(ValueError, match="stage status"):
        store.mark_stage(rid, "x", status="maybe")  # type: ignore[arg-type]


def test_evaluations_upsert_by_key(store: Store) -> None:
    a = Evaluation("after-1", "repo:a", "test", 0.25, 0.5, 0.375)
    b = Evaluation("after-1", "repo:b", "test", 0.1, 0.2, 0.15)
    store.add_evaluations([a, b])
    better = dataclasses.replace(a, recall_at_1=0.3)
    store.add_evaluation(better)
    assert store.evaluations() == [better, b]
    assert store.evaluations(repo_id="repo:b") == [b] and store.evaluations(checkpoint="none") == []


def test_attempts_upsert_by_key(store: Store) -> None:
    failed = ProofAttempt("thm:1", "after-1", "failed", seconds=3.0, nodes=17)
    store.add_attempt(failed)
    store.add_attempt(ProofAttempt("thm:2", "after-1", "error", message="Lean crashed"))
    proved = ProofAttempt("thm:1", "after-1", "proved", proof="simp\nrfl", seconds=1.25, nodes=4)
    store.add_attempt(proved)
    got = store.attempts(theorem_id="thm:1")
    assert got == [proved] and (got[0].seconds, got[0].nodes) == (1.25, 4)
    assert [a.outcome for a in store.attempts()] == ["proved", "error"]
    assert store.attempts(outcome="error")[0].message == "Lean crashed"
    with pytest.raises(ValueError, match="outcome"):
        store.add_attempt(ProofAttempt("thm:3", "x", "won"))  # type: ignore[arg-type]
    assert len(store.attempts()) == 2
