"""Gateway instances for the benchmarks, on either engine, as one process or many.

A benchmark *prepares* a working folder once (storage, signing keys, the session secret, one
approved recipient and one ACTIVE consent on the sandbox account), then *serves* it from as many
gateway processes as it wants: every instance reads the same folder and the same storage, as the
instances of one deployment do behind a load balancer. *drop* removes what ``prepare`` made
outside the folder (the PostgreSQL database, the Redis keys).

    python -m bench.engines prepare --engine sqlite   --work DIR
    python -m bench.engines prepare --engine postgres --work DIR   # + Redis
    python -m bench.engines serve --work DIR --port 8301 --info DIR/8301.json
    python -m bench.engines drop --work DIR

Engines (README "Configuration"):

- ``sqlite``: the embedded default, ``sqlite:///DIR/gateway.db`` and ``memory://`` state;
- ``postgres``: a fresh database ``fdxgw_bench_<run>`` on 127.0.0.1:5432 and Redis on
  127.0.0.1:6379 under the key prefix ``fdxgw-bench-<run>:``, so a run never sees another's data
  (testing.md: one database and one prefix per run).

The instance is the product's: ``create_app`` over the same ``Services`` that ``build_services``
makes (stores, keys from ``DIR/var/keys``, the secret, the sandbox bank, the notifier), with only
the Redis prefix chosen here. Rate limits stay on, set far above the load, so every call pays for
its two counters (one Redis round trip on ``postgres``) but none is refused; ``--no-rate-limit``
turns them off to show their cost. The profile is ``sandbox`` (Bearer tokens), so one token
serves a whole run; ``fapi2`` (DPoP, one proof a request) is measured by bench/transactions.py.

Tokens live at most 300 s (settings), so a load generator asks ``fresh_token`` for a new one
before each run rather than reusing the one ``prepare`` wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from adapters import load_adapter
from adapters.sandbox import SandboxBank
from authz.consent.model import Consent, ConsentEvent, ConsentResource, ConsentStatus, DurationType
from authz.keys import SigningKeys
from authz.notifications import Notifier
from authz.services import Services
from authz.store import ClientRecord, StateStore, open_records, open_state
from authz.store.redis import RedisStateStore
from authz.tokens import AccessTokens, pairwise_subject
from bench.server import LIMIT, first_account
from config.policy import load_policy
from config.settings import Settings
from gateway.app import create_app, load_keys

ENGINES = ("sqlite", "postgres")
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/0"
ISSUER = "http://127.0.0.1:8300"  # one issuer for every instance of a deployment
CLIENT_ID = "bench"
BIG = 1_000_000  # rate limit far above any load: counted, never refused
SETUP = "setup.json"
# 180 days hold 136 transactions on the sandbox account: a full page of 100 and a next page.
DAYS = 180


@dataclass(frozen=True)
class Setup:
    """What ``prepare`` wrote: where the storage is and what the benchmark reads."""

    engine: str
    work: Path
    database_url: str
    state_url: str
    prefix: str
    customer_id: str
    account_id: str
    consent_id: str
    path: str  # the benchmarked path and query, without scheme and host

    @property
    def var(self) -> Path:
        return self.work / "var"

    @classmethod
    def read(cls, work: Path) -> Setup:
        raw: dict[str, Any] = json.loads((work / SETUP).read_text(encoding="utf-8"))
        raw["work"] = Path(raw["work"])
        return cls(**raw)

    def write(self) -> None:
        raw = {**self.__dict__, "work": str(self.work)}
        (self.work / SETUP).write_text(json.dumps(raw, indent=2), encoding="utf-8")

    def settings(self, *, rate_limit: bool = True) -> Settings:
        limit = BIG if rate_limit else 0
        return Settings(
            issuer=ISSUER,
            database_url=self.database_url,
            state_url=self.state_url,
            var_dir=str(self.var),
            profile="sandbox",
            access_token_ttl=300,
            rate_limit_per_client=limit,
            rate_limit_per_consent=limit,
            database_pool_max_size=10,
        )

    def state(self) -> StateStore:
        if self.state_url.startswith("redis://"):
            return RedisStateStore(self.state_url, prefix=self.prefix)
        return open_state(self.state_url, clock=time.time)


def prepare(engine: str, work: Path) -> Setup:
    """A new deployment in ``work``: storage migrated, one recipient, one consent."""
    if engine not in ENGINES:
        raise SystemExit(f"engine: expected one of {', '.join(ENGINES)}, got {engine!r}")
    work.mkdir(parents=True, exist_ok=True)
    run = uuid.uuid4().hex[:10]
    if engine == "postgres":
        name = f"fdxgw_bench_{run}"
        _admin(f"CREATE DATABASE {name}")  # a generated identifier, not input
        database_url, state_url = f"{POSTGRES}/{name}", REDIS
    else:
        database_url, state_url = f"sqlite:///{work}/gateway.db", "memory://"
    customer_id, account_id = asyncio.run(first_account(SandboxBank()))
    start, end = window()
    setup = Setup(
        engine=engine,
        work=work,
        database_url=database_url,
        state_url=state_url,
        prefix=f"fdxgw-bench-{run}:",
        customer_id=customer_id,
        account_id=account_id,
        consent_id=str(uuid.uuid4()),
        path=f"/fdx/v6/accounts/{account_id}/transactions"
        f"?startTime={start}&endTime={end}&limit={LIMIT}",
    )
    asyncio.run(_seed(setup))
    setup.write()
    return setup


async def _seed(setup: Setup) -> None:
    records = open_records(setup.database_url)
    try:
        await records.schema.migrate()
        now = time.time()
        await records.clients.put(
            ClientRecord(
                client_id=CLIENT_ID, client_name="Bench", redirect_uris=("https://b/cb",), jwks={}
            )
        )
        policy = load_policy()
        clusters = tuple(policy.clusters)
        consent = Consent(
            id=setup.consent_id,
            status=ConsentStatus.ACTIVE,
            client_id=CLIENT_ID,
            customer_id=setup.customer_id,
            created_at=now,
            updated_at=now,
            expires_at=now + 30 * 86400,
            duration_type=DurationType.TIME_BOUND,
            duration_period=30,
            lookback_period=365,
            resources=(ConsentResource("ACCOUNT", setup.account_id, clusters),),
            purpose="benchmark",
            scope=tuple(policy.scopes_for(clusters)),
        )
        await records.consents.create(
            consent, ConsentEvent(consent.id, now, "granted", "INDIVIDUAL")
        )
    finally:
        await records.aclose()
    load_keys(setup.settings())  # made in the record store: the instances share these


def window() -> tuple[str, str]:
    today = datetime.now(UTC).date()
    return str(today - timedelta(days=DAYS)), str(today)


def fresh_token(setup: Setup) -> str:
    """A new access token for the prepared consent, signed with the deployment's key (what the
    token endpoint would answer; the FDX gate cannot tell the difference)."""
    settings = setup.settings()
    material = load_keys(settings)
    tokens = AccessTokens(
        SigningKeys(material.ring),
        issuer=settings.issuer,
        audience=settings.resource_audience,
        ttl=settings.access_token_ttl,
        clock=time.time,
    )
    policy = load_policy()
    token, _ = tokens.issue(
        consent_id=setup.consent_id,
        client_id=CLIENT_ID,
        sub=pairwise_subject(material.secret, setup.customer_id, CLIENT_ID),
        scope=" ".join(policy.scopes_for(tuple(policy.clusters))),
    )
    return token


def instance(setup: Setup, *, rate_limit: bool = True) -> Any:
    """One gateway instance over the prepared deployment, as ``build_services`` wires it."""
    settings = setup.settings(rate_limit=rate_limit)
    state = setup.state()
    material = load_keys(settings)
    services = Services.build(
        settings,
        policy=load_policy(),
        records=open_records(
            settings.database_url,
            pool_min_size=settings.database_pool_min_size,
            pool_max_size=settings.database_pool_max_size,
            timeout=settings.database_timeout,
            state=state,
        ),
        state=state,
        bank=load_adapter(settings.adapter, settings.adapter_config),
        keys=SigningKeys(material.ring),
        secret=material.secret,
    )
    services.observers.append(Notifier(services))
    return create_app(settings, services=services)


def drop(setup: Setup) -> None:
    """Remove the run's PostgreSQL database and Redis keys (the folder is the caller's)."""
    if setup.engine != "postgres":
        return
    name = setup.database_url.rsplit("/", 1)[1]
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    import redis

    client = redis.Redis.from_url(setup.state_url)
    try:
        batch = list(client.scan_iter(match=f"{setup.prefix}*", count=1000))
        for i in range(0, len(batch), 1000):
            client.delete(*batch[i : i + 1000])
    finally:
        client.close()


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(sql.encode())  # generated identifiers only, never input


def serve(setup: Setup, port: int, info: Path, *, rate_limit: bool = True) -> None:
    app = instance(setup, rate_limit=rate_limit)
    url = f"http://127.0.0.1:{port}{setup.path}"
    info.write_text(json.dumps({"url": url, "engine": setup.engine}), encoding="utf-8")
    uvicorn.run(
        app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
        access_log=False, log_level="warning", server_header=False,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--engine", choices=ENGINES, required=True)
    p.add_argument("--work", type=Path, required=True)
    s = sub.add_parser("serve")
    s.add_argument("--work", type=Path, required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--info", type=Path, required=True)
    s.add_argument("--no-rate-limit", action="store_true")
    d = sub.add_parser("drop")
    d.add_argument("--work", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "prepare":
        print(json.dumps(prepare(args.engine, args.work).__dict__, default=str, indent=2))
    elif args.command == "serve":
        serve(Setup.read(args.work), args.port, args.info, rate_limit=not args.no_rate_limit)
    else:
        drop(Setup.read(args.work))


if __name__ == "__main__":
    main()
