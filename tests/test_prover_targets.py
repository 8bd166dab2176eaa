"""Targets a maintainer would accept: sorries over placeholder definitions and exercises are listed with their
reason and skipped (``--include-placeholders`` tries them), in `prove`, the run's records and `scan --sorries`."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from database.store import Store
from leanagent.cli import main
from leanagent.config import load_config
from leanagent.repos import RepoSpec, parse_repos_text
from leanagent.scanning import ScanOptions, scan_repository
from leanagent.workdir import Workdir
from prover.targets import skip_reasons
from prover.testing import FakeLean, ReplayVerifier, TableGenerator
from tests.conftest import write_files

FILES = {
    "lean-toolchain": "leanprover/lean4:v4.9.0\n",
    "Book/Basic.lean": (
        "namespace Book\n\n"
        "/-- Not defined yet. -/\n"
        "def answer : Nat := sorry\n\n"
        "def two : Nat := 2 -- sorry: only in a comment\n\n"
        "theorem answer_eq : answer = 42 := by\n  sorry\n\n"
        "theorem two_eq : two = 2 := by\n  sorry\n\n"
        "end Book\n"),
    "Book/Exercises/Sets.lean": "theorem ex_one (p : Prop) (hp : p) : p := by\n  sorry\n",
}


def _scan(tmp_path: Path, textbook: bool = False):
    root = tmp_path / "book"
    write_files(root, FILES)
    spec = RepoSpec(str(root), None, textbook=textbook)
    return scan_repository(spec, ScanOptions(cache_dir=tmp_path / "cache")).scan


def test_placeholder_definitions_and_exercises_are_named_with_their_reason(tmp_path: Path) -> None:
    scan = _scan(tmp_path)
    source = lambda path: (Path(scan.repo.path) / path).read_text()  # noqa: E731
    by_name = {t.full_name: t.id for t in scan.theorems}
    reasons = skip_reasons(scan.theorems, scan.premises, source)
    assert reasons == {by_name["Book.answer_eq"]: "placeholder: its statement uses Book.answer, itself defined with sorry",
                       by_name["ex_one"]: "exercise: Book/Exercises/Sets.lean is named like an exercise file"}
    textbook = skip_reasons(scan.theorems, scan.premises, source, textbook=True)
    assert set(textbook) == set(by_name.values())  # a textbook's every sorry is an exercise


def test_a_textbook_mark_in_the_repositories_file_is_kept_in_the_database(tmp_path: Path) -> None:
    specs, errors = parse_repos_text("https://github.com/avigad/mil 5297e0f textbook\n./book textbook\n"
                                     "https://github.com/a/b abc extra words\n", "r.txt", tmp_path)
    assert [(s.name, s.commit, s.textbook) for s in specs] == [("avigad/mil", "5297e0f", True), ("book", None, True)]
    assert errors == ["r.txt:3: expected 'URL-or-path [commit] [textbook]', got 4 fields: "
                      "'https://github.com/a/b abc extra words'"]
    scan = _scan(tmp_path, textbook=True)
    with Store.open(tmp_path / "db.sqlite") as store:
        store.ingest(scan)
        assert store.repo(scan.repo.id).textbook is True


def test_prove_skips_them_records_why_and_tries_them_when_asked(tmp_path: Path) -> None:
    from leanagent.proving import prove_repository

    scan = _scan(tmp_path)
    wd = Workdir(tmp_path / "run")
    wd.root.mkdir()
    goals = {"Book.answer_eq": "answer = 42", "Book.two_eq": "two = 2", "ex_one": "p"}
    rules = {("two = 2", "rfl"): (), ("p", "exact hp"): ()}
    kwargs = dict(env_factory=functools.partial(FakeLean, goals, rules),
                  generator_factory=functools.partial(TableGenerator, {"two = 2": [("rfl", -0.1)],
                                                                       "p": [("exact hp", -0.1)]}),
                  verifier_factory=functools.partial(ReplayVerifier, goals, rules))
    config = load_config(None, {"workdir": str(wd.root), "prover.timeout": "60"})
    with Store.open(wd.database) as store:
        store.ingest(scan)
        seen = []
        done = prove_repository(config, store, wd, scan.repo, "ck", on_result=seen.append, **kwargs)
        assert (done.targets, done.attempted, done.skipped, done.proved) == (3, 1, 2, 1)
        assert done.outcomes == {"proved": 1, "skipped": 2}
        assert sorted(a.message.split(":")[0] for a in seen if a.outcome == "skipped") == ["exercise", "placeholder"]
        again = prove_repository(config, store, wd, scan.repo, "ck", **kwargs)
        assert (again.attempted, again.skipped, again.outcomes) == (0, 2, {})  # still skipped, recorded once
        from leanagent.cli import _skipped_sorries

        assert _skipped_sorries(store, [scan.repo]) == {scan.repo.name: [  # what status lists, in file order
            ("Book.answer_eq", "placeholder: its statement uses Book.answer, itself defined with sorry"),
            ("ex_one", "exercise: Book/Exercises/Sets.lean is named like an exercise file")]}
        config = load_config(None, {"workdir": str(wd.root), "prover.timeout": "60",
                                    "prover.include_placeholders": "true"})
        forced = prove_repository(config, store, wd, scan.repo, "ck", **kwargs)
        assert (forced.attempted, forced.skipped, forced.proved) == (2, 0, 2)  # the exercise is provable


def test_scan_sorries_lists_each_skipped_one_with_its_reason(tmp_path: Path, capsys) -> None:
    root = tmp_path / "book"
    write_files(root, FILES)
    assert main(["scan", str(root), "--sorries", "--json", "--workdir", str(tmp_path / "w")]) == 0
    listed = {t["name"]: t.get("skipped", "") for t in json.loads(capsys.readouterr().out)["listed"]}
    assert listed == {"Book.answer_eq": "placeholder: its statement uses Book.answer, itself defined with sorry",
                      "Book.two_eq": "", "ex_one": "exercise: Book/Exercises/Sets.lean is named like an exercise file"}
    assert main(["scan", str(root), "--sorries", "--workdir", str(tmp_path / "w")]) == 0
    text = capsys.readouterr().out
    assert "skipped: placeholder: its statement uses Book.answer" in text
