"""The traced extractor on lean_dojo's own ``TracedFile``: a ``.ast.json`` written here in the shape
``ExtractData.lean`` emits (Lean's syntax tree: ``node``/``atom``/``ident`` with byte positions), parsed by
lean_dojo 4.20 itself, so premise kinds and proofs are what LeanDojo really hands over. Only the traced
repository around the file is a double (tracing needs Lean)."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest

from database.records import Pos, Repo
from extraction.traced import from_traced_repo, premise_kind
from prover.patch import proof_span

SOURCE = "theorem foo : True := sorry\ndef bar : Nat := 1\nlemma baz : True := by\n  trivial\n"


class Tokens:
    """Leaves of the syntax tree, in source order, with the byte positions Lean gives them."""

    def __init__(self, text: str) -> None:
        self.text, self.at = text, 0

    def _info(self, word: str) -> dict:
        start = self.text.index(word, self.at)
        self.at = start + len(word)
        return {"original": {"leading": "", "pos": start, "trailing": "", "endPos": self.at}}

    def atom(self, word: str) -> dict:
        return {"atom": {"info": self._info(word), "val": word}}

    def ident(self, name: str) -> dict:
        return {"ident": {"info": self._info(name), "rawVal": name, "val": name, "preresolved": []}}


def node(kind: str, *args: dict) -> dict:
    return {"node": {"kind": kind, "info": "none", "args": list(args)}}


def _ast(text: str) -> dict:
    t = Tokens(text)
    null = lambda: node("null")  # noqa: E731
    modifiers = lambda: node("Lean.Parser.Command.declModifiers", *[null() for _ in range(6)])  # noqa: E731
    decl_id = lambda name: node("Lean.Parser.Command.declId", t.ident(name), null())  # noqa: E731
    type_spec = lambda ty: node("Lean.Parser.Term.typeSpec", t.atom(":"), t.ident(ty))  # noqa: E731
    theorem = node("Lean.Parser.Command.declaration", modifiers(), node(
        "Lean.Parser.Command.theorem", t.atom("theorem"), decl_id("foo"),
        node("Lean.Parser.Command.declSig", null(), type_spec("True")),
        node("Lean.Parser.Command.declValSimple", t.atom(":="), node("Lean.Parser.Term.sorry", t.atom("sorry")),
             null(), null())))
    definition = node("Lean.Parser.Command.declaration", modifiers(), node(
        "Lean.Parser.Command.definition", t.atom("def"), decl_id("bar"),
        node("Lean.Parser.Command.optDeclSig", null(), node("null", type_spec("Nat"))),
        node("Lean.Parser.Command.declValSimple", t.atom(":="), node("num", t.atom("1")), null(), null()),
        null()))
    lemma = node("Mathlib.Tactic.lemma", modifiers(), node(
        "group", t.atom("lemma"), decl_id("baz"), node("Lean.Parser.Command.declSig", null(), type_spec("True")),
        node("Lean.Parser.Command.declValSimple", t.atom(":="), node(
            "Lean.Parser.Term.byTactic", t.atom("by"), node("Lean.Parser.Tactic.tacticSeq", node(
                "Lean.Parser.Tactic.tacticSeq1Indented", node("null", node(
                    "Lean.Parser.Tactic.tacticTrivial", t.atom("trivial")))))), null(), null())))
    header = node("Lean.Parser.Module.header", null(), null())
    return {"commandASTs": [header, theorem, definition, lemma], "tactics": [], "premises": []}


@pytest.fixture()
def traced(tmp_path: Path):
    pytest.importorskip("lean_dojo")  # settings: tests/conftest.py
    from lean_dojo.data_extraction.traced_data import TracedFile

    root = tmp_path / "traced" / "foo"
    (root / "Foo").mkdir(parents=True)
    (root / "Foo" / "Basic.lean").write_text(SOURCE)
    ir = root / ".lake" / "build" / "ir" / "Foo"
    ir.mkdir(parents=True)
    (ir / "Basic.ast.json").write_text(json.dumps(_ast(SOURCE)))
    (ir / "Basic.dep_paths").write_text("")
    tf = TracedFile.from_traced_file(root, ir / "Basic.ast.json", "r")
    tf.traced_repo = types.SimpleNamespace(repo="r")  # get_traced_theorems asks it which repository
    return types.SimpleNamespace(repo="r", traced_files=[tf])


def test_lean_dojos_premise_kinds_become_lean_keywords(traced) -> None:
    [tf] = traced.traced_files
    kinds = {d["full_name"]: d["kind"] for d in tf.get_premise_definitions()}
    assert kinds == {"foo": "commanddeclaration", "bar": "commanddeclaration", "baz": "mathlibtacticlemma"}
    scan = from_traced_repo(traced, Repo(url="https://example.org/foo", commit="c" * 40, name="foo"))
    assert {p.full_name: p.kind for p in scan.premises} == {"foo": "theorem", "bar": "def", "baz": "lemma"}


def test_a_term_mode_sorry_is_a_target_that_can_be_put_back(traced) -> None:
    [tf] = traced.traced_files
    assert [tt.get_tactic_proof() for tt in tf.get_traced_theorems()] == [None, "by\n  trivial"]
    scan = from_traced_repo(traced, Repo(url="https://example.org/foo", commit="c" * 40, name="foo"))
    foo, baz = scan.theorems
    assert (foo.full_name, foo.proof, foo.has_sorry, foo.is_target) == ("foo", "sorry", True, True)
    assert (foo.start, foo.end) == (Pos(1, 1), Pos(1, 28))
    assert proof_span(SOURCE, foo) == (22, 27)  # the patch finds the proof where the record says it is
    assert (baz.proof, baz.has_sorry, baz.statement) == ("by\n  trivial", False, "lemma baz : True :=")


@pytest.mark.parametrize("kind, code, keyword", [
    ("commanddeclaration", "/-- doc -/ @[simp, norm_cast] private theorem a : 1 = 1", "theorem"),
    ("commanddeclaration", "noncomputable def f : Nat := 0", "def"),
    ("commanddeclaration", "instance (priority := 100) foo : Inhabited Nat := ⟨0⟩", "instance"),
    ("commanddeclaration", "structure P where\n  x : Nat", "structure"),
    ("commanddeclaration", "class inductive C : Prop", "class"),
    ("commanddeclaration", "abbrev N := Nat", "abbrev"),
    ("commanddeclaration", "axiom ax : False", "axiom"),
    ("commanddeclaration", "protected opaque o : Nat", "opaque"),
    ("commanddeclaration", "inductive T | a | b", "inductive"),
    ("lemma", "lemma l : True", "lemma"),
    ("leanelabcommandcommandirreducibledef", "irreducible_def d : Nat := 1", "def"),
    ("stdtacticaliasaliaslr", "alias ⟨mp, mpr⟩ := Iff.rfl", "theorem"),
    ("theorem", "theorem t : True", "theorem"),  # already a keyword (doubles, the static extractor)
    ("commanddeclaration", "", "commanddeclaration"),  # nothing to read: LeanDojo's word is kept
])
def test_premise_kind(kind: str, code: str, keyword: str) -> None:
    assert premise_kind(kind, code) == keyword
