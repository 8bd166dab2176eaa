"""A statement as the goal Lean shows at the start of its proof: each binder a hypothesis, then ``⊢`` its type.

ReProver's retriever was trained on pretty-printed proof states (``x : α`` lines, then ``⊢ goal``); a static
record has only the statement as written. :func:`goal_of` gives it that shape: every bracketed binder of the
signature becomes a hypothesis line (anonymous instance binders ``[C α]`` as ``inst✝ : C α``, as Lean names
them), the type after the signature's top-level ``:`` the goal. Whitespace inside a type is folded to single
spaces, as the pretty printer prints short goals. Best effort and linear: a statement it cannot read (no
top-level ``:``) is returned as it is.
"""

from __future__ import annotations

from extraction.lexer import IDENT, SYM, match_brackets, tokenize

__all__ = ["goal_of"]

_OPENERS = {"(": ")", "{": "}", "[": "]", "⦃": "⦄", "{{": "}}"}


def _fold(text: str) -> str:
    return " ".join(text.split())


def goal_of(statement: str) -> str:
    """The goal a statement leaves to its proof.

    >>> print(goal_of("theorem foo {α : Type} (xs ys : List α) [BEq α] (h : xs = ys) :\\n    xs.length = ys.length"))
    α : Type
    xs ys : List α
    inst✝ : BEq α
    h : xs = ys
    ⊢ xs.length = ys.length
    >>> goal_of("theorem double_zero : double 0 = 0")
    '⊢ double 0 = 0'
    >>> goal_of("instance : Foo Nat")
    '⊢ Foo Nat'
    >>> goal_of("example (n : Nat) (h : n > 0) : n ≠ 0")
    'n : Nat\\nh : n > 0\\n⊢ n ≠ 0'
    """
    toks = tokenize(statement)
    n = len(toks)
    if n == 0:
        return statement
    partner = match_brackets(toks, 0, n)
    kinds, texts, starts, ends = toks.kinds, toks.texts, toks.starts, toks.ends
    hypotheses: list[str] = []
    k = 0
    while k < n:
        kind, text = kinds[k], texts[k]
        if kind == SYM and text in _OPENERS and 0 <= partner[k] < n:
            close = partner[k]
            t = k + 1
            while t < close and kinds[t] == IDENT and "." not in texts[t]:
                t += 1
            names = list(texts[k + 1:t])
            if t < close and kinds[t] == SYM and texts[t] == ":" and names:
                hypotheses.append(f"{' '.join(names)} : {_fold(statement[ends[t]:starts[close]])}")
            elif text == "[":  # an anonymous instance binder: Lean calls it inst✝
                hypotheses.append(f"inst✝ : {_fold(statement[ends[k]:starts[close]])}")
            k = close + 1
        elif kind == SYM and text == ":":
            goal = _fold(statement[ends[k]:])
            return "\n".join([*hypotheses, f"⊢ {goal}"])
        else:
            k += 1
    return statement
