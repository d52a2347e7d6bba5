"""``make bench``: FDX transactions (100 a page) through the whole gateway, on each engine, against
a bare Starlette endpoint serving the same JSON from the same data, side by side in one run.

    python -m bench.fdx_read                                   # 16 connections, 3 rounds of 10 s
    python -m bench.fdx_read --connections 1,4,16,64 --plot docs/performance-fdx-read.svg
    python -m bench.fdx_read --connections 1,16 --against 5b617b0   # before/after, one run

Three servers, each one process pinned to CPU 0, wrk pinned to CPU 1:

- ``bare``: bench/server.py's floor: the sandbox bank's page, orjson, nothing else;
- ``sqlite``: the gateway on the embedded default (SQLite file + in-process state);
- ``postgres``: the gateway on PostgreSQL + Redis (a fresh database and key prefix for the run;
  PostgreSQL and Redis themselves are not pinned and take CPU where they find it).

Both gateways run the sandbox profile with a Bearer token (bench/engines.py says why), rate
limits counted but never reached, audit written before each response. Rounds alternate the
servers (and, for a sweep, the connection counts), and the medians are compared: only ratios
measured in one run mean anything on a shared machine. Every run must be all 2xx, or the figures
are refused. Results go to bench/results/fdx_read.json (and the plot, if asked).

``--against REF`` adds the same gateways as another commit builds them (a git worktree of REF,
its own storage prepared and served by its own code), in the same alternating rounds: a change's
before and after, measured side by side on one machine in one run.

Goals (docs/performance.md §1): on the embedded default ≥ 70 % of the bare throughput at 16
connections with p99 ≤ 2× the bare p99; on PostgreSQL + Redis ≥ 50 % at 16 connections and
≥ 20 % at one. They are reported, never asserted.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import engines
from bench.loadgen import (
    ROOT,
    Run,
    machine,
    median,
    require_wrk,
    save,
    spawn,
    stop,
    wait_up,
    wrk,
)


def _free_port() -> int:
    """A port nothing listens on now (the machine may be shared: never a fixed one)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# (engine, connections) → (throughput share of bare, p99 multiple of bare or None)
GOALS = {("sqlite", 16): (0.70, 2.0), ("postgres", 16): (0.50, None), ("postgres", 1): (0.20, None)}
WARM_UP = 2


@dataclass(frozen=True)
class Gateway:
    """One gateway server of the run: an engine, as this tree or another commit builds it."""

    engine: str
    tree: Path  # the checkout whose code prepares, serves and signs for it
    work: Path

    def _python(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, *args], cwd=self.tree, check=True, capture_output=True, text=True
        )
        return done.stdout

    def prepare(self) -> str:
        """Storage, keys, a recipient and a consent, by the tree's own code; the path to ask."""
        if self.tree == ROOT:
            return engines.prepare(self.engine, self.work).path
        self._python("-m", "bench.engines", "prepare", "--engine", self.engine, "--work",
                     str(self.work))  # fmt: skip
        return str(engines.Setup.read(self.work).path)

    def serve(self) -> list[str]:
        return [sys.executable, "-m", "bench.engines", "serve", "--work", str(self.work)]

    def token(self) -> str:
        if self.tree == ROOT:
            return engines.fresh_token(engines.Setup.read(self.work))
        code = (
            "import sys; from pathlib import Path; from bench import engines; "
            "print(engines.fresh_token(engines.Setup.read(Path(sys.argv[1]))))"
        )
        return self._python("-c", code, str(self.work)).strip()

    def drop(self) -> None:
        if self.tree == ROOT:
            engines.drop(engines.Setup.read(self.work))
        else:
            self._python("-m", "bench.engines", "drop", "--work", str(self.work))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", default="16", help="comma-separated, e.g. 1,4,16,64")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--plot", type=Path, help="also write the SVG plot here")
    parser.add_argument("--no-rate-limit", action="store_true", help="limits off (their cost)")
    parser.add_argument("--against", metavar="REF", help="also the gateways of this commit")
    args = parser.parse_args(argv)
    require_wrk()
    conns = [int(c) for c in args.connections.split(",")]
    work = Path(tempfile.mkdtemp(prefix="fdxgw-fdx-read-"))
    names = args.engines.split(",")
    gateways = {name: Gateway(name, ROOT, work / name) for name in names}
    baseline = None
    if args.against:
        baseline = work / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(baseline), args.against],
            cwd=ROOT,
            check=True,
        )
        for name in names:
            gateways[f"{name}@{args.against}"] = Gateway(name, baseline, work / f"{name}-before")
    kinds = ["bare", *gateways]
    ports = {kind: _free_port() for kind in kinds}
    facts = machine()

    prepared: list[Gateway] = []
    procs = {}
    paths: dict[str, str] = {}
    try:
        for kind in kinds:
            info = work / f"{kind}.json"
            tree = ROOT
            if kind == "bare":
                cmd = [sys.executable, "-m", "bench.server", "bare"]
            else:
                gateway = gateways[kind]
                paths[kind] = gateway.prepare()
                prepared.append(gateway)
                cmd = gateway.serve() + (["--no-rate-limit"] if args.no_rate_limit else [])
                tree = gateway.tree
            cmd += ["--port", str(ports[kind]), "--info", str(info)]
            procs[kind] = spawn(cmd, cpus="0", log=work / f"{kind}.log", cwd=tree)
            wait_up(procs[kind], ports[kind], info)
        path = next(iter(paths.values())) if paths else _bare_path()
        runs: dict[str, dict[int, list[Run]]] = {k: {c: [] for c in conns} for k in kinds}

        def one(kind: str, c: int, seconds: float) -> Run:
            headers = []
            if kind != "bare":
                headers.append(f"Authorization: Bearer {gateways[kind].token()}")
            return wrk(
                f"http://127.0.0.1:{ports[kind]}{paths.get(kind, path)}",
                seconds=seconds,
                connections=c,
                headers=headers,
                server_pids=[procs[kind].pid],
            )

        for kind in kinds:
            one(kind, 16, WARM_UP)
        for r in range(args.rounds):
            for c in conns:
                for kind in kinds:
                    run = one(kind, c, args.seconds)
                    runs[kind][c].append(run)
                    print(
                        f"round {r + 1}  c={c:<3d} {kind:18s} {run.rps:8.0f} req/s"
                        f"  p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:7.2f} ms"
                        f"  cpu {run.cpu_us:6.0f} µs/req  non-2xx {run.non_2xx}",
                        flush=True,
                    )
    finally:
        stop(list(procs.values()))
        for gateway in prepared:
            gateway.drop()
        if baseline is not None:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(baseline)], cwd=ROOT, check=False
            )

    bad = [(k, c) for k in kinds for c in conns for r in runs[k][c] if r.non_2xx or r.errors]
    if bad:
        print(f"FAILED: non-2xx or socket errors in {bad}: no figures", file=sys.stderr)
        return 1
    med = {k: {c: median(runs[k][c]) for c in conns} for k in kinds}
    summary = _summary(med, kinds, conns, gateways)
    result: dict[str, Any] = {
        "endpoint": "GET /fdx/v6/accounts/{id}/transactions (100 a page, 43 KB)",
        "path": path,
        "machine": facts,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "connections": conns,
        "rate_limits": not args.no_rate_limit,
        "median": {k: {str(c): med[k][c] for c in conns} for k in kinds},
        "runs": {k: {str(c): runs[k][c] for c in conns} for k in kinds},
        "vs_bare": summary,
        "against": args.against,
    }
    out = save("fdx_read", result)
    _print(med, summary, kinds, conns, args.rounds)
    if args.plot or len(conns) > 1:
        from bench.plot import fdx_read_svg

        svg = fdx_read_svg({k: med[k] for k in ["bare", *names]}, conns, facts)
        targets = [out.with_suffix(".svg")] + ([args.plot] if args.plot else [])
        for target in targets:
            target.write_text(svg, encoding="utf-8")
            print(f"plot: {target}")
    print(f"results: {out}")
    return 0


def _bare_path() -> str:
    start, end = engines.window()
    return f"/fdx/v6/accounts/x/transactions?startTime={start}&endTime={end}&limit=100"


def _summary(
    med: dict[str, dict[int, Run]],
    kinds: list[str],
    conns: list[int],
    gateways: dict[str, Gateway],
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for kind in kinds[1:]:
        per: dict[str, Any] = {}
        for c in conns:
            # Goals are this tree's; another commit's gateways are reported beside them.
            mine = gateways[kind].tree == ROOT
            share_goal, p99_goal = GOALS.get((kind, c), (None, None)) if mine else (None, None)
            g, b = med[kind][c], med["bare"][c]
            share = g.rps / b.rps
            p99 = g.p99_ms / b.p99_ms
            per[str(c)] = {
                "throughput_share": round(share, 3),
                "p99_multiple": round(p99, 2),
                "cpu_share": round(b.cpu_us / g.cpu_us, 3) if g.cpu_us else None,
                "added_cpu_us": round(g.cpu_us - b.cpu_us, 1),
                "throughput_goal": share_goal,
                "throughput_met": None if share_goal is None else share >= share_goal,
                "p99_goal": p99_goal,
                "p99_met": None if p99_goal is None else p99 <= p99_goal,
            }
        out[kind] = per
    return out


def _print(
    med: dict[str, dict[int, Run]],
    summary: dict[str, dict[str, Any]],
    kinds: list[str],
    conns: list[int],
    rounds: int,
) -> None:
    print(f"\nmedians of {rounds} rounds")
    print(
        f"{'server':18s} {'conns':>5s} {'req/s':>8s} {'p50 ms':>7s} {'p99 ms':>8s} "
        f"{'cpu µs/req':>10s} {'share':>6s} {'p99 ×':>6s}"
    )
    for c in conns:
        for kind in kinds:
            m = med[kind][c]
            s = summary.get(kind, {}).get(str(c))
            share = f"{s['throughput_share']:.0%}" if s else ""
            p99 = f"{s['p99_multiple']:.2f}" if s else ""
            print(
                f"{kind:18s} {c:5d} {m.rps:8.0f} {m.p50_ms:7.2f} {m.p99_ms:8.2f} "
                f"{m.cpu_us:10.0f} {share:>6s} {p99:>6s}"
            )
    for kind, per in summary.items():
        for conns_, s in per.items():
            share, goal = s["throughput_share"], s["throughput_goal"]
            if goal is None:
                continue
            verdict = "met" if s["throughput_met"] else "MISSED"
            line = f"{kind} c={conns_}: {share:.0%} of bare (goal {goal:.0%}: {verdict})"
            if s["p99_goal"] is not None:
                p = "met" if s["p99_met"] else "MISSED"
                line += f", p99 {s['p99_multiple']:.2f}x (goal ≤ {s['p99_goal']:.0f}x: {p})"
            print(line)
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
