"""Tactic steps of a proof, read from its tokens: the paper's S without running Lean.

The rule mirrors what LeanDojo records from Lean's info trees (every element of every tactic sequence,
at any nesting depth, in source order), approximated on layout and a few known tactic shapes:

1. A **tactic block** is what follows a ``by`` token. It ends at the end of the enclosing range, at a
   line that starts left of the block's first token (a dedent), at a closing bracket that it did not open,
   or, when the ``by`` sits inside brackets (``⟨by simp, by ring⟩``), at a comma of the same depth.
2. A block is split into **steps** at ``;`` and at each line that starts at (or left of) the column of
   the block's first token, outside brackets, except that

   - a line continues the step above when it starts with a token that cannot start a tactic (anything
     but a name, ``·``, ``.``, ``(``, ``{``; or one of ``then``, ``else``, ``with``, ``at``, ``_``…: so
     ``| arm =>``, ``_ = x`` of ``calc``, ``<;> tac`` continue), or when the line above ends in a token
     that cannot end one (``:=``, ``,``, ``calc``, the ``in`` of ``open Foo in``, ``<;>``…);
   - a ``;`` after a nested block has begun (``have … := by a; b``, ``· a; b``, ``case x => a; b``,
     ``all_goals a; b``) belongs to that block, as in Lean's grammar, and so does one after a
     ``let``/``have`` inside a term (``exact let x := v; e``).

   Each step's text is recorded, then searched for nested blocks:

   - a **bullet** ``·`` / ``.``: its body is a block (the bullet counts, and so do its tactics);
   - ``(tacs)`` and ``{ tacs }``: their contents are a block;
   - ``case … =>``, ``case' … =>``, ``next … =>``, ``on_goal … =>``: what follows ``=>`` is a block;
   - ``all_goals``, ``any_goals``, ``try``, ``repeat``, ``focus``, ``iterate n``, ``classical``,
     ``with_reducible``…, ``set_option … in``, ``open … in``: the rest is a block;
   - ``first | a | b`` and ``solve | …``: each alternative is a block;
   - ``induction``, ``cases``, ``match`` with ``| pat => tacs`` arms: each arm's tactics are a block;
   - a step joined by ``<;>`` is one step; ``calc`` is one step; ``conv`` (and ``conv_lhs`` …) is one
     step, its conversion tactics are not counted (LeanDojo does not record them either);
   - in every other step (``have h : t := by tac``, ``exact foo (by simp)``, ``calc _ = _ := by ring``)
     each ``by`` starts a nested block.
3. A term proof (``:= fun …``, ``:= ⟨…⟩``) has no steps of its own; each ``by`` inside it starts a block.
   ``termination_by`` / ``decreasing_by`` and what follows them are not searched.

Worked examples (``steps`` takes the text of a proof body):

>>> steps("by\\n  intro h\\n  constructor\\n  · simp\\n    exact h\\n  · omega")
['intro h', 'constructor', '· simp\\n    exact h', 'simp', 'exact h', '· omega', 'omega']
>>> steps("by\\n  simp at *\\n  exact rfl")
['simp at *', 'exact rfl']
>>> steps("by simp; ring_nf <;> linarith")
['simp', 'ring_nf <;> linarith']
>>> steps("by\\n  have h : 0 < 1 := by\\n    norm_num\\n  exact ⟨h, by simp⟩")
['have h : 0 < 1 := by\\n    norm_num', 'norm_num', 'exact ⟨h, by simp⟩', 'simp']
>>> steps("by\\n  induction n with\\n  | zero => rfl\\n  | succ n ih =>\\n    simp\\n    omega")
['induction n with\\n  | zero => rfl\\n  | succ n ih =>\\n    simp\\n    omega', 'rfl', 'simp', 'omega']
>>> steps("by first | rfl | (simp; ring)")
['first | rfl | (simp; ring)', 'rfl', '(simp; ring)', 'simp', 'ring']
>>> steps("fun n => ⟨n, rfl⟩")
[]
"""

from __future__ import annotations

from extraction.lexer import (
    CLOSERS, HASH, IDENT, NUMBER, OPENERS, SYM, Tokens, match_brackets, tokenize,
)

__all__ = ["tactic_spans", "steps"]

MAX_NESTING = 48  # deeper nesting is not searched: keeps pathological input linear and the stack small

_ARROW_HEADS = frozenset({"case", "case'", "next", "on_goal"})
_SEQ_HEADS = frozenset({
    "all_goals", "any_goals", "try", "repeat", "repeat'", "focus", "iterate", "classical", "with_reducible",
    "with_reducible_and_instances", "with_unfolding_all", "show_term", "fail_if_success", "set_option",
    "open", "unfold_let", "checkpoint", "save",
})
_ALT_HEADS = frozenset({"first", "solve"})
_ARM_HEADS = frozenset({"induction", "cases", "match"})
_CONV_HEADS = frozenset({"conv", "conv_lhs", "conv_rhs"})
_ONE_STEP = _CONV_HEADS | {"calc"}
# Words that cannot start a tactic (`else` under `if`, `with` under `cases`), and tokens that cannot end
# one (a line ending in `:=`, `,` or `in` goes on below, even in the block's column).
_NOT_TACTICS = frozenset({"then", "else", "with", "at", "using", "from", "in", "generalizing", "only", "_"})
_DANGLING = frozenset({
    ":=", "=>", "<;>", ",", ":", "<|", "|>", "|>.", "in", "with", "at", "from", "fun", "λ", "←", "→", "↔",
    "=", "≠", "≤", "<", ">", "≥", "+", "-", "*", "/", "∧", "∨", "$", "::", "++", "▸", "∘", "using", "·", "%",
    "calc",
})
# Inside a term (not at the head of a step), `let x := v; e` and `have h := v; e` use `;` themselves.
_TERM_SEQUENCERS = frozenset({"let", "have"})
STOP_WORDS = frozenset({"termination_by", "decreasing_by"})


def steps(body: str) -> list[str]:
    """Tactic texts of a proof body given as text (see the module docstring)."""
    toks = tokenize(body)
    partner = match_brackets(toks, 0, len(toks))
    return [body[toks.starts[a]:toks.ends[b - 1]] for a, b in tactic_spans(toks, partner, 0, 0, len(toks))]


def tactic_spans(toks: Tokens, partner: list[int], base: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """Token ranges ``[a, b)`` of the tactic steps of the proof body ``toks[lo:hi]``, in source order.

    ``partner[i - base]`` is the index of the bracket matching token ``i`` (or -1), from
    :func:`~extraction.lexer.match_brackets` over a range starting at ``base`` that holds the body.
    """
    for i in range(lo, hi):
        if toks.kinds[i] == IDENT and toks.texts[i] in STOP_WORDS:
            hi = i
            break
    out: list[tuple[int, int]] = []
    _Walker(toks, partner, base, out).by_blocks(lo, hi, 0)
    return out


class _Walker:
    """The recursive descent of the module docstring over one body (state: tokens and output)."""

    def __init__(self, toks: Tokens, partner: list[int], base: int, out: list[tuple[int, int]]) -> None:
        self.kinds, self.texts, self.cols, self.bol = toks.kinds, toks.texts, toks.cols, toks.bol
        self.lines = toks.lines
        self.partner, self.base, self.out = partner, base, out

    def _skip(self, i: int, hi: int) -> int:
        """Index after the bracket group opened at ``i`` if it closes before ``hi``, else ``i + 1``."""
        p = self.partner[i - self.base]
        return p + 1 if i < p < hi else i + 1

    def _is_open(self, i: int) -> bool:
        return self.kinds[i] == SYM and self.texts[i] in OPENERS

    def _find(self, lo: int, hi: int, word: str) -> int:
        """First index in ``[lo, hi)`` outside brackets whose text is ``word``, or -1."""
        texts, i = self.texts, lo
        while i < hi:
            if texts[i] == word and not self._is_open(i):
                return i
            i = self._skip(i, hi) if self._is_open(i) else i + 1
        return -1

    def by_blocks(self, lo: int, hi: int, depth: int) -> None:
        """Term context: each ``by`` in ``[lo, hi)`` starts a tactic block."""
        if depth > MAX_NESTING:
            return
        kinds, texts = self.kinds, self.texts
        i, nesting = lo, 0
        while i < hi:
            text = texts[i]
            if kinds[i] == SYM:
                if text in OPENERS:
                    nesting += 1
                elif text in CLOSERS:
                    nesting = max(0, nesting - 1)
            elif kinds[i] == IDENT and text == "by":
                end = self._block_end(i + 1, hi, nesting > 0)
                self.seq(i + 1, end, depth + 1)
                i = max(end, i + 1)
                continue
            i += 1

    def _block_end(self, lo: int, hi: int, comma_ends: bool) -> int:
        if lo >= hi:
            return lo
        kinds, texts, cols, bol = self.kinds, self.texts, self.cols, self.bol
        column, j = cols[lo], lo
        while j < hi:
            if j > lo and bol[j] and cols[j] < column:
                return j
            if kinds[j] == SYM:
                text = texts[j]
                if text in OPENERS:
                    j = self._skip(j, hi)
                    continue
                if text in CLOSERS or (comma_ends and text == ","):
                    return j
            j += 1
        return hi

    def seq(self, lo: int, hi: int, depth: int) -> None:
        """A tactic block ``[lo, hi)``: split into steps, record each, then look inside it."""
        if lo >= hi or depth > MAX_NESTING:
            return
        kinds, texts, cols, bol = self.kinds, self.texts, self.cols, self.bol
        column, start, j = cols[lo], lo, lo
        greedy, arms = self._greedy(lo), texts[lo] in _ARM_HEADS
        items: list[tuple[int, int]] = []
        while j < hi:
            if j > start and bol[j] and cols[j] <= column and self._starts_step(j):
                items.append((start, j))
                start = j
                greedy, arms = self._greedy(j), texts[j] in _ARM_HEADS
            kind, text = kinds[j], texts[j]
            if kind == SYM:
                if text == ";" and not greedy:
                    if j > start:
                        items.append((start, j))
                    start = j + 1
                    if start < hi:
                        greedy, arms = self._greedy(start), texts[start] in _ARM_HEADS
                elif text in OPENERS:
                    j = self._skip(j, hi)
                    continue
                elif text == "=>" and arms:
                    greedy = True
            elif kind == IDENT and (text == "by" or (j > start and text in _TERM_SEQUENCERS)):
                greedy = True
            j += 1
        if start < hi:
            items.append((start, hi))
        for a, b in items:
            self.out.append((a, b))
            self.step(a, b, depth)

    def _wildcard(self, k: int) -> bool:
        """Token ``k`` is the ``*`` of a location ``at *`` (or ``at h *``): it ends a tactic, it is no product."""
        if self.texts[k] != "*":
            return False
        t = k - 1
        while t >= 0 and self.kinds[t] == IDENT and self.texts[t] != "at" and not self.bol[t + 1]:
            t -= 1  # hypotheses named before the `*`
        return t >= 0 and self.texts[t] == "at"

    def _starts_step(self, j: int) -> bool:
        """Whether a line starting with token ``j`` (in the block's column) starts a new step: it must be
        able to start a tactic (a name, a bullet, ``(``, ``{``) and the line above must not dangle."""
        if self.texts[j - 1] in _DANGLING and self.kinds[j - 1] in (SYM, IDENT) and not self._wildcard(j - 1):
            return False
        kind, text = self.kinds[j], self.texts[j]
        if kind == IDENT:
            return text not in _NOT_TACTICS
        return kind == HASH or (kind == SYM and text in ("·", ".", "(", "{"))

    def _greedy(self, k: int) -> bool:
        """Whether a step starting at ``k`` takes the ``;``-separated steps after it into a nested block
        (``· a; b``, ``all_goals a; b``, ``case x => a; b``; ``by a; b`` and arms are found while scanning)."""
        if self.kinds[k] == SYM:
            return self.texts[k] in ("·", ".")
        text = self.texts[k]
        return text in _SEQ_HEADS or text in _ARROW_HEADS or text in _ALT_HEADS or text in _CONV_HEADS

    def step(self, a: int, b: int, depth: int) -> None:
        """Look for nested blocks inside the step ``[a, b)``."""
        head, kind = self.texts[a], self.kinds[a]
        if kind == SYM and head in ("·", "."):
            return self.seq(a + 1, b, depth + 1)
        if self._find(a, b, "<;>") >= 0:
            return self.by_blocks(a, b, depth)
        if kind == SYM and head in ("(", "{") and self.partner[a - self.base] == b - 1:
            return self.seq(a + 1, b - 1, depth + 1)
        if kind != IDENT:
            return self.by_blocks(a, b, depth)
        if head in _ARROW_HEADS:
            arrow = self._find(a + 1, b, "=>")
            return self.seq(arrow + 1, b, depth + 1) if arrow >= 0 else None
        if head in _SEQ_HEADS:
            rest = a + 1
            if head in ("set_option", "open"):
                found = self._find(a + 1, b, "in")
                if found < 0:
                    return None
                rest = found + 1
            elif head == "iterate" and rest < b and self.kinds[rest] == NUMBER:
                rest += 1
            return self.seq(rest, b, depth + 1)
        if head in _ALT_HEADS:
            return self._alternatives(a + 1, b, depth)
        if head in _ARM_HEADS:
            return self._arms(a + 1, b, depth)
        if head in _ONE_STEP:
            return self.by_blocks(a + 1, b, depth) if head == "calc" else None
        return self.by_blocks(a + 1, b, depth)

    def _bars(self, lo: int, hi: int, arms: bool) -> list[int]:
        """Indices of ``|`` outside brackets in ``[lo, hi)``. With ``arms``, only ``| pattern =>`` bars that
        start a line in the column of the first ``|``, or follow such a bar on its line (deeper or later
        ones belong to nested arms)."""
        bars: list[int] = []
        column, i = None, lo
        while i < hi:
            if self.kinds[i] == SYM and self.texts[i] == "|":
                if column is None:
                    column = self.cols[i] if self.bol[i] else -1
                if not arms:
                    bars.append(i)
                elif self._arm_shaped(i + 1, hi) and (
                        column < 0 or (self.cols[i] == column if self.bol[i]
                                       else bool(bars) and self.lines[bars[-1]] == self.lines[i])):
                    bars.append(i)
            i = self._skip(i, hi) if self._is_open(i) else i + 1
        return bars

    def _arm_shaped(self, i: int, hi: int) -> bool:
        """Whether ``=>`` comes on this line, outside brackets, before any ``|``, ``:=`` or ``;``."""
        first = i
        while i < hi and not (i > first and self.bol[i]):
            if self.kinds[i] == SYM and self.texts[i] in ("=>", "|", ":=", ";"):
                return self.texts[i] == "=>"
            i = self._skip(i, hi) if self._is_open(i) else i + 1
        return False

    def _alternatives(self, lo: int, hi: int, depth: int) -> None:
        bars = self._bars(lo, hi, arms=False)
        for bar, stop in zip(bars, [*bars[1:], hi]):
            self.seq(bar + 1, stop, depth + 1)

    def _arms(self, lo: int, hi: int, depth: int) -> None:
        with_at = self._find(lo, hi, "with")
        if with_at < 0:
            return
        bars = self._bars(with_at + 1, hi, arms=True)
        for bar, stop in zip(bars, [*bars[1:], hi]):
            arrow = self._find(bar + 1, stop, "=>")
            if arrow >= 0:
                self.seq(arrow + 1, stop, depth + 1)
