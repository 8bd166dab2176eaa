"""Named schema migrations of the store, applied in order by :meth:`database.store.Store.open`.

Each migration is a function registered under a name that sorts in order (``0001_initial``, ...). The
``migrations`` table records which ones ran and when; a migration and its record commit together, so a
crash leaves it pending, never half applied. Never edit a migration that has shipped: add the next one.

Tables are STRICT (SQLite checks every value's type) and every column but ``theorems.difficulty`` is
``NOT NULL``. Lists inside a row (imports, dependencies, tactic steps, warnings, stage info) are JSON text.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

__all__ = ["MIGRATIONS", "SchemaError", "migrate", "schema_version", "LATEST_VERSION"]


class SchemaError(RuntimeError):
    """The database's schema is not one this code can use (written by a newer leanagent)."""


class _StoreMigrations(Migrations):
    migrations_table = "migrations"  # columns: id, migration_set, name, applied_at (UTC)


MIGRATIONS = _StoreMigrations("leanagent")
_NAMES: list[str] = []  # registration order, which is the order they apply in


def _migration(name: str):
    def register(fn):
        _NAMES.append(name)
        return MIGRATIONS(name=name)(fn)
    return register


def _create(db: Database, name: str, columns: dict, *, pk, foreign_keys=(), nullable=()) -> None:
    db.create_table(name, columns, pk=pk, foreign_keys=list(foreign_keys),
                    not_null=[c for c in columns if c not in nullable], strict=True)


@_migration("0001_initial")
def _initial(db: Database) -> None:
    # role: 'target' (theorems kept) or 'dependency' (files and premises only). The n_* columns are
    # derived counts kept for quick listings; n_sorry counts proving targets (sorry proof, not placeholder).
    _create(db, "repos", {
        "id": str, "url": str, "commit": str, "name": str, "lean_version": str, "path": str,
        "dependencies": str, "role": str, "extractor": str, "warnings": str, "ingested_at": str,
        "n_files": int, "n_theorems": int, "n_sorry": int, "n_premises": int,
    }, pk="id")
    _create(db, "files", {
        "id": str, "repo_id": str, "path": str, "module": str, "imports": str, "lines": int,
    }, pk="id", foreign_keys=[("repo_id", "repos", "id")])
    db["files"].create_index(["repo_id", "path"], unique=True)
    # A premise row is shared by every repository that defines it (same full name, file and code). Its
    # position lives on the link: the same code may sit at different lines in two commits, and
    # accessibility ("declared before the theorem") must use each repository's own positions.
    _create(db, "premises", {
        "id": str, "full_name": str, "kind": str, "path": str, "code": str,
    }, pk="id")
    db["premises"].create_index(["full_name"])
    _create(db, "repo_premises", {
        "repo_id": str, "premise_id": str,
        "start_line": int, "start_col": int, "end_line": int, "end_col": int,
    }, pk=("repo_id", "premise_id"),
        foreign_keys=[("repo_id", "repos", "id"), ("premise_id", "premises", "id")])
    db["repo_premises"].create_index(["premise_id"])
    _create(db, "theorems", {
        "id": str, "repo_id": str, "path": str, "full_name": str,
        "start_line": int, "start_col": int, "end_line": int, "end_col": int,
        "statement": str, "proof": str, "steps": str, "num_steps": int,
        "has_sorry": int, "placeholder": int, "extractor": str, "difficulty": str,
    }, pk="id", foreign_keys=[("repo_id", "repos", "id")], nullable=["difficulty"])
    db["theorems"].create_index(["repo_id", "path", "start_line", "start_col"])
    db["theorems"].create_index(["full_name"])
    _create(db, "theorem_premises", {
        "theorem_id": str, "premise_name": str, "position": int,
    }, pk=("theorem_id", "premise_name"), foreign_keys=[("theorem_id", "theorems", "id")])
    db["theorem_premises"].create_index(["premise_name"])
    # Progress of the pipeline, for resuming. No foreign key: a stage outlives re-ingests, and run-wide
    # stages use repo_id "".
    _create(db, "stages", {
        "repo_id": str, "stage": str, "status": str, "finished_at": str, "info": str,
    }, pk=("repo_id", "stage"))


@_migration("0002_results")
def _results(db: Database) -> None:
    # Results are keyed by stable ids without foreign keys: they must survive a re-ingest that drops or
    # rewrites the theorem or repository they name.
    _create(db, "evaluations", {
        "checkpoint": str, "repo_id": str, "split": str,
        "recall_at_1": float, "recall_at_10": float, "mrr": float,
    }, pk=("checkpoint", "repo_id", "split"))
    _create(db, "proof_attempts", {
        "theorem_id": str, "checkpoint": str, "outcome": str, "proof": str,
        "seconds": float, "nodes": int, "message": str,
    }, pk=("theorem_id", "checkpoint"))
    db["proof_attempts"].create_index(["checkpoint"])


@_migration("0003_evaluation_queries")
def _evaluation_queries(db: Database) -> None:
    # How many queries each figure rests on (0 for evaluations recorded before this migration).
    db["evaluations"].add_column("queries", int, not_null_default=0)


@_migration("0004_tactic_evaluations")
def _tactic_evaluations(db: Database) -> None:
    # The tactic generator's lifelong matrix: first-tactic hit@k of the generator a checkpoint stands for.
    _create(db, "tactic_evaluations", {
        "checkpoint": str, "repo_id": str, "split": str, "generator": str,
        "hit_at_1": float, "hit_at_8": float, "hit_at_64": float, "cases": int,
    }, pk=("checkpoint", "repo_id", "split"))


@_migration("0005_repo_textbook")
def _repo_textbook(db: Database) -> None:
    # A repository marked `textbook` in the repositories file: its sorries are exercises, never attempted.
    db["repos"].add_column("textbook", int, not_null_default=0)


LATEST_VERSION = len(_NAMES)
"""Number of migrations this code knows: the schema version of a fully migrated database."""


def schema_version(db: Database) -> int:
    """Number of this set's migrations applied to ``db`` (they apply in order, so this is the version).

    Raises :class:`SchemaError` when ``db`` records a migration this code does not know.
    """
    known = set(_NAMES)
    applied = [m.name for m in MIGRATIONS.applied(db)]
    unknown = [name for name in applied if name not in known]
    if unknown:
        raise SchemaError(f"database has migrations {unknown} unknown to this version of leanagent; "
                          "upgrade leanagent or use another run directory")
    return len(applied)


def migrate(db: Database, *, stop_before: str | None = None) -> int:
    """Apply pending migrations in order (all, or those before ``stop_before``); return the version."""
    schema_version(db)  # refuse a newer database before touching it
    MIGRATIONS.apply(db, stop_before=stop_before)
    return schema_version(db)
