"""The gateway path through the HTTP adapter vs the same path with the in-process sandbox bank.

Four servers. On CPU 0, one at a time under load: ``gateway`` (the in-process SandboxBank),
``gateway-http`` (HttpBank → the reference core, revalidating: the adapter keeps what it mapped
and sends If-None-Match, the core's data does not change, so the core answers 304 and nothing is
parsed or mapped again) and ``gateway-http-full`` (the same with the adapter's cache off: every
call carries the whole body, parsed and mapped). On CPU 1 beside wrk: the ``core``, which stands
for another machine and "answers at once" (it builds each answer once, then serves it with its
ETag), so that it never caps what a gateway can serve. All serve the same account, 90-day window
and page; rounds alternate and the medians are compared (docs/performance.md §5: goal ≥ 75 %).

Each run also reports the gateway's own CPU time per request (and the core's), which other load
on the shared machine disturbs far less than req/s.

    python -m bench.http_adapter [--seconds 10] [--rounds 3] [--connections 16]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.loadgen import (
    ROOT,
    TICK,
    Run,
    cpu_ticks,
    machine,
    median,
    require_wrk,
    save,
    spawn,
    stop,
    wait_up,
    wrk,
)

CORE_PORT = 8113
# name: (port, bench.server kind, [http] options beyond base_url and pool_size)
GATEWAYS: dict[str, tuple[int, str, dict[str, Any]]] = {
    "gateway": (8111, "gateway", {}),
    "gateway-http": (8114, "gateway-http", {"etag_cache_entries": 10_000}),
    "gateway-http-full": (8115, "gateway-http", {"etag_cache_entries": 0}),
}
GOAL = 0.75


def start(name: str, port: int, cmd: list[str], cpus: str, work: Path) -> Any:
    info = work / f"{name}.json"
    cmd = [sys.executable, "-m", "bench.server", *cmd, "--port", str(port), "--info", str(info)]
    proc = spawn(cmd, cpus=cpus, log=work / f"{name}.log")
    wait_up(proc, port, info)
    return proc, json.loads(info.read_text(encoding="utf-8"))


def measure(info: dict[str, str], pid: int, core: int, seconds: int, conns: int) -> dict[str, Any]:
    """One wrk run: the gateway's figures, and the core's CPU per request beside them."""
    before = cpu_ticks([core])
    run = wrk(
        info["url"],
        seconds=seconds,
        connections=conns,
        headers=[f"Authorization: Bearer {info['token']}"],
        server_pids=[pid],
    )
    core_us = (cpu_ticks([core]) - before) / TICK * 1e6 / max(run.requests, 1)
    return {"run": run, "core_cpu_us": round(core_us, 1)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    require_wrk()
    work = Path(tempfile.mkdtemp(prefix="fdxgw-bench-http-"))
    procs = []
    runs: dict[str, list[Run]] = {name: [] for name in GATEWAYS}
    core_us: dict[str, list[float]] = {name: [] for name in GATEWAYS}
    host = machine()
    try:
        core, _ = start("core", CORE_PORT, ["core"], "1", work)
        procs.append(core)
        upstream = f"http://127.0.0.1:{CORE_PORT}"
        servers = {}
        for name, (port, kind, options) in GATEWAYS.items():
            cmd = [kind]
            if kind == "gateway-http":
                cmd += ["--upstream", upstream, "--http-options", json.dumps(options)]
            servers[name] = start(name, port, cmd, "0", work)
            procs.append(servers[name][0])
        for proc, info in servers.values():
            measure(info, proc.pid, core.pid, 2, args.connections)  # warm up (and fill caches)
        for r in range(args.rounds):
            for name, (proc, info) in servers.items():
                measured = measure(info, proc.pid, core.pid, args.seconds, args.connections)
                run = measured["run"]
                runs[name].append(run)
                core_us[name].append(measured["core_cpu_us"])
                print(f"round {r + 1} {name:18s} {run.rps:7.0f} req/s  p50 {run.p50_ms:5.2f} ms"
                      f"  p99 {run.p99_ms:5.2f} ms  cpu {run.cpu_us:5.0f} µs/req"
                      f"  core {measured['core_cpu_us']:4.0f} µs/req  non-2xx {run.non_2xx}",
                      flush=True)  # fmt: skip
    finally:
        stop(list(reversed(procs)))  # the gateways before their core
    if any(run.non_2xx or run.errors for rs in runs.values() for run in rs):
        print("FAILED: some requests failed; the figures are meaningless", file=sys.stderr)
        return 1
    med = {name: median(rs) for name, rs in runs.items()}
    base = med["gateway"]
    paths: dict[str, Any] = {}
    for name, m in med.items():
        entry: dict[str, Any] = {
            **m.__dict__,
            "core_cpu_us": statistics.median(core_us[name]),
        }
        if name != "gateway":
            entry["throughput_ratio"] = round(m.rps / base.rps, 3)
            entry["cpu_ratio"] = round(base.cpu_us / m.cpu_us, 3) if m.cpu_us else None
            entry["added_cpu_us"] = round(m.cpu_us - base.cpu_us, 1)
            entry["meets_goal"] = m.rps / base.rps >= GOAL
        paths[name] = entry
    summary = {
        "endpoint": "GET /fdx/v6/accounts/{id}/transactions (90 days, limit 100: 70 a page)",
        "compared": {
            "gateway": "in-process SandboxBank",
            "gateway-http": "HttpBank → core, If-None-Match answered 304 (data unchanged)",
            "gateway-http-full": "HttpBank → core, cache off: every body parsed and mapped",
        },
        "goal": f"gateway-http / gateway throughput ≥ {GOAL:.0%} (docs/performance.md §5)",
        "connections": args.connections,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "machine": host,
        **paths,
    }
    path = save("http_adapter", summary)
    print(f"\nmedian of {args.rounds} (results in {path.relative_to(ROOT)}):")
    for name, e in paths.items():
        line = f"  {name:18s} {e['rps']:7.0f} req/s  cpu {e['cpu_us']:5.0f} µs/req"
        if name != "gateway":
            verdict = "meets" if e["meets_goal"] else "misses"
            line += (f"  throughput {e['throughput_ratio']:.0%}  cpu {e['cpu_ratio']:.0%}"
                     f"  ({verdict} the ≥ {GOAL:.0%} goal)")  # fmt: skip
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
