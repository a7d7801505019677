"""One delivering process per database: an exclusive `flock` on `<database>.lock`, held for the process's life.

The operating system drops the lock when the process ends, however it ends (SIGKILL and crashes included),
so it is never stale; the file stays, holding the PID and command of its last holder for the next one to name.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from monitor.errors import StorageError


@dataclass(frozen=True, slots=True)
class Holder:
    """The process holding a database's lock, as its lock file names it."""

    pid: int | None
    command: str

    def __str__(self) -> str:
        return f"monitor {self.command} (PID {self.pid if self.pid is not None else 'unknown'})"


class DatabaseInUse(StorageError):
    """Another process holds the database's lock."""


class DatabaseLock:
    """`acquire()` takes the lock of the database at `db_path` for `command` ("run", "once"); `release()` or
    the process's end gives it back. A database ':memory:' has no lock (nothing else can open it)."""

    def __init__(self, db_path: str | Path, command: str) -> None:
        self.db_path = str(db_path)
        self.path = Path(f"{db_path}.lock")
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> Holder | None:
        """Take the lock without waiting: None when taken, else the process that holds it."""
        if self.db_path == ":memory:" or self._fd is not None:
            return None
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StorageError(f"cannot open the lock file {self.path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(os.pread(fd, 200, 0))
            os.close(fd)
            return holder
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {self.command}\n".encode(), 0)
        self._fd = fd
        return None

    def hold(self) -> None:
        """Take the lock, or raise DatabaseInUse naming the database and the process holding it."""
        holder = self.acquire()
        if holder is not None:
            raise DatabaseInUse(
                f"the database {self.db_path} is in use by {holder}: one process delivers from a database at a time;"
                " stop that one first, or set storage.path to another database"
            )

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file drops the flock
            self._fd = None

    def __enter__(self) -> DatabaseLock:
        self.hold()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _holder(content: bytes) -> Holder:
    """The holder a lock file names ("<pid> <command>"); PID unknown while the holder is still writing it."""
    words = content.decode("ascii", "replace").split()
    pid = int(words[0]) if words and words[0].isdigit() else None
    return Holder(pid, words[1] if len(words) > 1 else "run or once")
