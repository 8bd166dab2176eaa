"""Declarations of one Lean 4 file, found statically: a pass over the tokens of :mod:`.lexer`.

Commands. A command starts where a line begins (at or left of the current command's column) with a
command word (:data:`~.words.COMMAND_WORDS`, a ``#command``, ``@[``, a doc comment), or right after a
command ending in ``in`` (``open Foo in``, ``set_option … in``). A declaration runs to the next command;
trailing comments are not part of it. ``termination_by``, ``decreasing_by``, ``where`` and ``deriving``
lines stay with their declaration. ``#exit`` ends the file, as in Lean.

Scope. ``namespace A.B`` / ``section S`` / ``mutual`` push scopes, ``end [name]`` pops as many as the name
has components (one when anonymous). ``open A B`` and ``export A`` add to the open namespaces until the
scope closes; ``open … in`` only for the next command; ``open A (x)``, ``open A hiding x`` and ``open A
renaming x → y`` open ``A`` (an approximation); ``open scoped A`` opens nothing (it only activates
notation).

Names. A declaration's name is the enclosing namespaces plus the declared name; ``_root_.x`` is ``x``;
``«x»`` is printed ``x`` unless the quotes are needed. Anonymous instances get ``inst`` followed by the
last components of the capitalised names in their type (``instance : Add (Foo.Bar α)`` →
``instAddBar``, Greek letters taken for variables; Lean's own names differ on notation such as ``ℕ``,
which stays ``ℕ``), with ``_1``, ``_2``… when a file repeats one. ``example`` has no name.

Split. The statement runs from the keyword to the first ``:=`` or ``where`` outside brackets, or to the
first ``|`` outside brackets that begins an equation (a ``=>`` follows before any ``|`` or ``:=``;
any ``|`` for inductive types). The proof is the rest (``where`` and ``|`` included).
``code`` is the declaration from its first attribute or modifier (doc comment left out) to that point, or
to its end for structures, classes and inductive types.

Identifiers. ``identifiers`` are the body's names, keywords and local binders left out
(:mod:`.binders`).
"""

from __future__ import annotations

import bisect
from pathlib import Path

from database.records import Declaration, FileScan, Notation, Pos, SourceFile
from extraction.binders import (
    binder_types, body_binders, body_identifiers, signature_binders, variable_binders,
)
from extraction.lexer import (
    CLOSERS, DOC, HASH, IDENT, MODDOC, OPENERS, STRING, SYM, Tokens, match_brackets, normalize_name, split_name, tokenize,
)
from extraction.tactics import tactic_spans
from extraction.words import (
    COMMAND_WORDS, CORE_SYMBOLS, DECL_WORDS, IN_COMMANDS, KEYWORDS, MODIFIERS, NOTATION_WORDS, STRUCTURAL,
)

__all__ = ["scan_source", "scan_file", "module_name"]

# Commands without a body of their own: the next command word ends them at any column, so that
# `namespace X` followed by indented declarations works.
_SHORT_COMMANDS = frozenset({
    "namespace", "section", "end", "mutual", "open", "export", "variable", "variable!", "universe",
    "set_option", "attribute", "omit", "include", "import", "assert_not_exists", "suppress_compilation",
    "snip", "problem_file",
})


def module_name(path: str) -> str:
    """Lean module of a file path.

    >>> module_name("Foo/Bar.lean")
    'Foo.Bar'
    """
    stem = path[:-5] if path.endswith(".lean") else path
    return stem.replace("/", ".")


def scan_source(text: str | bytes, path: str, module: str | None = None) -> FileScan:
    """Imports and declarations of one file's text; never raises on bad input (problems become warnings).

    >>> scan = scan_source("import A.B\\nnamespace N\\ntheorem t : 1 = 1 := by\\n  rfl\\nend N\\n", "X/Y.lean")
    >>> scan.file.module, scan.file.imports, [(d.name, d.statement, d.steps) for d in scan.declarations]
    ('X.Y', ('A.B',), [('N.t', 'theorem t : 1 = 1', ('rfl',))])
    """
    warnings: list[str] = []
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = _decode(bytes(text), path, warnings)
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        warnings.append(f"{path}: binary content (NUL bytes), read as text")
        text = text.replace("\x00", " ")
    toks = tokenize(text)
    warnings.extend(f"{path}: {w}" for w in toks.warnings)
    scanner = _FileScanner(toks, path)
    scanner.run()
    lines = text.count("\n") + (0 if not text or text.endswith("\n") else 1)
    file = SourceFile(path=path, module=module or module_name(path), imports=tuple(scanner.imports),
                      lines=lines)
    return FileScan(file=file, declarations=tuple(scanner.decls), warnings=tuple(warnings),
                    notations=tuple(scanner.notations))


def scan_file(root: Path, relpath: str, max_bytes: int = 8_000_000) -> FileScan:
    """Read and scan ``root / relpath``; an unreadable file or one over ``max_bytes`` is skipped with a
    warning."""
    path = Path(root) / relpath
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return _empty(relpath, f"{relpath}: {size} bytes, over the {max_bytes}-byte limit, skipped")
        data = path.read_bytes()
    except OSError as err:
        return _empty(relpath, f"{relpath}: unreadable ({err.strerror or err}), skipped")
    return scan_source(data, relpath)


def _empty(relpath: str, warning: str) -> FileScan:
    return FileScan(SourceFile(path=relpath, module=module_name(relpath)), (), (warning,))


def _decode(data: bytes, path: str, warnings: list[str]) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        warnings.append(f"{path}: invalid UTF-8 at byte {err.start}, replaced")
        return data.decode("utf-8", errors="replace")


class _FileScanner:
    """The command loop over one file's tokens; accumulates imports and declarations."""

    def __init__(self, toks: Tokens, path: str) -> None:
        self.toks, self.path, self.text = toks, path, toks.text
        self.kinds, self.texts, self.cols, self.bol = toks.kinds, toks.texts, toks.cols, toks.bol
        self.imports: list[str] = []
        self.decls: list[Declaration] = []
        self.namespaces: list[str] = []
        self.opens: list[str] = []
        self.pending: list[str] = []  # `open … in` for the next command only
        self.variables: list[str] = []  # names bound by `variable` in the scopes open now: locals, not premises
        self.pending_variables: set[str] = set()  # `variable … in` for the next command only
        self.variable_types: dict[str, str] = {}  # name → head of its type, of the `variable`s in scope
        self.scopes: list[tuple[str, int, int]] = []  # (namespace component or "", len(opens), len(variables))
        self.instance_names: dict[str, int] = {}
        self.notations: list[Notation] = []
        self.mutual: list[tuple[int, Pos]] = []  # (scope depth, position) of the `mutual` blocks open now
        n = len(toks)
        self.starts = [k for k in range(n) if self.bol[k] and self._is_command_word(k)]

    # -- layout ---------------------------------------------------------------------------------------

    def _is_command_word(self, k: int) -> bool:
        kind, text = self.kinds[k], self.texts[k]
        if kind == IDENT:
            if text == "deriving":
                return k + 1 < len(self.kinds) and self.texts[k + 1] == "instance"
            return text in COMMAND_WORDS
        return kind in (DOC, MODDOC, HASH) or (kind == SYM and text == "@[")

    def _next_command(self, after: int, column: int | None) -> int:
        """Index of the first command start after ``after`` at or left of ``column`` (any column when
        ``None``), or the end."""
        starts = self.starts
        k = bisect.bisect_right(starts, after)
        while column is not None and k < len(starts) and self.cols[starts[k]] > column:
            k += 1
        return starts[k] if k < len(starts) else len(self.kinds)

    def _end_pos(self, k: int) -> Pos:
        """Position just after token ``k`` (which may span lines: strings, doc comments)."""
        toks = self.toks
        start, end = toks.starts[k], toks.ends[k]
        newline = self.text.rfind("\n", start, end)
        if newline < 0:
            return Pos(toks.lines[k], toks.cols[k] + end - start + 1)
        return Pos(toks.lines[k] + self.text.count("\n", start, end), end - newline)

    # -- the command loop -----------------------------------------------------------------------------

    def run(self) -> None:
        kinds, texts, cols, bol = self.kinds, self.texts, self.cols, self.bol
        n = len(kinds)
        i = self._imports()
        chain_col = None  # column of the command that ended in `in`, for the command it scopes
        while i < n:
            column = cols[i] if chain_col is None or bol[i] else chain_col
            j, private = self._prefix(i, n)
            if j >= n:
                break
            word = texts[j] if kinds[j] in (IDENT, HASH) else ""
            end = self._next_command(j, None if word in _SHORT_COMMANDS or kinds[j] == HASH else column)
            chained = False
            if word == "#exit":
                break
            if word in DECL_WORDS and kinds[j] == IDENT:
                self._declaration(i, j, end, private)
            elif word in ("namespace", "section", "end", "mutual"):
                self._scope(word, j, end)
            elif word in ("open", "export"):
                end, chained = self._open(j, end, word == "export")
            elif word in ("variable", "variable!"):
                end, chained = self._variable(j, end)
            elif word in NOTATION_WORDS and kinds[j] == IDENT:
                self._notation(i, j, end)
            elif word in IN_COMMANDS:
                found = self._find(j + 1, end, "in")
                if found >= 0:
                    end, chained = found + 1, True
            if not chained:
                self.pending = []
                self.pending_variables = set()
            chain_col = column if chained else None
            i = max(end, i + 1)

    def _imports(self) -> int:
        kinds, texts, n, i = self.kinds, self.texts, len(self.kinds), 0
        if i < n and texts[i] == "module" and kinds[i] == IDENT:
            i += 1
        if i < n and texts[i] == "prelude" and kinds[i] == IDENT:
            i += 1
        while i < n:
            j = i
            while j < n and texts[j] in ("public", "meta", "private") and kinds[j] == IDENT:
                j += 1
            if j >= n or texts[j] != "import" or kinds[j] != IDENT:
                return i
            j += 1
            if j < n and texts[j] == "all":
                j += 1
            first = j
            while j < n and kinds[j] == IDENT and (j == first or not self.bol[j]):
                self.imports.append(normalize_name(texts[j]))
                j += 1
            i = j
        return i

    def _prefix(self, i: int, n: int) -> tuple[int, bool]:
        """Skip doc comments, attributes and modifiers from ``i``; return (index of the keyword, private)."""
        kinds, texts, private = self.kinds, self.texts, False
        while i < n:
            kind, text = kinds[i], texts[i]
            if kind == DOC:
                i += 1
            elif kind == SYM and text == "@[":
                i = self._close(i, n)
            elif kind == IDENT and text in MODIFIERS:
                private = private or text == "private"
                i += 1
                if text in ("scoped", "local") and i < n and texts[i] == "[" and kinds[i] == SYM:
                    i = self._close(i, n)  # scoped[NS]
            else:
                break
        return i, private

    def _close(self, i: int, n: int) -> int:
        """Index after the bracket group opened at ``i`` (or the next command start when unclosed)."""
        limit = self._next_command(i, self.cols[i])
        depth, k, texts, kinds = 0, i, self.texts, self.kinds
        while k < limit:
            if kinds[k] == SYM:
                if texts[k] in OPENERS:
                    depth += 1
                elif texts[k] in CLOSERS:
                    depth -= 1
                    if depth == 0:
                        return k + 1
            k += 1
        return max(k, i + 1)

    def _find(self, lo: int, hi: int, word: str) -> int:
        """First identifier ``word`` outside brackets in ``[lo, hi)``, or -1."""
        depth = 0
        for k in range(lo, hi):
            kind, text = self.kinds[k], self.texts[k]
            if kind == SYM:
                if text in OPENERS:
                    depth += 1
                elif text in CLOSERS:
                    depth = max(0, depth - 1)
            elif kind == IDENT and text == word and depth == 0:
                return k
        return -1

    def _name_after(self, j: int, end: int) -> str:
        """The name right after keyword ``j`` on the same line, or ``""``."""
        k = j + 1
        if k < end and self.kinds[k] == IDENT and not self.bol[k]:
            return normalize_name(self.texts[k])
        return ""

    def _scope(self, word: str, j: int, end: int) -> None:
        name = self._name_after(j, end) if word != "mutual" else ""
        parts = split_name(name) if name else []
        if word == "namespace":
            for part in parts:
                self.scopes.append((part, len(self.opens), len(self.variables)))
                self.namespaces.append(part)
        elif word in ("section", "mutual"):
            for _ in parts or [""]:
                self.scopes.append(("", len(self.opens), len(self.variables)))
            if word == "mutual":
                self.mutual.append((len(self.scopes), Pos(self.toks.lines[j], self.toks.cols[j] + 1)))
        else:  # end
            for _ in range(min(len(parts) or 1, len(self.scopes))):
                if self.mutual and self.mutual[-1][0] == len(self.scopes):
                    self.mutual.pop()
                part, opens, variables = self.scopes.pop()
                del self.opens[opens:]
                del self.variables[variables:]
                if part:
                    self.namespaces.pop()

    def _notation(self, i: int, j: int, end: int) -> None:
        """Record ``notation "⟪" a "⟫" => Pt.mk a`` (and ``infix`` …) when its first literal is one symbol
        and what follows the last top-level ``=>`` starts with a name that is not one of its variables."""
        kinds, texts, toks = self.kinds, self.texts, self.toks
        literal, arrow, depth, variables = -1, -1, 0, set()
        for t in range(j + 1, end):
            if kinds[t] == SYM:
                if texts[t] in OPENERS:
                    depth += 1
                elif texts[t] in CLOSERS:
                    depth -= 1
                elif texts[t] == "=>" and depth == 0:
                    arrow = t
            elif kinds[t] == STRING and literal < 0:
                literal = t
            elif kinds[t] == IDENT and arrow < 0:
                variables.add(texts[t])
        if literal < 0 or arrow < 0 or arrow + 1 >= end or kinds[arrow + 1] != IDENT:
            return
        target = texts[arrow + 1]
        raw = self.text[toks.starts[literal] + 1:toks.ends[literal] - 1].strip()
        inner = tokenize(raw)
        if target in variables or target in KEYWORDS or len(inner) != 1 or inner.kinds[0] != SYM \
                or raw in CORE_SYMBOLS:
            return
        local = any(texts[t] in ("local", "scoped") and kinds[t] == IDENT for t in range(i, j))
        self.notations.append(Notation(raw, target, self.path, Pos(toks.lines[i], toks.cols[i] + 1),
                                       tuple(self.namespaces), tuple(self.opens + self.pending), local))

    def _variable(self, j: int, end: int) -> tuple[int, bool]:
        """Record the names ``variable`` binds, until the scope ends (or for the next command, with ``in``);
        return (end of the command, whether it ended in ``in``)."""
        found = self._find(j + 1, end, "in")
        stop = found if found >= 0 else end
        partner = match_brackets(self.toks, j, stop)
        names = variable_binders(self.toks, j + 1, stop, partner, j)
        self.variable_types.update(binder_types(self.toks, j + 1, stop, partner, j))
        if found >= 0:
            self.pending_variables = names
            return found + 1, True
        self.variables.extend(sorted(names))
        return end, False

    def _open(self, j: int, end: int, export: bool) -> tuple[int, bool]:
        kinds, texts = self.kinds, self.texts
        names: list[str] = []
        k, scoped, stopped = j + 1, False, False
        while k < end:
            kind, text = kinds[k], texts[k]
            if kind == IDENT and text == "in":
                target = self.pending if not scoped else []
                target.extend(names)
                return k + 1, True
            if kind == SYM and text in OPENERS:
                k = self._close(k, end)
                continue
            if kind == IDENT and text in ("hiding", "renaming"):
                stopped = True
            elif kind == IDENT and text == "scoped" and k == j + 1:
                scoped = True
            elif kind == IDENT and not stopped:
                names.append(normalize_name(text))
            k += 1
        if not scoped:
            self.opens.extend(names)
        return end, False

    # -- declarations ---------------------------------------------------------------------------------

    def _declaration(self, i: int, j: int, end: int, private: bool) -> None:
        kinds, texts, toks = self.kinds, self.texts, self.toks
        last = end - 1
        while last > j and kinds[last] in (DOC, MODDOC):
            last -= 1
        kind = DECL_WORDS[texts[j]]
        k = j + 1
        if kind == "class" and k <= last and texts[k] == "inductive":
            k += 1
        partner = match_brackets(toks, i, end)
        if kind in ("instance", "simproc") and k <= last and texts[k] in ("(", "[") and k + 1 <= last and (
                kind == "simproc" or texts[k + 1] == "priority"):
            p = partner[k - i]  # `instance (priority := …)`, `simproc [simp, seval] name …`
            k = p + 1 if p > 0 else k + 1
        name = ""
        if kind != "example" and k <= last and kinds[k] == IDENT and texts[k] not in KEYWORDS:
            name = normalize_name(texts[k])
            k += 1
        self._emit(i, j, k, last, kind, name, partner, private)

    def _emit(self, i: int, j: int, k: int, last: int, kind: str, name: str, partner: list[int], private: bool,
              parent: str = "") -> None:
        """Record the declaration whose code starts at ``i``, statement at ``j``, header after the name at
        ``k``, and last token ``last`` (``partner`` matches brackets from ``i``); then its ``where`` helpers.
        ``parent``: the full name of the declaration whose ``where`` helper this is."""
        kinds, texts, toks, text = self.kinds, self.texts, self.toks, self.text
        body, delimiter = self._body(k, last + 1, kind, partner, i)
        helpers = self._where(body, last, partner, i) if body >= 0 and delimiter != "where" and \
            kind not in STRUCTURAL and not parent else -1
        if helpers >= 0:
            last_of_all, last = last, helpers - 1
        head_end = body if body >= 0 else last + 1
        header_locals = signature_binders(toks, k, head_end, partner, i)
        if kind == "instance" and not name:
            name = self._instance_name(k, head_end, header_locals)
        full_name = f"{parent}.{name}" if parent else self._full_name(name)
        code_from = i
        while code_from < j and kinds[code_from] == DOC:
            code_from += 1
        stop = toks.ends[last]
        statement = text[toks.starts[j]:toks.starts[body]] if body >= 0 else text[toks.starts[j]:stop]
        code_end = stop if kind in STRUCTURAL or body < 0 else toks.starts[body]
        code = text[toks.starts[code_from]:code_end].rstrip()
        proof, steps, identifiers, sorry_in_proof, symbols, typed = "", (), (), False, (), {}
        if body >= 0:
            lo = body + 1 if delimiter == ":=" else body
            proof = text[toks.starts[lo]:stop] if lo <= last else ""
            spans = tactic_spans(toks, partner, i, lo, last + 1)
            steps = tuple(text[toks.starts[a]:toks.ends[b - 1]] for a, b in spans)
            heads: dict[int, str | None] = {}
            locals_ = (header_locals | body_binders(toks, lo, last + 1, heads) | set(self.variables)
                       | self.pending_variables)
            types = {**self.variable_types, **binder_types(toks, k, head_end, partner, i)}
            typed: dict[str, int] = {}
            skip = {a for a, _ in spans}
            if delimiter == "where" and kind not in STRUCTURAL:  # `where` fields: `f x := v` labels and binds
                fields = self._field_headers(body, last)
                skip.update(fields)
                locals_ |= {texts[t] for t in fields if kinds[t] == IDENT}
            identifiers = body_identifiers(toks, lo, last + 1, locals_, types, heads, typed, frozenset(skip))
            symbols = tuple(dict.fromkeys(texts[t] for t in range(lo, last + 1)
                                          if kinds[t] == SYM and texts[t] not in CORE_SYMBOLS))
            sorry_in_proof = any(kinds[t] == IDENT and texts[t] in ("sorry", "admit") for t in range(lo, last + 1))
        helper_names = self._helper_names(helpers, last_of_all) if helpers >= 0 else {}
        if helper_names:  # inside the body, a helper's short name is the helper (`visitVertex` → `dfs.visitVertex`)
            short = name.rsplit(".", 1)[-1]
            identifiers = tuple(dict.fromkeys(
                f"{short}.{ident}" if ident.split(".", 1)[0] in helper_names else ident for ident in identifiers))
        self.decls.append(Declaration(
            name=full_name,
            kind=kind,
            path=self.path,
            start=Pos(toks.lines[i], toks.cols[i] + 1),
            end=self._end_pos(last),
            statement=statement.rstrip(),
            proof=proof,
            code=code,
            steps=steps,
            sorry_in_proof=sorry_in_proof,
            sorry_in_statement=any(kinds[t] == IDENT and texts[t] == "sorry" for t in range(j, head_end)),
            private=private,
            identifiers=identifiers,
            namespaces=tuple(self.namespaces),
            opens=tuple(self.opens + self.pending),
            typed=tuple((i, typed[i]) for i in identifiers if i in typed),
            mutual=self.mutual[-1][1] if self.mutual else None,
            symbols=symbols,
        ))
        if helper_names and full_name:
            helper_kind = kind if kind in ("theorem", "lemma") else "def"
            for start, stop_at in helper_names.values():
                sub = match_brackets(toks, start, stop_at + 1)
                self._emit(start, start, start + 1, stop_at, helper_kind, normalize_name(texts[start]), sub,
                           private, parent=full_name)

    def _field_headers(self, where: int, last: int) -> list[int]:
        """Tokens of each ``field args :=`` header of a structure instance after ``where``."""
        out: list[int] = []
        for a, b in self._helper_names(where, last).values():
            t = a
            while t <= b and not (self.kinds[t] == SYM and self.texts[t] in (":=", "|")):
                out.append(t)
                t += 1
        return out

    def _where(self, body: int, last: int, partner: list[int], base: int) -> int:
        """Index of a ``where`` after the body that starts at ``body`` (outside brackets), or -1."""
        kinds, texts = self.kinds, self.texts
        t = body + 1
        while t <= last:
            if kinds[t] == SYM and texts[t] in OPENERS:
                p = partner[t - base]
                t = p + 1 if t < p <= last else t + 1
                continue
            if kinds[t] == IDENT and texts[t] == "where" and t < last:
                return t
            t += 1
        return -1

    def _helper_names(self, where: int, last: int) -> dict[str, tuple[int, int]]:
        """The helpers after ``where`` (each a line at the first helper's column): name → (first, last)."""
        kinds, texts, cols, bol = self.kinds, self.texts, self.cols, self.bol
        first = where + 1
        starts = [t for t in range(first, last + 1) if t == first or (bol[t] and cols[t] <= cols[first])]
        out: dict[str, tuple[int, int]] = {}
        for a, b in zip(starts, [*starts[1:], last + 1]):
            if kinds[a] == IDENT and texts[a] not in KEYWORDS and cols[a] == cols[first]:
                out.setdefault(texts[a], (a, b - 1))
        return out

    def _full_name(self, name: str) -> str:
        if not name:
            return ""
        if name.startswith("_root_."):
            return name[len("_root_."):]
        return ".".join([*self.namespaces, name])

    def _body(self, k: int, hi: int, kind: str, partner: list[int], base: int) -> tuple[int, str]:
        """Index and text of the token that starts the body (``:=``, ``where``, ``|``), or (-1, "")."""
        kinds, texts = self.kinds, self.texts
        lets = 0  # `let x := v` / `have h := v` in the statement: that `:=` is theirs
        while k < hi:
            kind_k, text = kinds[k], texts[k]
            if kind_k == IDENT and text in ("let", "have", "letI", "haveI"):
                lets += 1
            if kind_k == SYM:
                if text == ":=" and lets:
                    lets -= 1
                elif text == ":=":
                    return k, text
                if text == "|" and (kind in ("inductive", "class") or self._equation(k + 1, hi, partner, base)):
                    return k, text
                if text in OPENERS:
                    p = partner[k - base]
                    k = p + 1 if k < p < hi else k + 1
                    continue
            elif kind_k == IDENT and text == "where":
                return k, text
            k += 1
        return -1, ""

    def _equation(self, k: int, hi: int, partner: list[int], base: int) -> bool:
        """Whether a ``=>`` comes (outside brackets) before the next ``|`` or ``:=``."""
        kinds, texts = self.kinds, self.texts
        while k < hi:
            if kinds[k] == SYM:
                text = texts[k]
                if text == "=>":
                    return True
                if text in ("|", ":="):
                    return False
                if text in OPENERS:
                    p = partner[k - base]
                    k = p + 1 if k < p < hi else k + 1
                    continue
            k += 1
        return False

    def _instance_name(self, k: int, hi: int, binders: set[str]) -> str:
        kinds, texts = self.kinds, self.texts
        colon, depth = -1, 0
        for t in range(k, hi):
            if kinds[t] == SYM:
                if texts[t] in OPENERS:
                    depth += 1
                elif texts[t] in CLOSERS:
                    depth -= 1
                elif texts[t] == ":" and depth == 0:
                    colon = t
        parts = []
        for t in range(colon + 1 if colon >= 0 else k, hi):
            if kinds[t] == IDENT and texts[t] not in KEYWORDS and texts[t] not in binders:
                last = split_name(texts[t])[-1].strip("«»")
                if last[:1].isupper() and not "\u0370" <= last[0] <= "\u03ff" or "\u2100" <= last[:1] <= "\u214f":
                    parts.append("".join(ch for ch in last if ch.isalnum() or ch == "_"))
        base = ("inst" + "".join(parts))[:80]
        count = self.instance_names.get(base, 0)
        self.instance_names[base] = count + 1
        return base if count == 0 else f"{base}_{count}"
