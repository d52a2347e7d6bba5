"""``fdxgw`` run as an operator runs it: one TOML file in a folder of its own, the command
started from that folder, its output kept in files the test reads afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from tests.faults.servers import wait_for

FDXGW = [sys.executable, "-m", "gateway.cli"]
ROOT = Path(__file__).resolve().parents[2]


def write_config(folder: Path, values: Mapping[str, Any], name: str = "op.toml") -> Path:
    """``values`` as a TOML file (strings, numbers and booleans are all it needs)."""
    lines = []
    for key, value in values.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int | float):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f'{key} = "{value}"')
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any FDX_* setting: the file alone configures."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FDX_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return {**env, **extra}


class Fdxgw:
    """One ``fdxgw`` command line (``command``: how to start it) in ``folder``."""

    def __init__(
        self, folder: Path, command: Sequence[str] = FDXGW, env: Mapping[str, str] | None = None
    ) -> None:
        self.folder = folder
        self.command = list(command)
        self.env = dict(env if env is not None else clean_environment())
        self.process: subprocess.Popen[bytes] | None = None
        self.stdout = folder / "fdxgw.out"
        self.stderr = folder / "fdxgw.err"

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command, *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, *args: str, ready: str) -> None:
        """Start ``args`` and wait until ``ready`` (a URL) answers 200."""
        with self.stdout.open("ab") as out, self.stderr.open("ab") as err:
            self.process = subprocess.Popen(
                [*self.command, *args], cwd=self.folder, env=self.env, stdout=out, stderr=err
            )
        wait_for(lambda: self._answers(ready), f"fdxgw {' '.join(args)}")

    def terminate(self, within: float = 60) -> int:
        """SIGTERM, then the exit status (killed, and the test failed, past ``within``)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=within)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def errors(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")

    def _answers(self, url: str) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"fdxgw exited {self.process.returncode}:\n{self.errors()[-3000:]}")
        return httpx.get(url, timeout=2).status_code == 200
