"""Whole consent flows per second with ``login = "oidc"`` beside ``login = "adapter"``, in one run.

    (cd tests/bank_op && npm ci)     # once: the bank's OP (node-oidc-provider + jose)
    python -m bench.login [--rounds 3] [--seconds 10] [--concurrency 8]

Two gateways, started as ``fdxgw init`` + ``fdxgw serve`` on the embedded default (SQLite +
in-process state, fapi2), one signing consumers in with the sandbox bank adapter, the other at
the bank's OpenID Provider (tests/bank_op/op.mjs: panva's node-oidc-provider with its own login
form). Both gateways are pinned to CPU 0; the OP and bench/node/driver.mjs (the same client
program as bench/flows.py) to CPU 1. Each round drives each gateway in turn with N workers
running the whole flow in a loop: PAR (private_key_jwt, PKCE S256, DPoP) → authorize → sign-in
(the gateway's form, or a redirect to the OP, its login form, its redirects back, the code's
redemption and the ID token's checks) → consent → code → token.

Reported, never asserted: completed flows/s of each and the ratio oidc / adapter, the gateway's
CPU per flow, and the OP's share of the wall time it costs. Results in bench/results/login.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from bench.loadgen import ROOT, TICK, machine, pinned, save, spawn, stop, wait_up

NODE_DIR = ROOT / "bench" / "node"
OP_DIR = ROOT / "tests" / "bank_op"
DEMO = ROOT / "config" / "demo"
PORTS: dict[str, int] = {}  # free ports, chosen at start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


OP_PASSWORD = "bench-op-password"  # noqa: S105 - the benchmark OP's only login
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


def start_op(work: Path, alice: dict[str, Any]) -> subprocess.Popen[bytes]:
    users = work / "users.json"
    users.write_text(
        json.dumps(
            {"users": {"alice": {"password": OP_PASSWORD, "customer_id": alice["customer_id"]}}}
        ),
        encoding="utf-8",
    )
    port = PORTS["op"]
    proc = spawn(
        ["node", str(OP_DIR / "op.mjs"), str(port), str(users)], cpus="1", log=work / "op.log"
    )
    info = work / "op.up"
    info.touch()
    wait_up(proc, port, info)
    return proc


def register(redirect_uri: str) -> dict[str, Any]:
    """RFC 7591 at the benchmark's OP: the oidc gateway's client_id and secret."""
    body = json.dumps({"redirect_uris": [redirect_uri]}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORTS['op']}/reg",
        data=body,
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        result: dict[str, Any] = json.loads(answer.read())
    return result


def start_gateway(work: Path, login: str) -> subprocess.Popen[bytes]:
    port = PORTS[login]
    issuer = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "FDX_ISSUER": issuer,
        "FDX_PORT": str(port),
        "FDX_VAR_DIR": str(work / "var"),
        "FDX_DATABASE_URL": f"sqlite:///{work}/gateway.db",
        "FDX_STATE_URL": "memory://",
        "FDX_LOG_LEVEL": "WARNING",
        "FDX_LOGIN": login,
    }
    env.pop("FDX_REDIS_URL", None)
    if login == "oidc":
        client = register(issuer + "/oauth/login/callback")
        env |= {
            "FDX_LOGIN_OIDC_ISSUER": f"http://127.0.0.1:{PORTS['op']}",
            "FDX_LOGIN_OIDC_CLIENT_ID": client["client_id"],
            "FDX_LOGIN_OIDC_CLIENT_SECRET": client["client_secret"],
            "FDX_LOGIN_OIDC_SCOPE": "openid bank",
            "FDX_LOGIN_OIDC_CUSTOMER_CLAIM": "customer_id",
            "FDX_LOGIN_OIDC_ALLOW_HTTP": "true",
        }
    work.mkdir(parents=True, exist_ok=True)
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


def drive(login: str, pid: int, alice: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    cfg = {
        "issuer": f"http://127.0.0.1:{PORTS[login]}",
        "client_id": "demo-budget-app",
        "jwks_file": str(DEMO / "recipient-private-jwks.json"),
        "redirect_uri": "http://127.0.0.1:8765/callback",
        "username": "alice",
        "password": alice["password"] if login == "adapter" else OP_PASSWORD,
        "mode": "flows",
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "par_params": {"scope": "openid", "authorization_details": json.dumps(DETAILS)},
        "server_pid": pid,
        "clock_ticks": TICK,
    }
    cmd = pinned(["node", str(NODE_DIR / "driver.mjs"), json.dumps(cfg)], "1")
    done = subprocess.run(cmd, cwd=NODE_DIR, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"driver failed against login={login}: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])["flows"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    if not shutil.which("node"):
        raise SystemExit("Node.js is not installed (20 or newer)")
    for folder in (NODE_DIR, OP_DIR):
        if not (folder / "node_modules" / "oidc-provider").is_dir():
            raise SystemExit(f"run `npm ci` in {folder.relative_to(ROOT)} first")
    alice = json.loads((DEMO / "consumers.json").read_text(encoding="utf-8"))["consumers"][0]
    work = Path(tempfile.mkdtemp(prefix="fdxgw-login-"))
    PORTS.update({name: free_port() for name in ("adapter", "oidc", "op")})
    procs: dict[str, subprocess.Popen[bytes]] = {}
    rows: dict[str, list[dict[str, Any]]] = {"adapter": [], "oidc": []}
    try:
        procs["op"] = start_op(work, alice)
        for login in ("adapter", "oidc"):
            procs[login] = start_gateway(work / login, login)
        for r in range(args.rounds):
            for login in ("adapter", "oidc"):
                row = drive(login, procs[login].pid, alice, args)
                rows[login].append(row)
                rate, p50, errs = row["rate"], row["p50_ms"], row["errors"]
                print(f"round {r + 1} login={login:8s} {rate:.1f} flows/s p50 {p50:.0f} ms"
                      f" errors {errs}", flush=True)  # fmt: skip
    finally:
        stop(list(procs.values()))
    med = {
        login: {
            key: statistics.median((row[key] or 0) for row in rs)
            for key in ("rate", "p50_ms", "p99_ms", "server_cpu_ms_per_op")
        }
        for login, rs in rows.items()
    }
    ratio = round(med["oidc"]["rate"] / med["adapter"]["rate"], 3) if med["adapter"]["rate"] else 0
    errors = [
        (login, row["first_error"]) for login, rs in rows.items() for row in rs if row["errors"]
    ]
    result = {
        "machine": machine(),
        "rounds": args.rounds,
        "seconds": args.seconds,
        "concurrency": args.concurrency,
        "median": med,
        "oidc_vs_adapter": ratio,
        "errors": errors,
        "rounds_raw": rows,
    }
    out = save("login", result)
    print(f"\nmedians of {args.rounds} rounds, {args.concurrency} concurrent flows")
    print(f"{'login':8s} {'flows/s':>8s} {'p50 ms':>7s} {'p99 ms':>7s} {'gw cpu ms/flow':>15s}")
    for login in ("adapter", "oidc"):
        m = med[login]
        print(f"{login:8s} {m['rate']:8.1f} {m['p50_ms']:7.0f} {m['p99_ms']:7.0f}"
              f" {m['server_cpu_ms_per_op']:15.2f}")  # fmt: skip
    print(f"oidc / adapter: {ratio:.2f}")
    if errors:
        print(f"errors (first of each round): {errors[:4]}", file=sys.stderr)
    print(f"results: {out}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
