"""Several real gateway processes on one PostgreSQL and one Redis, as the README's "Many
instances" deploys them.

Every instance gets the same settings but its port: the same issuer (the load balancer's URL;
nothing listens there in tests, each request names its instance), the same database, the same
Redis and key prefix, so they sign with the same keys and share the session secret, which live
in the database (README "Many instances"); a test may give an instance a ``var`` directory of
its own. ``fdxgw init`` runs once, as a deployment step would; every instance is ``fdxgw serve``
unless a test needs a clock it can move (``tests/multi/serve.py``).

Readiness is polled (``GET /healthz``), never slept for.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.faults.servers import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Instance:
    name: str
    port: int
    env: dict[str, str]
    command: list[str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        wait_for(self._alive, f"gateway {self.name} on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, as a crashed host or an OOM kill."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def _alive(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"gateway {self.name} exited:\n{self.output()[-2000:]}")
        return httpx.get(self.url + "/healthz", timeout=2).status_code == 200


@dataclass
class Deployment:
    """One gateway (one issuer, one database, one Redis prefix, one var dir), many instances."""

    directory: Path
    database_url: str
    redis_url: str
    prefix: str = field(default_factory=lambda: f"fdxgw-test-{uuid.uuid4().hex[:12]}:")
    settings: dict[str, str] = field(default_factory=dict)
    instances: dict[str, Instance] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.issuer = f"http://127.0.0.1:{free_port()}"  # the load balancer's address
        self.var = self.directory / "var"

    def env(self, port: int | None = None, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "FDX_ISSUER": self.issuer,
            "FDX_HOST": "127.0.0.1",
            "FDX_DATABASE_URL": self.database_url,
            "FDX_REDIS_URL": self.redis_url,
            "FDX_REDIS_PREFIX": self.prefix,
            "FDX_VAR_DIR": str(self.var),
            "FDX_LOG_LEVEL": "WARNING",
            "FDX_NOTIFICATION_SWEEP_INTERVAL": "0",
            **self.settings,
            **extra,
        }
        if port is not None:
            env["FDX_PORT"] = str(port)
        env.pop("FDX_STATE_URL", None)
        return env

    def init(self) -> None:
        """``fdxgw init`` once: schema, signing keys, session secret, the demo recipient."""
        subprocess.run(
            [sys.executable, "-m", "gateway.cli", "init"],
            cwd=ROOT,
            env=self.env(),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def add(self, name: str, *, clock_file: Path | None = None, **extra: str) -> Instance:
        port = free_port()
        env = self.env(port, **extra)
        command = [sys.executable, "-m", "gateway.cli", "serve"]
        if clock_file is not None:
            env["FDXGW_TEST_CLOCK_FILE"] = str(clock_file)
            command = [sys.executable, "-m", "tests.multi.serve"]
        instance = Instance(name, port, env, command, self.directory / f"{name}.log")
        self.instances[name] = instance
        instance.start()
        return instance

    def __getitem__(self, name: str) -> Instance:
        return self.instances[name]

    def stop(self) -> None:
        for instance in self.instances.values():
            instance.stop()

    def tracebacks(self) -> Mapping[str, str]:
        """Instances whose output holds a traceback (none should)."""
        return {
            name: i.output()[-3000:]
            for name, i in self.instances.items()
            if "Traceback" in i.output()
        }


@contextlib.contextmanager
def deployment(
    directory: Path, database_url: str, redis_url: str, **settings: str
) -> Iterator[Deployment]:
    d = Deployment(directory, database_url, redis_url, settings=dict(settings))
    try:
        d.init()
        yield d
    finally:
        d.stop()
