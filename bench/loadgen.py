"""What every benchmark here shares: starting pinned servers, running wrk, reading a process's
CPU time and resident size, and writing the results.

The machine has two cores and is shared: servers go on CPU 0 and the load generator on CPU 1
(``taskset``), runs alternate between the things compared, and every run also reports the
server's own CPU time per request (utime + stime from /proc/PID/stat over the run, divided by
the requests served), which another process's load on the machine disturbs far less than the
request rate does.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Run:
    """One wrk run against one server."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: int  # socket errors: connect, read, write, timeout
    cpu_us: float  # the server's CPU time per request (all its processes), microseconds


def median(runs: Sequence[Run]) -> Run:
    return Run(
        rps=statistics.median(r.rps for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        requests=sum(r.requests for r in runs),
        non_2xx=sum(r.non_2xx for r in runs),
        errors=sum(r.errors for r in runs),
        cpu_us=statistics.median(r.cpu_us for r in runs),
    )


def pinned(cmd: list[str], cpus: str | None) -> list[str]:
    if cpus is None or not shutil.which("taskset"):
        return cmd
    return ["taskset", "-c", cpus, *cmd]


def spawn(
    cmd: list[str], *, cpus: str | None, log: Path, cwd: Path = ROOT
) -> subprocess.Popen[bytes]:
    """``cmd`` pinned to ``cpus``, run in ``cwd`` (another checkout's tree imports its own code:
    ``python -m`` puts the working folder first on the path)."""
    out = log.open("wb")
    return subprocess.Popen(pinned(cmd, cpus), cwd=cwd, stdout=out, stderr=subprocess.STDOUT)


def wait_up(proc: subprocess.Popen[bytes], port: int, info: Path, *, timeout: float = 120) -> None:
    """Until ``info`` exists and the port answers HTTP (any status)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        if info.exists():
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
                return
            except urllib.error.HTTPError:
                return  # any HTTP answer means the server is up
            except OSError:
                pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server on port {port} did not start")


def stop(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def cpu_ticks(pids: Sequence[int]) -> int:
    """utime + stime of ``pids`` so far, in clock ticks."""
    total = 0
    for pid in pids:
        # The command may contain spaces: the fields start after the last ')'.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total


def rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` in KiB (/proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ValueError(f"no VmRSS for {pid}")


def wrk(
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int = 1,
    headers: Sequence[str] = (),
    cpus: str | None = "1",
    server_pids: Sequence[int] = (),
) -> Run:
    cmd = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds:g}s"]
    for header in headers:
        cmd += ["-H", header]
    cmd += ["--latency", url]
    before = cpu_ticks(server_pids) if server_pids else 0
    out = subprocess.run(pinned(cmd, cpus), check=True, capture_output=True, text=True).stdout
    after = cpu_ticks(server_pids) if server_pids else 0
    return parse_wrk(out, cpu_seconds=(after - before) / TICK)


def parse_wrk(out: str, *, cpu_seconds: float = 0.0) -> Run:
    def find(pattern: str) -> str:
        match = re.search(pattern, out)
        if match is None:
            raise ValueError(f"wrk output without {pattern!r}:\n{out}")
        return match.group(1)

    requests = int(find(r"(\d+) requests in"))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Run(
        rps=float(find(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(find(r"\s50%\s+(\S+)")),
        p99_ms=_ms(find(r"\s99%\s+(\S+)")),
        requests=requests,
        non_2xx=int(bad.group(1)) if bad else 0,
        errors=sum(int(g) for g in errors.groups()) if errors else 0,
        cpu_us=round(cpu_seconds * 1e6 / requests, 1) if requests else 0.0,
    )


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]


def machine() -> dict[str, Any]:
    """The facts a reader needs to weigh the figures."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str | None] = {}
    for name in (
        "starlette",
        "uvicorn",
        "uvloop",
        "httptools",
        "orjson",
        "joserfc",
        "psycopg",
        "redis",
        "hiredis",
    ):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "libraries": versions,
        "load_average_at_start": os.getloadavg(),
        "wrk": _first_line(["wrk", "--version"]),
        "postgresql": _first_line(["psql", "--version"]),
        "redis": _first_line(["redis-server", "--version"]),
        "node": _first_line(["node", "--version"]),
    }


def _first_line(cmd: list[str]) -> str | None:
    if not shutil.which(cmd[0]):
        return None
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else None


def save(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=_plain), encoding="utf-8")
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, Run):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(type(value).__name__)


def require_wrk() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
