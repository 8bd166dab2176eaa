"""Reading repositories files: formats, errors with FILE:LINE, the real repos.txt."""

from __future__ import annotations

from pathlib import Path

import pytest

from leanagent.repos import ReposFileError, RepoSpec, parse_repos_text, read_repos_file

ROOT = Path(__file__).resolve().parent.parent


def test_urls_paths_commits_and_comments(tmp_path: Path) -> None:
    text = (
        "# a comment\n"
        "\n"
        "https://github.com/teorth/pfr.git fa398a5b853c7e94e3294c45e50c6aee013a2687\n"
        "git@github.com:owner/name.git v1.0  # trailing comment\n"
        "  ../local/proj   \n"
        "ssh://git@host.example/x/y\n"
    )
    specs, errors = parse_repos_text(text, "r.txt", tmp_path / "dir")
    assert errors == []
    assert specs == [
        RepoSpec("https://github.com/teorth/pfr", "fa398a5b853c7e94e3294c45e50c6aee013a2687", "r.txt:3"),
        RepoSpec("git@github.com:owner/name", "v1.0", "r.txt:4"),
        RepoSpec(str((tmp_path / "local" / "proj").resolve()), None, "r.txt:5"),
        RepoSpec("ssh://git@host.example/x/y", None, "r.txt:6"),
    ]
    assert [s.is_url for s in specs] == [True, True, False, True]
    assert [s.name for s in specs] == ["teorth/pfr", "owner/name", "proj", "x/y"]


def test_malformed_lines_are_reported_and_the_rest_counts(tmp_path: Path) -> None:
    text = (
        "https://github.com/a/b abc123 extra\n"      # 3 fields
        "https://github.com/a/c\n"                    # fine
        "ftp://host/x/y\n"                            # bad scheme
        "https://github.com/a/d bad;commit\n"         # bad revision
        "https://\n"                                  # URL without repository
        "https://github.com/a/c\n"                    # duplicate
        "https://github.com/a/e 0123456\n"            # fine
    )
    specs, errors = parse_repos_text(text, "repos.txt", tmp_path)
    assert [s.source for s in specs] == ["https://github.com/a/c", "https://github.com/a/e"]
    assert [e.split(":", 2)[:2] for e in errors] == [
        ["repos.txt", "1"], ["repos.txt", "3"], ["repos.txt", "4"], ["repos.txt", "5"], ["repos.txt", "6"]]
    assert "3 fields" in errors[0]
    assert "unsupported URL scheme" in errors[1]
    assert "not a commit" in errors[2]
    assert "duplicate of repos.txt:2" in errors[4]


def test_unreadable_files_raise_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReposFileError, match="no such file"):
        read_repos_file(tmp_path / "missing.txt")
    with pytest.raises(ReposFileError, match="is a directory"):
        read_repos_file(tmp_path)
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(ReposFileError, match="binary"):
        read_repos_file(binary)


def test_relative_paths_resolve_against_the_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    listing = tmp_path / "sub" / "repos.txt"
    listing.write_text("proj\n")
    specs, errors = read_repos_file(listing)
    assert errors == [] and specs[0].source == str(tmp_path / "sub" / "proj")


def test_the_papers_repos_txt_parses_to_23_pinned_repositories() -> None:
    specs, errors = read_repos_file(ROOT / "repos.txt")
    assert errors == []
    assert len(specs) == 23
    assert all(s.is_url and s.commit is not None and len(s.commit) == 40 for s in specs)
    assert specs[0].name == "google-deepmind/debate"


def test_examples_repos_txt_lists_three_local_projects() -> None:
    specs, errors = read_repos_file(ROOT / "examples" / "repos.txt")
    assert errors == []
    assert len(specs) == 3
    assert all(not s.is_url and Path(s.source).is_dir() for s in specs)
