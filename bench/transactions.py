"""``make bench``: FDX transactions (100 a page) through the whole gateway vs a bare endpoint.

The servers run side by side in one run, each pinned to CPU 0, with wrk pinned to CPU 1 (a
2-core machine: server and load generator must not fight for one core). Rounds alternate
bare, gateway, gateway-dpop, bare… and the medians are compared, because absolute numbers drift
±10–30 % between runs on shared machines (docs/performance.md); only the ratios are the result.
``gateway`` is the sandbox profile with a Bearer token (the figure kept since the first slice);
``gateway-dpop`` the fapi2 profile, each request with a fresh DPoP proof (bench/dpop.lua).

    python -m bench.transactions [--seconds 10] [--rounds 3] [--connections 16]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 2  # seconds per server before the rounds
PROOF_RATE = 6000  # DPoP proofs made per second of load: above what one core serves


@dataclass(frozen=True)
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(out: str) -> Run:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return Run(rps, p50, p99, int(bad.group(1)) if bad else 0)


def _median(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.rps for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        sum(r.non_2xx for r in runs),
    )


def start(
    kind: str, port: int, workdir: Path, *extra: str
) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    info = workdir / f"{kind}.json"
    cmd = [sys.executable, "-m", "bench.server", kind, "--port", str(port), "--info", str(info)]
    cmd += extra
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    proc = subprocess.Popen(cmd, cwd=ROOT)
    deadline = time.monotonic() + 180  # gateway-dpop signs its proofs first
    while time.monotonic() < deadline:
        if info.exists():
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            except urllib.error.HTTPError:
                pass  # any HTTP answer means the server is up
            except OSError:
                time.sleep(0.2)
                continue
            return proc, json.loads(info.read_text(encoding="utf-8"))
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{kind} server did not start")


def load(info: dict[str, str], seconds: int, connections: int) -> Run:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", info["url"]]
    if info["token"]:
        scheme = info.get("scheme") or "Bearer"
        cmd[1:1] = ["-H", f"Authorization: {scheme} {info['token']}"]
    if info.get("proofs"):
        # One fresh DPoP proof a request, never one twice (the script keeps its place).
        cmd[1:1] = ["-s", str(ROOT / "bench" / "dpop.lua")]
        cmd += ["--", info["proofs"], info["proofs"] + ".state"]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "1", *cmd]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return parse_wrk(out)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="fdxgw-bench-"))
    # Enough proofs for every request of the run at PROOF_RATE requests a second.
    proofs = (WARM_UP + args.rounds * args.seconds) * PROOF_RATE
    servers = {
        "bare": start("bare", 8102, work),
        "gateway": start("gateway", 8101, work),
        "gateway-dpop": start("gateway-dpop", 8105, work, "--proofs", str(proofs)),
    }
    runs: dict[str, list[Run]] = {kind: [] for kind in servers}
    try:
        for info in (s[1] for s in servers.values()):
            load(info, WARM_UP, args.connections)  # warm up each
        for r in range(args.rounds):
            for kind in servers:
                run = load(servers[kind][1], args.seconds, args.connections)
                runs[kind].append(run)
                print(f"round {r + 1} {kind:12s} {run.rps:9.0f} req/s  p50 {run.p50_ms:6.2f} ms"
                      f"  p99 {run.p99_ms:6.2f} ms  non-2xx {run.non_2xx}")  # fmt: skip
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=10)
    if any(run.non_2xx for rs in runs.values() for run in rs):
        print("FAILED: some responses were not 2xx; the figures are meaningless", file=sys.stderr)
        return 1
    med = {k: _median(rs) for k, rs in runs.items()}
    ratio = med["gateway"].rps / med["bare"].rps
    dpop_ratio = med["gateway-dpop"].rps / med["bare"].rps
    summary = {
        "endpoint": "GET /fdx/v6/accounts/{id}/transactions (100 a page)",
        "cpus": os.cpu_count(),
        "connections": args.connections,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "bare": med["bare"].__dict__,
        "gateway": med["gateway"].__dict__,
        "throughput_ratio": round(ratio, 3),
        "gateway_dpop": med["gateway-dpop"].__dict__,
        "dpop_throughput_ratio": round(dpop_ratio, 3),
    }
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "transactions.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(f"\nmedian of {args.rounds}:")
    for kind, m in med.items():
        print(f"  {kind:12s} {m.rps:9.0f} req/s  p50 {m.p50_ms:.2f} ms  p99 {m.p99_ms:.2f} ms")
    print(f"gateway (sandbox, Bearer) / bare throughput: {ratio:.0%}")
    print(f"gateway-dpop (fapi2, DPoP) / bare throughput: {dpop_ratio:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
