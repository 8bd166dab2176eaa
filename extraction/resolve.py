"""Premise resolution: which known declarations a proof's identifiers name, by Lean's lookup rules.

For an identifier ``x`` (possibly dotted, ``P.y``) in a declaration ``A.B.d`` with ``open C D`` in scope,
the candidates are tried in this order and the first known name wins:
``A.B.x``, ``A.x``, ``x``, then ``C'.x``, ``D'.x`` where ``C'`` is the first of ``A.B.C``, ``A.C``, ``C``
that is a known namespace (Lean resolves ``open`` relative to the current namespace). The namespaces
are those of the declaration's full name, so ``theorem Foo.bar`` inside ``namespace A`` looks in
``A.Foo`` first, as Lean does. ``_root_.x`` means exactly ``x``. Private declarations only resolve from
their own file; a declaration never resolves to itself.

A name is visible, as in Lean, only when it is declared earlier in the same file or in a file of the
import closure (an index built from scans knows their imports): a declaration of an unrelated file never
answers, even when its name matches.

Two rules go beyond plain lookup:

- **Dot notation on a constant**: when ``foo.mp`` (or ``Foo.bar.symm``) is not known but a prefix
  (``foo``) resolves, the prefix is the premise (``foo.mp`` is ``Iff.mp foo``).
- **Dot notation on a local** (off unless ``NameIndex(suffix_fallback=True)``): when the head of
  ``h.trans_le`` starts with a lowercase letter and is neither a namespace nor a declaration (so most
  likely a hypothesis), the last component is looked up among all known names; it resolves only when
  exactly one declaration ends with it. Off by default because it is only safe when every dependency
  was scanned: without Mathlib, ``hX.prodMk`` (``Measurable.prodMk``) would resolve to the one
  ``prodMk`` the repository itself defines.

Structures, classes and inductive types also make their constructors, fields, ``to``-parent
projections and recursors known (``Foo.mk``, ``Foo.x``, ``Foo.toBar``, ``Foo.rec``, ``Foo.casesOn``…);
these resolve to the type's own premise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from database.records import Declaration, FileScan, Notation
from extraction.lexer import IDENT, SYM, normalize_name, split_name, tokenize
from extraction.scanner import module_name
from extraction.words import KEYWORDS

__all__ = ["NameIndex", "resolve_identifiers", "derived_names"]

_RECURSORS = ("rec", "recOn", "casesOn", "noConfusion", "noConfusionType", "below", "brecOn")
_STRUCTURE_EXTRAS = ("ext", "ext_iff")


class NameIndex:
    """Names known in a repository and its dependencies, each mapped to the premise it stands for.

    >>> from extraction.scanner import scan_source
    >>> scans = [scan_source("namespace A\\ntheorem x : True := trivial\\nend A\\n"
    ...                      "open A in theorem y : True := x\\n", "F.lean")]
    >>> index = NameIndex.from_scans(scans)
    >>> resolve_identifiers(scans[0].declarations[1], index)
    ('A.x',)
    >>> other = scan_source("theorem z : True := trivial\\n", "G.lean")  # not imported by H
    >>> user = scan_source("theorem w : True := z\\n", "H.lean")
    >>> resolve_identifiers(user.declarations[0], NameIndex.from_scans([other, user]))
    ()
    """

    def __init__(self, suffix_fallback: bool = False) -> None:
        self.suffix_fallback = suffix_fallback
        """Resolve ``h.foo`` with a local ``h`` by the unique declaration ending in ``foo``."""
        self._names: dict[str, list[_Entry]] = {}
        self._seen: set[tuple[str, str, str | None, str]] = set()
        self._namespaces: set[str] = set()
        self._by_last: dict[str, set[_Entry]] | None = None
        self._prefixes: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[str, ...]] = {}
        self._imports: dict[str, tuple[str, ...]] | None = None  # module → imports; None: visibility unchecked
        self._closure: dict[str, frozenset[str]] = {}
        self._notations: dict[str, list[Notation]] = {}

    @classmethod
    def from_scans(cls, scans: Iterable[FileScan], suffix_fallback: bool = False) -> "NameIndex":
        """Index every named declaration (and the names derived from it) of ``scans``, with their files'
        imports, so that a name resolves only where Lean would see it."""
        index = cls(suffix_fallback)
        index._imports = {}
        for scan in scans:
            index._imports.setdefault(scan.file.module, tuple(scan.file.imports))
            for decl in scan.declarations:
                index.add(decl)
            for notation in scan.notations:
                index._notations.setdefault(notation.symbol, []).append(notation)
        return index

    def notation_uses(self, symbols: Iterable[str], path: str, at: tuple[int, int]) -> list[str]:
        """Premises that the notations behind ``symbols`` unfold to, for a use in ``path`` at ``at``: a
        notation declared earlier in that file, or (unless ``local``/``scoped``) in a file it imports."""
        out = []
        for symbol in symbols:
            for notation in self._notations.get(symbol, ()):
                where = (notation.start.line, notation.start.column)
                seen_as = _Entry(notation.target, notation.path if notation.local else None,
                                 module_name(notation.path), where)  # a local notation: like a private name
                if self._visible(seen_as, path, at):
                    prefixes = self.prefixes(notation.namespaces, notation.opens)
                    found = self.resolve(notation.target, prefixes, notation.path, where)
                    if found is not None:
                        out.append(found)
                    break  # the first visible one (the file's own, then imports in scan order)
        return out

    def add(self, decl: Declaration) -> None:
        """Make ``decl`` (and its constructors, fields, recursors) known."""
        if not decl.name or decl.kind == "example":
            return
        seen_from = decl.mutual or decl.start  # a `mutual` block's members see each other
        entry = _Entry(decl.name, decl.path if decl.private else None, module_name(decl.path),
                       (seen_from.line, seen_from.column))
        self._add(decl.name, entry)
        for alias in derived_names(decl):
            self._add(alias, entry)

    def _add(self, name: str, entry: "_Entry") -> None:
        # A name declared again in the same module keeps its first (earliest) entry: constant time, so a
        # file repeating one declaration thousands of times stays linear.
        key = (name, entry.premise, entry.private, entry.module)
        if key in self._seen:
            return
        self._seen.add(key)
        self._names.setdefault(name, []).append(entry)
        parts = split_name(name)
        for k in range(1, len(parts)):
            self._namespaces.add(".".join(parts[:k]))
        self._by_last = None
        self._prefixes.clear()

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __len__(self) -> int:
        return len(self._names)

    def imported(self, module: str) -> frozenset[str]:
        """Modules reachable through imports from ``module`` (itself excluded), memoised."""
        found = self._closure.get(module)
        if found is None:
            imports = self._imports or {}
            seen: set[str] = set()
            stack = list(imports.get(module, ()))
            while stack:
                current = stack.pop()
                if current not in seen:
                    seen.add(current)
                    stack.extend(imports.get(current, ()))
            found = self._closure[module] = frozenset(seen - {module})
        return found

    def _visible(self, entry: "_Entry", path: str, at: tuple[int, int] | None) -> bool:
        if entry.private is not None and entry.private != path:
            return False
        if self._imports is None or not path:
            return True
        module = module_name(path)
        if entry.module == module:
            return at is None or entry.start < at
        return entry.module in self.imported(module)

    def lookup(self, name: str, path: str = "", at: tuple[int, int] | None = None) -> str | None:
        """The premise that ``name`` stands for, seen from file ``path`` at position ``at`` (line, column):
        private names need the same file, and an index built from scans needs the name declared before
        ``at`` in that file or in a file it imports."""
        for entry in self._names.get(name, ()):
            if self._visible(entry, path, at):
                return entry.premise
        return None

    def prefixes(self, namespaces: tuple[str, ...], opens: tuple[str, ...]) -> tuple[str, ...]:
        """Namespaces to try, in order, for a declaration in ``namespaces`` with ``opens`` in scope.

        >>> NameIndex().prefixes(("A", "B"), ("C",))
        ('A.B', 'A', '', 'C')
        """
        key = (namespaces, opens)
        cached = self._prefixes.get(key)
        if cached is not None:
            return cached
        out = [".".join(namespaces[:k]) for k in range(len(namespaces), -1, -1)]
        for opened in opens:
            if opened.startswith("_root_."):
                out.append(opened[len("_root_."):])
                continue
            for k in range(len(namespaces), -1, -1):
                candidate = ".".join([*namespaces[:k], opened])
                if candidate in self._namespaces:
                    out.append(candidate)
                    break
            else:
                out.append(opened)
        result = tuple(dict.fromkeys(out))
        self._prefixes[key] = result
        return result

    def resolve(self, identifier: str, prefixes: tuple[str, ...], path: str = "",
                at: tuple[int, int] | None = None) -> str | None:
        """The premise ``identifier`` names when looked up under ``prefixes`` from ``path`` at ``at`` (see
        the module docstring)."""
        name = normalize_name(identifier)
        if name.startswith("_root_."):
            return self.lookup(name[len("_root_."):], path, at)
        found = self._under(name, prefixes, path, at)
        if found is not None or "." not in name:
            return found
        parts = split_name(name)
        for cut in range(len(parts) - 1, 0, -1):
            found = self._under(".".join(parts[:cut]), prefixes, path, at)
            if found is not None:
                return found
        head = parts[0]
        local = head[:1].islower() and not any(_join(p, head) in self._namespaces for p in prefixes)
        if self.suffix_fallback and local:
            return self._unique_last(parts[-1], path, at)
        return None

    def resolve_exact(self, identifier: str, prefixes: tuple[str, ...], path: str = "",
                      at: tuple[int, int] | None = None, keep: int = 1) -> str | None:
        """The premise ``identifier`` names under ``prefixes``, cut by the prefix fallback to no fewer than
        ``keep`` components, and without the suffix fallback."""
        parts = split_name(normalize_name(identifier))
        for cut in range(len(parts), min(keep, len(parts)) - 1, -1):
            found = self._under(".".join(parts[:cut]), prefixes, path, at)
            if found is not None:
                return found
        return None

    def _under(self, name: str, prefixes: tuple[str, ...], path: str, at: tuple[int, int] | None) -> str | None:
        for prefix in prefixes:
            found = self.lookup(_join(prefix, name), path, at)
            if found is not None:
                return found
        return None

    def _unique_last(self, last: str, path: str, at: tuple[int, int] | None) -> str | None:
        if self._by_last is None:
            self._by_last = {}
            for name, entries in self._names.items():
                self._by_last.setdefault(split_name(name)[-1], set()).update(entries)
        premises = {e.premise for e in self._by_last.get(last, ()) if self._visible(e, path, at)}
        return premises.pop() if len(premises) == 1 else None


@dataclass(frozen=True)
class _Entry:
    """Where a known name comes from."""

    premise: str
    """The declaration it stands for."""
    private: str | None
    """The file of a private declaration (visible there only), else None."""
    module: str
    """The declaring file's module."""
    start: tuple[int, int]
    """(line, column) of the declaration."""


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def resolve_identifiers(decl: Declaration, index: NameIndex) -> tuple[str, ...]:
    """Full names of the known declarations that ``decl``'s proof identifiers refer to, in first-use order
    (``decl`` itself excluded)."""
    namespaces = tuple(split_name(decl.name)[:-1]) if decl.name else decl.namespaces
    prefixes = index.prefixes(namespaces, decl.opens)
    out: dict[str, None] = {}
    at = (decl.start.line, decl.start.column)
    short = decl.name.rsplit(".", 1)[-1] if decl.name else ""
    typed = dict(decl.typed)
    for identifier in decl.identifiers:
        if identifier in typed:  # `m.find?` with `m : Map`: `Map.find?` (or a longer prefix), never `Map`
            found = index.resolve_exact(identifier, prefixes, decl.path, at, keep=typed[identifier] + 1)
            if found is not None and found != decl.name:
                out[found] = None
            continue
        found = index.resolve(identifier, prefixes, decl.path, at)
        if found is None and short and identifier.split(".", 1)[0] == short:
            found = index.resolve(identifier, prefixes, decl.path)  # its own `where` helpers come after it
        if found is not None and found != decl.name:
            out[found] = None
    for found in index.notation_uses(decl.symbols, decl.path, at):
        if found != decl.name:
            out[found] = None
    return tuple(out)


def derived_names(decl: Declaration) -> tuple[str, ...]:
    """Names a structure, class or inductive type brings with it (constructors, fields, parent
    projections, recursors).

    >>> from extraction.scanner import scan_source
    >>> decl = scan_source("structure P extends Q where\\n  mk' ::\\n  x y : Nat\\n  z : Nat := 0\\n",
    ...                    "F.lean").declarations[0]
    >>> derived_names(decl)[:6]
    ("P.mk'", 'P.x', 'P.y', 'P.z', 'P.toQ', 'P.rec')
    >>> derived_names(scan_source("inductive T\\n  | a : T\\n  | b (n : Nat) : T", "F.lean").declarations[0])[:2]
    ('T.a', 'T.b')
    """
    if decl.kind not in ("structure", "class", "inductive") or not decl.name:
        return ()
    toks = tokenize(decl.proof)
    kinds, texts, bol, cols = toks.kinds, toks.texts, toks.bol, toks.cols
    names: list[str] = []
    inductive = decl.kind == "inductive" or any(t == "|" for t in texts[:1])
    if inductive:
        for k in range(len(texts) - 1):
            if kinds[k] == SYM and texts[k] == "|" and kinds[k + 1] == IDENT:
                names.append(texts[k + 1])
    else:
        k = 1 if texts[:1] in (["where"], [":="]) else 0
        if k + 1 < len(texts) and kinds[k] == IDENT and texts[k + 1] == "::":
            names.append(texts[k])
            k += 2
        else:
            names.append("mk")
        column = cols[k] if k < len(texts) else 0
        for t in range(k, len(texts)):
            if not (bol[t] or t == k) or cols[t] != column:
                continue
            u = t
            while u < len(texts) and kinds[u] == IDENT and texts[u] not in KEYWORDS:
                names.append(texts[u])
                u += 1
        names.extend(_parents(decl.statement))
    own = decl.name
    out = [f"{own}.{normalize_name(n)}" for n in names]
    out.extend(f"{own}.{r}" for r in _RECURSORS)
    if not inductive:
        out.extend(f"{own}.{r}" for r in _STRUCTURE_EXTRAS)
    return tuple(dict.fromkeys(out))


def _parents(statement: str) -> list[str]:
    """``toBar`` projections from ``extends Bar α, Baz`` in a structure header."""
    toks = tokenize(statement)
    texts, kinds = toks.texts, toks.kinds
    if "extends" not in texts:
        return []
    out, depth, expect = [], 0, True
    for k in range(texts.index("extends") + 1, len(texts)):
        text = texts[k]
        if kinds[k] == SYM and text in ("(", "[", "{", "⟨"):
            depth += 1
        elif kinds[k] == SYM and text in (")", "]", "}", "⟩"):
            depth -= 1
        elif depth == 0 and text == ",":
            expect = True
        elif depth == 0 and text in (":=", "where"):
            break
        elif expect and depth == 0 and kinds[k] == IDENT:
            out.append("to" + split_name(normalize_name(text))[-1])
            expect = False
    return out
