"""The run directory: its layout, a lock against two runs at once, atomic writes of small files."""

from __future__ import annotations

import fcntl
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Workdir", "WorkdirLocked", "atomic_write_text"]


class WorkdirLocked(RuntimeError):
    """Another leanagent process holds the run directory."""


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Workdir:
    """Paths inside a run directory (every path of a run is relative to it)."""

    root: Path
    """The run directory."""

    @property
    def database(self) -> Path:
        """The SQLite database."""
        return self.root / "leanagent.db"

    @property
    def cache(self) -> Path:
        """Clones and exported trees."""
        return self.root / "cache"

    @property
    def checkpoints(self) -> Path:
        """Retriever checkpoints, one directory per learned repository."""
        return self.root / "checkpoints"

    @property
    def index(self) -> Path:
        """The FAISS premise index."""
        return self.root / "index"

    @property
    def reports(self) -> Path:
        """HTML report, metrics.json, summary.md."""
        return self.root / "report"

    @property
    def log(self) -> Path:
        """The run's log file."""
        return self.root / "leanagent.log"

    @property
    def config(self) -> Path:
        """The effective configuration of the last run."""
        return self.root / "config.toml"

    def lock(self) -> "_Lock":
        """A context manager holding the run directory exclusively (raises :class:`WorkdirLocked`)."""
        return _Lock(self.root / "leanagent.lock")


class _Lock:
    """An ``flock`` on a lock file: released by the kernel when the process dies, even by kill -9."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> "_Lock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise WorkdirLocked(f"{self.path.parent} is in use by {holder}; wait for it to finish, "
                                "or use another --workdir") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
