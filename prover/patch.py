"""Found proofs written back into Lean source, by positions, and as a patch ``git apply`` accepts.

A search proves a theorem from its statement, so the theorem's whole proof (``:= by … sorry …``, or
``:= sorry``) is replaced by ``by`` and the found tactics, one per line, indented two spaces past the
declaration. The proof is located by the extractor's positions (the declaration's end and its proof
text), never by searching for ``sorry`` in the file.

>>> from database.records import Pos, Theorem
>>> src = "theorem t (n : Nat) : n + 0 = n := by\\n  sorry\\n"
>>> t = Theorem("u", "c", "A.lean", "t", Pos(1, 1), Pos(2, 8), "theorem t (n : Nat) : n + 0 = n", "by\\n  sorry",
...             has_sorry=True)
>>> print(replace_proofs(src, [(t, ("intro", "simp"))]), end="")
theorem t (n : Nat) : n + 0 = n := by
  intro
  simp
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from database.records import Pos, Theorem

__all__ = ["ProofEditError", "offset", "proof_span", "render_proof", "replace_proofs", "make_patch"]


class ProofEditError(ValueError):
    """A proof cannot be put back: the file changed since it was scanned, or two edits overlap."""


def offset(text: str, pos: Pos) -> int:
    """The string offset of a 1-based (line, column in code points) position.

    >>> offset("ab\\ncd", Pos(2, 2))
    4
    """
    start = 0
    for _ in range(pos.line - 1):
        start = text.index("\n", start) + 1
    return start + pos.column - 1


def proof_span(text: str, theorem: Theorem) -> tuple[int, int]:
    """Offsets ``[start, end)`` of ``theorem``'s proof in ``text`` (its file, as scanned)."""
    try:
        end = offset(text, theorem.end)
    except ValueError:
        raise ProofEditError(f"{theorem.path}: {theorem.full_name} ends at {theorem.end}, past the end of the "
                             "file; scan the repository again") from None
    start = end - len(theorem.proof)
    if not theorem.proof or start < 0 or text[start:end] != theorem.proof:
        raise ProofEditError(f"{theorem.path}: the proof of {theorem.full_name} is no longer at "
                             f"{theorem.start}–{theorem.end}; the file changed since it was scanned")
    return start, end


def render_proof(tactics: Sequence[str], indent: int) -> str:
    """``by`` and the tactics, one per line at ``indent`` spaces (continuation lines keep their offset).

    >>> render_proof(["constructor", "· simp\\n  omega"], 2)
    'by\\n  constructor\\n  · simp\\n    omega'
    """
    pad = " " * indent
    lines = [pad + line if line.strip() else "" for t in tactics for line in t.split("\n")]
    return "by\n" + "\n".join(lines)


def replace_proofs(text: str, proofs: Iterable[tuple[Theorem, Sequence[str]]]) -> str:
    """``text`` with each theorem's proof replaced by its tactics (edits applied from the bottom up)."""
    spans = sorted(((*proof_span(text, t), t, tactics) for t, tactics in proofs), key=lambda x: x[0])
    for (_, end, a, _), (start, _, b, _) in zip(spans, spans[1:]):
        if start < end:
            raise ProofEditError(f"{a.path}: the proofs of {a.full_name} and {b.full_name} overlap")
    for start, end, theorem, tactics in reversed(spans):
        text = text[:start] + render_proof(tactics, theorem.start.column - 1 + 2) + text[end:]
    return text


def make_patch(root: Path, proofs: Mapping[str, Sequence[tuple[Theorem, Sequence[str]]]]) -> str:
    """A unified diff (``git apply`` / ``patch -p1``) putting the proofs into the files under ``root``.

    ``proofs`` maps a file path (relative to ``root``) to its (theorem, tactics) pairs; files in sorted
    order, so the patch is deterministic.
    """
    parts = []
    for rel in sorted(proofs):
        before = (root / rel).read_text(encoding="utf-8")
        after = replace_proofs(before, proofs[rel])
        diff = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                    fromfile=f"a/{rel}", tofile=f"b/{rel}")
        text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in diff)
        if text:
            parts.append(f"diff --git a/{rel} b/{rel}\n" + text)
    return "".join(parts)
