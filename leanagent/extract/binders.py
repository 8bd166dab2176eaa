"""Local binders and identifiers of a declaration, best effort and linear.

Names in binder position are left out of ``identifiers``: binders of the signature
(``(h : p)``, ``{x y : α}``, ``[inst : C]``) and the names right after ``fun``, ``∀``, ``∃``, ``intro``,
``rintro``, ``obtain``, ``with`` (``rcases h with ⟨a, b⟩ | c``, ``induction … with | succ n ih =>``),
``have``, ``let``, ``set``, ``case``, ``next``, ``by_cases``… (:data:`~.words.BINDER_WORDS`) up to ``:``,
``:=``, ``=>``, ``,`` or the end of the line, plus the names of ``| pattern =>`` arms. Names after a ``:``
inside brackets are types, not binders; dotted names never are. Scope is ignored: a name bound anywhere
in the declaration is local everywhere in it. Missed: ``cases h : e``-style names, ``generalize … = x``,
pattern variables after an operator (``| n + 1 =>``).

>>> from leanagent.extract.lexer import tokenize
>>> toks = tokenize("fun ⟨x, hx⟩ (y : Foo.T) => by\\n  intro z; obtain ⟨a, b⟩ | c := h; exact bar x y a")
>>> sorted(body_binders(toks, 0, len(toks)))
['a', 'b', 'c', 'hx', 'x', 'y', 'z']
>>> body_identifiers(toks, 0, len(toks), body_binders(toks, 0, len(toks)))
('Foo.T', 'intro', 'obtain', 'h', 'exact', 'bar')
"""

from __future__ import annotations

from leanagent.extract.lexer import CLOSERS, FIELD, IDENT, OPENERS, SYM, Tokens
from leanagent.extract.words import BINDER_WORDS, KEYWORDS

__all__ = ["signature_binders", "body_binders", "body_identifiers", "variable_binders"]

_BINDER_STOPS = frozenset({":", ":=", "=>", "↦", ",", "using", "at", "from", ";", "<;>", "in", "|", "·"})
_PATTERN_SYMS = frozenset({"⟨", "⟩", "(", ")", "[", "]", "{", "}", "⦃", "⦄", "_", "-", "@", "|", ","})
_REGION_STOPS = frozenset({"with", "using", "at", "from", "in", "generalizing", "then", "else", "do", "if", "by"})
_ALTERNATIVE_PATTERNS = frozenset({"with", "obtain", "rintro"})
_BRACKET_BINDERS = frozenset({"(", "{", "[", "⦃", "⟨", "{{"})


def body_identifiers(toks: Tokens, lo: int, hi: int, locals_: set[str]) -> tuple[str, ...]:
    """Distinct names of ``toks[lo:hi]`` in first-use order, keywords and ``locals_`` left out."""
    kinds, texts = toks.kinds, toks.texts
    seen: dict[str, None] = {}
    for t in range(lo, hi):
        if kinds[t] == IDENT:
            text = texts[t]
            if text not in seen and text not in KEYWORDS and text not in locals_:
                seen[text] = None
    return tuple(seen)


def signature_binders(toks: Tokens, lo: int, hi: int, partner: list[int], base: int) -> set[str]:
    """Names bound by bracketed binders ``(a b : T)`` at the top of the signature, plus ``∀``-style
    binders inside it."""
    kinds, texts = toks.kinds, toks.texts
    names: set[str] = set()
    k = lo
    while k < hi:
        if kinds[k] == SYM and texts[k] in _BRACKET_BINDERS:
            p = partner[k - base]
            close = p if k < p < hi else hi
            group: list[str] = []
            for t in range(k + 1, close):
                if kinds[t] == IDENT and "." not in texts[t]:
                    group.append(texts[t])
                elif kinds[t] == SYM and texts[t] == ":":
                    names.update(group)
                    break
                else:
                    break
            k = close + 1
        elif kinds[k] == SYM and texts[k] == ":":
            break
        else:
            k += 1
    return names | body_binders(toks, lo, hi)


def variable_binders(toks: Tokens, lo: int, hi: int, partner: list[int], base: int) -> set[str]:
    """Names a ``variable`` command binds in ``toks[lo:hi]``: ``(a b : T)``, ``{f : E → F}``,
    ``[inst : C]``, and the untyped ``{α β}`` / ``(x)`` (an untyped ``[C α]`` binds no name).

    >>> from leanagent.extract.lexer import match_brackets, tokenize
    >>> toks = tokenize("(p q : Nat) {f : E → F} {α β} [DecidableEq α] [inst : Foo] (h : p = q)")
    >>> sorted(variable_binders(toks, 0, len(toks), match_brackets(toks, 0, len(toks)), 0))
    ['f', 'h', 'inst', 'p', 'q', 'α', 'β']
    """
    kinds, texts = toks.kinds, toks.texts
    names: set[str] = set()
    k = lo
    while k < hi:
        if kinds[k] == SYM and texts[k] in _BRACKET_BINDERS:
            p = partner[k - base]
            close = p if k < p < hi else hi
            group: list[str] = []
            for t in range(k + 1, close):
                if kinds[t] == IDENT and "." not in texts[t] and texts[t] not in KEYWORDS:
                    group.append(texts[t])
                else:
                    if kinds[t] == SYM and texts[t] == ":":
                        names.update(group)
                    break
            else:
                if texts[k] != "[":
                    names.update(group)
            k = close + 1
        else:
            k += 1
    return names


def body_binders(toks: Tokens, lo: int, hi: int) -> set[str]:
    """Names right after binder words, and in ``| pattern =>`` arms (see the module docstring)."""
    kinds, texts = toks.kinds, toks.texts
    names: set[str] = set()
    k = lo
    while k < hi:
        text = texts[k]
        arm = text == "|" and kinds[k] == SYM
        if arm or (text in BINDER_WORDS and kinds[k] in (IDENT, SYM)):
            found, t, stop = _binder_region(toks, k + 1, hi, text in _ALTERNATIVE_PATTERNS)
            if not arm or stop == "=>":
                names.update(found)
            k = t if t > k + 1 else k + 1
        else:
            k += 1
    return names


def _binder_region(toks: Tokens, t: int, hi: int, alternatives: bool) -> tuple[list[str], int, str]:
    """Names in the binder region starting at ``t``: (names, index where it stops, stopping token);
    ``|`` separates pattern alternatives when ``alternatives``, else it stops the region."""
    kinds, texts, bol = toks.kinds, toks.texts, toks.bol
    names: list[str] = []
    first, depth, typed_at = t, 0, -1
    while t < hi:
        if t > first and bol[t]:
            return names, t, "\n"
        kind, text = kinds[t], texts[t]
        if kind == SYM:
            if text in OPENERS:
                depth += 1
            elif text in CLOSERS:
                depth -= 1
                if depth < typed_at:
                    typed_at = -1
                if depth < 0:
                    return names, t, text
            elif depth > 0:
                if text == ":" and typed_at < 0:
                    typed_at = depth
            elif (text in _BINDER_STOPS and not (alternatives and text == "|")) or text not in _PATTERN_SYMS:
                return names, t, text
        elif kind == IDENT:
            if depth == 0 and text in _REGION_STOPS:
                return names, t, text
            if typed_at < 0 and "." not in text and text not in KEYWORDS:
                names.append(text)
        elif kind != FIELD and depth == 0:
            return names, t, ""
        t += 1
    return names, t, ""
