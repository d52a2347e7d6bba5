"""``fdxgw serve``: the listening sockets, the worker processes and a graceful stop.

One process (the default) serves the app itself. ``--workers N`` binds the sockets once and
hands them to N worker processes under uvicorn's supervisor, which replaces a worker that dies;
each worker builds its own app from the same settings (``worker_app``), logs JSON lines through
the redactor, and writes its metrics to prometheus-client's per-process files, which ``/metrics``
sums whichever worker answers the scrape (``gateway.metrics``).

SIGTERM stops accepting connections, lets the requests in flight finish within
``shutdown_timeout`` seconds, runs the app's shutdown, and exits 0: an orchestrator's rolling
restart loses no request that was already accepted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

from config.settings import CONFIG_ENV, Settings, export_for_workers, worker_metrics_dir

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's multiprocess mode reads it
STARTUP_FAILURE = 3  # uvicorn's exit code for a worker whose app could not start


def serve_parser(sub: Any) -> None:
    serve = sub.add_parser("serve", help="start the gateway")
    serve.add_argument(
        "--workers", type=int, default=1, metavar="N", help="worker processes (default 1)"
    )


def serve(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.logging import configure

    configure(settings.log_level)  # JSON lines, redacted, with the interaction id
    if not 1 <= args.workers <= 256:
        print("fdxgw: --workers must be between 1 and 256", file=sys.stderr)
        return 2
    if args.workers > 1 and settings.state_url == "memory://":
        # A sign-in begun on one worker must be found by the next (PAR, codes, sessions).
        print("fdxgw: --workers needs a shared state store: set redis_url", file=sys.stderr)
        return 2
    try:
        sockets = [_bind(settings.host, settings.port)]
        if settings.management_port:
            sockets.append(_bind(settings.host, settings.management_port))
    except OSError as exc:
        print(f"fdxgw: cannot listen: {exc}", file=sys.stderr)
        return 2
    if args.workers == 1:
        return _one_process(settings, sockets)
    return _workers(settings, args, sockets)


def _one_process(settings: Settings, sockets: list[socket.socket]) -> int:
    import uvicorn

    from authz.store import RecordsUnavailable, SchemaError
    from gateway.app import create_app

    try:
        app = create_app(settings)  # reads the keys: a KEK that cannot open them stops here
    except (SchemaError, RecordsUnavailable, ValueError, OSError) as exc:
        print(f"fdxgw: cannot start: {exc}", file=sys.stderr)
        return 2
    banner(settings)
    server = uvicorn.Server(_config(settings, app))
    # uvicorn re-raises the SIGTERM it handled once it has drained; with this handler in place
    # that is a no-op, so a graceful stop exits 0 rather than "killed by SIGTERM".
    signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        server.run(sockets=sockets)
    except KeyboardInterrupt:
        pass  # Ctrl-C: uvicorn has drained already and re-raised it
    return 0 if server.started else 2


def _workers(settings: Settings, args: argparse.Namespace, sockets: list[socket.socket]) -> int:
    from uvicorn.supervisors.multiprocess import Multiprocess

    metrics = tempfile.mkdtemp(prefix="fdxgw-metrics-")
    inherited = {MULTIPROC_ENV: metrics}
    if args.config is not None:
        inherited[CONFIG_ENV] = str(Path(args.config).resolve())
    export_for_workers(inherited)
    config = _config(settings, "gateway.serving:worker_app", factory=True, workers=args.workers)
    banner(settings)
    supervisor = Multiprocess(config, sockets)
    try:
        supervisor.run()
    finally:
        shutil.rmtree(metrics, ignore_errors=True)
    failed = any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes)
    return 2 if failed else 0


def worker_app() -> Any:
    """The app of one ``--workers`` process: settings read again (the same file and variables
    as the parent's), logging set up in this process, metrics in the shared directory."""
    from gateway.app import create_app
    from gateway.logging import configure

    configure()  # JSON from the first line, a settings warning included
    settings = Settings.load()
    configure(settings.log_level)
    return create_app(settings, metrics_dir=worker_metrics_dir())


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for ``fdxgw serve``.

    Access logging is off: it costs ~26 µs a request (docs/performance.md) and would record
    query strings; data accesses are recorded in the audit trail instead.

    Proxy headers are off: uvicorn would otherwise take the client address from
    ``X-Forwarded-For`` whenever the peer is in its own allow-list (127.0.0.1 unless told
    otherwise), whatever ``trusted_proxies`` says. The gateway reads the header itself, and only
    from a peer in ``trusted_proxies`` (docs/security.md).

    httptools, with a bound on a request's head (gateway/head_limits.py): httptools itself
    buffers a head of any size."""
    from gateway.head_limits import HeadLimitedHttpToolsProtocol

    return {
        "host": settings.host, "port": settings.port, "access_log": False, "log_level": "info",
        "server_header": False, "log_config": None, "proxy_headers": False,
        "http": HeadLimitedHttpToolsProtocol,
        "timeout_graceful_shutdown": settings.shutdown_timeout,
    }  # fmt: skip


def _config(settings: Settings, app: Any, **extra: Any) -> Any:
    import uvicorn

    return uvicorn.Config(app, **server_options(settings), **extra)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def banner(settings: Settings) -> None:
    issuer = settings.issuer
    lines = [
        "",
        f"  FDX gateway for {settings.provider_name}",
        f"  issuer          {issuer}",
        f"  metadata        {issuer}/.well-known/oauth-authorization-server",
        f"  JWKS            {issuer}/jwks",
        f"  FDX API         {issuer}/fdx/v6",
    ]
    demo = Path(settings.demo_dir)
    if settings.adapter == "sandbox" and (demo / "recipient.json").is_file():
        recipient = json.loads((demo / "recipient.json").read_text(encoding="utf-8"))
        lines += [
            "",
            f"  demo recipient  client_id {recipient['client_id']}",
            f"                  redirect  {recipient['redirect_uris'][0]}",
            f"                  key       {demo / 'recipient-private-jwks.json'} (ES256)",
        ]
        if settings.login == "oidc":
            # The built-in form, the demo consumers' passwords and examples/budget_app.py
            # (which fills that form) do not apply: the bank's OP signs consumers in.
            lines += [
                "",
                f"  sign-in         at the bank's OpenID Provider {settings.login_oidc_issuer}",
                "                  (login = oidc: the demo consumers' passwords and",
                "                  examples/budget_app.py, which uses the built-in form,",
                "                  do not apply)",
                "",
            ]
            print("\n".join(lines), flush=True)
            return
        consumers = demo / "consumers.json"
        if consumers.is_file():
            # User IDs only: the banner goes to the log, where passwords and people's names
            # (demo or not) have no place; the file itself says the passwords.
            people = json.loads(consumers.read_text(encoding="utf-8"))["consumers"]
            names = ", ".join(p["username"] for p in people)
            lines += ["", f"  demo consumers  {names} (passwords in {consumers})"]
        lines += ["", "  try it:         .venv/bin/python examples/budget_app.py", ""]
    print("\n".join(lines), flush=True)
