"""Resident size of a gateway instance under load: after 100,000 FDX requests and again after a
second 100,000 (docs/performance.md §4: reported, and flat).

    python -m bench.memory [--engines sqlite,postgres] [--requests 100000]

Each engine gets one instance (bench/engines.py, pinned to CPU 0) loaded by wrk (CPU 1, 16
connections) on the transactions page in 5-second runs, each with a fresh token, until the
count passes ``--requests``, then as many again; VmRSS (/proc/PID/status) is read after start-up
and warm-up, after every run, and at the two marks. Growth between the marks beyond noise (a
few hundred KiB of allocator slack) would be a leak: every cache on the path is bounded (verified
tokens, consents, client statuses, the DPoP replay window). Results: bench/results/memory.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import engines
from bench.loadgen import machine, require_wrk, rss_kib, save, spawn, stop, wait_up, wrk

PORTS = {"sqlite": 8341, "postgres": 8343}
CHUNK = 5  # seconds of load between two readings


def measure(kind: str, work: Path, target: int) -> dict[str, Any]:
    setup = engines.prepare(kind, work / kind)
    info = work / f"{kind}.json"
    cmd = [sys.executable, "-m", "bench.engines", "serve", "--work", str(work / kind)]
    cmd += ["--port", str(PORTS[kind]), "--info", str(info)]
    proc = spawn(cmd, cpus="0", log=work / f"{kind}.log")
    url = f"http://127.0.0.1:{PORTS[kind]}{setup.path}"
    samples: list[tuple[int, int]] = []
    marks: dict[str, Any] = {}
    try:
        wait_up(proc, PORTS[kind], info)
        marks["started_kib"] = rss_kib(proc.pid)
        done, bad = 0, 0

        def load() -> None:
            nonlocal done, bad
            token = engines.fresh_token(setup)
            run = wrk(
                url, seconds=CHUNK, connections=16, headers=[f"Authorization: Bearer {token}"]
            )
            done += run.requests
            bad += run.non_2xx + run.errors
            samples.append((done, rss_kib(proc.pid)))
            print(f"{kind:9s} {done:8d} requests  RSS {samples[-1][1] / 1024:7.1f} MiB", flush=True)

        load()  # warm-up: imports, pools, caches filled
        marks["warm"] = {"requests": done, "rss_kib": samples[-1][1]}
        start = done
        while done - start < target:
            load()
        marks["first"] = {"requests": done - start, "rss_kib": samples[-1][1]}
        second = done
        while done - second < target:
            load()
        marks["second"] = {"requests": done - start, "rss_kib": samples[-1][1]}
        growth = marks["second"]["rss_kib"] - marks["first"]["rss_kib"]
        marks["growth_kib"] = growth
        marks["growth_pct"] = round(100 * growth / marks["first"]["rss_kib"], 2)
        marks["non_2xx_or_errors"] = bad
        marks["samples"] = samples
    finally:
        stop([proc])
        engines.drop(setup)
    return marks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--requests", type=int, default=100_000)
    args = parser.parse_args(argv)
    require_wrk()
    work = Path(tempfile.mkdtemp(prefix="fdxgw-memory-"))
    facts = machine()
    results = {kind: measure(kind, work, args.requests) for kind in args.engines.split(",")}
    out = save("memory", {"machine": facts, "requests_per_mark": args.requests, **results})
    print()
    for kind, m in results.items():
        print(f"{kind:9s} RSS warm {m['warm']['rss_kib'] / 1024:6.1f} MiB"
              f"  after {m['first']['requests']:,} {m['first']['rss_kib'] / 1024:6.1f} MiB"
              f"  after {m['second']['requests']:,} {m['second']['rss_kib'] / 1024:6.1f} MiB"
              f"  growth {m['growth_kib']:+d} KiB ({m['growth_pct']:+.2f} %)"
              f"  non-2xx/errors {m['non_2xx_or_errors']}")  # fmt: skip
    print(f"results: {out}")
    return 1 if any(m["non_2xx_or_errors"] for m in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
