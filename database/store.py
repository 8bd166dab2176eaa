"""The SQLite store: repositories, files, premises and theorems the run has seen, its progress and results.

One database file per run, opened with :meth:`Store.open` (WAL mode, foreign keys on, pending named
migrations applied). Ingesting a repository is one transaction that writes only the rows that differ from
what is stored: re-ingesting an unchanged scan writes nothing, a changed one replaces exactly that
repository's rows, and a killed ingest leaves the database as it was.

>>> store = Store.open(":memory:")
>>> store.schema_version
5
>>> store.close()
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, get_args

from sqlite_utils import Database

import database.schema as schema
from database.migrations import migrate, schema_version
from database.records import (
    Evaluation, Outcome, Premise, ProofAttempt, Repo, RepoScan, SourceFile, TacticEvaluation, Theorem,
)

__all__ = [
    "Store", "StoreError", "ScanError", "UnknownRepo", "Role", "ROLES", "Changes", "IngestResult",
    "RepoCounts", "StageStatus", "STAGE_STATUSES",
]

log = logging.getLogger(__name__)

Role = Literal["target", "dependency"]
ROLES: tuple[str, ...] = get_args(Role)
StageState = Literal["done", "failed", "skipped"]
STAGE_STATUSES: tuple[str, ...] = get_args(StageState)
OUTCOMES: tuple[str, ...] = get_args(Outcome)
_BATCH = 500  # rows per INSERT statement; sqlite-utils lowers it if a batch would pass SQLite's limits


class StoreError(Exception):
    """The database file cannot be used as a store (not SQLite, corrupt, unreadable)."""


class ScanError(ValueError):
    """A scan that cannot be stored as it is: duplicate ids, or theorems of another repository."""


class UnknownRepo(LookupError):
    """A repository id that the store does not hold."""


@dataclass(frozen=True)
class Changes:
    """What an ingest did to one kind of row of a repository."""

    added: int = 0
    """Rows written that were not stored."""
    updated: int = 0
    """Rows whose content changed."""
    removed: int = 0
    """Rows stored that the scan no longer has."""
    unchanged: int = 0
    """Rows already stored as they are."""

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return bool(self.added or self.updated or self.removed)


@dataclass(frozen=True)
class IngestResult:
    """The outcome of :meth:`Store.ingest`."""

    repo_id: str
    """Id of the repository ingested."""
    role: Role
    """Role it is stored with."""
    repo: Literal["added", "updated", "unchanged"]
    """What happened to its ``repos`` row (``updated`` whenever anything below changed)."""
    files: Changes
    """Its files."""
    premises: Changes
    """Its links to premises (the shared premise rows follow them)."""
    theorems: Changes
    """Its theorems (a theorem whose premise list changed counts as updated)."""

    @property
    def changed(self) -> bool:
        """Whether the ingest wrote anything."""
        return self.repo != "unchanged"


@dataclass(frozen=True)
class RepoCounts:
    """How much of a repository the store holds."""

    files: int
    """Lean files."""
    theorems: int
    """Theorems and lemmas (none for a dependency)."""
    sorry_theorems: int
    """Proving targets: ``sorry`` in the proof, placeholders excluded."""
    placeholders: int
    """Theorems whose statement contains ``sorry``."""
    premises: int
    """Premises the repository defines."""


@dataclass(frozen=True)
class StageStatus:
    """That a pipeline stage finished for one repository (``repo_id`` ``""`` for run-wide stages)."""

    repo_id: str
    """Repository the stage ran on."""
    stage: str
    """Stage name (``extract``, ``train``, ``prove``, ...)."""
    status: StageState
    """``done`` or ``failed``."""
    finished_at: str
    """When it finished (ISO 8601, UTC)."""
    info: Mapping[str, Any]
    """Whatever the stage chose to record (JSON-serialisable)."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _check_scan(scan: RepoScan) -> None:
    """Reject what the schema cannot hold, naming the offending value."""
    repo = scan.repo
    for kind, keys in (("file", [f.path for f in scan.files]), ("premise", [p.id for p in scan.premises]),
                       ("theorem", [t.id for t in scan.theorems])):
        dups = sorted(k for k, n in Counter(keys).items() if n > 1)
        if dups:
            raise ScanError(f"scan of {repo.name} has duplicate {kind}s: {dups[:5]}; fix the extractor")
    for t in scan.theorems:
        if (t.url, t.commit) != (repo.url, repo.commit):
            raise ScanError(f"theorem {t.full_name} belongs to {t.url}@{t.commit}, not to the scanned "
                            f"repository {repo.url}@{repo.commit}")
        if len(set(t.premises)) != len(t.premises):
            raise ScanError(f"theorem {t.full_name} ({t.path}) lists a premise twice: {t.premises}")


class Store:
    """The run's database. Use :meth:`open`; close it (or use ``with``) when done.

    Reads return records. Writes are transactions; the store assumes one writing process at a time.
    """

    def __init__(self, db: Database) -> None:
        """Wrap an open database whose schema is already migrated (see :meth:`open`)."""
        self.db = db

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Create or open the database at ``path`` and apply pending migrations (``":memory:"`` works)."""
        memory = str(path) == ":memory:"
        if not memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db: Database | None = None
        try:
            db = Database(str(path) if memory else Path(path))
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA busy_timeout = 30000")
            if not memory:
                db.enable_wal()
            migrate(db)
        except sqlite3.DatabaseError as e:
            if db is not None:
                db.close()
            raise StoreError(f"{path} cannot be used as a leanagent database: {e}") from e
        except BaseException:
            if db is not None:
                db.close()
            raise
        return cls(db)

    def close(self) -> None:
        """Close the connection (uncommitted work cannot exist: every write is its own transaction)."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def content(self, *, skip_columns: tuple[str, ...] = ()) -> dict[str, list[str]]:
        """Every row of every table, order-free, without ``skip_columns`` (dates, timings): what two
        databases must share to hold the same data."""
        tables = [r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        out = {}
        for table in tables:
            cur = self.db.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cur.description]
            out[table] = sorted(repr({k: v for k, v in zip(names, row) if k not in skip_columns}) for row in cur)
        return out

    @property
    def schema_version(self) -> int:
        """Number of migrations applied."""
        return schema_version(self.db)

    # ---------------------------------------------------------------- ingest

    def ingest(self, scan: RepoScan, role: Role = "target") -> IngestResult:
        """Store one repository at one commit in a single transaction, writing only what changed.

        A dependency keeps its files and premises but no theorems. Shared premise rows stay while any
        repository links them. A changed theorem loses its difficulty bucket (it was computed from the
        old proof).
        """
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        _check_scan(scan)
        repo = scan.repo
        rid = repo.id
        theorems = scan.theorems if role == "target" else ()
        repo_row = schema.repo_row(repo) | {
            "role": role, "extractor": scan.extractor, "warnings": schema.dumps(list(scan.warnings)),
            "n_files": len(scan.files), "n_theorems": len(theorems),
            "n_sorry": sum(t.is_target for t in theorems),
            "n_premises": len(scan.premises),
        }
        with self.db.atomic():
            stored = next(self.db.query("SELECT * FROM repos WHERE id = ?", [rid]), None)
            if stored is None:
                self.db["repos"].insert(repo_row | {"ingested_at": _now()})
            files = self._sync_files(repo, scan.files)
            premises = self._sync_premises(rid, scan.premises)
            thms = self._sync_theorems(rid, theorems)
            if stored is None:
                state = "added"
            elif all(stored[k] == v for k, v in repo_row.items()) and not (
                    files.changed or premises.changed or thms.changed):
                state = "unchanged"
            else:
                self.db["repos"].update(rid, repo_row | {"ingested_at": _now()})
                state = "updated"
        result = IngestResult(rid, role, state, files, premises, thms)
        log.info("ingest %s (%s): %s; files %s, premises %s, theorems %s",
                 repo.name, role, state, files, premises, thms)
        return result

    def _sync_files(self, repo: Repo, files: Iterable[SourceFile]) -> Changes:
        desired = {row["id"]: row for row in (schema.file_row(repo, f) for f in files)}
        stored = self._rows_by("files", schema.FILE_COLUMNS, "id", repo.id)
        d = schema.diff(stored, desired)
        self._delete("files", ("id",), [(k,) for k in d.removed])
        self._upsert("files", [desired[k] for k in d.updated], pk="id")
        self._insert("files", [desired[k] for k in d.added])
        return Changes(len(d.added), len(d.updated), len(d.removed), d.unchanged)

    def _sync_premises(self, rid: str, premises: Iterable[Premise]) -> Changes:
        by_id = {p.id: p for p in premises}
        desired = {pid: schema.link_row(rid, p) for pid, p in by_id.items()}
        stored = self._rows_by("repo_premises", schema.LINK_COLUMNS, "premise_id", rid)
        d = schema.diff(stored, desired)
        self._delete("repo_premises", ("repo_id", "premise_id"), [(rid, k) for k in d.removed])
        # Drop premise rows that no repository links any more.
        self._delete("premises", ("id",), [(k,) for k in d.removed],
                     extra="NOT EXISTS (SELECT 1 FROM repo_premises WHERE premise_id = premises.id)")
        self._upsert("repo_premises", [desired[k] for k in d.updated], pk=("repo_id", "premise_id"))
        self._insert("premises", [schema.premise_row(by_id[k]) for k in d.added], ignore=True)
        self._insert("repo_premises", [desired[k] for k in d.added])
        return Changes(len(d.added), len(d.updated), len(d.removed), d.unchanged)

    def _sync_theorems(self, rid: str, theorems: Iterable[Theorem]) -> Changes:
        desired = {t.id: (schema.theorem_row(rid, t), t.premises) for t in theorems}
        used = self._theorem_premises(rid)
        stored = {k: (row, tuple(used.get(k, ())))
                  for k, row in self._rows_by("theorems", schema.THEOREM_COLUMNS, "id", rid).items()}
        d = schema.diff(stored, desired)
        self._delete("theorem_premises", ("theorem_id",), [(k,) for k in d.removed + d.updated])
        self._delete("theorems", ("id",), [(k,) for k in d.removed])
        self._upsert("theorems", [desired[k][0] | {"difficulty": None} for k in d.updated], pk="id")
        self._insert("theorems", [desired[k][0] for k in d.added])
        self._insert("theorem_premises", [
            {"theorem_id": k, "premise_name": name, "position": i}
            for k in d.updated + d.added for i, name in enumerate(desired[k][1])])
        return Changes(len(d.added), len(d.updated), len(d.removed), d.unchanged)

    def _rows_by(self, table: str, columns: tuple[str, ...], key: str, rid: str) -> dict[str, dict]:
        cols = ", ".join(f'"{c}"' for c in columns)
        return {row[key]: row for row in self.db.query(f"SELECT {cols} FROM {table} WHERE repo_id = ?", [rid])}

    def _theorem_premises(self, rid: str) -> dict[str, list[str]]:
        used: dict[str, list[str]] = defaultdict(list)
        for tid, name in self.db.execute(
                "SELECT tp.theorem_id, tp.premise_name FROM theorem_premises tp JOIN theorems t "
                "ON t.id = tp.theorem_id WHERE t.repo_id = ? ORDER BY tp.theorem_id, tp.position", [rid]):
            used[tid].append(name)
        return used

    def _insert(self, table: str, rows: list[dict], *, ignore: bool = False) -> None:
        if rows:
            self.db[table].insert_all(rows, batch_size=_BATCH, ignore=ignore)

    def _upsert(self, table: str, rows: list[dict], *, pk: str | tuple[str, ...]) -> None:
        if rows:
            self.db[table].upsert_all(rows, pk=pk, batch_size=_BATCH)

    def _delete(self, table: str, columns: tuple[str, ...], keys: list[tuple], extra: str = "") -> None:
        if keys:
            where = " AND ".join([f'"{c}" = ?' for c in columns] + ([extra] if extra else []))
            self.db.conn.executemany(f"DELETE FROM {table} WHERE {where}", keys)

    # ---------------------------------------------------------------- reads

    def repos(self, role: Role | None = None) -> list[Repo]:
        """Repositories in the order they were first ingested, optionally only those with ``role``."""
        where, params = ("WHERE role = ?", [role]) if role is not None else ("", [])
        return [schema.repo_from_row(r) for r in self.db.query(f"SELECT * FROM repos {where} ORDER BY rowid",
                                                                  params)]

    def repo(self, repo_id: str) -> Repo | None:
        """The repository with this id, or None."""
        row = next(self.db.query("SELECT * FROM repos WHERE id = ?", [repo_id]), None)
        return None if row is None else schema.repo_from_row(row)

    def role(self, repo_id: str) -> Role:
        """The role a repository was last ingested with."""
        self._require(repo_id)
        return next(self.db.query("SELECT role FROM repos WHERE id = ?", [repo_id]))["role"]

    def files(self, repo_id: str) -> list[SourceFile]:
        """A repository's files, by path."""
        self._require(repo_id)
        return [schema.file_from_row(r) for r in self.db.query(
            "SELECT * FROM files WHERE repo_id = ? ORDER BY path", [repo_id])]

    def premises(self, repo_id: str | None = None) -> list[Premise]:
        """Premises a repository defines, or every premise once (positions from its first repository).

        Ordered by file, position and name.
        """
        link_cols = "l.start_line, l.start_col, l.end_line, l.end_col"
        order = "ORDER BY p.path, l.start_line, l.start_col, p.full_name, p.id"
        if repo_id is not None:
            self._require(repo_id)
            sql = (f"SELECT p.*, {link_cols} FROM repo_premises l JOIN premises p ON p.id = l.premise_id "
                   f"WHERE l.repo_id = ? {order}")
            return [schema.premise_from_row(r) for r in self.db.query(sql, [repo_id])]
        # SQLite takes bare columns of an aggregate query from the row holding the MIN(): the first link.
        sql = (f"SELECT p.*, {link_cols}, MIN(l.rowid) FROM premises p JOIN repo_premises l "
               f"ON l.premise_id = p.id GROUP BY p.id {order}")
        return [schema.premise_from_row(r) for r in self.db.query(sql)]

    def theorems(self, repo_id: str, *, sorry: bool | None = None,
                 difficulty: str | None = None) -> list[Theorem]:
        """A repository's theorems by file and position; ``sorry`` / ``difficulty`` filter them."""
        repo = self._require(repo_id)
        where, params = ["repo_id = ?"], [repo_id]
        if sorry is not None:
            where.append("has_sorry = ?")
            params.append(int(sorry))
        if difficulty is not None:
            where.append("difficulty = ?")
            params.append(difficulty)
        used = self._theorem_premises(repo_id)
        rows = self.db.query(f"SELECT * FROM theorems WHERE {' AND '.join(where)} "
                             "ORDER BY path, start_line, start_col, full_name, id", params)
        return [schema.theorem_from_row(r, repo, tuple(used.get(r["id"], ()))) for r in rows]

    def scan(self, repo_id: str) -> RepoScan | None:
        """The stored repository rebuilt as a scan (files, premises and theorems in read order), or None."""
        row = next(self.db.query("SELECT * FROM repos WHERE id = ?", [repo_id]), None)
        if row is None:
            return None
        return RepoScan(repo=schema.repo_from_row(row), files=tuple(self.files(repo_id)),
                        premises=tuple(self.premises(repo_id)), theorems=tuple(self.theorems(repo_id)),
                        warnings=tuple(json.loads(row["warnings"])), extractor=row["extractor"])

    def counts(self, repo_id: str) -> RepoCounts:
        """How many files, theorems, targets, placeholders and premises a repository has."""
        self._require(repo_id)
        row = next(self.db.query(
            "SELECT (SELECT COUNT(*) FROM files WHERE repo_id = :r) AS files, "
            "(SELECT COUNT(*) FROM theorems WHERE repo_id = :r) AS theorems, "
            "(SELECT COUNT(*) FROM theorems WHERE repo_id = :r AND has_sorry AND NOT placeholder) AS sorry, "
            "(SELECT COUNT(*) FROM theorems WHERE repo_id = :r AND placeholder) AS placeholders, "
            "(SELECT COUNT(*) FROM repo_premises WHERE repo_id = :r) AS premises", {"r": repo_id}))
        return RepoCounts(files=row["files"], theorems=row["theorems"], sorry_theorems=row["sorry"],
                          placeholders=row["placeholders"], premises=row["premises"])

    def _require(self, repo_id: str) -> Repo:
        repo = self.repo(repo_id)
        if repo is None:
            raise UnknownRepo(f"no repository {repo_id} in the store; ingest it first")
        return repo

    def set_difficulty(self, theorem_ids: Iterable[str], bucket: str | None) -> int:
        """Record a difficulty bucket (``easy`` / ``medium`` / ``hard`` or None); returns rows changed."""
        with self.db.atomic():
            before = self.db.conn.total_changes
            self.db.conn.executemany("UPDATE theorems SET difficulty = ? WHERE id = ?",
                                     [(bucket, tid) for tid in theorem_ids])
            return self.db.conn.total_changes - before

    # ---------------------------------------------------------------- stages

    def mark_stage(self, repo_id: str, stage: str, info: Mapping[str, Any] | None = None, *,
                   status: StageState = "done") -> None:
        """Record that ``stage`` finished for ``repo_id`` (again: the latest record wins)."""
        if status not in STAGE_STATUSES:
            raise ValueError(f"stage status must be one of {STAGE_STATUSES}, got {status!r}")
        row = {"repo_id": repo_id, "stage": stage, "status": status, "finished_at": _now(),
               "info": schema.dumps(dict(info or {}))}
        with self.db.atomic():
            self.db["stages"].upsert(row, pk=("repo_id", "stage"))

    def stage_done(self, repo_id: str, stage: str) -> bool:
        """Whether ``stage`` finished for ``repo_id``: done, or skipped for a reason recorded with it."""
        row = next(self.db.query("SELECT status FROM stages WHERE repo_id = ? AND stage = ?",
                                 [repo_id, stage]), None)
        return row is not None and row["status"] in ("done", "skipped")

    def stages(self, repo_id: str | None = None) -> list[StageStatus]:
        """Stage records, oldest first, of one repository or all."""
        where, params = ("WHERE repo_id = ?", [repo_id]) if repo_id is not None else ("", [])
        return [StageStatus(r["repo_id"], r["stage"], r["status"], r["finished_at"], json.loads(r["info"]))
                for r in self.db.query(f"SELECT * FROM stages {where} ORDER BY finished_at, rowid", params)]

    # ---------------------------------------------------------------- results

    def add_evaluation(self, evaluation: Evaluation) -> None:
        """Record one cell of the lifelong matrix, replacing the same (checkpoint, repo, split)."""
        self.add_evaluations([evaluation])

    def add_evaluations(self, evaluations: Iterable[Evaluation]) -> None:
        """Record several evaluations in one transaction."""
        rows = [schema.evaluation_row(e) for e in evaluations]
        with self.db.atomic():
            self._upsert("evaluations", rows, pk=("checkpoint", "repo_id", "split"))

    def evaluations(self, *, checkpoint: str | None = None, repo_id: str | None = None) -> list[Evaluation]:
        """Evaluations in the order first recorded, optionally filtered."""
        where, params = _filters(checkpoint=checkpoint, repo_id=repo_id)
        return [schema.evaluation_from_row(r)
                for r in self.db.query(f"SELECT * FROM evaluations {where} ORDER BY rowid", params)]

    def add_tactic_evaluations(self, evaluations: Iterable[TacticEvaluation]) -> None:
        """Record cells of the tactic generator's matrix in one transaction (replacing the same cells)."""
        rows = [schema.tactic_evaluation_row(e) for e in evaluations]
        with self.db.atomic():
            self._upsert("tactic_evaluations", rows, pk=("checkpoint", "repo_id", "split"))

    def tactic_evaluations(self, *, checkpoint: str | None = None) -> list[TacticEvaluation]:
        """The tactic generator's evaluations in the order first recorded, optionally of one checkpoint."""
        where, params = _filters(checkpoint=checkpoint)
        return [schema.tactic_evaluation_from_row(r)
                for r in self.db.query(f"SELECT * FROM tactic_evaluations {where} ORDER BY rowid", params)]

    def add_attempt(self, attempt: ProofAttempt) -> None:
        """Record a proof attempt, replacing the same (theorem, checkpoint)."""
        self.add_attempts([attempt])

    def add_attempts(self, attempts: Iterable[ProofAttempt]) -> None:
        """Record several proof attempts in one transaction."""
        rows = []
        for a in attempts:
            if a.outcome not in OUTCOMES:
                raise ValueError(f"proof attempt on {a.theorem_id}: outcome must be one of {OUTCOMES}, "
                                 f"got {a.outcome!r}")
            rows.append(schema.attempt_row(a))
        with self.db.atomic():
            self._upsert("proof_attempts", rows, pk=("theorem_id", "checkpoint"))

    def attempts(self, *, theorem_id: str | None = None, checkpoint: str | None = None,
                 outcome: Outcome | None = None) -> list[ProofAttempt]:
        """Proof attempts in the order first recorded, optionally filtered."""
        where, params = _filters(theorem_id=theorem_id, checkpoint=checkpoint, outcome=outcome)
        return [schema.attempt_from_row(r)
                for r in self.db.query(f"SELECT * FROM proof_attempts {where} ORDER BY rowid", params)]


def _filters(**equal: Any) -> tuple[str, list[Any]]:
    """A WHERE clause for the non-None keyword arguments.

    >>> _filters(a=1, b=None)
    ('WHERE "a" = ?', [1])
    """
    given = {k: v for k, v in equal.items() if v is not None}
    if not given:
        return "", []
    return "WHERE " + " AND ".join(f'"{k}" = ?' for k in given), list(given.values())
