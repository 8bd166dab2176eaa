"""A single-pass Lean 4 tokenizer: comments, strings and names done right, everything else coarse.

Only what the scanner needs is distinguished: identifiers (Lean's own character classes, hierarchical
``Foo.bar`` and ``«quoted names»``), field accesses ``.foo``, numbers, strings and char literals (their
contents never leak out as identifiers), doc comments (``/--`` and ``/-!``, kept as tokens because they
start commands), ``#commands`` and symbols. Ordinary comments and whitespace are dropped, but every token
records whether a line break came before it (``bol``) and its column, which is all the layout Lean has.

It never raises and runs in linear time: one anchored regex match per token; nested block comments, raw
strings and unterminated literals are finished by forward searches that consume what they scan.

>>> toks = tokenize("theorem h' : 'a' = '\\\\'' := by -- done\\n  simp [Nat.succ_le']")
>>> [(KIND_NAMES[k], t) for k, t in zip(toks.kinds, toks.texts)]  # doctest: +NORMALIZE_WHITESPACE
[('ident', 'theorem'), ('ident', "h'"), ('sym', ':'), ('char', "'a'"), ('sym', '='), ('char', "'\\\\''"),
 ('sym', ':='), ('ident', 'by'), ('ident', 'simp'), ('sym', '['), ('ident', "Nat.succ_le'"), ('sym', ']')]
>>> toks.bol[8], toks.cols[8], toks.lines[8]
(True, 2, 2)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "Tokens", "tokenize", "IDENT", "FIELD", "NUMBER", "STRING", "CHAR", "SYM", "DOC", "MODDOC", "HASH",
    "NAME", "KIND_NAMES", "OPENERS", "CLOSERS", "gives_up", "is_plain_ident", "normalize_name", "split_name",
    "match_brackets",
]

IDENT, FIELD, NUMBER, STRING, CHAR, SYM, DOC, MODDOC, HASH, NAME = range(10)
KIND_NAMES = ("ident", "field", "number", "string", "char", "sym", "doc", "moddoc", "hash", "name")

OPENERS = {"(": ")", "[": "]", "{": "}", "⟨": "⟩", "⦃": "⦄", "⟦": "⟧", "@[": "]", "%[": "]", "#[": "]"}
CLOSERS = frozenset(")]}⟩⦄⟧")

# Lean 4's `isLetterLike` (Greek but λ, Π, Σ; Coptic; Greek extended; letter-like symbols such as ℝ;
# mathematical alphanumerics) and `isSubScriptAlnum`; `Char.isAlpha`/`isDigit` are ASCII-only in Lean.
_LETTER_LIKE = ("\u03b1-\u03ba\u03bc-\u03c9\u0391-\u039f\u03a1\u03a2\u03a4-\u03a9\u03ca-\u03fb"
                "\u1f00-\u1ffe\u2100-\u214f\U0001d49c-\U0001d59f")
_ID_FIRST = "A-Za-z_" + _LETTER_LIKE
_ID_REST = _ID_FIRST + "0-9'!?\u2080-\u2089\u2090-\u209c\u1d62-\u1d6a"
_PART = f"(?:[{_ID_FIRST}][{_ID_REST}]*|«[^»\\n]{{0,512}}»)"
_IDENT = f"{_PART}(?:\\.{_PART})*"
_SYMBOLS = ["<;>", "<|>", "|>.", "...", ":=", "::", "=>", "<|", "|>", "||", "&&", "->", "<-", "<=", ">=",
            "!=", "==", "..", "@[", "%[", "#[", "''", "++"]

_TOKEN = re.compile(
    "([ \\t\\r\\n]*\\n)?[ \\t\\r]*(?:"                           # 1 whitespace up to the last line break
    "(--[^\\n]*)"                                             # 2 line comment
    "|(/-)"                                                   # 3 block comment (finished by hand)
    '|("[^"\\\\]*(?:\\\\.[^"\\\\]*)*")'                        # 4 string with escapes
    '|(r#*")'                                                 # 5 raw string (finished by hand)
    "|('(?:\\\\(?:u\\{[0-9a-fA-F]{1,8}\\}|x[0-9a-fA-F]{2}|[^\\n])|[^\\\\'\\n])')"  # 6 char literal
    f"|({_IDENT})"                                            # 7 identifier
    f"|(\\.{_PART})"                                          # 8 .field / .ctor
    "|(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9][0-9_]*(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"  # 9
    "|(#[A-Za-z_][A-Za-z_0-9!?]*)"                            # 10 #command
    f"|(``?{_IDENT})"                                         # 11 `name literal
    '|(")'                                                    # 12 unterminated string
    "|(" + "|".join(re.escape(s) for s in _SYMBOLS) + "|[^ \\t\\r\\n])"   # 13 symbol or any other character
    ")",
    re.S,
)
# Token kind per regex group; -1: finished by hand (comments, raw strings, unterminated strings).
_GROUP_KIND = (-1, -1, -1, -1, STRING, -1, CHAR, IDENT, FIELD, NUMBER, HASH, NAME, -1, SYM)
_COMMENT_DELIM = re.compile(r"/-|-/")
_PLAIN = re.compile(f"[{_ID_FIRST}][{_ID_REST}]*")


@dataclass
class Tokens:
    """Tokens of one text as parallel lists (cheaper than one object per token)."""

    text: str
    """The source text."""
    kinds: list[int] = field(default_factory=list)
    """Token kind (``IDENT``, ``SYM``, ...)."""
    texts: list[str] = field(default_factory=list)
    """Token text; empty for strings and doc comments (their contents are never needed)."""
    starts: list[int] = field(default_factory=list)
    """Offset of the first code point."""
    ends: list[int] = field(default_factory=list)
    """Offset just after the last code point."""
    lines: list[int] = field(default_factory=list)
    """1-based line of the first code point."""
    cols: list[int] = field(default_factory=list)
    """0-based column (code points) of the first code point."""
    bol: list[bool] = field(default_factory=list)
    """A line break (possibly inside comments) separates the token from the previous one."""
    warnings: list[str] = field(default_factory=list)
    """Problems met (unterminated comments and strings), with their ``line:column``."""

    def __len__(self) -> int:
        return len(self.kinds)


def tokenize(text: str) -> Tokens:
    """Tokenize Lean 4 source; never raises, linear time.

    >>> toks = tokenize('/- a /- nested -/ theorem -/ def «x y».z : String := r#"a "quoted" b"#')
    >>> toks.texts
    ['def', '«x y».z', ':', 'String', ':=', '']
    >>> tokenize("/- open").warnings
    ['unterminated comment starting at 1:1']
    """
    out = Tokens(text)
    kinds, texts, starts, ends = out.kinds, out.texts, out.starts, out.ends
    lines, cols, bols = out.lines, out.cols, out.bol
    match, count, group_kind = _TOKEN.match, text.count, _GROUP_KIND
    pos, line, line_start, bol = 0, 1, 0, True
    while True:
        m = match(text, pos)
        if m is None:  # the end, perhaps after whitespace
            break
        group = m.lastindex
        newline = m.end(1)
        if newline >= 0:
            line += count("\n", pos, newline)
            line_start, bol = newline, True
        start, end = m.span(group)
        kind = group_kind[group]
        if kind < 0:
            if group == 2:  # line comment
                pos = end
                continue
            kind, end = _finish(text, group, start, end, out, line, start - line_start)
            if kind >= 0:
                kinds.append(kind)
                texts.append("")
                starts.append(start)
                ends.append(end)
                lines.append(line)
                cols.append(start - line_start)
                bols.append(bol)
                bol = False
            breaks = count("\n", start, end)
            if breaks:
                line += breaks
                line_start = text.rfind("\n", start, end) + 1
                bol = bol or kind < 0
            pos = end
            continue
        kinds.append(kind)
        texts.append(text[start:end] if kind != STRING else "")
        starts.append(start)
        ends.append(end)
        lines.append(line)
        cols.append(start - line_start)
        bols.append(bol)
        bol = False
        if kind == STRING:
            breaks = count("\n", start, end)
            if breaks:
                line += breaks
                line_start = text.rfind("\n", start, end) + 1
        pos = end
    return out


def _finish(text: str, group: int, start: int, end: int, out: Tokens, line: int, col: int) -> tuple[int, int]:
    """Finish a block comment, raw string or unterminated string: (kind, or -1 for a plain comment; end)."""
    n = len(text)
    if group == 3:
        depth = 1
        for m in _COMMENT_DELIM.finditer(text, end):
            depth += 1 if m.group() == "/-" else -1
            if depth == 0:
                stop = m.end()
                break
        else:
            out.warnings.append(f"unterminated comment starting at {line}:{col + 1}")
            stop = n
        if text.startswith("/--", start) and not text.startswith("/--/", start):
            return DOC, stop
        if text.startswith("/-!", start):
            return MODDOC, stop
        return -1, stop
    if group == 5:
        closing = '"' + "#" * (end - start - 2)
        found = text.find(closing, end)
        if found < 0:
            out.warnings.append(f"unterminated raw string starting at {line}:{col + 1}")
            return STRING, n
        return STRING, found + len(closing)
    out.warnings.append(f"unterminated string starting at {line}:{col + 1}")  # group 12
    return STRING, n


def gives_up(text: str) -> bool:
    """``sorry`` or ``admit`` occurs as a name: not inside a comment, a string or a longer name.

    >>> gives_up("exact sorry"), gives_up("exact sorry_lemma"), gives_up("simp -- sorry"), gives_up("admit")
    (True, False, False, True)
    """
    toks = tokenize(text)
    return any(k == IDENT and t in ("sorry", "admit") for k, t in zip(toks.kinds, toks.texts))


def is_plain_ident(part: str) -> bool:
    """Whether ``part`` is one name component that needs no ``«»`` quotes.

    >>> is_plain_ident("x₁"), is_plain_ident("foo bar"), is_plain_ident("1x")
    (True, False, False)
    """
    return _PLAIN.fullmatch(part) is not None


def split_name(name: str) -> list[str]:
    """Components of a hierarchical name; dots inside ``«»`` do not split.

    >>> split_name("A.«b.c».d")
    ['A', '«b.c»', 'd']
    """
    if "«" not in name:
        return name.split(".")
    parts, current, quoted = [], [], False
    for ch in name:
        if ch == "«":
            quoted = True
        elif ch == "»":
            quoted = False
        if ch == "." and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def normalize_name(name: str) -> str:
    """Drop ``«»`` around components that do not need them, as Lean prints names.

    >>> normalize_name("«Foo».«bar baz».x")
    'Foo.«bar baz».x'
    """
    if "«" not in name:
        return name
    parts = []
    for part in split_name(name):
        inner = part[1:-1] if part.startswith("«") and part.endswith("»") else part
        parts.append(inner if is_plain_ident(inner) else part)
    return ".".join(parts)


def match_brackets(toks: Tokens, lo: int, hi: int) -> list[int]:
    """For each token of ``toks[lo:hi]``, the index of its matching bracket, or -1 (linear time).

    A closer that does not match the innermost opener closes the one below it when that one matches
    (the innermost was left open by mistake); otherwise it is ignored.

    >>> match_brackets(tokenize("f (a [b) ⟨c⟩"), 0, 9)
    [-1, 5, -1, -1, -1, 1, 8, -1, 6]
    """
    kinds, texts = toks.kinds, toks.texts
    partner = [-1] * (hi - lo)
    stack: list[int] = []
    for i in range(lo, hi):
        if kinds[i] != SYM:
            continue
        text = texts[i]
        if text in OPENERS:
            stack.append(i)
        elif text in CLOSERS and stack:
            if OPENERS[texts[stack[-1]]] != text:
                if len(stack) < 2 or OPENERS[texts[stack[-2]]] != text:
                    continue
                stack.pop()
            j = stack.pop()
            partner[i - lo], partner[j - lo] = j, i
    return partner
