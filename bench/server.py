"""One benchmark server: the whole gateway path, or a bare Starlette endpoint, on one port.

    python -m bench.server gateway --port 8101 --info /tmp/gw.json
    python -m bench.server bare    --port 8102 --info /tmp/bare.json
    python -m bench.server core    --port 8103 --info /tmp/core.json
    python -m bench.server gateway-http --port 8104 --info /tmp/gwh.json --upstream http://127.0.0.1:8103

Both serve ``GET …/transactions`` for the same sandbox account, window and page size, from the
same in-process SandboxBank, encoded with the same encoder (orjson), under the same uvicorn
settings. The gateway adds exactly what the product adds: token verification, the live consent
check, the consent gate, date clamping, field projection and an audit record per call. ``--info``
receives the URL and the bearer token (the gateway's), so the load generator can call it.

``core`` is the reference bank core (adapters/http/reference_core.py) over the same sandbox bank,
and ``gateway-http`` the whole gateway path with the HTTP adapter in front of that core instead
of the in-process bank: the same account, window, page and body (bench/http_adapter.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.base import BankAdapter, PageRequest, Window
from adapters.http import HttpBank, HttpCoreConfig
from adapters.http.reference_core import ReferenceCore
from adapters.sandbox import SandboxBank
from authz.consent.model import Consent, ConsentEvent, ConsentResource, ConsentStatus, DurationType
from authz.keys import SigningKeys
from authz.services import Services
from authz.store import ClientRecord, open_records, open_state
from authz.tokens import pairwise_subject
from config.policy import load_policy
from config.settings import Settings
from gateway.app import create_app

DAYS = 90
LIMIT = 100


def window() -> tuple[str, str]:
    today = datetime.now(UTC).date()
    return str(today - timedelta(days=DAYS)), str(today)


async def first_account(bank: BankAdapter) -> tuple[str, str]:
    customer = await bank.authenticate("alice", "sandbox-alice")
    assert customer is not None
    accounts = await bank.list_accounts(customer.customer_id)
    checking = next(a for a in accounts if a.get("accountType") == "CHECKING")
    return customer.customer_id, checking["accountId"]


async def set_up(bank: BankAdapter) -> tuple[str, str]:
    """The benchmarked account; the HTTP adapter's pool is closed again, since it belongs to
    this loop and the server runs another."""
    try:
        return await first_account(bank)
    finally:
        if isinstance(bank, HttpBank):
            await bank.aclose()


def bare_app(bank: SandboxBank, customer_id: str) -> Starlette:
    """The floor: the same data, the same page, the same encoder, and nothing else."""

    async def transactions(request: Request) -> Response:
        q = request.query_params
        win = Window(
            datetime.fromisoformat(q["startTime"]).date(),
            datetime.fromisoformat(q["endTime"]).date(),
        )
        page = await bank.list_transactions(
            customer_id, request.path_params["accountId"], win, PageRequest(None, int(q["limit"]))
        )
        body: dict[str, Any] = {"page": {"totalElements": page.total}, "transactions": page.items}
        if page.next_offset is not None:
            body["page"]["nextOffset"] = page.next_offset
        return Response(orjson.dumps(body), media_type="application/json")

    return Starlette(routes=[Route("/fdx/v6/accounts/{accountId}/transactions", transactions)])


async def gateway_app(
    bank: BankAdapter, customer_id: str, account_id: str
) -> tuple[Starlette, str]:
    var = Path(tempfile.mkdtemp(prefix="fdxgw-bench-"))
    # Rate limits far above the load, so every call pays the limiter's counting but none is
    # refused (the published defaults would answer most of the load with 429).
    settings = Settings(
        database_url=f"sqlite:///{var}/gateway.db",
        var_dir=str(var),
        access_token_ttl=300,
        rate_limit_per_client=1_000_000,
        rate_limit_per_consent=1_000_000,
    )
    records = open_records(settings.database_url)
    await records.migrate()
    policy = load_policy()
    services = Services.build(
        settings,
        policy=policy,
        records=records,
        state=open_state(settings.state_url, clock=time.time),
        bank=bank,
        keys=SigningKeys.generate(),
    )
    now = time.time()
    await records.put_client(
        ClientRecord(
            client_id="bench", client_name="Bench", redirect_uris=("https://b/cb",), jwks={}
        )
    )
    clusters = tuple(policy.clusters)
    consent = Consent(
        id=str(uuid.uuid4()),
        status=ConsentStatus.ACTIVE,
        client_id="bench",
        customer_id=customer_id,
        created_at=now,
        updated_at=now,
        expires_at=now + 3600,
        duration_type=DurationType.TIME_BOUND,
        duration_period=1,
        lookback_period=365,
        resources=(ConsentResource("ACCOUNT", account_id, clusters),),
        purpose="benchmark",
        scope=tuple(policy.scopes_for(clusters)),
    )
    await records.create_consent(consent, ConsentEvent(consent.id, now, "granted", "INDIVIDUAL"))
    token, _ = services.tokens.issue(
        consent_id=consent.id,
        client_id="bench",
        sub=pairwise_subject(services.secret, customer_id, "bench"),
        scope=" ".join(consent.scope),
    )
    return create_app(settings, services=services), token


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["gateway", "bare", "core", "gateway-http"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--info", type=Path, required=True)
    parser.add_argument("--upstream", help="the core's base URL (gateway-http)")
    args = parser.parse_args()

    if args.kind == "core":
        serve_core(args.port, args.info)
        return
    bank: BankAdapter = SandboxBank()
    if args.kind == "gateway-http":
        bank = HttpBank(HttpCoreConfig(base_url=args.upstream, pool_size=64))
    customer_id, account_id = asyncio.run(set_up(bank))
    token = ""
    if args.kind == "bare":
        assert isinstance(bank, SandboxBank)
        app = bare_app(bank, customer_id)
    else:
        app, token = asyncio.run(gateway_app(bank, customer_id, account_id))
    start, end = window()
    url = (
        f"http://127.0.0.1:{args.port}/fdx/v6/accounts/{account_id}/transactions"
        f"?startTime={start}&endTime={end}&limit={LIMIT}"
    )
    args.info.write_text(json.dumps({"url": url, "token": token}), encoding="utf-8")
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, loop="uvloop", http="httptools",
        access_log=False, log_level="warning", server_header=False,
    )  # fmt: skip


def serve_core(port: int, info: Path) -> None:
    """The reference core over the sandbox bank, on uvloop like the others."""
    import uvloop
    from aiohttp import web

    async def run() -> None:
        runner = web.AppRunner(ReferenceCore(SandboxBank()).app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready = json.dumps({"url": f"http://127.0.0.1:{port}/", "token": ""})
        info.write_text(ready)  # noqa: ASYNC240 (once, at start-up)
        await asyncio.Event().wait()

    uvloop.run(run())


if __name__ == "__main__":
    main()
