"""The traced extractor: LeanDojo's ``trace`` → the same records as the static extractor, with proof
states before/after every tactic and premises resolved exactly by Lean.

Written against lean_dojo 4.20 (``data_extraction/traced_data.py``): ``TracedRepo.traced_files``; per
file ``path``, ``get_direct_dependencies(repo)``, ``get_premise_definitions()`` (dicts with ``full_name``,
``code``, ``start``, ``end``, ``kind``) and ``get_traced_theorems()``; per theorem ``theorem.full_name``,
``start``/``end`` (``Pos`` with ``line_nb``, ``column_nb``), ``get_theorem_statement()``,
``get_tactic_proof()``, ``get_premise_full_names()`` and ``get_traced_tactics()`` (``tactic``,
``state_before``, ``state_after``, ``get_annotated_tactic()``). Tracing itself (it builds the repository
with Lean, in the sandbox) is :func:`leanagent.tracing.trace_repository`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from database.records import Pos, Premise, Repo, RepoScan, SourceFile, TacticStep, Theorem
from extraction.lexer import gives_up
from extraction.scanner import module_name

__all__ = ["from_traced_repo"]


def _pos(p: Any) -> Pos:
    if isinstance(p, (list, tuple)):
        return Pos(int(p[0]), int(p[1]))
    return Pos(int(p.line_nb), int(p.column_nb))


def _is_dependency(path: Path) -> bool:
    return ".lake" in path.parts or "lake-packages" in path.parts


def from_traced_repo(traced: Any, repo: Repo, seconds: float = 0.0) -> RepoScan:
    """A :class:`RepoScan` (``extractor="traced"``) of the repository's own files in a LeanDojo ``TracedRepo``."""
    files, premises, theorems = [], [], []
    for tf in sorted(traced.traced_files, key=lambda f: str(f.path)):
        path = Path(tf.path)
        if _is_dependency(path):
            continue
        rel = path.as_posix()
        imports = tuple(sorted(m for m, _ in tf.get_direct_dependencies(traced.repo) if m != "Init"))
        lines = len(getattr(tf.lean_file, "code", ()))  # LeanFile.code: the source as a list of lines
        files.append(SourceFile(rel, module_name(rel), imports, lines=lines))
        for d in tf.get_premise_definitions():
            premises.append(Premise(d["full_name"], d.get("kind", ""), rel, _pos(d["start"]), _pos(d["end"]),
                                    d["code"]))
        for tt in tf.get_traced_theorems():
            proof = tt.get_tactic_proof() or ""
            steps = []
            for tac in tt.get_traced_tactics():
                _, provenances = tac.get_annotated_tactic()
                steps.append(TacticStep(tac.tactic, tac.state_before, tac.state_after,
                                        tuple(p["full_name"] for p in provenances)))
            statement = tt.get_theorem_statement()
            theorems.append(Theorem(url=repo.url, commit=repo.commit, path=rel, full_name=tt.theorem.full_name,
                                    start=_pos(tt.start), end=_pos(tt.end), statement=statement, proof=proof,
                                    steps=tuple(steps), premises=tuple(dict.fromkeys(tt.get_premise_full_names())),
                                    has_sorry=gives_up(proof), placeholder=gives_up(statement),
                                    extractor="traced"))
    return RepoScan(repo=repo, files=tuple(files), premises=tuple(premises), theorems=tuple(theorems),
                    extractor="traced", seconds=seconds)
