"""The gateway path through the HTTP adapter vs the same path with the in-process sandbox bank.

Three servers: ``gateway`` (in-process SandboxBank) and ``gateway-http`` (HttpBank → the
reference core) pinned to CPU 0 like bench/transactions.py, and the ``core`` on CPU 1 beside wrk:
the core stands for another machine and must not take the gateway's CPU. Both gateways serve the
same account, window and 100-transaction page; rounds alternate and the medians are compared
(issue 6 §2: the goal is ≥ 75 %).

    python -m bench.http_adapter [--seconds 10] [--rounds 3] [--connections 16]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.transactions import ROOT, Run, load

PORTS = {"gateway": 8111, "core": 8113, "gateway-http": 8114}
CPU = {"gateway": "0", "gateway-http": "0", "core": "1"}


def start(kind: str, workdir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    info = workdir / f"{kind}.json"
    port = PORTS[kind]
    cmd = [sys.executable, "-m", "bench.server", kind, "--port", str(port), "--info", str(info)]
    cmd += list(extra)
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", CPU[kind], *cmd]
    proc = subprocess.Popen(cmd, cwd=ROOT)
    deadline = time.monotonic() + 60
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="fdxgw-bench-http-"))
    procs = []
    try:
        core = start("core", work)
        procs.append(core[0])
        upstream = f"http://127.0.0.1:{PORTS['core']}"
        servers = {
            "gateway": start("gateway", work),
            "gateway-http": start("gateway-http", work, "--upstream", upstream),
        }
        procs += [p for p, _ in servers.values()]
        runs: dict[str, list[Run]] = {kind: [] for kind in servers}
        for _, info in servers.values():
            load(info, 2, args.connections)  # warm up both (and the core's caches)
        for r in range(args.rounds):
            for kind, (_, info) in servers.items():
                run = load(info, args.seconds, args.connections)
                runs[kind].append(run)
                print(f"round {r + 1} {kind:12s} {run.rps:9.0f} req/s  p50 {run.p50_ms:6.2f} ms"
                      f"  p99 {run.p99_ms:6.2f} ms  non-2xx {run.non_2xx}")  # fmt: skip
    finally:
        for proc in reversed(procs):  # the gateways before their core
            proc.terminate()
            proc.wait(timeout=10)
    if any(run.non_2xx for rs in runs.values() for run in rs):
        print("FAILED: some responses were not 2xx; the figures are meaningless", file=sys.stderr)
        return 1
    med = {
        kind: {f: statistics.median(getattr(r, f) for r in rs) for f in ("rps", "p50_ms", "p99_ms")}
        for kind, rs in runs.items()
    }
    ratio = med["gateway-http"]["rps"] / med["gateway"]["rps"]
    summary = {
        "endpoint": "GET /fdx/v6/accounts/{id}/transactions (100 a page)",
        "compared": "HttpBank → reference core (CPU 1) vs in-process SandboxBank",
        "cpus": os.cpu_count(),
        "connections": args.connections,
        "seconds": args.seconds,
        "rounds": args.rounds,
        **med,
        "throughput_ratio": round(ratio, 3),
    }
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "http_adapter.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(f"\nmedian of {args.rounds}:")
    for kind, m in med.items():
        print(f"  {kind:12s} {m['rps']:9.0f} req/s  p50 {m['p50_ms']:.2f} ms"
              f"  p99 {m['p99_ms']:.2f} ms")  # fmt: skip
    print(f"gateway-http / gateway throughput: {ratio:.0%} (goal ≥ 75%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
