"""The project's records, their stable ids, and the SQLite store that keeps them."""

from database.ids import file_id, premise_id, repo_id, stable_id, theorem_id
from database.records import (
    Declaration, Dependency, Evaluation, FileScan, Pos, Premise, ProofAttempt, Repo, RepoScan, SourceFile,
    TacticStep, Theorem,
)
from database.store import IngestResult, RepoCounts, ScanError, StageStatus, Store, StoreError, UnknownRepo

__all__ = [
    "Store", "IngestResult", "RepoCounts", "StageStatus", "StoreError", "ScanError", "UnknownRepo",
    "Pos", "Dependency", "Repo", "SourceFile", "Declaration", "FileScan", "Premise", "Theorem", "TacticStep",
    "RepoScan", "ProofAttempt", "Evaluation",
    "stable_id", "repo_id", "file_id", "premise_id", "theorem_id",
]
