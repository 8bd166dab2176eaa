"""Local binders and identifiers of a declaration, best effort and linear.

Names in binder position are left out of ``identifiers``: binders of the signature
(``(h : p)``, ``{x y : α}``, ``[inst : C]``) and the names right after ``fun``, ``∀``, ``∃``, ``intro``,
``rintro``, ``obtain``, ``with`` (``rcases h with ⟨a, b⟩ | c``, ``induction … with | succ n ih =>``),
``have``, ``let``, ``set``, ``case``, ``next``, ``by_cases``… (:data:`~.words.BINDER_WORDS`) up to ``:``,
``:=``, ``=>``, ``,`` or the end of the line, plus the names of ``| pattern =>`` arms. Names after a ``:``
inside brackets are types, not binders; dotted names never are. Scope is ignored: a name bound anywhere
in the declaration is local everywhere in it. Missed: ``cases h : e``-style names, ``generalize … = x``,
pattern variables after an operator (``| n + 1 =>``).

>>> from extraction.lexer import tokenize
>>> toks = tokenize("fun ⟨x, hx⟩ (y : Foo.T) => by\\n  intro z; obtain ⟨a, b⟩ | c := h; exact bar x y a")
>>> sorted(body_binders(toks, 0, len(toks)))
['a', 'b', 'c', 'hx', 'x', 'y', 'z']
>>> body_identifiers(toks, 0, len(toks), body_binders(toks, 0, len(toks)))
('Foo.T', 'intro', 'obtain', 'h', 'exact', 'bar')
"""

from __future__ import annotations

from collections.abc import Iterator

from extraction.lexer import CLOSERS, FIELD, IDENT, NUMBER, OPENERS, SYM, Tokens
from extraction.words import BINDER_WORDS, KEYWORDS

__all__ = ["binder_types", "signature_binders", "body_binders", "body_identifiers", "variable_binders"]

_BINDER_STOPS = frozenset({":", ":=", "=>", "↦", ",", "using", "at", "from", ";", "<;>", "in", "|", "·"})
_PATTERN_SYMS = frozenset({"⟨", "⟩", "(", ")", "[", "]", "{", "}", "⦃", "⦄", "_", "-", "@", "|", ","})
_REGION_STOPS = frozenset({"with", "using", "at", "from", "in", "generalizing", "then", "else", "do", "if", "by"})
_ALTERNATIVE_PATTERNS = frozenset({"with", "obtain", "rintro"})
_BRACKET_BINDERS = frozenset({"(", "{", "[", "⦃", "⟨", "{{"})
_ARROWS = frozenset({"→", "->", "↔", "=", "≠", "<", "≤", ">", "≥", "∧", "∨", "×"})  # the head is no type then
# Inside a pattern arm (`| p :: ps =>`, `| n + 1 =>`) these build the pattern; names beside them are bound.
_ARM_OPERATORS = frozenset({"::", "+", "*", "++", "×", "<|"})
_NOTATION = {"ℕ": "Nat", "ℤ": "Int", "ℚ": "Rat", "ℝ": "Real", "ℂ": "Complex"}  # Mathlib's type notations
_SCRUTINEE_WORDS = frozenset({"match", "cases", "rcases", "induction", "cases'", "induction'", "obtain"})
_ARGUMENT_SYMS = frozenset({"(", "⟨", "_", "[", "@"})


def body_identifiers(toks: Tokens, lo: int, hi: int, locals_: set[str], types: dict[str, str] | None = None,
                     heads: dict[int, str | None] | None = None, typed: dict[str, int] | None = None,
                     tactics: frozenset[int] = frozenset()) -> tuple[str, ...]:
    """Distinct names of ``toks[lo:hi]`` in first-use order, keywords and ``locals_`` left out.

    ``types`` maps a local to the head of its binder's type: dot notation on it (``m.find?`` with
    ``m : Map α β``) is a use of ``Map.find?``. ``heads`` maps the token index of a constructor at the head
    of a pattern (``| inl hp hnq =>``) to the local matched on; with that local's type ``XOr`` it is a use
    of ``XOr.inl`` (``None``: a tactic's case name, no use). Names made from a type go into ``typed`` too,
    with the number of their leading components that are the type. Tokens in ``tactics`` (the first of each
    tactic step: ``ext``, ``simp``) name tactics, not declarations: left out.

    >>> from extraction.lexer import tokenize
    >>> toks = tokenize("exact m.find? a")
    >>> body_identifiers(toks, 0, len(toks), {"m", "a"}, {"m": "Map"})
    ('exact', 'Map.find?')
    """
    kinds, texts = toks.kinds, toks.texts
    types, heads = types or {}, heads or {}
    seen: dict[str, None] = {}
    for t in range(lo, hi):
        if kinds[t] == FIELD and t in heads:  # `.inl`: only with the matched local's type
            if heads[t] in types:
                text = f"{types[heads[t]]}{texts[t]}"
                seen.setdefault(text, None)
                if typed is not None:
                    typed[text] = types[heads[t]].count(".") + 1
            continue
        if kinds[t] == IDENT and t not in tactics:
            text = texts[t]
            head, dot, rest = text.partition(".")
            if dot and head in locals_:
                if head not in types:
                    if text not in seen:
                        seen[text] = None  # kept for the resolver's (optional) suffix fallback
                    continue
                text = f"{types[head]}.{rest}"
                if typed is not None:
                    typed[text] = types[head].count(".") + 1
            elif t in heads:
                if heads[t] is None:
                    continue  # a case name of a tactic's arm
                if heads[t] in types:
                    text = f"{types[heads[t]]}.{text}"
                    if typed is not None:
                        typed[text] = types[heads[t]].count(".") + 1
            if text not in seen and text not in KEYWORDS and text not in locals_:
                seen[text] = None
    return tuple(seen)


def binder_types(toks: Tokens, lo: int, hi: int, partner: list[int], base: int) -> dict[str, str]:
    """The head of each bracketed binder's type in ``toks[lo:hi]``: ``(h : XOr p q)`` gives ``h → XOr``
    (only when the type starts with a plain name).

    >>> from extraction.lexer import match_brackets, tokenize
    >>> toks = tokenize("(m n : Map α β) {f : α → β} (h : a = b) : True")
    >>> binder_types(toks, 0, len(toks), match_brackets(toks, 0, len(toks)), 0)
    {'m': 'Map', 'n': 'Map'}
    """
    kinds, texts = toks.kinds, toks.texts
    found: dict[str, str] = {}
    for _, group, t, close in binder_groups(toks, lo, hi, partner, base, plain_names=True):
        if t < close and kinds[t] == SYM and texts[t] == ":" and t + 1 < close and kinds[t + 1] == IDENT \
                and texts[t + 1] not in KEYWORDS and (t + 2 >= close or texts[t + 2] not in _ARROWS):
            found.update((name, _NOTATION.get(texts[t + 1], texts[t + 1])) for name in group)
    return found


def binder_groups(toks: Tokens, lo: int, hi: int, partner: list[int], base: int, *, plain_names: bool = False,
                  stop_at_colon: bool = False) -> Iterator[tuple[int, list[str], int, int]]:
    """Each bracketed binder group of ``toks[lo:hi]`` as (opener, the names at its head, index of the first
    token after them, index of its closer): ``(a b : T)`` gives ``["a", "b"]`` and the ``:``. Dotted names
    end the head (and keywords too with ``plain_names``); ``stop_at_colon``: a ``:`` outside brackets ends
    the walk (the signature's type begins)."""
    kinds, texts = toks.kinds, toks.texts
    k = lo
    while k < hi:
        if kinds[k] == SYM and texts[k] in _BRACKET_BINDERS:
            p = partner[k - base]
            close = p if k < p < hi else hi
            t = k + 1
            while t < close and kinds[t] == IDENT and "." not in texts[t] and not (
                    plain_names and texts[t] in KEYWORDS):
                t += 1
            yield k, list(texts[k + 1:t]), t, close
            k = close + 1
        elif stop_at_colon and kinds[k] == SYM and texts[k] == ":":
            return
        else:
            k += 1


def signature_binders(toks: Tokens, lo: int, hi: int, partner: list[int], base: int) -> set[str]:
    """Names bound by bracketed binders ``(a b : T)`` at the top of the signature, plus ``∀``-style
    binders inside it."""
    kinds, texts = toks.kinds, toks.texts
    names: set[str] = set()
    for _, group, t, close in binder_groups(toks, lo, hi, partner, base, stop_at_colon=True):
        if t < close and kinds[t] == SYM and texts[t] == ":":
            names.update(group)
    return names | body_binders(toks, lo, hi)


def variable_binders(toks: Tokens, lo: int, hi: int, partner: list[int], base: int) -> set[str]:
    """Names a ``variable`` command binds in ``toks[lo:hi]``: ``(a b : T)``, ``{f : E → F}``,
    ``[inst : C]``, and the untyped ``{α β}`` / ``(x)`` (an untyped ``[C α]`` binds no name).

    >>> from extraction.lexer import match_brackets, tokenize
    >>> toks = tokenize("(p q : Nat) {f : E → F} {α β} [DecidableEq α] [inst : Foo] (h : p = q)")
    >>> sorted(variable_binders(toks, 0, len(toks), match_brackets(toks, 0, len(toks)), 0))
    ['f', 'h', 'inst', 'p', 'q', 'α', 'β']
    """
    kinds, texts = toks.kinds, toks.texts
    names: set[str] = set()
    for k, group, t, close in binder_groups(toks, lo, hi, partner, base, plain_names=True):
        if (t < close and kinds[t] == SYM and texts[t] == ":") or (t == close and texts[k] != "["):
            names.update(group)
    return names


def body_binders(toks: Tokens, lo: int, hi: int, heads: dict[int, str | None] | None = None) -> set[str]:
    """Names right after binder words, and in ``| pattern =>`` arms (see the module docstring).

    In an arm, a name applied to arguments (``| inl hp hnq =>``, ``| (some x) =>``) is the constructor
    matched, a use, not a binder: its token index goes into ``heads`` with the local matched on (the name
    after the last ``match`` before it, or ``""``); in the arms of ``cases``, ``induction``, ``rcases`` … it
    only names a case (``| succ k ih =>``): ``None``, neither a binder nor a use.

    >>> from extraction.lexer import tokenize
    >>> toks = tokenize("match h with\\n  | inl hp hnq => hp\\n  | p :: ps => ps\\n  | n + 1 => n")
    >>> heads = {}
    >>> sorted(body_binders(toks, 0, len(toks), heads)), [(toks.texts[i], s) for i, s in heads.items()]
    (['hnq', 'hp', 'n', 'p', 'ps'], [('inl', 'h')])
    >>> toks = tokenize("induction n with\\n  | zero => rfl\\n  | succ k ih => simp")
    >>> heads = {}
    >>> sorted(body_binders(toks, 0, len(toks), heads)), [(toks.texts[i], s) for i, s in heads.items()]
    (['ih', 'k', 'zero'], [('succ', None)])
    """
    kinds, texts = toks.kinds, toks.texts
    names: set[str] = set()
    scrutinee: str | None = ""
    k = lo
    while k < hi:
        text = texts[k]
        arm = text == "|" and kinds[k] == SYM
        if kinds[k] == IDENT and text in _SCRUTINEE_WORDS:
            # `match x with | c a =>`: `c` is a constructor used; a tactic's `| succ k ih =>` only names a case
            scrutinee = texts[k + 1] if text == "match" and k + 1 < hi and kinds[k + 1] == IDENT else None
        if arm or (text in BINDER_WORDS and kinds[k] in (IDENT, SYM)):
            found_heads: list[int] = []
            found, t, stop = _binder_region(toks, k + 1, hi, text in _ALTERNATIVE_PATTERNS,
                                            found_heads if arm else None)
            if not arm or stop == "=>":
                names.update(found)
                if heads is not None:
                    heads.update((i, scrutinee) for i in found_heads)
            k = t if t > k + 1 else k + 1
        else:
            k += 1
    return names


def _binder_region(toks: Tokens, t: int, hi: int, alternatives: bool, heads: list[int] | None = None
                   ) -> tuple[list[str], int, str]:
    """Names in the binder region starting at ``t``: (names, index where it stops, stopping token);
    ``|`` separates pattern alternatives when ``alternatives``, else it stops the region. ``heads`` given:
    the region is a pattern arm, where operators and numbers build the pattern and a name applied to
    arguments is a constructor (its index goes to ``heads``, not into the names)."""
    kinds, texts, bol = toks.kinds, toks.texts, toks.bol
    arm = heads is not None
    names: list[str] = []
    depth, typed_at = 0, -1
    while t < hi:
        if bol[t]:  # a binder word ending its line (`intros`, `with`) binds nothing below it
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
            elif arm and text in _ARM_OPERATORS:
                pass
            elif (text in _BINDER_STOPS and not (alternatives and text == "|")) or text not in _PATTERN_SYMS:
                return names, t, text
        elif kind == IDENT:
            if depth == 0 and text in _REGION_STOPS:
                return names, t, text
            if typed_at < 0 and "." not in text and text not in KEYWORDS:
                argument = kinds[t - 1] in (IDENT, FIELD) or (kinds[t - 1] == SYM and texts[t - 1] in CLOSERS)
                if arm and not argument and _applied(toks, t, hi):
                    heads.append(t)
                else:
                    names.append(text)
        elif kind == FIELD and arm and kinds[t - 1] != IDENT and not (kinds[t - 1] == SYM and texts[t - 1] in CLOSERS):
            heads.append(t)  # `| .inl hp =>`: the constructor, by the matched value's type
        elif kind != FIELD and depth == 0 and not (arm and kind == NUMBER):
            return names, t, ""
        t += 1
    return names, t, ""


def _applied(toks: Tokens, t: int, hi: int) -> bool:
    """The name at ``t`` is applied to an argument on the same line (``inl hp``, ``some (x, y)``)."""
    n = t + 1
    if n >= hi or toks.bol[n]:
        return False
    kind, text = toks.kinds[n], toks.texts[n]
    if kind == IDENT:
        return text not in KEYWORDS and text not in _REGION_STOPS
    return kind == NUMBER or (kind == SYM and text in _ARGUMENT_SYMS)
