"""Dataset views: accessibility never leaks, splits are deterministic and disjoint, novel premises are novel."""

from __future__ import annotations

import random

from database.datasets import AccessIndex, novel_premise_split, split_theorems
from database.records import Pos, Premise, SourceFile, Theorem

URL, COMMIT = "https://example.invalid/r", "c" * 40


def _premise(name: str, path: str, line: int) -> Premise:
    return Premise(full_name=name, kind="theorem", path=path, start=Pos(line, 1), end=Pos(line + 1, 1),
                   code=f"theorem {name} : True")


def _theorem(name: str, path: str, line: int, premises: tuple[str, ...] = (), sorry: bool = False) -> Theorem:
    return Theorem(url=URL, commit=COMMIT, path=path, full_name=name, start=Pos(line, 1), end=Pos(line + 2, 1),
                   statement=f"theorem {name} : True", proof="by trivial", premises=premises, has_sorry=sorry)


def test_accessible_premises_follow_imports_and_positions() -> None:
    files = [
        SourceFile("A/Base.lean", "A.Base"),
        SourceFile("A/Mid.lean", "A.Mid", ("A.Base",)),
        SourceFile("A/Top.lean", "A.Top", ("A.Mid",)),
        SourceFile("A/Side.lean", "A.Side", ()),
        SourceFile("Dep/Lib.lean", "Dep.Lib", ()),
    ]
    files[0] = SourceFile("A/Base.lean", "A.Base", ("Dep.Lib",))
    premises = [_premise("base1", "A/Base.lean", 1), _premise("mid1", "A/Mid.lean", 1),
                _premise("top_before", "A/Top.lean", 3), _premise("top_after", "A/Top.lean", 30),
                _premise("side1", "A/Side.lean", 1), _premise("dep1", "Dep/Lib.lean", 5)]
    index = AccessIndex(files, premises)
    thm = _theorem("top_thm", "A/Top.lean", 10)
    names = sorted(p.full_name for p in index.accessible(thm))
    assert names == ["base1", "dep1", "mid1", "top_before"]  # nothing later in the file, nothing unimported
    assert index.imported_modules("A.Top") == frozenset({"A.Mid", "A.Base", "Dep.Lib"})
    assert index.accessible_ids(_theorem("x", "A/Side.lean", 100)) == frozenset({premises[4].id})


def test_import_cycles_and_unknown_modules_do_not_break_access() -> None:
    files = [SourceFile("X.lean", "X", ("Y",)), SourceFile("Y.lean", "Y", ("X", "Missing"))]
    index = AccessIndex(files, [_premise("y", "Y.lean", 1), _premise("x", "X.lean", 1)])
    assert [p.full_name for p in index.accessible(_theorem("t", "X.lean", 5))] == ["x", "y"]


def _corpus(n: int, seed: int = 0) -> list[Theorem]:
    rng = random.Random(seed)
    return [_theorem(f"t{i}", "A.lean", i * 3 + 1, tuple(f"p{rng.randint(0, 15)}" for _ in range(2)))
            for i in range(n)]


def test_random_split_is_deterministic_disjoint_and_order_free() -> None:
    theorems = _corpus(60) + [_theorem("s", "A.lean", 999, ("p1",), sorry=True), _theorem("np", "A.lean", 998)]
    split = split_theorems(theorems)
    shuffled = list(theorems)
    random.Random(5).shuffle(shuffled)
    assert split_theorems(shuffled) == split
    parts = [set(split.train), set(split.validation), set(split.test)]
    assert (len(parts[0]), len(parts[1]), len(parts[2])) == (48, 6, 6)
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert theorems[-2].id not in set().union(*parts) and theorems[-1].id not in set().union(*parts)
    assert split_theorems(theorems, seed=1) != split
    # Adding a theorem moves at most a couple of others across the boundaries (hash order is stable).
    grown = split_theorems(theorems + [_theorem("new", "A.lean", 5000, ("p2",))])
    moved = [tid for tid in split.train + split.validation + split.test if grown.of(tid) != split.of(tid)]
    assert len(moved) <= 2

def test_novel_premise_split_holds_premises_out_of_training() -> None:
    theorems = _corpus(80, seed=3)
    split = novel_premise_split(theorems)
    by_id = {t.id: t for t in theorems}
    train_premises = {p for tid in split.train for p in by_id[tid].premises}
    evaluation = split.validation + split.test
    assert len(evaluation) >= 16
    assert all(set(by_id[tid].premises) - train_premises for tid in evaluation)
    assert split.of(evaluation[0]) in ("validation", "test") and split.of("nope") is None
