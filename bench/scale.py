"""Two gateway instances on two cores against one instance on one (docs/performance.md §3:
≥ 1.6×), on the
FDX transactions read.

    python -m bench.scale [--engine postgres] [--seconds 10] [--rounds 3]

The engine is PostgreSQL + Redis by default: that is the deployment where instances share state
(the embedded default keeps short-lived state in each process, so a second instance there is
not the same deployment; ``--engine sqlite`` measures it anyway, on one shared SQLite file).

The machine has two cores and nothing else to run the load generator, PostgreSQL and Redis on,
so the setup is the same in both modes and says so:

- ``one``: instance A pinned to CPU 0; two wrk processes (one thread, 16 connections each), both
  at A, not pinned;
- ``two``: instance A on CPU 0 and B on CPU 1; one wrk process at each, not pinned;
- ``half``: instance A alone with one wrk process (16 connections): the load each instance of
  ``two`` gets. The store batches concurrent round trips (authz/store/batch.py), so an
  instance's CPU per request falls as its concurrency rises (PostgreSQL + Redis, one instance:
  ~440 µs at 8 connections, ~350 at 16, ~300 at 32); ``one`` therefore runs at a lower cost per
  request than each instance of ``two`` does, for a reason that is not contention between them.

wrk, PostgreSQL and Redis take their CPU from the same two cores in both modes, so the raw ratio
two / one understates what two instances on two dedicated cores would do. Beside it the script
reports what does not depend on who else runs: each run's gateway CPU time per request (if two
instances need no more CPU per request than one, they add up), the share of the two cores the
gateway processes got, and ``capacity``, requests per gateway CPU-second × instances, the
throughput the instances would reach with their cores to themselves, against ``one`` and,
like for like, against ``half`` (``capacity_ratio_same_load``). Rounds alternate the modes;
medians go to bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import engines
from bench.loadgen import (
    TICK,
    cpu_ticks,
    machine,
    parse_wrk,
    require_wrk,
    save,
    spawn,
    stop,
    wait_up,
)

PORTS = (8351, 8352)


def busy_ticks() -> int:
    """Ticks the whole machine spent busy (all CPUs), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields[:8]) - idle


def run(mode: str, setup: engines.Setup, pids: list[int], seconds: float) -> dict[str, Any]:
    token = engines.fresh_token(setup)
    targets = {"one": [PORTS[0], PORTS[0]], "half": [PORTS[0]], "two": [PORTS[0], PORTS[1]]}[mode]
    cmds = [
        ["wrk", "-t1", "-c16", f"-d{seconds:g}s", "--latency",
         "-H", f"Authorization: Bearer {token}", f"http://127.0.0.1:{port}{setup.path}"]
        for port in targets
    ]  # fmt: skip
    gw0, all0, t0 = cpu_ticks(pids), busy_ticks(), time.monotonic()
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, text=True) for c in cmds]
    outs = [p.communicate()[0] for p in procs]
    gw1, all1, t1 = cpu_ticks(pids), busy_ticks(), time.monotonic()
    runs = [parse_wrk(o) for o in outs]
    requests = sum(r.requests for r in runs)
    wall = t1 - t0
    gateway_cpu = (gw1 - gw0) / TICK
    instances = 2 if mode == "two" else 1
    return {
        "rps": round(sum(r.rps for r in runs), 1),
        "p99_ms": max(r.p99_ms for r in runs),
        "requests": requests,
        "non_2xx": sum(r.non_2xx + r.errors for r in runs),
        "gateway_cpu_us": round(gateway_cpu * 1e6 / requests, 1),
        "gateway_core_share": round(gateway_cpu / wall / 2, 3),  # of the machine's two cores
        "machine_busy": round((all1 - all0) / TICK / wall / 2, 3),
        "capacity": round(instances * requests / gateway_cpu, 1) if gateway_cpu else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="postgres", choices=engines.ENGINES)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    require_wrk()
    work = Path(tempfile.mkdtemp(prefix="fdxgw-scale-"))
    facts = machine()
    setup = engines.prepare(args.engine, work / "deployment")
    procs = []
    rows: dict[str, list[dict[str, Any]]] = {"one": [], "half": [], "two": []}
    try:
        for i, port in enumerate(PORTS):
            info = work / f"{port}.json"
            cmd = [sys.executable, "-m", "bench.engines", "serve", "--work", str(setup.work)]
            cmd += ["--port", str(port), "--info", str(info)]
            procs.append(spawn(cmd, cpus=str(i), log=work / f"{port}.log"))
            wait_up(procs[-1], port, info)
        pids = [p.pid for p in procs]
        run("two", setup, pids, 2)  # warm-up both
        for r in range(args.rounds):
            for mode in ("one", "half", "two"):
                row = run(mode, setup, pids if mode == "two" else pids[:1], args.seconds)
                rows[mode].append(row)
                print(f"round {r + 1} {mode:4s}: {row['rps']:7.0f} req/s"
                      f"  p99 {row['p99_ms']:6.1f} ms"
                      f"  gateway {row['gateway_cpu_us']:5.0f} µs/req"
                      f"  gateway cores {row['gateway_core_share'] * 2:.2f}"
                      f"  machine busy {row['machine_busy']:.0%}"
                      f"  capacity {row['capacity']:7.0f}/s  non-2xx {row['non_2xx']}",
                      flush=True)  # fmt: skip
    finally:
        stop(procs)
        engines.drop(setup)
    med = {m: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for m, rs in rows.items()}
    result = {
        "machine": facts,
        "engine": args.engine,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "median": med,
        "raw_ratio": round(med["two"]["rps"] / med["one"]["rps"], 3),
        "capacity_ratio": round(med["two"]["capacity"] / med["one"]["capacity"], 3),
        "capacity_ratio_same_load": round(med["two"]["capacity"] / med["half"]["capacity"], 3),
        "cpu_per_request_ratio": round(
            med["two"]["gateway_cpu_us"] / med["one"]["gateway_cpu_us"], 3
        ),
        "goal": 1.6,
        "rounds_raw": rows,
    }
    out = save("scale", result)
    print(f"\ntwo / one, raw throughput (wrk, PostgreSQL and Redis on the same two cores): "
          f"{result['raw_ratio']:.2f}x")  # fmt: skip
    print(f"two / one, capacity (requests per gateway CPU-second x instances): "
          f"{result['capacity_ratio']:.2f}x (goal ≥ 1.6x)")  # fmt: skip
    print(f"two / half (the same load per instance), capacity: "
          f"{result['capacity_ratio_same_load']:.2f}x")  # fmt: skip
    print(f"gateway CPU per request, two / one: {result['cpu_per_request_ratio']:.2f}")
    print(f"results: {out}")
    bad = sum(r["non_2xx"] for rs in rows.values() for r in rs)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
