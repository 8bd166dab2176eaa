"""Rows of the store: how each record is written to its table and rebuilt from it.

Pure functions, no database. ``*_row`` turns a record into the dict stored; ``*_from_row`` rebuilds the
record. Lists inside a row are JSON with sorted keys and fixed separators, so that one record always
encodes to the same row: comparing rows is how an ingest finds what changed.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Mapping

from database.ids import file_id
from database.records import (
    Dependency, Evaluation, Pos, Premise, ProofAttempt, Repo, SourceFile, TacticEvaluation, TacticStep, Theorem,
)

__all__ = [
    "REPO_COLUMNS", "FILE_COLUMNS", "PREMISE_COLUMNS", "LINK_COLUMNS", "THEOREM_COLUMNS",
    "dumps", "repo_row", "repo_from_row", "file_row", "file_from_row", "premise_row", "link_row",
    "premise_from_row", "theorem_row", "theorem_from_row", "steps_json", "steps_from_json",
    "evaluation_row", "evaluation_from_row", "tactic_evaluation_row", "tactic_evaluation_from_row", "attempt_row", "attempt_from_row", "Diff", "diff",
]

REPO_COLUMNS = ("id", "url", "commit", "name", "lean_version", "path", "dependencies", "textbook")
"""Columns of ``repos`` that describe the :class:`Repo` itself (the rest are ingest bookkeeping)."""
FILE_COLUMNS = ("id", "repo_id", "path", "module", "imports", "lines")
PREMISE_COLUMNS = ("id", "full_name", "kind", "path", "code")
LINK_COLUMNS = ("repo_id", "premise_id", "start_line", "start_col", "end_line", "end_col")
THEOREM_COLUMNS = (
    "id", "repo_id", "path", "full_name", "start_line", "start_col", "end_line", "end_col",
    "statement", "proof", "steps", "num_steps", "has_sorry", "placeholder", "extractor",
)
"""Columns of ``theorems`` written from a :class:`Theorem` (``difficulty`` is set later, by the curriculum)."""


def dumps(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, non-ASCII kept.

    >>> dumps({"b": ["ℕ"], "a": 1})
    '{"a":1,"b":["ℕ"]}'
    """
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def repo_row(repo: Repo) -> dict[str, Any]:
    """The identity columns of a repository's row."""
    deps = [{"name": d.name, "url": d.url, "rev": d.rev} for d in repo.dependencies]
    return {"id": repo.id, "url": repo.url, "commit": repo.commit, "name": repo.name,
            "lean_version": repo.lean_version, "path": repo.path, "dependencies": dumps(deps),
            "textbook": int(repo.textbook)}


def repo_from_row(row: Mapping[str, Any]) -> Repo:
    deps = tuple(Dependency(**d) for d in json.loads(row["dependencies"]))
    return Repo(url=row["url"], commit=row["commit"], name=row["name"], lean_version=row["lean_version"],
                path=row["path"], dependencies=deps, textbook=bool(row.get("textbook", 0)))


def file_row(repo: Repo, f: SourceFile) -> dict[str, Any]:
    return {"id": file_id(repo.url, repo.commit, f.path), "repo_id": repo.id, "path": f.path,
            "module": f.module, "imports": dumps(list(f.imports)), "lines": f.lines}


def file_from_row(row: Mapping[str, Any]) -> SourceFile:
    return SourceFile(path=row["path"], module=row["module"], imports=tuple(json.loads(row["imports"])),
                      lines=row["lines"])


def premise_row(p: Premise) -> dict[str, Any]:
    """The shared row of a premise: what its id is made of, plus its kind."""
    return {"id": p.id, "full_name": p.full_name, "kind": p.kind, "path": p.path, "code": p.code}


def link_row(repo_id: str, p: Premise) -> dict[str, Any]:
    """The link saying ``repo_id`` defines ``p``, with the position it has there."""
    return {"repo_id": repo_id, "premise_id": p.id, "start_line": p.start.line, "start_col": p.start.column,
            "end_line": p.end.line, "end_col": p.end.column}


def premise_from_row(row: Mapping[str, Any]) -> Premise:
    """Rebuild a premise from its shared row joined with one link (for the positions)."""
    return Premise(full_name=row["full_name"], kind=row["kind"], path=row["path"],
                   start=Pos(row["start_line"], row["start_col"]), end=Pos(row["end_line"], row["end_col"]),
                   code=row["code"])


def steps_json(steps: tuple[TacticStep, ...]) -> str:
    """Tactic steps as a JSON list of objects.

    >>> steps_json((TacticStep("rfl"),))
    '[{"premises":[],"state_after":"","state_before":"","tactic":"rfl"}]'
    """
    return dumps([{"tactic": s.tactic, "state_before": s.state_before, "state_after": s.state_after,
                   "premises": list(s.premises)} for s in steps])


def steps_from_json(text: str) -> tuple[TacticStep, ...]:
    """Inverse of :func:`steps_json`.

    >>> steps_from_json(steps_json((TacticStep("simp", premises=("a",)),)))
    (TacticStep(tactic='simp', state_before='', state_after='', premises=('a',)),)
    """
    return tuple(TacticStep(tactic=s["tactic"], state_before=s["state_before"], state_after=s["state_after"],
                            premises=tuple(s["premises"])) for s in json.loads(text))


def theorem_row(repo_id: str, t: Theorem) -> dict[str, Any]:
    """A theorem's row, without its premise list (that goes to ``theorem_premises``)."""
    return {"id": t.id, "repo_id": repo_id, "path": t.path, "full_name": t.full_name,
            "start_line": t.start.line, "start_col": t.start.column, "end_line": t.end.line,
            "end_col": t.end.column, "statement": t.statement, "proof": t.proof, "steps": steps_json(t.steps),
            "num_steps": t.num_steps, "has_sorry": int(t.has_sorry), "placeholder": int(t.placeholder),
            "extractor": t.extractor}


def theorem_from_row(row: Mapping[str, Any], repo: Repo, premises: tuple[str, ...]) -> Theorem:
    """Rebuild a theorem of ``repo`` from its row and its premise names (in their stored order)."""
    return Theorem(url=repo.url, commit=repo.commit, path=row["path"], full_name=row["full_name"],
                   start=Pos(row["start_line"], row["start_col"]), end=Pos(row["end_line"], row["end_col"]),
                   statement=row["statement"], proof=row["proof"], steps=steps_from_json(row["steps"]),
                   premises=premises, has_sorry=bool(row["has_sorry"]), placeholder=bool(row["placeholder"]),
                   extractor=row["extractor"])


def evaluation_row(e: Evaluation) -> dict[str, Any]:
    return dataclasses.asdict(e)


def evaluation_from_row(row: Mapping[str, Any]) -> Evaluation:
    return Evaluation(**{f.name: row[f.name] for f in dataclasses.fields(Evaluation)})


def tactic_evaluation_row(e: TacticEvaluation) -> dict[str, Any]:
    return dataclasses.asdict(e)


def tactic_evaluation_from_row(row: Mapping[str, Any]) -> TacticEvaluation:
    return TacticEvaluation(**{f.name: row[f.name] for f in dataclasses.fields(TacticEvaluation)})


def attempt_row(a: ProofAttempt) -> dict[str, Any]:
    return dataclasses.asdict(a)


def attempt_from_row(row: Mapping[str, Any]) -> ProofAttempt:
    return ProofAttempt(**{f.name: row[f.name] for f in dataclasses.fields(ProofAttempt)})


@dataclass(frozen=True)
class Diff:
    """How stored rows differ from desired ones, by key."""

    added: list[str]
    """Keys only desired, in desired order."""
    updated: list[str]
    """Keys in both whose values differ, in desired order."""
    removed: list[str]
    """Keys only stored, in stored order."""
    unchanged: int
    """Number of keys in both with equal values."""


def diff(stored: Mapping[str, Any], desired: Mapping[str, Any]) -> Diff:
    """Compare two keyed collections of rows.

    >>> diff({"a": 1, "b": 2, "c": 3}, {"b": 2, "c": 4, "d": 5})
    Diff(added=['d'], updated=['c'], removed=['a'], unchanged=1)
    """
    added = [k for k in desired if k not in stored]
    updated = [k for k, v in desired.items() if k in stored and stored[k] != v]
    removed = [k for k in stored if k not in desired]
    return Diff(added, updated, removed, len(desired) - len(added) - len(updated))
