"""The Lean 4 tokenizer: comments, strings, char literals, names, layout, bad input."""

from __future__ import annotations

import time

import pytest

from extraction.lexer import (
    CHAR, DOC, FIELD, HASH, IDENT, KIND_NAMES, MODDOC, NAME, NUMBER, STRING, SYM, match_brackets,
    normalize_name, split_name, tokenize,
)


def kinds_texts(text: str) -> list[tuple[str, str]]:
    toks = tokenize(text)
    return [(KIND_NAMES[k], t) for k, t in zip(toks.kinds, toks.texts)]


def idents(text: str) -> list[str]:
    toks = tokenize(text)
    return [t for k, t in zip(toks.kinds, toks.texts) if k == IDENT]


def test_line_and_nested_block_comments_vanish() -> None:
    text = "a -- b c\nd /- e /- f -/ g -/ h /-- -/ i"
    assert idents(text) == ["a", "d", "h", "i"]
    assert tokenize("/- /- /- -/ -/ -/x").texts == ["x"]
    assert tokenize("x /- -- not a line comment -/ y").texts == ["x", "y"]


def test_doc_and_module_doc_comments_are_tokens() -> None:
    toks = tokenize("/-- doc /- nested -/ still doc -/ theorem /-! module -/ x")
    assert toks.kinds == [DOC, IDENT, MODDOC, IDENT]
    assert toks.texts == ["", "theorem", "", "x"]
    assert toks.ends[0] == len("/-- doc /- nested -/ still doc -/")


def test_strings_with_escapes_hide_their_contents() -> None:
    for literal in ['"a \\"theorem\\" b"', '"\\\\"', '"\\n\\x41\\u{1F600}"', '"line\nbreak sorry"']:
        toks = tokenize(f"x {literal} y")
        assert toks.kinds == [IDENT, STRING, IDENT], literal
        assert toks.ends[1] - toks.starts[1] == len(literal)


def test_raw_and_interpolated_strings() -> None:
    assert kinds_texts('r"a \\ b" x') == [("string", ""), ("ident", "x")]
    assert kinds_texts('r#"has "quotes" inside"# x') == [("string", ""), ("ident", "x")]
    assert kinds_texts('r##"a "# b"## x') == [("string", ""), ("ident", "x")]
    assert kinds_texts('s!"{x} sorry" y') == [("ident", "s!"), ("string", ""), ("ident", "y")]


def test_char_literals_versus_primes() -> None:
    assert kinds_texts("h' 'a' Nat.succ_le' '\\'' x''") == [
        ("ident", "h'"), ("char", "'a'"), ("ident", "Nat.succ_le'"), ("char", "'\\''"), ("ident", "x''")]
    assert kinds_texts("'\\n' '\\x41' '\\u{3B1}' 'α'") == [("char", "'\\n'"), ("char", "'\\x41'"),
                                                         ("char", "'\\u{3B1}'"), ("char", "'α'")]
    # `f '' s` (image) and `f ⁻¹' s` (preimage) are notation, not char literals
    assert idents("f '' s ∪ g ⁻¹' t") == ["f", "s", "g", "t"]


def test_names_unicode_quoted_and_hierarchical() -> None:
    assert idents("x₁ α ℝ List.get! Option.get? h.le Foo.«bar baz».qux «a.b» ε'") == [
        "x₁", "α", "ℝ", "List.get!", "Option.get?", "h.le", "Foo.«bar baz».qux", "«a.b»", "ε'"]
    # λ, Π, Σ are not letters in Lean; ∀ is a symbol
    assert kinds_texts("λx ∀y Πz") == [("sym", "λ"), ("ident", "x"), ("sym", "∀"), ("ident", "y"),
                                        ("sym", "Π"), ("ident", "z")]


def test_fields_numbers_names_hash_commands_symbols() -> None:
    assert kinds_texts("(f x).symm .inl h.1 0x1F 2.5e3 `Nat.succ ``foo #check #[1] @[simp] a := b <;> c") == [
        ("sym", "("), ("ident", "f"), ("ident", "x"), ("sym", ")"), ("field", ".symm"), ("field", ".inl"),
        ("ident", "h"), ("sym", "."), ("number", "1"), ("number", "0x1F"), ("number", "2.5e3"),
        ("name", "`Nat.succ"), ("name", "``foo"), ("hash", "#check"), ("sym", "#["), ("number", "1"),
        ("sym", "]"), ("sym", "@["), ("ident", "simp"), ("sym", "]"), ("ident", "a"), ("sym", ":="),
        ("ident", "b"), ("sym", "<;>"), ("ident", "c")]
    assert tokenize("a || b |>. c").texts == ["a", "||", "b", "|>.", "c"]
    assert {FIELD, NUMBER, NAME, HASH, SYM, CHAR, MODDOC} <= set(range(len(KIND_NAMES)))


def test_layout_lines_columns_and_line_starts() -> None:
    toks = tokenize("theorem a :=\n  by /- c\n -/ simp\n\tx -- end")
    assert toks.texts == ["theorem", "a", ":=", "by", "simp", "x"]
    assert toks.lines == [1, 1, 1, 2, 3, 4]
    assert toks.cols == [0, 8, 10, 2, 4, 1]
    assert toks.bol == [True, False, False, True, True, True]
    crlf = tokenize("a\r\nb")
    assert (crlf.lines, crlf.cols, crlf.bol) == ([1, 2], [0, 0], [True, True])


def test_unterminated_literals_warn_and_consume_the_rest() -> None:
    assert tokenize("x /- never closed\ntheorem y").warnings == ["unterminated comment starting at 1:3"]
    assert tokenize("x /- never closed\ntheorem y").texts == ["x"]
    toks = tokenize('a\n  "open string\ntheorem b')
    assert toks.texts == ["a", ""] and toks.warnings == ["unterminated string starting at 2:3"]
    assert tokenize('r#"raw').warnings == ["unterminated raw string starting at 1:1"]
    assert tokenize("«unclosed name").texts == ["«", "unclosed", "name"]


def test_names_helpers() -> None:
    assert split_name("A.«b.c».d") == ["A", "«b.c»", "d"]
    assert normalize_name("«Foo».«bar baz».«x₁»") == "Foo.«bar baz».x₁"
    assert normalize_name("«1x»") == "«1x»"


def test_match_brackets_pairs_and_recovers() -> None:
    toks = tokenize("( [ ⟨ ⟩ ] ) ( ] { }")
    assert match_brackets(toks, 0, len(toks)) == [5, 4, 3, 2, 1, 0, -1, -1, 9, 8]
    toks = tokenize("( [ )")  # `[` left open: `)` still closes `(`
    assert match_brackets(toks, 0, 3) == [2, -1, 0]


@pytest.mark.parametrize("text", [
    "/-" * 100_000,
    "(" * 1_000_000,
    "«" * 200_000,
    '"' + "\\" * 100_000,
    "'" * 300_000,
    "a." * 200_000,
    " \n" * 500_000 + "x",
])
def test_pathological_inputs_finish_quickly(text: str) -> None:
    started = time.perf_counter()
    tokenize(text)
    assert time.perf_counter() - started < 10
