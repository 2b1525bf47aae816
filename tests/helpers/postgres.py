"""A real PostgreSQL server for tests: one throw-away cluster per run, a fresh database per test.

The cluster comes from Debian's ``postgresql`` package (the newest
``/usr/lib/postgresql/*/bin``, else ``initdb`` on PATH). It lives in a temporary
directory, listens on 127.0.0.1 only at a free port (its unix socket in that
directory, not in ``/run/postgresql``), and trusts local connections: nothing
but this test run can reach it. As root (CI), ``initdb`` and ``postgres`` run as
the unprivileged ``postgres`` user, because both refuse to run as root. The
kernel stops the server if the test process dies (``PR_SET_PDEATHSIG``).

Only for tests: the cluster runs with ``fsync=off`` (and ``full_page_writes=off``),
so a power cut could lose or corrupt it. Benchmarks start it with
``durable=True`` (PostgreSQL's defaults), or they would measure nothing real.

A missing PostgreSQL fails the run with the command that installs it; it never skips.
"""

from __future__ import annotations

import ctypes
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

TEMPLATE = "tongban_template"
"""The empty database each test's database is copied from."""

INSTALL_AS_ROOT = "apt-get install -y postgresql"
INSTALL_AS_USER = (
    "ask an administrator to install Debian's postgresql package (apt-get install -y postgresql)"
)

_TEST_ONLY_SETTINGS = (
    "fsync=off",
    "full_page_writes=off",
    "synchronous_commit=off",
    "max_connections=200",
    "shared_buffers=32MB",
)


class PostgresMissingError(Exception):
    """No PostgreSQL server binaries on this machine; the message says how to install them."""


def server_binaries() -> Path:
    """The directory of ``initdb`` and ``postgres``: Debian's newest, else the one on PATH."""

    def major(path: str) -> tuple[int, ...]:
        version = Path(path).parent.parent.name
        return tuple(int(p) for p in version.split(".") if p.isdigit())

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=major)
    if candidates:
        return Path(candidates[-1]).parent
    on_path = shutil.which("initdb")
    if on_path is not None:
        return Path(on_path).parent
    install = INSTALL_AS_ROOT if os.geteuid() == 0 else INSTALL_AS_USER
    raise PostgresMissingError(f"PostgreSQL is not installed; the store tests need it: {install}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _as_postgres_user() -> tuple[Callable[[], None], str | None]:
    """A ``preexec_fn`` dropping root to ``postgres`` (then dying with the parent), and its name."""
    if os.geteuid() != 0:
        return _die_with_parent, None
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresMissingError(
            "running as root, but there is no 'postgres' user to run the test cluster as: "
            "useradd --system --home-dir /var/lib/postgresql postgres"
        ) from None

    def drop() -> None:
        os.setgroups([])
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)
        # After setuid: the kernel clears the parent-death signal on a change of uid.
        _die_with_parent()

    return drop, account.pw_name


def _die_with_parent() -> None:
    ctypes.CDLL(None).prctl(1, signal.SIGINT, 0, 0, 0)  # PR_SET_PDEATHSIG: a fast shutdown


@dataclass
class PostgresCluster:
    """A running throw-away PostgreSQL server."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes]
    _counter: itertools.count[int] = field(default_factory=itertools.count)

    def url(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL of ``database`` here (user ``postgres``, no password)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit connection to the ``postgres`` database, for CREATE/DROP DATABASE."""
        return psycopg.connect(self.url(), autocommit=True)

    def create_database(self) -> str:
        """A new database copied from the empty template; returns its name."""
        name = f"t_{os.getpid()}_{next(self._counter)}"
        with self.admin() as conn:
            # FILE_COPY: 0.22 s a database here against 0.39 s for the WAL_LOG default.
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE} STRATEGY FILE_COPY')
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, ending any connection a test left open to it."""
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def log(self) -> str:
        """The end of the server's log, for failure messages."""
        path = self.directory / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then remove the cluster's directory."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)
                try:
                    self.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=30)
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def start_cluster(ready_timeout: float = 60.0, *, durable: bool = False) -> PostgresCluster:
    """initdb into a new temporary directory and start a server on 127.0.0.1 at a free port.

    ``durable``: PostgreSQL's own defaults (``fsync`` on), for benchmarks; else the
    tests' ``fsync=off``.
    """
    binaries = server_binaries()
    preexec, user = _as_postgres_user()
    directory = Path(tempfile.mkdtemp(prefix="tongban-pg-"))
    try:
        if user is not None:
            shutil.chown(directory, user, user)
        data = directory / "data"
        argv = [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
        initdb = subprocess.run(
            [*argv, "-E", "UTF8", "--no-locale", "--no-sync"],
            preexec_fn=preexec,  # drops root: initdb refuses to run as root
            capture_output=True,
            text=True,
            check=False,
        )
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{initdb.stdout}\n{initdb.stderr}")
        for _attempt in range(3):
            settings = ("max_connections=200",) if durable else _TEST_ONLY_SETTINGS
            cluster = _start_server(binaries, directory, preexec, settings, ready_timeout)
            if cluster is not None:
                with cluster.admin() as conn:
                    conn.execute(f"CREATE DATABASE {TEMPLATE} TEMPLATE template0")
                return cluster
        raise RuntimeError(f"PostgreSQL did not start:\n{(directory / 'server.log').read_text()}")
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _start_server(
    binaries: Path,
    directory: Path,
    preexec: Callable[[], None],
    extra_settings: tuple[str, ...],
    ready_timeout: float,
) -> PostgresCluster | None:
    """Start ``postgres``; None if it exited (the free port was taken meanwhile)."""
    port = _free_port()
    argv = [str(binaries / "postgres"), "-D", str(directory / "data")]
    settings = (
        "listen_addresses=127.0.0.1",
        f"port={port}",
        f"unix_socket_directories={directory}",
        *extra_settings,
    )
    for setting in settings:
        argv += ["-c", setting]
    with (directory / "server.log").open("ab") as log:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            preexec_fn=preexec,
        )
    cluster = PostgresCluster(directory, port, process)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None
        try:
            with psycopg.connect(cluster.url(), connect_timeout=2):
                return cluster
        except psycopg.OperationalError:
            time.sleep(0.05)
    process.kill()
    process.wait(timeout=30)
    raise RuntimeError(f"PostgreSQL was not ready in {ready_timeout:g} s:\n{cluster.log()}")
