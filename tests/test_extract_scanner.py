"""Declarations of one file: scopes, names, declaration boundaries, statement/proof split, sorry, imports."""

from __future__ import annotations

import pytest

from database.records import Declaration, FileScan, Pos, SourceFile
from extraction import scan_source


def decls(text: str, path: str = "F.lean") -> tuple[Declaration, ...]:
    scan = scan_source(text, path)
    assert scan.warnings == ()
    return scan.declarations


def one(text: str) -> Declaration:
    found = decls(text)
    assert len(found) == 1, [d.name for d in found]
    return found[0]


def names(text: str) -> list[str]:
    return [d.name for d in decls(text)]


def test_whole_record_of_a_theorem_in_a_namespace() -> None:
    text = (
        "import Mathlib.Tactic\n"
        "\n"
        "namespace Foo\n"
        "open Nat\n"
        "\n"
        "/-- A doc comment. -/\n"
        "@[simp]\n"
        "theorem add_zero' (n : ℕ) : n + 0 = n := by\n"
        "  induction n with\n"
        "  | zero => rfl\n"
        "  | succ k ih => simp [Nat.add_succ]\n"
        "-- a trailing comment\n"
        "\n"
        "end Foo\n"
    )
    assert scan_source(text, "Foo/Basic.lean") == FileScan(
        file=SourceFile(path="Foo/Basic.lean", module="Foo.Basic", imports=("Mathlib.Tactic",), lines=14),
        declarations=(Declaration(
            name="Foo.add_zero'", kind="theorem", path="Foo/Basic.lean", start=Pos(6, 1), end=Pos(11, 37),
            statement="theorem add_zero' (n : ℕ) : n + 0 = n",
            proof="by\n  induction n with\n  | zero => rfl\n  | succ k ih => simp [Nat.add_succ]",
            code="@[simp]\ntheorem add_zero' (n : ℕ) : n + 0 = n",
            steps=("induction n with\n  | zero => rfl\n  | succ k ih => simp [Nat.add_succ]", "rfl",
                   "simp [Nat.add_succ]"),
            identifiers=("Nat.add_succ",),
            namespaces=("Foo",), opens=("Nat",),
        ),),
    )


def test_namespaces_sections_and_end() -> None:
    text = (
        "namespace A.B\n"
        "def x := 1\n"
        "section S\n"
        "def y := 2\n"
        "end S\n"
        "end A.B\n"
        "namespace C\n"
        "section\n"
        "def z := 3\n"
        "end\n"
        "def w := 4\n"
        "end C\n"
        "noncomputable section\n"
        "namespace D\n"
        "def v := 5\n"
        "end D\n"
        "end\n"
        "def top := 6\n"
    )
    found = decls(text)
    assert [(d.name, d.namespaces) for d in found] == [
        ("A.B.x", ("A", "B")), ("A.B.y", ("A", "B")), ("C.z", ("C",)), ("C.w", ("C",)), ("D.v", ("D",)),
        ("top", ())]


def test_open_forms_and_their_scope() -> None:
    text = (
        "namespace N\n"
        "open A B\n"
        "open C (x y)\n"
        "open D hiding z\n"
        "open E renaming u → v\n"
        "open scoped F\n"
        "export G (w)\n"
        "open H in\n"
        "theorem t1 : True := trivial\n"
        "theorem t2 : True := trivial\n"
        "section\n"
        "open I\n"
        "theorem t3 : True := trivial\n"
        "end\n"
        "open J in open K in theorem t4 : True := trivial\n"
        "end N\n"
        "theorem t5 : True := trivial\n"
    )
    assert [(d.name, d.opens) for d in decls(text)] == [
        ("N.t1", ("A", "B", "C", "D", "E", "G", "H")),
        ("N.t2", ("A", "B", "C", "D", "E", "G")),
        ("N.t3", ("A", "B", "C", "D", "E", "G", "I")),
        ("N.t4", ("A", "B", "C", "D", "E", "G", "J", "K")),
        ("t5", ()),
    ]


def test_variable_universe_set_option_and_other_commands_are_not_declarations() -> None:
    text = (
        "universe u v\n"
        "variable {α : Type u} (h : 1 = 1)\n"
        "set_option maxHeartbeats 400000 in\n"
        "theorem t : True := trivial\n"
        "set_option linter.unusedVariables false\n"
        "attribute [simp] t\n"
        "notation \"ℕ₁\" => Nat\n"
        "macro \"my_tac\" : tactic => `(tactic| simp)\n"
        "#check t\n"
        "#eval 1 + 1\n"
        "deriving instance Repr for Foo\n"
        "theorem u' : True := trivial\n"
    )
    found = decls(text)
    assert [(d.name, d.start, d.end) for d in found] == [("t", Pos(4, 1), Pos(4, 28)), ("u'", Pos(12, 1), Pos(12, 29))]


def test_other_commands_end_a_declaration() -> None:
    commands = ["#print axioms t", "syntax \"foo\" : term", "elab \"bar\" : tactic => pure ()",
                "macro_rules | `(foo) => `(1)", "initialize registerTraceClass `x", "infixl:65 \" +' \" => f",
                "/-! ## Section doc -/", "universe w", "variable (n : Nat)", "deriving instance Repr for T"]
    for command in commands:
        found = decls(f"theorem t : True := by\n  trivial\n{command}\ntheorem u : True := trivial\n")
        assert [(d.name, d.end) for d in found] == [("t", Pos(2, 10)), ("u", Pos(4, 28))], command


def test_bytes_input() -> None:
    assert scan_source("theorem t : True := trivial\n".encode(), "T.lean").declarations[0].name == "t"


def test_mutual_blocks() -> None:
    text = (
        "namespace M\n"
        "mutual\n"
        "  def even : Nat → Bool\n"
        "    | 0 => true\n"
        "    | n+1 => odd n\n"
        "  def odd : Nat → Bool\n"
        "    | 0 => false\n"
        "    | n+1 => even n\n"
        "end\n"
        "theorem after : True := trivial\n"
        "end M\n"
    )
    found = decls(text)
    assert [(d.name, d.start.line, d.end.line) for d in found] == [
        ("M.even", 3, 5), ("M.odd", 6, 8), ("M.after", 10, 10)]
    assert found[0].proof == "| 0 => true\n    | n+1 => odd n"


@pytest.mark.parametrize("keyword", ["theorem", "lemma", "def", "abbrev", "axiom", "opaque"])
def test_declaration_keywords(keyword: str) -> None:
    d = one(f"{keyword} foo : Nat := 1\n" if keyword not in ("axiom", "opaque") else f"{keyword} foo : Nat\n")
    assert (d.name, d.kind) == ("foo", keyword)


def test_structures_classes_inductives_examples_instances() -> None:
    text = (
        "structure P (α : Type) extends Q α where\n"
        "  x : α\n"
        "deriving Repr\n"
        "class inductive C | a | b\n"
        "class K (α : Type) where\n"
        "  op : α → α\n"
        "inductive T where\n"
        "  | leaf : T\n"
        "  | node (l r : T) : T\n"
        "example : True := trivial\n"
        "instance : K Nat := ⟨id⟩\n"
        "instance (priority := low) named : K Int := ⟨id⟩\n"
        "instance [K α] : K (List α) where\n"
        "  op := id\n"
        "instance : K Nat := ⟨id⟩\n"
    )
    found = decls(text)
    assert [(d.name, d.kind) for d in found] == [
        ("P", "structure"), ("C", "class"), ("K", "class"), ("T", "inductive"), ("", "example"),
        ("instKNat", "instance"), ("named", "instance"), ("instKList", "instance"), ("instKNat_1", "instance")]
    p = found[0]
    assert p.statement == "structure P (α : Type) extends Q α"
    assert p.code == "structure P (α : Type) extends Q α where\n  x : α\nderiving Repr"
    assert found[3].code == "inductive T where\n  | leaf : T\n  | node (l r : T) : T"


def test_modifiers_attributes_and_doc_comments() -> None:
    text = (
        "/-- doc -/\n"
        "@[simp, aesop safe apply]\n"
        "private noncomputable def a : Nat := 1\n"
        "protected theorem b : True := trivial\n"
        "@[simp] lemma c : True := trivial\n"
        "nonrec partial unsafe def d : Nat := 1\n"
        "scoped instance e : Inhabited Nat := ⟨0⟩\n"
        "local instance f : Inhabited Nat := ⟨0⟩\n"
    )
    found = decls(text)
    assert [(d.name, d.kind, d.private, d.start) for d in found] == [
        ("a", "def", True, Pos(1, 1)), ("b", "theorem", False, Pos(4, 1)), ("c", "lemma", False, Pos(5, 1)),
        ("d", "def", False, Pos(6, 1)), ("e", "instance", False, Pos(7, 1)), ("f", "instance", False, Pos(8, 1))]
    assert found[0].code == "@[simp, aesop safe apply]\nprivate noncomputable def a : Nat"
    assert found[0].statement == "def a : Nat"


def test_full_names() -> None:
    text = (
        "namespace A\n"
        "theorem Foo.bar : True := trivial\n"
        "theorem _root_.baz : True := trivial\n"
        "theorem «quoted» : True := trivial\n"
        "theorem «with space».x : True := trivial\n"
        "end A\n"
    )
    assert names(text) == ["A.Foo.bar", "baz", "A.quoted", "A.«with space».x"]


def test_declaration_end_at_next_command_and_indentation() -> None:
    text = (
        "namespace X\n"
        "  theorem a : True := by\n"
        "    trivial\n"
        "\n"
        "  -- between\n"
        "  theorem b : True :=\n"
        "trivial\n"
        "  open Foo in\n"
        "  theorem c : True := trivial\n"
        "end X\n"
    )
    found = decls(text)
    assert [(d.name, d.start, d.end, d.proof) for d in found] == [
        ("X.a", Pos(2, 3), Pos(3, 12), "by\n    trivial"),
        ("X.b", Pos(6, 3), Pos(7, 8), "trivial"),
        ("X.c", Pos(9, 3), Pos(9, 30), "trivial"),
    ]


def test_commands_inside_a_proof_do_not_end_it() -> None:
    text = (
        "def f (n : Nat) : Nat := by\n"
        "  open Nat in\n"
        "  set_option maxRecDepth 100 in\n"
        "  exact succ n\n"
        "termination_by n\n"
        "decreasing_by simp_wf; omega\n"
        "where\n"
        "  aux : Nat := 0\n"
        "theorem g : True := trivial\n"
    )
    f, aux, g = decls(text)
    assert f.end == Pos(6, 29)  # its proof ends before the `where` helpers (records of their own)
    assert f.steps == ("open Nat in\n  set_option maxRecDepth 100 in\n  exact succ n",
                       "set_option maxRecDepth 100 in\n  exact succ n", "exact succ n")
    assert g.name == "g" and (aux.name, aux.proof) == ("f.aux", "0")  # the `where` helper, after termination_by


def test_statement_proof_split() -> None:
    found = decls(
        "def f : Nat → Nat\n"
        "  | 0 => 1\n"
        "  | n+1 => f n\n"
        "theorem abs_le (x : Int) :\n"
        "    |x| ≤ |x| + 0 := by simp\n"
        "theorem g (h : a := 1) : ∀ n, P n\n"
        "  | 0 => base\n"
        "  | n+1 => step\n"
        "instance : Inhabited Nat where\n"
        "  default := 0\n"
        "def h (x : Nat) : Nat := match x with | 0 => 1 | _ => 2\n"
        "axiom ax : 1 = 2\n"
    )
    assert [(d.statement, d.proof) for d in found] == [
        ("def f : Nat → Nat", "| 0 => 1\n  | n+1 => f n"),
        ("theorem abs_le (x : Int) :\n    |x| ≤ |x| + 0", "by simp"),
        ("theorem g (h : a := 1) : ∀ n, P n", "| 0 => base\n  | n+1 => step"),
        ("instance : Inhabited Nat", "where\n  default := 0"),
        ("def h (x : Nat) : Nat", "match x with | 0 => 1 | _ => 2"),
        ("axiom ax : 1 = 2", ""),
    ]
    assert [d.code for d in found[:2]] == ["def f : Nat → Nat", "theorem abs_le (x : Int) :\n    |x| ≤ |x| + 0"]


def test_sorry_in_proof_statement_comments_and_strings() -> None:
    found = decls(
        "theorem a : True := by\n  sorry\n"
        "theorem b : True := by\n  admit\n"
        "theorem c : sorry := trivial\n"
        "theorem d (h : sorry) : True := trivial\n"
        "theorem e : True := by\n  -- sorry\n  /- sorry -/ trivial\n"
        "theorem f : True := by\n  simp [show \"sorry\" = \"sorry\" from rfl]\n"
        "theorem g : True := trivial_sorry\n"
        "theorem h : True := by\n  · sorry\n"
        "theorem i : True := trivial\ntermination_by sorry\n"
    )
    assert [(d.name, d.sorry_in_proof, d.sorry_in_statement) for d in found] == [
        ("a", True, False), ("b", True, False), ("c", False, True), ("d", False, True), ("e", False, False),
        ("f", False, False), ("g", False, False), ("h", True, False), ("i", True, False)]


def test_identifiers_leave_out_keywords_and_local_binders() -> None:
    d = one(
        "theorem t (h : 0 < n) {m : Nat} : P := by\n"
        "  intro x y\n"
        "  obtain ⟨a, ha⟩ := Foo.bar h\n"
        "  rcases h2 with ⟨b, hb⟩ | hc\n"
        "  have h3 : 1 = 1 := rfl\n"
        "  induction m with\n"
        "  | zero => exact @Nat.le_refl _\n"
        "  | succ k ih => exact fun z => baz z k\n"
        "  cases hm : m with\n"
        "  | _ => exact (∀ w, qux w) ▸ _root_.quux\n"
        "  exact ha.trans (Or.inl this)\n"
    )
    # `hm` in `cases hm : m` is a binder the scanner does not recognise (best effort)
    # tactic names (`intro`, `obtain`, `exact` …, the first word of each step) name no declaration
    assert d.identifiers == ("Foo.bar", "h2", "rfl", "Nat.le_refl", "baz", "hm", "qux", "_root_.quux", "ha.trans",
                             "Or.inl")


def test_imports() -> None:
    scan = scan_source("prelude\nimport A.B C\nimport «D E»\n-- comment\nimport F\ntheorem t : True := trivial\n"
                       "import G\n", "X.lean")
    assert scan.file.imports == ("A.B", "C", "«D E»", "F")
    module = scan_source("module\n\npublic import Mathlib\nimport all Foo\n\n@[expose] public section\n"
                         "public theorem t : True := trivial\n", "X.lean")
    assert module.file.imports == ("Mathlib", "Foo")
    assert [d.name for d in module.declarations] == ["t"]


def test_exit_stops_the_file() -> None:
    assert names("theorem a : True := trivial\n#exit\ntheorem b : True := trivial\n") == ["a"]


def test_project_specific_declaration_commands() -> None:
    found = decls("determine answer : ℕ := 3\n\nsnip begin\nlemma l : True := trivial\nsnip end\n\n"
                  "problem p : answer = 3 := by\n  rfl\n")
    assert [(d.name, d.kind) for d in found] == [("answer", "def"), ("l", "lemma"), ("p", "theorem")]
    assert found[1].end == Pos(4, 26)


def test_module_name_and_explicit_module() -> None:
    assert scan_source("", "Foo/Bar.lean").file == SourceFile("Foo/Bar.lean", "Foo.Bar", (), 0)
    assert scan_source("x\n", "a.lean", module="M").file.module == "M"


def test_pattern_variables_are_bound_and_matched_constructors_are_uses() -> None:
    found = {d.name: d.identifiers for d in scan_source(
        "def andN : List Prop → Prop\n  | [] => True\n  | p :: ps => p ∧ andN ps\n"
        "theorem f1 : ∀ q : Nat × Nat, q.1 = q.1 := fun ⟨a, b⟩ => rfl\n"
        "def f2 (q : Nat × Nat) : Nat := match q with | (x, y) => x + y\n"
        "theorem f3 (h : A ∧ B) : B := by\n  intro ⟨h1, h2⟩\n  obtain ⟨x, hx⟩ := h\n  rcases h with ⟨u, v⟩\n"
        "  exact h2\n"
        "theorem f4 (h : XOr p q) : p ∨ q := match h with\n  | inl hp hnq => Or.inl hp\n  | inr hnp hq => Or.inr hq\n"
        "def f5 : Nat → Nat\n  | 0 => 1\n  | n + 1 => n * f5 n\n"
        "def f7 (o : Option Nat) : Nat := match o with\n  | some (x + 1) => x\n  | none => 1\n"
        "theorem f8 (n : ℕ) : n + 0 = n := by\n  induction n with\n  | zero => rfl\n  | succ k ih => simp [k]\n",
        "A.lean").declarations}
    assert found == {"andN": ("True", "andN"), "f1": ("rfl",), "f2": (), "f3": (),
                     "f4": ("XOr.inl", "Or.inl", "XOr.inr", "Or.inr"), "f5": ("f5",), "f7": ("Option.some",),
                     "f8": ()}  # a tactic's case name (`succ`) is no use


def test_dot_notation_on_a_local_follows_its_binder_type() -> None:
    found = {d.name: d.identifiers for d in scan_source(
        "variable (g : Graph V)\n"
        "theorem t (m : Map α β) (h : Foo) (k : ℕ) : True := by\n  have := m.find? a\n  have := g.neighbors? v\n"
        "  have := k.succ_le\n  exact h.elim\n"
        "theorem u : True → True := fun h => h.elim\n", "A.lean").declarations}
    assert found == {"t": ("Map.find?", "a", "Graph.neighbors?", "v", "Nat.succ_le", "Foo.elim"),
                     "u": ("h.elim",)}  # type unknown: kept for the resolver's suffix fallback


def test_where_helpers_and_simprocs_are_declarations() -> None:
    found = scan_source(
        "namespace G\ndef dfs (n : Nat) : Nat := visitVertex n + other\nwhere\n  visitVertex (k : Nat) : Nat := k + 1\n"
        "  other : Nat := 2\nend G\n"
        "theorem w : True := by\n  exact aux\nwhere aux : True := trivial\n"
        "simproc [simp, seval] reduceFoo (Foo _) := fun e => return .continue\n"
        "dsimproc reduceBar (Bar _) := fun e => return .continue\n"
        "instance : Inhabited Nat where\n  default := 0\n", "A.lean").declarations
    assert [(d.kind, d.name, d.identifiers, d.start.line, d.end.line) for d in found] == [
        ("def", "G.dfs", ("dfs.visitVertex", "dfs.other"), 2, 2),
        ("def", "G.dfs.visitVertex", (), 4, 4), ("def", "G.dfs.other", (), 5, 5),
        ("theorem", "w", ("w.aux",), 7, 8), ("theorem", "w.aux", ("trivial",), 9, 9),
        ("simproc", "reduceFoo", (), 10, 10), ("simproc", "reduceBar", (), 11, 11),
        ("instance", "instInhabitedNat", (), 12, 13)]  # an instance's `where` gives fields, not uses
    assert found[0].proof == "visitVertex n + other" and found[1].statement == "visitVertex (k : Nat) : Nat"
