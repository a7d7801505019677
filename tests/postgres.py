"""A throwaway PostgreSQL cluster for the tests marked `postgres`: Debian's server (installed with apt-get when it is
missing and we are root), a new cluster in a temporary folder started with pg_ctl as an unprivileged user on a free
loopback port, password authentication, durability off (fsync, synchronous commit: nothing here must survive a crash).

`Cluster.database()` makes an empty database per test from a template, which is fast (no migration per test).
"""

from __future__ import annotations

import functools
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import psycopg
import pytest

SUPERUSER = "monitor"
PASSWORD = "test-secret-" + uuid.uuid4().hex[:8]  # in every DSN: the store must never print it
SERVER_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c listen_addresses=127.0.0.1"


class Unavailable(Exception):
    """No PostgreSQL server can be had here (the reason says why): the tests that need one are skipped."""


def _bindir() -> Path | None:
    """The newest installed server's binaries (Debian keeps them off PATH), or those on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: [int(n) for n in Path(p).parent.parent.name.split(".") if n.isdigit()])
    initdb = found[-1] if found else shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def install() -> Path:
    """The server's binaries, installing Debian's `postgresql` package first when there are none."""
    bindir = _bindir()
    if bindir is not None:
        return bindir
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise Unavailable("PostgreSQL's server is not installed, and installing it needs apt-get as root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "postgresql"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode:
            raise Unavailable(f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}")
    bindir = _bindir()
    if bindir is None:
        raise Unavailable("apt-get installed postgresql, but no initdb was found")
    return bindir


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A running server; `stop()` shuts it down and removes its folder."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="monitor-pg-"))  # not under pytest's root-only tmp folders
        self.data = self.folder / "data"
        (self.folder / "pw").write_text(PASSWORD)
        # The server refuses to run as root: as root, run it as Debian's postgres user (or nobody).
        self.user = None if os.geteuid() else "postgres" if _has_user("postgres") else "nobody"
        if self.user:
            for path in (self.folder, self.folder / "pw"):
                shutil.chown(path, self.user)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--pwfile", str(self.folder / "pw"),
                  "--auth", "scram-sha-256", "--no-sync", "-E", "UTF8", "--locale", "C")
        for attempt in range(3):
            self.port = _free_port()
            options = f"{SERVER_OPTIONS} -p {self.port} -k {self.folder}"
            try:
                self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.folder / "log"),
                          "-o", options)
                break
            except Unavailable:
                if attempt == 2:  # the port was taken between the probe and the start, three times over
                    raise
        try:
            self.admin = psycopg.connect(self.dsn(), autocommit=True)  # makes and drops the tests' databases
            self._template()
        except BaseException:
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
            raise

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([str(self.bindir / tool), *args], user=self.user, capture_output=True, text=True,
                              timeout=120, check=False, cwd=self.folder)
        if done.returncode:
            log = self.folder / "log"
            tail = log.read_text(errors="replace")[-1000:] if log.exists() else ""
            raise Unavailable(f"{tool} failed: {done.stderr.strip()[-1000:]} {tail}")

    def dsn(self, dbname: str = "postgres", *, password: str = PASSWORD) -> str:
        return f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{dbname}"

    def _template(self) -> None:
        """`monitor_template`: an empty database with the store's schema, copied for each test."""
        from monitor.store.postgres import PostgresStore

        self.admin.execute("CREATE DATABASE monitor_template")
        PostgresStore(self.dsn("monitor_template")).close()

    @contextmanager
    def database(self, *, migrated: bool = True) -> Iterator[str]:
        """A new database (with the store's schema, unless not `migrated`) for one test; dropped after it."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        self.admin.execute(f"CREATE DATABASE {name} TEMPLATE {'monitor_template' if migrated else 'template0'}")
        try:
            yield self.dsn(name)
        finally:
            self.admin.execute(f"DROP DATABASE {name} WITH (FORCE)")

    def restart(self) -> None:
        """Stop and start the server (every connection is cut), on the same port."""
        self.admin.close()
        self._run("pg_ctl", "restart", "-w", "-D", str(self.data), "-m", "fast", "-l", str(self.folder / "log"))
        self.admin = psycopg.connect(self.dsn(), autocommit=True)

    def stop(self) -> None:
        self.admin.close()
        try:
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@functools.cache
def _installed() -> Path | Unavailable:
    try:
        return install()
    except Unavailable as exc:
        return exc


def install_once() -> Path:
    """`install`, tried once per session."""
    found = _installed()
    if isinstance(found, Unavailable):
        raise found
    return found


def store_on_postgres(monkeypatch: pytest.MonkeyPatch, module: ModuleType, url: str) -> None:
    """Make a test module's ``open_store(path)`` open the PostgreSQL database at ``url`` instead, so its tests
    run again on PostgreSQL."""
    from monitor.store.postgres import PostgresStore

    def open_store(path: Path) -> PostgresStore:
        return PostgresStore(url)

    monkeypatch.setattr(module, "open_store", open_store)
