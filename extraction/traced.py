"""The traced extractor: LeanDojo's ``trace`` → the same records as the static extractor, with proof
states before/after every tactic and premises resolved exactly by Lean.

Written against lean_dojo 4.20 (``data_extraction/traced_data.py``): ``TracedRepo.traced_files``; per
file ``path``, ``get_direct_dependencies(repo)``, ``get_premise_definitions()`` (dicts with ``full_name``,
``code``, ``start``, ``end``, ``kind``) and ``get_traced_theorems()``; per theorem ``theorem.full_name``,
``start``/``end`` (``Pos`` with ``line_nb``, ``column_nb``), ``get_theorem_statement()``,
``get_tactic_proof()``, ``get_premise_full_names()`` and ``get_traced_tactics()`` (``tactic``,
``state_before``, ``state_after``, ``get_annotated_tactic()``). Tracing itself (it builds the repository
with Lean, in the sandbox) is :func:`leanagent.tracing.trace_repository`.

Two things LeanDojo gives differ from the static extractor's records and are mapped here: a premise's
``kind`` is the lower-cased class name of its AST node (``commanddeclaration`` for every ``theorem``, ``def``,
``instance``, ``structure``…, ``mathlibtacticlemma``, ``lemma``), mapped to Lean's keyword
(:func:`premise_kind`); and ``get_tactic_proof()`` is None for a term-mode proof (``:= sorry``), whose text
is then read from the file at ``locate_proof()``, so that such a theorem is a target too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from database.records import Pos, Premise, Repo, RepoScan, SourceFile, TacticStep, Theorem
from extraction.lexer import DOC, IDENT, MODDOC, gives_up, match_brackets, tokenize
from extraction.scanner import module_name
from extraction.words import DECL_WORDS, MODIFIERS

__all__ = ["from_traced_repo", "premise_kind"]

_NODE_KINDS = {"lemma": "lemma", "mathlibtacticlemma": "lemma", "leanelabcommandcommandirreducibledef": "def",
               "stdtacticaliasalias": "theorem", "stdtacticaliasaliaslr": "theorem"}
"""LeanDojo's premise node kinds (``data_extraction/ast.py``, ``is_potential_premise_lean4``) that say the
declaration's kind; ``commanddeclaration`` does not, and its code's keyword is read instead. Mathlib's
``alias`` (Batteries' ``alias ⟨a, b⟩ :=`` too) names theorems in all but rare cases."""


def _pos(p: Any) -> Pos:
    if isinstance(p, (list, tuple)):
        return Pos(int(p[0]), int(p[1]))
    return Pos(int(p.line_nb), int(p.column_nb))


def _is_dependency(path: Path) -> bool:
    return ".lake" in path.parts or "lake-packages" in path.parts


def premise_kind(node_kind: str, code: str) -> str:
    """The Lean keyword of a traced premise (``theorem``, ``lemma``, ``def``, ``instance``, ``structure``, …, as
    the static extractor names kinds): from LeanDojo's node kind when it tells, else from the first declaration
    keyword of ``code`` after its attributes and modifiers; LeanDojo's kind when neither does.

    >>> premise_kind("commanddeclaration", "@[simp] protected theorem Foo.bar : 1 = 1")
    'theorem'
    >>> premise_kind("commanddeclaration", "noncomputable instance : Inhabited Foo := ⟨0⟩")
    'instance'
    >>> premise_kind("commanddeclaration", "class inductive Good : Prop"), premise_kind("mathlibtacticlemma", "")
    ('class', 'lemma')
    """
    if node_kind in _NODE_KINDS:
        return _NODE_KINDS[node_kind]
    toks = tokenize(code)
    partner = match_brackets(toks, 0, len(toks.texts))
    k = 0
    while k < len(toks.texts):
        text, kind = toks.texts[k], toks.kinds[k]
        if kind in (DOC, MODDOC):
            k += 1
        elif text == "@[" and partner[k] > k:
            k = partner[k] + 1
        elif kind == IDENT and text in MODIFIERS:
            k += 1
        else:
            return DECL_WORDS.get(text, node_kind) if kind == IDENT else node_kind
    return node_kind


def _proof_text(tt: Any) -> str:
    """The proof as written: LeanDojo's tactic proof, else (a term-mode proof, ``:= sorry``) the file's text
    over the span LeanDojo locates."""
    proof = tt.get_tactic_proof()
    if proof is not None:
        return proof
    start, end = tt.locate_proof()
    return tt.traced_file.lean_file[start:end]


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
            premises.append(Premise(d["full_name"], premise_kind(d.get("kind", ""), d["code"]), rel,
                                    _pos(d["start"]), _pos(d["end"]), d["code"]))
        for tt in tf.get_traced_theorems():
            proof = _proof_text(tt)
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
