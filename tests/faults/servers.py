"""A Redis and a PostgreSQL of the fault tests' own, which they may stop and restart.

The machine's own servers (Redis on 6379, PostgreSQL on 5432) are shared with every other test
and helper, so they are never stopped: each fault run starts its own ``redis-server`` and its own
PostgreSQL cluster (``initdb`` + ``pg_ctl``) on free ports, in a temporary directory, with nothing
written to disk that must survive (``--save ""``, ``fsync=off``), and removes them afterwards.

Readiness is polled, never slept for: ``PING`` for Redis, a connection for PostgreSQL.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis

READY_WITHIN = 60.0  # seconds a (re)started server may take on a loaded machine


class ServerMissing(RuntimeError):
    """A server binary this machine lacks; the message says which."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: object, what: str, within: float = READY_WITHIN) -> None:
    """Call ``check`` until it returns truthy without raising; TimeoutError naming ``what``."""
    deadline = time.monotonic() + within
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready within {within:g} s ({type(last).__name__})")


# ---------------------------------------------------------------------------- Redis


class RedisServer:
    """``redis-server`` on a free port of 127.0.0.1, keeping nothing on disk."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServerMissing("redis-server is not installed")
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
                "--logfile", str(self.directory / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=1)
        try:
            wait_for(client.ping, f"Redis on port {self.port}")
        finally:
            client.close()

    def stop(self) -> None:
        """As a crash or ``kill`` would: the process ends and every connection drops."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=30)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


# ---------------------------------------------------------------------------- PostgreSQL


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    on_path = shutil.which("initdb")
    candidates = [Path(p).parent for p in found] + ([Path(on_path).parent] if on_path else [])
    for directory in reversed(candidates):
        if (directory / "pg_ctl").exists():
            return directory
    raise ServerMissing("PostgreSQL server binaries (initdb, pg_ctl) are not installed")


class PostgresServer:
    """A PostgreSQL cluster of its own: ``initdb`` into a new temporary directory, ``pg_ctl``
    to start, stop and restart it, ``remove`` to delete it. PostgreSQL refuses to run as root,
    so as root it runs as the ``postgres`` user (``runuser``), which owns the directory (made
    directly under the system's temporary directory, which that user can reach)."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise ServerMissing("running as root and there is no postgres user") from None
            if shutil.which("runuser") is None:
                raise ServerMissing("running as root and runuser is not installed")
            self._as = ["runuser", "-u", "postgres", "--"]
        self.directory = Path(tempfile.mkdtemp(prefix="fdxgw-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        if self._as:
            shutil.chown(self.directory, user="postgres")
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.directory / "postgres.log"), "-w", "-t", "60", "start",
        )  # fmt: skip
        wait_for(self._answers, f"PostgreSQL on port {self.port}")

    def stop(self) -> None:
        """Fast shutdown: open transactions are rolled back and every connection drops."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(
                str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60",
                "stop",
            )  # fmt: skip

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")  # a generated identifier, not input
        return self.url.rsplit("/", 1)[0] + "/" + name

    def _answers(self) -> bool:
        psycopg.connect(self.url, connect_timeout=2).close()
        return True
