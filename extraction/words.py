"""Vocabulary of the scanner: which words start commands, which are keywords, which bind names."""

from __future__ import annotations

__all__ = [
    "DECL_WORDS", "MODIFIERS", "COMMAND_WORDS", "IN_COMMANDS", "KEYWORDS", "BINDER_WORDS", "STRUCTURAL",
    "NOTATION_WORDS", "CORE_SYMBOLS",
]

# Commands that declare a notation: a use of its symbol is a use of the function it unfolds to.
NOTATION_WORDS = frozenset({"notation", "notation3", "infix", "infixl", "infixr", "prefix", "postfix"})
# Symbols of Lean's own syntax and core notations: never a repository's notation of its own.
CORE_SYMBOLS = frozenset({
    "(", ")", "[", "]", "{", "}", "⟨", "⟩", "⦃", "⦄", "{{", "}}", "@[", ":=", "=>", "↦", "|", ",", ":", ";", ".",
    "..", "...", "←", "<-", "→", "->", "↔", "<->", "<;>", "·", "_", "@", "#", "$", "<|", "|>", "|>.", "▸", "∘",
    "=", "≠", "<", ">", "≤", "≥", "<=", ">=", "+", "-", "*", "/", "%", "^", "∧", "∨", "¬", "!", "&&", "||",
    "∀", "∃", "λ", "Σ", "Π", "×", "::", "++", "∣", "∈", "∉", "⁻¹", "?", "'", "`", "%[", "&", "~", "==", "!=",
    "∩", "∪", "⊆", "⊂", "\\", "<$>", "<*>", ">>=", "*>", "<*", "⟦", "⟧", "∅", "⊤", "⊥", "∑", "∏", "•", "≃", "≅",
})

# Declaration keywords → record kind. Besides Lean's own, two commands of compfiles' ProblemExtraction
# (`problem` elaborates to a theorem, `determine` to a definition) and Mathlib's `irreducible_def`.
DECL_WORDS = {
    "theorem": "theorem", "lemma": "lemma", "def": "def", "abbrev": "abbrev", "instance": "instance",
    "structure": "structure", "class": "class", "inductive": "inductive", "axiom": "axiom",
    "opaque": "opaque", "example": "example", "problem": "theorem", "determine": "def",
    "irreducible_def": "def", "simproc": "simproc", "dsimproc": "simproc",
}
# Kinds whose whole text (fields, constructors) is the premise code.
STRUCTURAL = frozenset({"structure", "class", "inductive"})

MODIFIERS = frozenset({
    "private", "protected", "noncomputable", "partial", "unsafe", "nonrec", "scoped", "local", "public",
    "meta",
})

# Words that start a top-level command when they begin a line at (or left of) the current command's column.
COMMAND_WORDS = frozenset({
    *DECL_WORDS, *MODIFIERS,
    "namespace", "section", "end", "open", "export", "variable", "variable!", "universe", "set_option",
    "attribute", "notation", "notation3", "infix", "infixl", "infixr", "prefix", "postfix", "macro",
    "macro_rules", "syntax", "elab", "elab_rules", "declare_syntax_cat", "import", "initialize",
    "builtin_initialize", "mutual", "deriving", "add_decl_doc", "alias", "assert_not_exists",
    "assert_not_imported", "suppress_compilation", "omit", "include", "unseal", "seal", "register_simp_attr",
    "register_option", "declare_aesop_rule_sets", "add_aesop_rules", "library_note", "run_cmd", "run_elab",
    "run_meta", "unif_hint", "simproc", "dsimproc", "initialize_simps_projections", "binder_predicate",
    "snip", "problem_file", "compile_inductive%", "grind_pattern", "recall", "module", "coinductive",
})

# Commands that may end in `in`, scoping them to the next command (`open Foo in`, `set_option ... in`).
IN_COMMANDS = frozenset({
    "open", "set_option", "attribute", "variable", "variable!", "omit", "include", "unseal", "seal",
    "#guard_msgs", "#adaptation_note", "suppress_compilation",
})

# Words that are never references to declarations (Lean keywords and pervasive syntax).
KEYWORDS = frozenset({
    *DECL_WORDS, *MODIFIERS, "fun", "by", "have", "show", "from", "let", "in", "at", "with", "match", "if",
    "then", "else", "do", "return", "calc", "suffices", "where", "deriving", "Type", "Sort", "Prop", "this",
    "sorry", "admit", "_", "forall", "mut", "for", "unless", "catch", "finally", "break", "continue",
    "termination_by", "decreasing_by", "nomatch", "nofun", "open", "set_option", "using", "only",
    "generalizing", "extends", "namespace", "section", "end", "variable", "universe", "mutual", "import",
    "haveI", "letI", "fun_prop", "says", "try", "hiding", "renaming", "attribute", "at",
})

# Words after which the next names are bound locally (best effort; see scanner._locals).
BINDER_WORDS = frozenset({
    "fun", "λ", "∀", "∃", "∃!", "Π", "Σ", "∑", "∏", "⋃", "⋂", "intro", "intros", "rintro", "obtain",
    "with", "have", "let", "set", "case", "case'", "next", "by_cases", "by_contra", "by_contra!",
    "rename_i", "ext", "funext", "choose", "generalize", "haveI", "letI", "intro!", "wlog", "suffices",
})
