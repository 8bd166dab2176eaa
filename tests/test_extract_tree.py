"""Walking a repository, reading files defensively, assembling a RepoScan; robustness against junk."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from database.records import Pos, Premise, Repo, RepoScan, SourceFile, TacticStep, Theorem
from extraction import extract_repo, lean_files, scan_file, scan_source, scan_tree


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def test_lean_files_skips_build_dependency_and_hidden_folders(tmp_path: Path) -> None:
    write(tmp_path, {rel: "" for rel in [
        "Main.lean", "Foo/Bar.lean", "Foo/Baz/Qux.lean", "Foo/notes.md", ".lake/packages/m/M.lean",
        "lake-packages/m/M.lean", "build/B.lean", ".git/X.lean", ".hidden/H.lean", "Foo/.cache/C.lean"]})
    assert lean_files(tmp_path) == ["Foo/Bar.lean", "Foo/Baz/Qux.lean", "Main.lean"]


def test_scan_file_warnings_name_the_file(tmp_path: Path) -> None:
    write(tmp_path, {
        "Big.lean": "theorem t : True := trivial\n" * 10,
        "Bad.lean": b"theorem t : True := trivial\n-- caf\xe9\ntheorem u : True := trivial\n",
        "Nul.lean": b"theorem t : True := trivial\n\x00\x00\x01\ntheorem u : True := trivial\n",
        "Open.lean": "theorem t : True := trivial\n/- never closed\ntheorem u : True := trivial\n",
        "Str.lean": 'theorem t : True := trivial\ndef s := "never closed\n',
    })
    big = scan_file(tmp_path, "Big.lean", max_bytes=100)
    assert big.declarations == () and big.warnings == ("Big.lean: 280 bytes, over the 100-byte limit, skipped",)
    bad = scan_file(tmp_path, "Bad.lean")
    assert bad.warnings == ("Bad.lean: invalid UTF-8 at byte 34, replaced",)
    assert [d.name for d in bad.declarations] == ["t", "u"]
    nul = scan_file(tmp_path, "Nul.lean")
    assert nul.warnings == ("Nul.lean: binary content (NUL bytes), read as text",)
    assert [d.name for d in nul.declarations] == ["t", "u"]
    opened = scan_file(tmp_path, "Open.lean")
    assert opened.warnings == ("Open.lean: unterminated comment starting at 2:1",)
    assert [d.name for d in opened.declarations] == ["t"]
    string = scan_file(tmp_path, "Str.lean")
    assert string.warnings == ("Str.lean: unterminated string starting at 2:10",)
    assert [d.name for d in string.declarations] == ["t", "s"]
    missing = scan_file(tmp_path, "Missing.lean")
    assert missing.file == SourceFile("Missing.lean", "Missing") and missing.warnings[0].startswith(
        "Missing.lean: unreadable (")


def test_extract_repo_whole_records(tmp_path: Path) -> None:
    write(tmp_path, {
        "Proj/Defs.lean": "namespace Proj\n\ndef double (n : Nat) : Nat := n + n\n\nend Proj\n",
        "Proj/Thms.lean": (
            "import Proj.Defs Dep\n"
            "namespace Proj\n"
            "theorem double_zero : double 0 = 0 := by\n"
            "  simp [double]\n"
            "theorem open_goal (n : Nat) : double n = 2 * n := by\n"
            "  unfold double\n"
            "  sorry\n"
            "lemma placeholder : sorry := by\n"
            "  exact Dep.helper\n"
            "example : True := trivial\n"
            "end Proj\n"
        ),
        ".lake/packages/dep/Dep.lean": "theorem ignored : True := trivial\n",
    })
    dependency = scan_source("namespace Dep\ntheorem helper : True := trivial\nend Dep\n", "Dep.lean")
    repo = Repo(url="https://github.com/o/proj", commit="c" * 40, name="o/proj")
    scan = extract_repo(repo, tmp_path, dependency_scans=[dependency])
    url, commit = repo.url, repo.commit
    assert scan == RepoScan(
        repo=repo,
        files=(SourceFile("Proj/Defs.lean", "Proj.Defs", (), 5),
               SourceFile("Proj/Thms.lean", "Proj.Thms", ("Proj.Defs", "Dep"), 11)),
        premises=(
            Premise("Proj.double", "def", "Proj/Defs.lean", Pos(3, 1), Pos(3, 36), "def double (n : Nat) : Nat"),
            Premise("Proj.double_zero", "theorem", "Proj/Thms.lean", Pos(3, 1), Pos(4, 16),
                    "theorem double_zero : double 0 = 0"),
            Premise("Proj.open_goal", "theorem", "Proj/Thms.lean", Pos(5, 1), Pos(7, 8),
                    "theorem open_goal (n : Nat) : double n = 2 * n"),
            Premise("Proj.placeholder", "lemma", "Proj/Thms.lean", Pos(8, 1), Pos(9, 19),
                    "lemma placeholder : sorry"),
        ),
        theorems=(
            Theorem(url, commit, "Proj/Thms.lean", "Proj.double_zero", Pos(3, 1), Pos(4, 16),
                    "theorem double_zero : double 0 = 0", "by\n  simp [double]",
                    steps=(TacticStep("simp [double]"),), premises=("Proj.double",)),
            Theorem(url, commit, "Proj/Thms.lean", "Proj.open_goal", Pos(5, 1), Pos(7, 8),
                    "theorem open_goal (n : Nat) : double n = 2 * n", "by\n  unfold double\n  sorry",
                    steps=(TacticStep("unfold double"), TacticStep("sorry")), premises=("Proj.double",),
                    has_sorry=True),
            Theorem(url, commit, "Proj/Thms.lean", "Proj.placeholder", Pos(8, 1), Pos(9, 19),
                    "lemma placeholder : sorry", "by\n  exact Dep.helper",
                    steps=(TacticStep("exact Dep.helper"),), premises=("Dep.helper",), placeholder=True),
        ),
    )
    assert scan.seconds > 0 and scan.extractor == "static"
    assert extract_repo(repo, tmp_path, file_scans=scan_tree(tmp_path)).theorems[1].premises == ("Proj.double",)


def test_duplicate_names_in_a_file_are_kept_once_with_a_warning(tmp_path: Path) -> None:
    write(tmp_path, {"A.lean": "theorem t : True := trivial\ntheorem t : True := by trivial\n"})
    scan = extract_repo(Repo(url="/x", commit="worktree", name="x"), tmp_path)
    assert [t.proof for t in scan.theorems] == ["trivial"]
    assert scan.warnings == ("A.lean: t declared again at line 2, kept the first",)


def test_progress_bar_only_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"A.lean": "theorem t : True := trivial\n"})
    scan_tree(tmp_path)
    assert capsys.readouterr().err == ""
    scan_tree(tmp_path, show_progress=True)
    assert "scanning" in capsys.readouterr().err


REALISTIC = (
    "import Mathlib\n/-! doc -/\nnamespace N\nopen Real in\n@[simp] theorem t₁ {x : ℝ} (h : 0 < x) :\n"
    "    |x| = x := by\n  rw [abs_of_pos h]\n  · simp; ring\n  have := by\n    exact 'a'\n"
    "/-- d -/\ninstance : Foo := ⟨\"s\\\"x\", r#\"y\"#⟩\nstructure S where\n  x : Nat\nend N\n"
)


def test_random_bytes_and_truncations_never_raise() -> None:
    rng = random.Random(0)
    alphabet = list("()[]{}⟨⟩|:=;·.,'\"`/-#@«» \n\tabcxyz_!?₁α") + [
        "theorem ", "by ", "where ", "namespace ", "end ", "open ", " in ", "/-", "-/", "--", "r#\"", ":= ",
        "\n  ", "sorry", "| ", "=> ", "<;> ", "mutual\n", "@[", "_root_.", "instance ", "structure "]
    for _ in range(1000):
        scan_source("".join(rng.choice(alphabet) for _ in range(rng.randrange(200))), "R.lean")
    for _ in range(100):
        scan_source(bytes(rng.randrange(256) for _ in range(rng.randrange(300))), "B.lean")
    for cut in range(len(REALISTIC) + 1):
        scan_source(REALISTIC[:cut], "T.lean")
        scan_source(REALISTIC[cut:], "T.lean")


@pytest.mark.parametrize("text", [
    "/-" * 100_000,
    "theorem t : " + "(" * 1_000_000,
    "theorem t := by\n" + "  · " * 50_000,
    "theorem t := fun " + "fun " * 100_000,
    "theorem t := " + "| a => " * 100_000,
    "namespace A\n" * 50_000 + "end A\n" * 50_000,
])
def test_pathological_files_finish(text: str) -> None:
    started = time.perf_counter()
    scan_source(text, "P.lean")
    assert time.perf_counter() - started < 15


def test_large_file_is_linear_enough() -> None:
    block = "theorem t{i} (n : Nat) : n + 0 = n := by\n  induction n with\n  | zero => rfl\n  | succ k ih => simp\n"
    text = "".join(block.replace("{i}", str(i)) for i in range(5000))  # 20k lines
    started = time.perf_counter()
    scan = scan_source(text, "L.lean")
    assert len(scan.declarations) == 5000
    assert time.perf_counter() - started < 5
