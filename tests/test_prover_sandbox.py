"""The sandbox runner: a script started through it cannot reach the network nor write outside its
directories, and its limits kill a runaway process. Each escape is also tried without the sandbox, so a
test fails if the check itself could never succeed."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from prover.env import LeanUnavailable
from prover.sandbox import Sandbox, SandboxLimits, SandboxUnavailable, find_bwrap, rebound
from prover.toolchain import find_toolchain, repo_toolchain, require_lean

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None and not os.environ.get("LEANAGENT_REQUIRE_BWRAP"),
                                 reason="bubblewrap is not installed (apt-get install bubblewrap)")


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.fixture
def server():
    """A TCP server on the host's loopback that answers 'hello' once per connection."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    stop = threading.Event()

    def serve():
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            conn.sendall(b"hello")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join()
    sock.close()


CONNECT = ("import socket,sys\ntry:\n  s=socket.create_connection(('127.0.0.1',{port}),timeout=3)\n"
           "  print(s.recv(5).decode())\nexcept OSError as e:\n  print('refused', e); sys.exit(3)")


@needs_bwrap
def test_no_network_inside(server, tmp_path: Path):
    code = CONNECT.format(port=server)
    outside = subprocess.run(python(code), capture_output=True, text=True, timeout=30)
    assert outside.stdout.strip() == "hello"  # the server is reachable from the host
    inside = Sandbox([tmp_path]).run(python(code), cwd=tmp_path)
    assert inside.returncode == 3 and inside.stdout.startswith("refused")


@needs_bwrap
def test_writes_only_inside_its_directories(tmp_path: Path, request):
    work = tmp_path / "work"
    work.mkdir()
    # Outside /tmp (the sandbox's /tmp is a private tmpfs, where the host's directories do not even exist).
    elsewhere = Path(tempfile.mkdtemp(dir="/var/tmp" if os.access("/var/tmp", os.W_OK) else Path.home()))
    request.addfinalizer(lambda: shutil.rmtree(elsewhere, ignore_errors=True))
    code = ("import sys\nopen(sys.argv[1], 'w').write('ok')\ntry:\n  open(sys.argv[2], 'w').write('escaped')\n"
            "except OSError as e:\n  print(type(e).__name__, e.errno); sys.exit(4)")
    result = Sandbox([work]).run([*python(code), str(work / "a.txt"), str(elsewhere / "b.txt")], cwd=work)
    assert result.returncode == 4 and result.stdout.startswith("OSError 30")  # EROFS
    assert (work / "a.txt").read_text() == "ok"
    assert not (elsewhere / "b.txt").exists()
    control = subprocess.run([*python(code), str(work / "c.txt"), str(elsewhere / "b.txt")], timeout=30)
    assert control.returncode == 0 and (elsewhere / "b.txt").read_text() == "escaped"  # possible outside
    private = Path("/tmp") / f"leanagent-sandbox-{os.getpid()}"
    tmp = Sandbox([work]).run(python(f"open({str(private)!r}, 'w').write('private')"), cwd=work)
    assert tmp.ok  # /tmp inside is private and writable ...
    assert not private.exists()  # ... and not the host's


@needs_bwrap
def test_wall_clock_limit_kills_the_process_group(tmp_path: Path):
    code = "import subprocess,time\nsubprocess.Popen(['sleep','60'])\ntime.sleep(60)"
    result = Sandbox([tmp_path], limits=SandboxLimits(wall_seconds=1.0)).run(python(code), cwd=tmp_path)
    assert result.timed_out and not result.ok
    assert 1.0 <= result.seconds < 10


@needs_bwrap
def test_cpu_limit_kills_a_busy_loop(tmp_path: Path):
    limits = SandboxLimits(cpu_seconds=1, wall_seconds=30)
    result = Sandbox([tmp_path], limits=limits).run(python("while True: pass"), cwd=tmp_path)
    assert not result.ok and not result.timed_out and result.cpu_limited
    assert result.seconds < 10


@needs_bwrap
def test_memory_limit_stops_a_runaway_allocation(tmp_path: Path):
    code = "x = bytearray(2 * 2**30)\nprint('allocated')"
    limits = SandboxLimits(memory_bytes=512 * 2**20, wall_seconds=60)
    result = Sandbox([tmp_path], limits=limits).run(python(code), cwd=tmp_path)
    assert result.returncode != 0 and "MemoryError" in result.stderr
    assert Sandbox([tmp_path]).run(python(code), cwd=tmp_path).ok  # fine without the tight limit


@needs_bwrap
def test_a_missing_writable_directory_is_named(tmp_path: Path):
    with pytest.raises(SandboxUnavailable, match="does not exist"):
        Sandbox([tmp_path / "nope"]).run(["true"], cwd=tmp_path)


@pytest.fixture
def tmp_venv(request) -> Path:
    """A virtual environment of this interpreter in a fresh directory under /tmp (as a CI clone there has),
    seeing this one's packages and the project through a .pth file."""
    root = Path(tempfile.mkdtemp(prefix="leanagent-ci-", dir="/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(root, ignore_errors=True))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")], check=True, timeout=120)
    (site,) = (root / ".venv" / "lib").glob("python3*/site-packages")
    (site / "outer.pth").write_text("\n".join(p for p in sys.path if p and Path(p).is_dir()) + "\n")
    return root


# Run by the interpreter under /tmp: the sandbox with its defaults must show that interpreter, a tool on
# PATH under /tmp and the (read-only) checkout it is started in, and let it write its workdir.
INNER = """
import json, os, sys
from prover.sandbox import Sandbox, SandboxLimits
work, repo = sys.argv[1:3]
code = ("import subprocess,sys\\nprint(sys.prefix)\\nprint(subprocess.run(['hello-tool'], capture_output=True,"
        " text=True).stdout.strip())\\nopen(sys.argv[1], 'w').write('ok')\\ntry:\\n  open('here.txt', 'w')\\n"
        "except OSError as e:\\n  print('read-only', e.errno)")
ran = Sandbox([work]).run([sys.executable, "-c", code, os.path.join(work, "out")], cwd=repo)
shims = Sandbox([work], limits=SandboxLimits(wall_seconds=30)).shims(os.path.join(work, "bin"), {"py": sys.executable})
print(json.dumps({"returncode": ran.returncode, "stdout": ran.stdout, "stderr": ran.stderr,
                  "shim": os.path.join(shims, "py"), "code": code}))
"""


@needs_bwrap
def test_interpreter_tools_and_workdir_under_tmp_stay_visible(tmp_venv: Path):
    python_in_tmp = tmp_venv / ".venv" / "bin" / "python"
    work, repo, tools = tmp_venv / "work", tmp_venv / "repo", tmp_venv / "tools"
    for d in (work, repo, tools):
        d.mkdir()
    (tools / "hello-tool").write_text("#!/bin/sh\necho hello from $0\n")
    (tools / "hello-tool").chmod(0o755)
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
    # Without re-binding, the private /tmp hides the interpreter: it is not even found.
    with pytest.raises(SandboxUnavailable, match="cannot be started inside the sandbox.*No such file"):
        Sandbox([work], readable=[]).run([str(python_in_tmp), "-c", "pass"], cwd=work)
    outer = subprocess.run([str(python_in_tmp), "-c", INNER, str(work), str(repo)], capture_output=True, text=True,
                           env=env, timeout=120)
    assert outer.returncode == 0, outer.stderr
    result = json.loads(outer.stdout)
    assert result["returncode"] == 0, result["stderr"]
    assert result["stdout"].splitlines() == [str(tmp_venv / ".venv"), f"hello from {tools / 'hello-tool'}",
                                             "read-only 30"]  # the checkout read-only ...
    assert (work / "out").read_text() == "ok"  # ... the workdir writable
    for cwd, last in ((repo, ["read-only 30"]), (work, [])):  # the shim, from either directory
        done = subprocess.run([result["shim"], "-c", result["code"], str(work / "out2")], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[2:] == last
    assert (work / "here.txt").exists() and not (repo / "here.txt").exists()


def test_rebound_keeps_what_tmp_hides(tmp_path: Path):
    inner = tmp_path / "venv" / "bin"
    inner.mkdir(parents=True)
    assert rebound([inner, tmp_path / "venv", Path("/usr/bin"), tmp_path / "missing"], []) == [tmp_path / "venv"]
    assert rebound([inner], [tmp_path]) == []  # already visible (writable)


def test_missing_bwrap_is_one_clear_line(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        find_bwrap()


def test_command_line_shape(tmp_path: Path):
    cmd = Sandbox([tmp_path], bwrap="bwrap").command(["lake", "env", "lean", "A.lean"], cwd=tmp_path)
    assert "--share-net" not in cmd and cmd[-5:] == ["--", "lake", "env", "lean", "A.lean"]
    assert cmd[cmd.index("--bind") + 1] == str(tmp_path)
    assert "--share-net" in Sandbox([tmp_path], bwrap="bwrap", network=True).command(["true"], tmp_path)


# ---- toolchain detection ---------------------------------------------------------------------------------

def no_lean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("ELAN_HOME", str(tmp_path / "no-elan"))


def test_without_lean_require_lean_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    no_lean(monkeypatch, tmp_path)
    (tmp_path / "lean-toolchain").write_text("leanprover/lean4:v4.9.0\n")
    assert find_toolchain() is None
    with pytest.raises(LeanUnavailable) as err:
        require_lean(tmp_path)
    message = str(err.value)
    assert "\n" not in message and "elan-init.sh" in message and "leanprover/lean4:v4.9.0" in message


def test_elan_toolchain_is_found_and_the_repository_must_pin_a_version(monkeypatch, tmp_path: Path):
    no_lean(monkeypatch, tmp_path)
    bin_dir = tmp_path / "no-elan" / "bin"
    bin_dir.mkdir(parents=True)
    for tool in ("lake", "lean"):
        (bin_dir / tool).write_text("#!/bin/sh\n")
        (bin_dir / tool).chmod(0o755)
    found = require_lean()
    assert found.lake == str(bin_dir / "lake") and found.elan
    repo = tmp_path / "repo"
    repo.mkdir()
    assert repo_toolchain(repo) is None
    with pytest.raises(LeanUnavailable, match="no lean-toolchain file"):
        require_lean(repo)


@needs_bwrap
def test_shims_run_the_real_tool_inside_the_sandbox(tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    shims = Sandbox([work], limits=SandboxLimits(wall_seconds=30)).shims(tmp_path / "bin", {"py": sys.executable})
    code = "import os,sys\nprint(os.getcwd())\ntry:\n  open('/var/tmp/leanagent-shim-escape','w')\nexcept OSError as e:\n  sys.exit(5)"
    done = subprocess.run([str(shims / "py"), "-c", code], cwd=work, capture_output=True, text=True, timeout=60)
    assert done.returncode == 5 and done.stdout.strip() == str(work)  # ran in the caller's directory, read-only
    assert not Path("/var/tmp/leanagent-shim-escape").exists()


def test_shims_are_replaced_whole_and_left_alone_when_unchanged(tmp_path: Path, monkeypatch):
    import prover.sandbox as sandbox_module

    box = Sandbox([tmp_path / "work"], limits=SandboxLimits(wall_seconds=30))
    shim = box.shims(tmp_path / "bin", {"py": sys.executable}) / "py"
    first = shim.stat()
    assert os.access(shim, os.X_OK) and shim.read_text().startswith("#!/bin/sh\n")
    box.shims(tmp_path / "bin", {"py": sys.executable})  # another worker, the same shims: nothing written
    assert shim.stat().st_ino == first.st_ino and shim.stat().st_mtime_ns == first.st_mtime_ns
    shim.write_text("#!/bin/sh\nexit 0\n")  # a stale one (another version): replaced by a rename, not rewritten
    stale = shim.stat().st_ino
    replaced = []
    monkeypatch.setattr(sandbox_module.os, "replace",
                        lambda src, dst: (replaced.append(Path(dst).name), os.rename(src, dst))[-1])
    box.shims(tmp_path / "bin", {"py": sys.executable})
    assert replaced == ["py"] and shim.stat().st_ino != stale and os.access(shim, os.X_OK)
    assert shim.read_text().startswith("#!/bin/sh\n# leanagent sandbox shim") and sorted(os.listdir(shim.parent)) == ["py"]
