"""The authorization server against panva's node-oidc-provider, same scenario, same machine, same
load generator, side by side in one run.

    (cd bench/node && npm ci)        # once: oidc-provider pinned by bench/node/package-lock.json
    python -m bench.flows [--rounds 3] [--seconds 10] [--concurrency 16]

Both servers are pinned to CPU 0 and started once; bench/node/driver.mjs (the one client program
for both) runs on CPU 1. Each round, for each server in turn:

- ``flows``: the whole FAPI 2.0 flow in a loop: PAR (private_key_jwt, PKCE S256, DPoP) →
  authorize → sign-in form → consent form → redirect with code (``state`` and ``iss`` checked)
  → token; completed flows/s;
- ``tokens``: codes collected by flows first (untimed), then redeemed as fast as possible
  (``authorization_code`` token requests/s), then one rotating refresh token per connection
  (``refresh_token`` requests/s), then ``client_credentials`` requests/s, every request with its
  own client assertion and DPoP proof, signed before the timed phase.

The gateway is the product as ``fdxgw init`` + ``fdxgw serve`` start it on the embedded default
(SQLite + in-process state) with the fapi2 profile; node-oidc-provider is configured by
bench/node/provider.mjs (what it does and does not do is written there). Medians and the ratio
gateway / node go to bench/results/flows.json. The goal (docs/performance.md §2), at least as
fast, is
reported, never asserted.
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
from pathlib import Path
from typing import Any

from bench.loadgen import ROOT, TICK, machine, pinned, save, spawn, stop, wait_up

NODE_DIR = ROOT / "bench" / "node"
DEMO = ROOT / "config" / "demo"
PORTS = {"gateway": 8321, "node": 8322}
PHASES = ("flows", "authorization_code", "refresh_token", "client_credentials")
DETAILS = [
    {
        "type": "fdx_v1.0",
        "consentRequest": {
            "durationType": "TIME_BOUND",
            "durationPeriod": 90,
            "lookbackPeriod": 365,
            "resources": [
                {"resourceType": "ACCOUNT", "dataClusters": ["ACCOUNT_BASIC", "TRANSACTIONS"]}
            ],
            "purpose": "Benchmark.",
        },
    }
]
# What each server is asked for: the gateway's consent is the FDX authorization_details; the
# provider's, the equivalent scopes (prompt=consent, so offline_access yields a refresh token).
PAR_PARAMS = {
    "gateway": {"scope": "offline_access", "authorization_details": json.dumps(DETAILS)},
    "node": {
        "scope": "offline_access fdx:accountbasic:read fdx:transactions:read",
        "prompt": "consent",
    },
}


def start_gateway(work: Path) -> subprocess.Popen[bytes]:
    port = PORTS["gateway"]
    env = {
        **os.environ,
        "FDX_ISSUER": f"http://127.0.0.1:{port}",
        "FDX_PORT": str(port),
        "FDX_VAR_DIR": str(work / "var"),
        "FDX_DATABASE_URL": f"sqlite:///{work}/gateway.db",
        "FDX_STATE_URL": "memory://",
        "FDX_LOG_LEVEL": "WARNING",
    }
    fdxgw = str(Path(sys.executable).parent / "fdxgw")
    subprocess.run([fdxgw, "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = (work / "gateway.log").open("wb")
    proc = subprocess.Popen(
        pinned([fdxgw, "serve"], "0"), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    info = work / "gateway.up"
    info.touch()
    wait_up(proc, port, info)
    return proc


def start_node(work: Path) -> subprocess.Popen[bytes]:
    port = PORTS["node"]
    # Node resolves oidc-provider from the script's own folder (bench/node/node_modules).
    cmd = ["node", str(NODE_DIR / "provider.mjs"), str(port), str(DEMO / "recipient.json")]
    proc = spawn(cmd, cpus="0", log=work / "node.log")
    info = work / "node.up"
    info.touch()
    wait_up(proc, port, info)
    return proc


def drive(server: str, mode: str, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    port = PORTS[server]
    cfg = {
        "issuer": f"http://127.0.0.1:{port}",
        "client_id": "demo-budget-app",
        "jwks_file": str(DEMO / "recipient-private-jwks.json"),
        "redirect_uri": "http://127.0.0.1:8765/callback",
        "username": "alice",
        "password": "sandbox-alice",
        "mode": mode,
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "collect": args.collect,
        "codes": args.codes,
        "max_rate": args.max_rate,
        "cc_scope": "fdx:consents:manage",
        "par_params": PAR_PARAMS[server],
        "server_pid": pid,
        "clock_ticks": TICK,
    }
    cmd = pinned(["node", str(NODE_DIR / "driver.mjs"), json.dumps(cfg)], "1")
    done = subprocess.run(cmd, cwd=NODE_DIR, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"driver failed against {server}: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10, help="each timed phase")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--collect", type=float, default=15, help="seconds to collect codes")
    parser.add_argument("--codes", type=int, default=3000, help="at most this many codes")
    parser.add_argument("--max-rate", type=int, default=4000, help="signed items per second")
    args = parser.parse_args(argv)
    if not shutil.which("node"):
        raise SystemExit("Node.js is not installed (20 or newer)")
    if not (NODE_DIR / "node_modules" / "oidc-provider").is_dir():
        raise SystemExit("run `npm ci` in bench/node first (oidc-provider is pinned there)")
    work = Path(tempfile.mkdtemp(prefix="fdxgw-flows-"))
    facts = machine()
    facts["oidc_provider"] = json.loads(
        (NODE_DIR / "node_modules" / "oidc-provider" / "package.json").read_text()
    )["version"]
    procs: dict[str, subprocess.Popen[bytes]] = {}
    rows: dict[str, list[dict[str, Any]]] = {"gateway": [], "node": []}
    try:
        procs["gateway"] = start_gateway(work / "gateway")
        procs["node"] = start_node(work)
        for r in range(args.rounds):
            for server in ("gateway", "node"):
                pid = procs[server].pid
                row: dict[str, Any] = dict(drive(server, "flows", pid, args))
                row.update(drive(server, "tokens", pid, args))
                rows[server].append(row)
                _print_round(r + 1, server, row)
    finally:
        stop(list(procs.values()))
    errors = [
        (s, p, row[p]["first_error"])
        for s, rs in rows.items()
        for row in rs
        for p in PHASES
        if row[p]["errors"]
    ]
    med = {
        s: {
            p: {
                "rate": statistics.median(row[p]["rate"] for row in rs),
                "p50_ms": statistics.median(row[p]["p50_ms"] for row in rs),
                "p99_ms": statistics.median(row[p]["p99_ms"] for row in rs),
                "server_cpu_ms_per_op": statistics.median(
                    row[p]["server_cpu_ms_per_op"] or 0 for row in rs
                ),
            }
            for p in PHASES
        }
        for s, rs in rows.items()
    }
    vs = {p: round(med["gateway"][p]["rate"] / med["node"][p]["rate"], 3) for p in PHASES}
    result = {
        "machine": facts,
        "rounds": args.rounds,
        "seconds": args.seconds,
        "concurrency": args.concurrency,
        "median": med,
        "gateway_vs_node": vs,
        "goal": "gateway >= node-oidc-provider on every phase",
        "goal_met": {p: v >= 1.0 for p, v in vs.items()},
        "errors": errors,
        "rounds_raw": rows,
    }
    out = save("flows", result)
    print(f"\nmedians of {args.rounds} rounds, {args.concurrency} concurrent clients")
    print(f"{'phase':20s} {'gateway/s':>10s} {'node/s':>10s} {'ratio':>6s}"
          f" {'gw cpu ms':>9s} {'node cpu ms':>11s}")  # fmt: skip
    for p in PHASES:
        g, n = med["gateway"][p], med["node"][p]
        print(f"{p:20s} {g['rate']:10.1f} {n['rate']:10.1f} {vs[p]:6.2f}"
              f" {g['server_cpu_ms_per_op']:9.2f} {n['server_cpu_ms_per_op']:11.2f}")  # fmt: skip
    if errors:
        print(f"errors in some phases (first of each): {errors[:4]}", file=sys.stderr)
    print(f"results: {out}")
    return 1 if errors else 0


def _print_round(r: int, server: str, row: dict[str, Any]) -> None:
    parts = [f"{p} {row[p]['rate']:.0f}/s" for p in PHASES]
    print(f"round {r} {server:8s} " + "  ".join(parts), flush=True)


if __name__ == "__main__":
    sys.exit(main())
