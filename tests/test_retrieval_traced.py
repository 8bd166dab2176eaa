"""Per-tactic positives from traced records, built with lean_dojo's own types.

A Lean file written here; its tactics are lean_dojo ``TracedTactic`` objects over real AST nodes
(``OtherNode`` tactics holding ``IdentNode`` premises) and a real ``LeanFile``, so the annotations come from
lean_dojo's own ``get_annotated_tactic``. Only the traced repository around them is a double (tracing needs
Lean): the same shape as ``tests/test_prover_dojo.py``'s.
"""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from database.records import Repo
from database.store import Store
from extraction.traced import from_traced_repo
from retrieval.base import premise_text
from retrieval.dataset import build_dataset, format_state

lean_dojo = pytest.importorskip("lean_dojo")
from lean_dojo.data_extraction.ast import IdentNode, OtherNode  # noqa: E402
from lean_dojo.data_extraction.lean import LeanFile, Pos  # noqa: E402
from lean_dojo.data_extraction.traced_data import TracedTactic  # noqa: E402

LEMMAS = ["p0", "p1", "p2", "p3", "p4", "p5"]
THEOREMS = 8


def _lean_source() -> tuple[str, list[tuple[int, str, str]]]:
    """The file's text and, per theorem, (header line, first tactic's lemma, second tactic's lemma)."""
    lines = [f"theorem {name} : True := trivial" for name in LEMMAS]
    plan = []
    for i in range(THEOREMS):
        first, second = LEMMAS[i % 6], LEMMAS[(i + 1) % 6]
        plan.append((len(lines) + 1, first, second))
        lines += [f"theorem t{i} (n : Nat) : n = n ∧ True := by", f"  apply {first}", f"  exact {second}"]
    return "\n".join(lines) + "\n", plan


def _tactic(lean_file: LeanFile, line: int, word: str, lemma: str, before: str, after: str, owner) -> TracedTactic:
    """A traced tactic ``word lemma`` on ``line`` whose identifier resolves to ``Demo.lemma``."""
    col = 3 + len(word) + 1  # two spaces of indentation, 1-based columns
    ident = IdentNode(lean_file, Pos(line, col), Pos(line, col + len(lemma)), [], "", "\n", lemma, lemma,
                      full_name=f"Demo.{lemma}", mod_name="Demo.Basic", def_path="Demo/Basic.lean",
                      def_start=Pos(1, 1), def_end=Pos(1, 30))
    node = OtherNode(lean_file, Pos(line, 3), Pos(line, col + len(lemma)), [ident], "Lean.Parser.Tactic.apply",
                     state_before=before, state_after=after, tactic=f"{word} {lemma}")
    return TracedTactic(node, owner)


@pytest.fixture()
def traced_store(tmp_path: Path):
    text, plan = _lean_source()
    (tmp_path / "Demo").mkdir()
    (tmp_path / "Demo" / "Basic.lean").write_text(text)
    lean_file = LeanFile(tmp_path, Path("Demo/Basic.lean"))
    # get_annotated_tactic reads the source through traced_theorem.traced_file.lean_file
    owner = types.SimpleNamespace(traced_file=types.SimpleNamespace(lean_file=lean_file))
    theorems = []
    for i, (line, first, second) in enumerate(plan):
        goal = "n : Nat\n⊢ n = n ∧ True"
        tactics = [_tactic(lean_file, line + 1, "apply", first, f"2 goals\n{goal}\n\n⊢ True", "n : Nat\n⊢ n = n",
                           owner),
                   _tactic(lean_file, line + 2, "exact", second, "n : Nat\n⊢ n = n", "no goals", owner)]
        theorems.append(types.SimpleNamespace(
            theorem=types.SimpleNamespace(full_name=f"Demo.t{i}"), start=Pos(line, 1), end=Pos(line + 2, 20),
            get_theorem_statement=lambda i=i: f"theorem t{i} (n : Nat) : n = n ∧ True",
            get_tactic_proof=lambda f=first, s=second: f"by\n  apply {f}\n  exact {s}",
            get_premise_full_names=lambda f=first, s=second: [f"Demo.{f}", f"Demo.{s}"],
            get_traced_tactics=lambda tactics=tactics: tactics))
    definitions = [{"full_name": f"Demo.{name}", "code": f"theorem {name} : True := trivial", "kind": "theorem",
                    "start": [k + 1, 1], "end": [k + 1, 30]} for k, name in enumerate(LEMMAS)]
    traced_file = types.SimpleNamespace(
        path=Path("Demo/Basic.lean"), lean_file=lean_file, get_direct_dependencies=lambda repo: [],
        get_premise_definitions=lambda: definitions, get_traced_theorems=lambda: theorems)
    repo = Repo(url="https://example.org/demo", commit="d" * 40, name="demo")
    scan = from_traced_repo(types.SimpleNamespace(repo="r", traced_files=[traced_file]), repo)
    store = Store.open(tmp_path / "db.sqlite")
    store.ingest(scan)
    return store, repo, plan


def test_lean_dojo_annotations_become_each_tactics_premises(traced_store) -> None:
    store, repo, plan = traced_store
    by_name = {t.full_name: t for t in store.theorems(repo.id)}
    t0 = by_name["Demo.t0"]
    assert [(s.tactic, s.premises) for s in t0.steps] == [("apply p0", ("Demo.p0",)), ("exact p1", ("Demo.p1",))]
    assert t0.premises == ("Demo.p0", "Demo.p1")


def test_traced_training_examples_pair_each_state_with_its_own_tactics_premises(traced_store) -> None:
    store, repo, plan = traced_store
    data = build_dataset(store, repo, seed=3407)
    texts = {f"Demo.{name}": premise_text(p) for name in LEMMAS
             for p in store.premises(repo.id) if p.full_name == f"Demo.{name}"}
    first_state = "n : Nat\n⊢ n = n ∧ True\n\n⊢ True"  # "2 goals" dropped, as ReProver's format_state does
    assert format_state(f"2 goals\n{first_state}") == first_state
    expected = set()
    for i, (_, first, second) in enumerate(plan):
        tid = next(t.id for t in store.theorems(repo.id) if t.full_name == f"Demo.t{i}")
        if tid in data.split.train:
            expected |= {(first_state, texts[f"Demo.{first}"]), ("n : Nat\n⊢ n = n", texts[f"Demo.{second}"])}
    got = {(ex.query, ex.positive) for ex in data.train}
    assert got == expected and len(data.train) == 2 * len(data.split.train)
    for ex in data.train:  # the tactic's own premises only: the other tactic's lemma may be a negative
        assert ex.all_positives == (ex.positive,)
        assert ex.positive not in ex.negatives


def test_traced_evaluation_queries_are_per_state(traced_store) -> None:
    store, repo, plan = traced_store
    data = build_dataset(store, repo, seed=3407)
    ids = {p.full_name: p.id for p in store.premises(repo.id)}
    assert data.test and data.validation
    for split_ids, queries in ((data.split.test, data.test), (data.split.validation, data.validation)):
        assert len(queries) == 2 * len(split_ids)
        for query in queries:
            i = int(next(t.full_name for t in store.theorems(repo.id) if t.id == query.theorem_id)[len("Demo.t"):])
            _, first, second = plan[i]
            want = first if query.query.endswith("⊢ True") else second
            assert query.positives == {ids[f"Demo.{want}"]}
