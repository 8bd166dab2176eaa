"""A mutator of Lean source for fuzzing the static extractor: real-like text, then broken in Lean's own ways.

Each mutant starts from a seed file (this project's own Lean projects) and takes a few random edits: a span
deleted, duplicated or moved; a Lean fragment inserted where it makes no sense (an unclosed ``/-``, a lone
``"``, ``by`` with nothing after it, ``where``, ``|``, a namespace never ended, ``sorry``, deep brackets);
odd characters (NUL, ``\\r``, a BOM, astral and combining code points, a lone surrogate escaped); a cut
line. The extractor must never raise on any of them (:func:`check`): a broken file is a warning, not a crash.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from database.records import Repo
from extraction.scanner import scan_source
from extraction.tree import extract_repo

__all__ = ["FRAGMENTS", "mutate", "check", "seed_sources"]

FRAGMENTS = (
    "/-", "-/", "/--", "--", '"', "'", "«", "»", "(", ")", "⟨", "⟩", "[", "]", "{", "}", "⦃", "by", ":=", ":",
    "theorem", "lemma", "def", "where", "|", "=>", "fun", "match", "with", "namespace Foo", "end", "end Foo",
    "section", "open Nat in", "variable (x : Nat)", "sorry", "admit", "· ", "<;>", "at *", "calc", "have h :",
    "notation \"⟪\" x \"⟫\" => id x", "macro_rules", "mutual", "@[simp]", "private", "protected", "instance :",
    "theorem t : 1 = 1 := by\n  rfl\n", "\n", "\n\n", "  ", "\t", "\x00", "\r", "\ufeff", "𝔽", "é", "\u0301",
    "\\", "`(", "$(", "#check", "import Foo.Bar", "((((((((((", "))))))))))", "⟨⟨⟨⟨", "\"\\\"", "r#\"",
)
"""What is inserted: Lean's delimiters and keywords, out of place, and characters a decoder may trip on."""


def seed_sources(roots: Sequence[Path]) -> list[str]:
    """The text of every ``.lean`` file under ``roots``."""
    return [p.read_text(encoding="utf-8") for root in roots for p in sorted(Path(root).rglob("*.lean"))]


def mutate(text: str, rng: random.Random, edits: int | None = None) -> str:
    """``text`` after ``edits`` (1 to 6 when None) random edits.

    >>> mutate("theorem a : 1 = 1 := by\\n  rfl\\n", random.Random(0)) != "theorem a : 1 = 1 := by\\n  rfl\\n"
    True
    """
    for _ in range(edits if edits is not None else rng.randint(1, 6)):
        n = len(text)
        i, j = sorted(rng.randrange(n + 1) for _ in range(2)) if n else (0, 0)
        op = rng.randrange(6)
        if op == 0:  # delete a span
            text = text[:i] + text[j:]
        elif op == 1:  # duplicate a span
            text = text[:j] + text[i:j] + text[j:]
        elif op == 2:  # insert a fragment
            text = text[:i] + rng.choice(FRAGMENTS) + text[i:]
        elif op == 3:  # move a span elsewhere
            span, rest = text[i:j], text[:i] + text[j:]
            k = rng.randrange(len(rest) + 1)
            text = rest[:k] + span + rest[k:]
        elif op == 4:  # cut the file
            text = text[:i]
        else:  # repeat a fragment many times (deep nesting, long lines)
            text = text[:i] + rng.choice(FRAGMENTS) * rng.randint(2, 200) + text[i:]
    return text


_REPO = Repo(url="https://example.org/fuzz", commit="f" * 40, name="fuzz")


def check(text: str, path: str = "Fuzz/A.lean") -> int:
    """Scan ``text`` and extract records from it as one repository; the number of declarations found.

    Raises whatever the extractor raises: the fuzzer's only failure.
    """
    scan = scan_source(text, path)
    extract_repo(_REPO, Path("."), file_scans=[scan])
    return len(scan.declarations)
