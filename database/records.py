"""The project's vocabulary: frozen records that cross every stage boundary.

Positions follow LeanDojo's ``Pos``: 1-based line, 1-based column, counted in Unicode code points.
Ids come from :mod:`database.ids`; they are derived fields (``compare=False``) so that two records
describing the same thing compare equal by content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from database.ids import premise_id, repo_id, theorem_id

__all__ = [
    "Pos",
    "Dependency",
    "Repo",
    "SourceFile",
    "Declaration",
    "Notation",
    "Premise",
    "Theorem",
    "TacticStep",
    "FileScan",
    "RepoScan",
    "ProofAttempt",
    "Evaluation",
    "TacticEvaluation",
    "DECL_KINDS",
    "THEOREM_KINDS",
]

# Declaration keywords the extractor recognises, in Lean's spelling.
DECL_KINDS = (
    "theorem", "lemma", "def", "abbrev", "instance", "structure", "class", "inductive",
    "axiom", "opaque", "example",
)
# Kinds that count as theorems (training data and proving targets). `example`s are anonymous: not counted.
THEOREM_KINDS = ("theorem", "lemma")

Extractor = Literal["static", "traced", "repl"]
"""``static``: the source scanner; ``traced``: LeanDojo's trace; ``repl``: the Lean REPL's ``all_tactics``."""


@dataclass(frozen=True, order=True)
class Pos:
    """A position in a Lean source file (LeanDojo's convention)."""

    line: int
    """1-based line number."""
    column: int
    """1-based column number, in code points."""

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


@dataclass(frozen=True)
class Dependency:
    """A package a repository depends on, as pinned by its ``lake-manifest.json``."""

    name: str
    """Package name (``mathlib``, ``batteries``, ...)."""
    url: str
    """Git URL, or the local path for a ``path`` dependency."""
    rev: str
    """Pinned revision (commit hash); empty for a path dependency."""


@dataclass(frozen=True)
class Repo:
    """A Lean repository at one commit, as acquired on disk."""

    url: str
    """Canonical URL (``https://github.com/owner/name``) or absolute local path."""
    commit: str
    """Full commit hash that was checked out (or ``"worktree"`` for an uncommitted local tree)."""
    name: str
    """Short name for humans and reports (``owner/name`` or the directory name)."""
    lean_version: str = ""
    """Content of ``lean-toolchain`` (e.g. ``leanprover/lean4:v4.8.0``); empty when absent."""
    path: str = field(default="", compare=False)
    """Local directory holding the checked-out sources (an acquisition detail, not identity)."""
    dependencies: tuple[Dependency, ...] = ()
    """Packages pinned in ``lake-manifest.json``."""
    textbook: bool = field(default=False, compare=False)
    """Marked ``textbook`` in the repositories file: its sorries are exercises, listed but not attempted."""
    id: str = field(init=False, compare=False)
    """Stable id over (url, commit)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", repo_id(self.url, self.commit))


@dataclass(frozen=True)
class SourceFile:
    """One ``.lean`` file of a repository."""

    path: str
    """Path relative to the repository root, with ``/`` separators."""
    module: str
    """Lean module name (``Foo/Bar.lean`` → ``Foo.Bar``)."""
    imports: tuple[str, ...] = ()
    """Modules named by ``import`` lines, in order."""
    lines: int = field(default=0, compare=False)
    """Number of lines (statistics only)."""


@dataclass(frozen=True)
class TacticStep:
    """One tactic of a proof; states and annotated premises only come from traced data."""

    tactic: str
    """Tactic text as written."""
    state_before: str = ""
    """Pretty-printed goals before the tactic (traced data only)."""
    state_after: str = ""
    """Pretty-printed goals after the tactic (traced data only)."""
    premises: tuple[str, ...] = ()
    """Full names of premises annotated on this tactic (traced data only)."""


@dataclass(frozen=True)
class Declaration:
    """A declaration as the extractor found it in one file, before cross-file premise resolution."""

    name: str
    """Fully qualified name (``Nat.foo``); empty for ``example``."""
    kind: str
    """One of :data:`DECL_KINDS`."""
    path: str
    """File path relative to the repository root."""
    start: Pos
    """Position of the first character of the declaration (its modifiers and attributes included)."""
    end: Pos
    """Position just after the last character of the declaration."""
    statement: str
    """Header: everything from the keyword to the ``:=`` / ``where`` / ``|`` that starts the body."""
    proof: str = ""
    """Body text after ``:=`` (or the ``where`` / equations part); empty when there is none."""
    code: str = ""
    """Premise form: the declaration text with its proof removed (ReProver embeds this)."""
    steps: tuple[str, ...] = ()
    """Tactic texts of a ``by`` proof, in order; empty for term proofs."""
    sorry_in_proof: bool = False
    """The body contains ``sorry`` or ``admit``: a proving target."""
    sorry_in_statement: bool = False
    """The statement itself contains ``sorry``: a placeholder, never a target."""
    private: bool = False
    """Declared ``private``."""
    identifiers: tuple[str, ...] = ()
    """Distinct identifiers used in the body, as written, in first-use order."""
    namespaces: tuple[str, ...] = ()
    """Enclosing namespace stack at the declaration (``("Foo", "Bar")``)."""
    opens: tuple[str, ...] = ()
    """Namespaces opened in scope at the declaration, innermost last."""
    typed: tuple[tuple[str, int], ...] = ()
    """Those of ``identifiers`` that dot notation on a local of known type gave (``Map.find?`` from
    ``m.find?``, ``m : Map α β``), with the number of leading name components that are the type: the prefix
    fallback may cut such a name (``T.f.g`` → ``T.f``) but never down to the type alone."""
    mutual: Pos | None = None
    """Start of the ``mutual`` block it is declared in (its members see each other), else None."""
    symbols: tuple[str, ...] = ()
    """Distinct symbols of the body beyond Lean's core syntax (``⟪``): uses of notations, resolved across
    files to the function a notation unfolds to."""


@dataclass(frozen=True)
class Notation:
    """A ``notation`` / ``infix`` … command whose leading literal is one symbol: a use of it is a use of the
    function it unfolds to."""

    symbol: str
    """The leading literal (``⟪``)."""
    target: str
    """The function it unfolds to, as written (``Pt.mk``)."""
    path: str
    """File it is declared in."""
    start: Pos
    """Its position."""
    namespaces: tuple[str, ...] = ()
    """Namespaces around it (its target is looked up from there)."""
    opens: tuple[str, ...] = ()
    """Namespaces opened there."""
    local: bool = False
    """``local`` / ``scoped``: visible in its own file only (scoped: also where its namespace is opened)."""


@dataclass(frozen=True)
class FileScan:
    """What the extractor found in one file."""

    file: SourceFile
    """The file and its imports."""
    declarations: tuple[Declaration, ...]
    """Declarations in source order."""
    warnings: tuple[str, ...] = ()
    """Problems met (bad UTF-8, unterminated comment, ...); each names the file."""
    notations: tuple[Notation, ...] = ()
    """Its notations whose leading literal is one symbol."""


@dataclass(frozen=True)
class Premise:
    """A named declaration that proofs may use; deduplicated across repositories."""

    full_name: str
    """Fully qualified name."""
    kind: str
    """Declaration kind."""
    path: str
    """Defining file, relative to its package root."""
    start: Pos
    """Start of the declaration."""
    end: Pos
    """End of the declaration."""
    code: str
    """Declaration with its proof removed."""
    id: str = field(init=False, compare=False)
    """Stable id over (full name, path, code)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", premise_id(self.full_name, self.path, self.code))


@dataclass(frozen=True)
class Theorem:
    """A theorem of a repository at one commit: training data, or a proving target when it has ``sorry``."""

    url: str
    """Repository URL."""
    commit: str
    """Repository commit."""
    path: str
    """File path relative to the repository root."""
    full_name: str
    """Fully qualified name."""
    start: Pos
    """Start of the declaration."""
    end: Pos
    """End of the declaration."""
    statement: str
    """The statement (header) as written."""
    proof: str
    """The proof as written."""
    steps: tuple[TacticStep, ...] = ()
    """Tactic steps (with states when traced)."""
    premises: tuple[str, ...] = ()
    """Full names of the premises the proof uses (resolved)."""
    has_sorry: bool = False
    """The proof contains ``sorry``/``admit``: a proving target, not training data."""
    placeholder: bool = False
    """The statement contains ``sorry``: not provable as stated, flagged in reports."""
    extractor: Extractor = "static"
    """Which extractor produced this record."""
    id: str = field(init=False, compare=False)
    """Stable id over (url, commit, path, full name)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", theorem_id(self.url, self.commit, self.path, self.full_name))

    @property
    def num_steps(self) -> int:
        """S, the paper's proof length: number of tactic steps (0 for a term proof)."""
        return len(self.steps)

    @property
    def is_target(self) -> bool:
        """A proving target: its proof gives up (sorry), its statement does not (a placeholder never is)."""
        return self.has_sorry and not self.placeholder


@dataclass(frozen=True)
class RepoScan:
    """Everything extracted from one repository (and the dependencies scanned with it)."""

    repo: Repo
    """The repository."""
    files: tuple[SourceFile, ...]
    """Its Lean files."""
    premises: tuple[Premise, ...]
    """Premises defined in the repository."""
    theorems: tuple[Theorem, ...]
    """Its theorems and lemmas, sorry ones included."""
    warnings: tuple[str, ...] = ()
    """Per-file problems met during extraction."""
    extractor: Extractor = "static"
    """Which extractor produced it."""
    seconds: float = field(default=0.0, compare=False)
    """Wall time of the extraction."""


Outcome = Literal["proved", "unverified", "failed", "timeout", "error", "skipped"]
"""``proved``: found and accepted by Lean on the whole file (no ``sorryAx``); ``unverified``: found by the search
but not accepted by that final check (or not checked), never in a patch or a pull request."""


@dataclass(frozen=True)
class ProofAttempt:
    """One attempt at proving a sorry theorem."""

    theorem_id: str
    """Id of the :class:`Theorem`."""
    checkpoint: str
    """Retriever checkpoint used (name or directory)."""
    outcome: Outcome
    """What happened."""
    proof: str = ""
    """The proof found (tactics joined by newlines); empty unless proved or unverified."""
    seconds: float = field(default=0.0, compare=False)
    """Wall time."""
    nodes: int = field(default=0, compare=False)
    """Search nodes expanded."""
    message: str = ""
    """Reason for error / skip."""


@dataclass(frozen=True)
class Evaluation:
    """Retrieval quality of a checkpoint on one repository's split: one cell of the lifelong matrix."""

    checkpoint: str
    """Checkpoint name (after learning repository i)."""
    repo_id: str
    """Evaluated repository j."""
    split: str
    """``test`` or ``validation``."""
    recall_at_1: float
    """Recall@1."""
    recall_at_10: float
    """Recall@10."""
    mrr: float
    """Mean reciprocal rank."""
    queries: int = field(default=0, compare=False)
    """Test (or validation) queries the figures rest on; 0 where not recorded (older runs)."""


@dataclass(frozen=True)
class TacticEvaluation:
    """The tactic generator of a checkpoint on one repository's split: one cell of the generator's lifelong
    matrix. A case is a held-out theorem with a tactic proof; a hit at k, its first tactic among the top k."""

    checkpoint: str
    """Checkpoint name (after learning repository i)."""
    repo_id: str
    """Evaluated repository j."""
    split: str
    """``test`` or ``validation``."""
    generator: str
    """Which generator (``prover.generator``)."""
    hit_at_1: float
    """Share of cases whose first tactic is the generator's first suggestion."""
    hit_at_8: float
    """… among its first 8."""
    hit_at_64: float
    """… among its first 64."""
    cases: int = field(default=0, compare=False)
    """Theorems the figures rest on."""
