"""The run directory lock and atomic writes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from leanagent.workdir import Workdir, WorkdirLocked, atomic_write_text


def test_second_holder_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    wd = Workdir(tmp_path)
    with wd.lock():
        with pytest.raises(WorkdirLocked, match=f"{tmp_path} is in use by pid"):
            with Workdir(tmp_path).lock():
                pass
    with wd.lock():  # released on exit
        pass


def test_lock_of_a_killed_process_is_released(tmp_path: Path) -> None:
    code = ("import sys, time; sys.path.insert(0, sys.argv[2]); from pathlib import Path;"
            "from leanagent.workdir import Workdir; l = Workdir(Path(sys.argv[1])).lock(); l.__enter__();"
            "print('held', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code, str(tmp_path), str(Path(__file__).parent.parent)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        with pytest.raises(WorkdirLocked):
            with Workdir(tmp_path).lock():
                pass
    finally:
        child.kill()
        child.wait(timeout=30)
    deadline = time.monotonic() + 10
    while True:
        try:
            with Workdir(tmp_path).lock():
                break
        except WorkdirLocked:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_atomic_write_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]
