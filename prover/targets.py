"""Which sorry theorems a maintainer would accept proofs of: the rest are listed, with the reason, and skipped.

LeanAgent's own pull requests were turned down for two kinds of target: a theorem whose statement rests on a
definition that is itself ``sorry`` (the proof is "an artefact of a placeholder definition": with
``def f : ℕ → ℕ := sorry`` anything about ``f`` may be provable by accident, or not at all), and sorries left
in exercises on purpose ("the sorry is there because these are exercises"). So:

- a sorry theorem whose statement names a declaration of the repository whose own body gives up (``sorry`` or
  ``admit``, outside comments and strings) is skipped as ``placeholder``;
- a sorry theorem in a file or folder named like ``Exercises`` (``Exercise``, ``exercises_2``, ...), or in a
  repository marked ``textbook`` in the repositories file, is skipped as ``exercise``.

``--include-placeholders`` (``prover.include_placeholders``) tries them all the same.

>>> from database.records import Pos, Premise, Theorem
>>> f = Premise("Foo.f", "def", "Foo/Basic.lean", Pos(3, 1), Pos(3, 25), "def f : Nat → Nat")
>>> t = Theorem("u", "c", "Foo/Basic.lean", "Foo.f_zero", Pos(5, 1), Pos(5, 30), "theorem f_zero : f 0 = 0",
...             ":= by sorry", has_sorry=True)
>>> src = {"Foo/Basic.lean": "namespace Foo\\n\\ndef f : Nat → Nat := sorry\\n\\ntheorem f_zero : f 0 = 0 := by sorry\\n"}
>>> skip_reasons([t], [f], src.get)
{'thm:...': 'placeholder: its statement uses Foo.f, itself defined with sorry'}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from database.records import Premise, Theorem
from extraction.lexer import IDENT, gives_up, tokenize

__all__ = ["skip_reasons", "placeholder_definitions", "is_exercise_path", "file_reader", "EXERCISE"]

EXERCISE = re.compile(r"(?i)exercises?\d*")
"""A word of a file or folder name that says it holds exercises (words split at ``_``, ``-``, ``.``, space)."""

THEOREM_KINDS = ("theorem", "lemma")


def is_exercise_path(path: str) -> bool:
    """A file or folder of ``path`` is named like exercises.

    >>> is_exercise_path("MIL/C02_Basics/Exercises.lean"), is_exercise_path("Exercise_3/Sets.lean")
    (True, True)
    >>> is_exercise_path("Mathlib/Exercise2.lean"), is_exercise_path("Book/C02_exercises.lean")
    (True, True)
    >>> is_exercise_path("Solutions/Basics.lean"), is_exercise_path("Analysis/ExerciseBike.lean")
    (False, False)
    """
    return any(EXERCISE.fullmatch(word) for part in path.split("/")
               for word in re.split(r"[_\-. ]+", part.removesuffix(".lean")))


def file_reader(root: Path) -> Callable[[str], str | None]:
    """``source`` for :func:`skip_reasons`: a file of the checkout at ``root`` by its relative path, None when it
    cannot be read (its placeholder definitions are then not seen)."""
    def read(path: str) -> str | None:
        try:
            return (root / path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    return read


def placeholder_definitions(premises: Iterable[Premise], source: Callable[[str], str | None]) -> set[str]:
    """Full names of the non-theorem declarations whose text (by their positions in ``source(path)``) gives up."""
    found: set[str] = set()
    for premise in premises:
        if premise.kind in THEOREM_KINDS:
            continue
        text = source(premise.path)
        if text is None:
            continue
        lines = text.split("\n")
        first, last = premise.start.line - 1, premise.end.line - 1
        if not 0 <= first <= last < len(lines):
            continue
        chunk = "\n".join(lines[first:last + 1])
        chunk = chunk[premise.start.column - 1:] if first == last else chunk
        if gives_up(chunk):
            found.add(premise.full_name)
    return found


def _mentions(statement: str, names: set[str]) -> str | None:
    """The first of ``names`` that an identifier of ``statement`` can stand for (its full name, or a suffix of
    it after a dot, as `open` and namespaces allow)."""
    toks = tokenize(statement)
    for kind, text in zip(toks.kinds, toks.texts):
        if kind != IDENT or not text:
            continue
        for name in sorted(names):
            if name == text or name.endswith("." + text):
                return name
    return None


def skip_reasons(theorems: Sequence[Theorem], premises: Iterable[Premise], source: Callable[[str], str | None],
                 *, textbook: bool = False) -> dict[str, str]:
    """Theorem id → why that sorry theorem is skipped, for the sorry theorems of one repository (``premises``:
    the repository's own declarations; ``source(path)``: a file's text, None when it cannot be read)."""
    reasons: dict[str, str] = {}
    targets = [t for t in theorems if t.is_target]
    if not targets:
        return reasons
    placeholders = placeholder_definitions(premises, source)
    for theorem in targets:
        if textbook:
            reasons[theorem.id] = "exercise: the repository is marked as a textbook in the repositories file"
        elif is_exercise_path(theorem.path):
            reasons[theorem.id] = f"exercise: {theorem.path} is named like an exercise file"
        else:
            used = _mentions(theorem.statement, placeholders - {theorem.full_name})
            if used is not None:
                reasons[theorem.id] = f"placeholder: its statement uses {used}, itself defined with sorry"
    return reasons
