"""Premise resolution across files: Lean's lookup order, opens, _root_, private, derived names."""

from __future__ import annotations

from database.records import Declaration, FileScan
from extraction import NameIndex, resolve_identifiers, scan_source
from extraction.resolve import derived_names

LIBRARY = (
    "namespace A\n"
    "theorem x : True := trivial\n"
    "namespace B\n"
    "theorem x : True := trivial\n"
    "theorem y : True := trivial\n"
    "end B\n"
    "theorem P.y : True := trivial\n"
    "end A\n"
    "theorem x : True := trivial\n"
    "theorem P.y : True := trivial\n"
    "namespace C\n"
    "theorem c : True := trivial\n"
    "theorem P.y : True := trivial\n"
    "end C\n"
    "namespace D\n"
    "theorem d : True := trivial\n"
    "theorem c : True := trivial\n"
    "theorem iff : True ↔ True := Iff.rfl\n"
    "end D\n"
    "private theorem secret : True := trivial\n"
    "structure S extends A.B where\n"
    "  mk' ::\n"
    "  field : Nat\n"
    "inductive T\n"
    "  | leaf\n"
    "  | node (l r : T)\n"
)


def scans_with(user: str) -> tuple[list[FileScan], Declaration]:
    scans = [scan_source(LIBRARY, "Lib.lean"), scan_source("import Lib\n" + user, "User.lean")]
    return scans, scans[1].declarations[-1]


def premises_of(user: str) -> tuple[str, ...]:
    scans, decl = scans_with(user)
    return resolve_identifiers(decl, NameIndex.from_scans(scans))


def test_namespace_candidates_innermost_first() -> None:
    assert premises_of("namespace A.B\ntheorem t : True := by exact x\nend A.B\n") == ("A.B.x",)
    assert premises_of("namespace A\ntheorem t : True := by exact x\nend A\n") == ("A.x",)
    assert premises_of("theorem t : True := by exact x\n") == ("x",)
    assert premises_of("namespace A.B\ntheorem t : True := by exact P.y\nend A.B\n") == ("A.P.y",)
    assert premises_of("theorem t : True := by exact B.y\n") == ()


def test_the_declared_name_prefix_is_a_namespace() -> None:
    assert premises_of("theorem A.B.t : True := by exact y\n") == ("A.B.y",)
    assert premises_of("namespace A\ntheorem B.t : True := by exact y\nend A\n") == ("A.B.y",)


def test_open_namespaces_come_after_enclosing_ones() -> None:
    assert premises_of("open C D\ntheorem t : True := by exact ⟨c, d, x⟩\n") == ("C.c", "D.d", "x")
    assert premises_of("open D in\ntheorem t : True := by exact c\n") == ("D.c",)
    assert premises_of("open C in\ntheorem t : True := by exact P.y\n") == ("P.y",)
    # `open B` inside `namespace A` opens `A.B`
    assert premises_of("namespace A\nopen B\ntheorem t : True := by exact y\nend A\n") == ("A.B.y",)


def test_root_at_and_dot_notation_on_constants() -> None:
    assert premises_of("namespace A\ntheorem t : True := _root_.x\nend A\n") == ("x",)
    assert premises_of("theorem t : True := @A.x\n") == ("A.x",)
    assert premises_of("theorem t : True := D.iff.mp trivial\n") == ("D.iff",)


def test_recursion_and_locals_are_excluded() -> None:
    assert premises_of("theorem x : True := by exact x\n") == ()
    assert premises_of("theorem t (x : True) : True := by exact x\n") == ()
    assert premises_of("theorem t : True := by\n  intro x\n  exact x\n") == ()


def test_variable_binders_are_locals_in_their_scope() -> None:
    # `x` is also a theorem of Lib.lean: bound by `variable`, it is a local, not that premise.
    assert premises_of("section\nvariable (x : True) {f : Nat → Nat}\ntheorem t : True := by exact x\nend\n") == ()
    assert premises_of("variable {x : True}\ntheorem t : True := by exact x\n") == ()
    assert premises_of("variable {x}\ntheorem t : True := by exact x\n") == ()
    assert premises_of("section\nvariable (x : True)\nend\ntheorem t : True := by exact x\n") == ("x",)  # out of scope
    assert premises_of("variable (x : True) in\ntheorem s : True := x\ntheorem t : True := by exact x\n") == ("x",)
    assert premises_of("variable [inst : Inhabited Nat] [DecidableEq Nat]\ntheorem t : True := by exact x\n") == ("x",)


def test_private_declarations_resolve_only_in_their_file() -> None:
    assert premises_of("theorem t : True := secret\n") == ()
    index = NameIndex.from_scans([scan_source(LIBRARY, "Lib.lean")])
    lib = scan_source(LIBRARY + "theorem u : True := secret\n", "Lib.lean")
    assert resolve_identifiers(lib.declarations[-1], index) == ("secret",)


def test_constructors_fields_and_recursors_resolve_to_their_type() -> None:
    assert premises_of("open T in\ntheorem t : True := by exact ⟨S.mk', S.field, leaf, T.rec, S.toB⟩\n") == (
        "S", "T")
    assert premises_of("namespace S\ntheorem t : True := field\nend S\n") == ("S",)
    lib = scan_source(LIBRARY, "Lib.lean").declarations
    assert derived_names(lib[-2]) == (
        "S.mk'", "S.field", "S.toB", "S.rec", "S.recOn", "S.casesOn", "S.noConfusion", "S.noConfusionType",
        "S.below", "S.brecOn", "S.ext", "S.ext_iff")
    assert derived_names(lib[-1])[:2] == ("T.leaf", "T.node")
    assert derived_names(lib[0]) == ()


def test_dot_notation_on_a_typed_local_is_exact() -> None:
    # `h : S` and `h.nothing`: `S.nothing` is not declared, so no premise (not `S` by the prefix rule).
    assert premises_of("theorem t (h : S) : True := h.nothing\n") == ()
    assert premises_of("theorem t (h : S) : Nat := h.field\n") == ("S",)  # a field: the structure's premise


def test_members_of_a_mutual_block_see_each_other() -> None:
    scan = scan_source("mutual\ntheorem ev : True := od\ntheorem od : True := ev\nend\n"
                       "theorem after : True := od\n", "M.lean")
    index = NameIndex.from_scans([scan])
    assert [resolve_identifiers(d, index) for d in scan.declarations] == [("od",), ("ev",), ("od",)]


def test_a_tactic_name_is_no_premise() -> None:
    # Inside `namespace S`, the tactic `ext` would otherwise resolve to the structure's derived `S.ext`.
    assert premises_of("namespace S\ntheorem t : True := by\n  ext\n  exact x\nend S\n") == ("x",)


def test_notation_is_a_use_of_what_it_unfolds_to() -> None:
    defs = scan_source("structure Pt where\n  x : Nat\nnotation \"⟪\" a \"⟫\" => Pt.mk a\n"
                       "local notation \"⊞\" a => Pt.mk a\n", "Defs.lean")
    user = scan_source("import Defs\ntheorem t : (⟪1⟫).x = 1 := by\n  show (⟪1⟫).x = 1\n  rfl\n"
                       "theorem u : True := by\n  have := ⊞ 1\n  trivial\n", "User.lean")
    index = NameIndex.from_scans([defs, user])
    assert [resolve_identifiers(d, index) for d in user.declarations] == [("Pt",), ()]  # a local one stays home
    assert [(n.symbol, n.target, n.local) for n in defs.notations] == [("⟪", "Pt.mk", False), ("⊞", "Pt.mk", True)]


def test_suffix_fallback_for_dot_notation_on_locals() -> None:
    scans, decl = scans_with("theorem t : True → True := fun h => h.field\n")  # `h`'s type unknown
    assert resolve_identifiers(decl, NameIndex.from_scans(scans)) == ()
    assert resolve_identifiers(decl, NameIndex.from_scans(scans, suffix_fallback=True)) == ("S",)
    scans, decl = scans_with("theorem t (h : True) : True := h.y\n")  # ambiguous: A.B.y, A.P.y, P.y ...
    assert resolve_identifiers(decl, NameIndex.from_scans(scans, suffix_fallback=True)) == ()


def test_index_basics() -> None:
    index = NameIndex.from_scans([scan_source(LIBRARY, "Lib.lean")])
    assert "A.B.x" in index and "B.x" not in index and len(index) > 10
    assert index.lookup("secret", "Other.lean") is None and index.lookup("secret", "Lib.lean") == "secret"
    assert index.prefixes(("A", "B"), ("B", "Z")) == ("A.B", "A", "", "Z")  # `open B` here is `A.B`


def test_lookup_follows_imports_and_order_in_the_file() -> None:
    lib = scan_source("def p : Nat := 1\ntheorem helper : True := trivial\n", "Lib.lean")
    other = scan_source("def q : Nat := 2\n", "Other.lean")  # imported by nobody
    mid = scan_source("import Lib\ntheorem m : True := trivial\n", "Mid.lean")
    user = scan_source("import Mid\ntheorem early : True := by exact later\ntheorem later : True := trivial\n"
                       "theorem t : True := by exact ⟨p, helper, m, later, q⟩\n", "User.lean")
    index = NameIndex.from_scans([lib, other, mid, user])
    by_name = {d.name: d for d in user.declarations}
    assert resolve_identifiers(by_name["t"], index) == ("p", "helper", "m", "later")  # `q`: not imported
    assert resolve_identifiers(by_name["early"], index) == ()  # `later` comes after it
