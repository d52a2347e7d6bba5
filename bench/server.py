"""One benchmark server: the whole gateway path, or a bare Starlette endpoint, on one port.

    python -m bench.server gateway --port 8101 --info /tmp/gw.json
    python -m bench.server bare    --port 8102 --info /tmp/bare.json
    python -m bench.server core    --port 8103 --info /tmp/core.json
    python -m bench.server gateway-http --port 8104 --info /tmp/gwh.json --upstream http://127.0.0.1:8103
    python -m bench.server gateway-dpop --port 8105 --info /tmp/gwd.json --proofs 300000

Both serve ``GET …/transactions`` for the same sandbox account, window and page size, from the
same in-process SandboxBank, encoded with the same encoder (orjson), under the same uvicorn
settings. The gateway adds exactly what the product adds: token verification, the live consent
check, the consent gate, date clamping, field projection and an audit record per call. ``--info``
receives the URL and the access token (the gateway's), so the load generator can call it.

``gateway`` runs the sandbox profile with a Bearer token, so its figure stays comparable from
release to release; ``gateway-dpop`` is the product path under the fapi2 profile: a DPoP-bound
token, and ``--proofs`` fresh proofs (one per request, as a client makes them) written beside the
info file for ``bench/dpop.lua`` to send, so each call pays for a proof check and its replay-cache
entry and the load generator for nothing but reading a line.

``core`` is the reference bank core (adapters/http/reference_core.py) over the same sandbox bank,
and ``gateway-http`` the whole gateway path with the HTTP adapter in front of that core instead
of the in-process bank: the same account, window, page and body (bench/http_adapter.py).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from joserfc.jwk import ECKey, Key
from joserfc.jws import JWSRegistry
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
PROOF_WINDOW = 300  # seconds: the longest iat window the settings allow


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
    bank: BankAdapter,
    customer_id: str,
    account_id: str,
    *,
    issuer: str,
    dpop_key: Key | None = None,
) -> tuple[Starlette, str]:
    var = Path(tempfile.mkdtemp(prefix="fdxgw-bench-"))
    # Rate limits far above the load, so every call pays the limiter's counting but none is
    # refused (the published defaults would answer most of the load with 429). Proofs are made
    # before the run, so they may be as old as the longest window allows.
    settings = Settings(
        issuer=issuer,
        database_url=f"sqlite:///{var}/gateway.db",
        var_dir=str(var),
        access_token_ttl=300,
        rate_limit_per_client=1_000_000,
        rate_limit_per_consent=1_000_000,
        profile="fapi2" if dpop_key is not None else "sandbox",
        dpop_proof_window=PROOF_WINDOW,
    )
    records = open_records(settings.database_url)
    await records.schema.migrate()
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
    await records.clients.put(
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
    await records.consents.create(consent, ConsentEvent(consent.id, now, "granted", "INDIVIDUAL"))
    token, _ = services.tokens.issue(
        consent_id=consent.id,
        client_id="bench",
        sub=pairwise_subject(services.secret, customer_id, "bench"),
        scope=" ".join(consent.scope),
        jkt=None if dpop_key is None else dpop_key.thumbprint(),
    )
    return create_app(settings, services=services), token


def write_proofs(path: Path, key: Key, url: str, token: str, count: int) -> None:
    """``count`` proofs for GET ``url`` with ``token``, one a line, each with its own jti. Their
    ``iat`` is half a window ahead, so the file stays valid for one and a half windows (the
    whole benchmark) without the server's clock in the load generator's way. The header is
    encoded once and each proof signed with joserfc's ES256 directly (half the cost of
    ``jws.serialize_compact``), so 200,000 proofs take seconds, not a minute."""
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    head = _b64(orjson.dumps(header))
    es256 = JWSRegistry.algorithms["ES256"]
    ath = _b64(hashlib.sha256(token.encode()).digest()).decode()
    iat = int(time.time()) + PROOF_WINDOW // 2
    htu = url.split("?", 1)[0]
    with path.open("wb") as out:
        for n in range(count):
            jti = f"{n:x}-{uuid.uuid4().hex[:8]}"
            claims = {"jti": jti, "htm": "GET", "htu": htu, "iat": iat, "ath": ath}
            signing_input = head + b"." + _b64(orjson.dumps(claims))
            out.write(signing_input + b"." + _b64(es256.sign(signing_input, key)) + b"\n")


def _b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def main() -> None:
    parser = argparse.ArgumentParser()
    kinds = ["gateway", "bare", "core", "gateway-http", "gateway-dpop"]
    parser.add_argument("kind", choices=kinds)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--info", type=Path, required=True)
    parser.add_argument("--upstream", help="the core's base URL (gateway-http)")
    parser.add_argument("--http-options", default="{}", help="more [http] options, JSON")
    parser.add_argument("--proofs", type=int, default=200_000, help="DPoP proofs (gateway-dpop)")
    args = parser.parse_args()

    if args.kind == "core":
        serve_core(args.port, args.info)
        return
    bank: BankAdapter = SandboxBank()
    if args.kind == "gateway-http":
        options = {"base_url": args.upstream, "pool_size": 64, **json.loads(args.http_options)}
        bank = HttpBank(HttpCoreConfig.from_options(options))
    customer_id, account_id = asyncio.run(set_up(bank))
    issuer = f"http://127.0.0.1:{args.port}"
    start, end = window()
    url = (
        f"{issuer}/fdx/v6/accounts/{account_id}/transactions"
        f"?startTime={start}&endTime={end}&limit={LIMIT}"
    )
    info: dict[str, str] = {"url": url, "token": "", "scheme": "Bearer", "proofs": ""}
    if args.kind == "bare":
        assert isinstance(bank, SandboxBank)
        app = bare_app(bank, customer_id)
    else:
        key = ECKey.generate_key("P-256", private=True) if args.kind == "gateway-dpop" else None
        app, token = asyncio.run(
            gateway_app(bank, customer_id, account_id, issuer=issuer, dpop_key=key)
        )
        info["token"] = token
        if key is not None:
            proofs = args.info.with_suffix(".proofs")
            write_proofs(proofs, key, url, token, args.proofs)
            info.update(scheme="DPoP", proofs=str(proofs))
    args.info.write_text(json.dumps(info), encoding="utf-8")
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, loop="uvloop", http="httptools",
        access_log=False, log_level="warning", server_header=False,
    )  # fmt: skip


def serve_core(port: int, info: Path) -> None:
    """The reference core over the sandbox bank, on uvloop like the others. Frozen: it builds
    each answer once and then "answers at once" (docs/performance.md §5), so that its own cost,
    on the load
    generator's CPU, does not cap what the gateway in front of it can serve."""
    import uvloop
    from aiohttp import web

    async def run() -> None:
        core = ReferenceCore(SandboxBank(), frozen=True)
        runner = web.AppRunner(core.app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready = json.dumps({"url": f"http://127.0.0.1:{port}/", "token": ""})
        info.write_text(ready)  # noqa: ASYNC240 (once, at start-up)
        await asyncio.Event().wait()

    uvloop.run(run())


if __name__ == "__main__":
    main()
