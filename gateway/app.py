"""The composition root: ``create_app`` wires settings, stores, keys, the bank and every route.

This is the only place where parts are chosen and connected. Tests call ``create_app`` with
their own ``Services``; ``fdxgw serve`` (and ``uvicorn --factory gateway.app:from_environment``)
build everything from the settings.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from adapters import load_adapter
from authz import keyring, screens
from authz.endpoints import oauth_routes
from authz.errors import OAuth2Error, handle_oauth_error
from authz.kek import kek_from_settings
from authz.keyfiles import passphrase_setting
from authz.keys import SigningKeys
from authz.notices.notices import Notices
from authz.notices.store import open_notice_records
from authz.notifications import Notifier
from authz.screens import portal
from authz.services import Clock, Services
from authz.store import RecordsUnavailable, SchemaError, open_records, open_state
from authz.subscriptions import open_subscriptions
from config.policy import load_policy
from config.settings import Settings
from gateway import fdx
from gateway.admin import AdminToken, admin_routes
from gateway.areas import AreaAnswers
from gateway.budget import within_budget
from gateway.errors import fdx_exception_handlers
from gateway.fdx.dispatch import FdxDispatcher
from gateway.fdx.meta import load_windows
from gateway.head_limits import HeadLimitMiddleware, within_limits
from gateway.health import AdapterProbe, health_routes
from gateway.management import NOT_FOUND, served_here
from gateway.metrics import Metrics, MetricsMiddleware, measure, metrics_route
from gateway.middleware import InteractionIdMiddleware
from gateway.openapi.routes import docs_route
from gateway.outage import outage_handlers
from gateway.worker_metrics import WorkerFiles


def create_app(
    settings: Settings, *, services: Services | None = None, metrics_dir: str | None = None
) -> Gateway:
    """The app; ``metrics_dir``: this is one of ``fdxgw serve --workers``' processes, and
    ``/metrics`` sums every worker's files there (gateway/worker_metrics.py)."""
    services = services or build_services(settings)
    # Operator tools (docs/operations.md): the adapter measured from outside, its health probe,
    # the admin credential.
    metrics = Metrics(shared=WorkerFiles(metrics_dir) if metrics_dir else None)
    windows = load_windows(services.settings.maintenance_file)
    rates = fdx.response_rates(services, windows)
    # Every adapter call within adapter_timeout (gateway/budget.py), then measured.
    bank = within_budget(services.bank, services.settings.adapter_timeout)
    services = replace(services, bank=measure(bank, metrics))
    probe = AdapterProbe(
        services.bank,
        timeout=services.settings.adapter_probe_timeout,
        ttl=services.settings.adapter_probe_ttl,
    )
    admin_file = services.settings.admin_token_file
    admin_token = AdminToken(Path(admin_file) if admin_file else None)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # A gateway never starts on a schema it does not know (`fdxgw init` migrates).
        await services.records.schema.check()
        await services.subscriptions.migrate()  # its own table, created if missing
        # Everything built so far (policy, keys, the bank's reference data) lives as long as the
        # process: move it out of the collector's sight, so full collections stay short and do
        # not stall requests for tens of milliseconds (the p99 on the benchmark).
        gc.collect()
        gc.freeze()
        try:
            async with AsyncExitStack() as background:
                # Notification delivery and the sweeper run beside the app, off the request path.
                for observer in services.observers:
                    if isinstance(observer, Notifier | Notices):
                        await background.enter_async_context(observer.running())
                if metrics.shared is not None:
                    await background.enter_async_context(_flushing(metrics))
                if services.settings.database_url != "memory://":  # keys shared: follow them
                    await background.enter_async_context(_key_reloader(services).running())
                yield
        finally:
            await services.notices.aclose()
            await services.bank.aclose()
            if services.bank_login is not None:
                await services.bank_login.aclose()
            await services.state.aclose()
            await services.subscriptions.aclose()
            await services.records.aclose()

    async def index(request: Request) -> JSONResponse:
        issuer = services.settings.issuer
        return JSONResponse(
            {
                "issuer": issuer,
                "metadata": f"{issuer}/.well-known/oauth-authorization-server",
                "fdx": f"{issuer}/fdx/v6",
            }
        )

    fdx_routes = fdx.routes(services, probe=probe, windows=windows, rates=rates)
    fdx_middleware = services.senders.resource_middleware()  # DPoP-Nonce, when required
    routes: list[BaseRoute] = [
        # The FDX API first: Starlette matches routes in order, and this is the hot path.
        Mount("/fdx/v6", routes=fdx_routes, middleware=fdx_middleware),
        *fdx.version_routes(),
        *oauth_routes(services),
        *screens.routes(services),
        *portal.routes(services),
        Route("/", index, methods=["GET"]),
        *health_routes(services, probe),
        metrics_route(
            metrics,
            services,
            rates,
            probe,
            token=admin_token if services.settings.metrics_require_admin else None,
        ),
        *admin_routes(services, admin_token),
        docs_route(services.settings),
    ]
    # The data operations skip the stack below (gateway/fdx/dispatch.py): the same checks, the
    # same middleware work, in one layer.
    answers = AreaAnswers(services.settings)
    dispatcher = FdxDispatcher(
        fdx_routes,
        metrics=metrics,
        hsts=services.settings.secure_cookies,
        middleware=fdx_middleware,
    )
    return Gateway(
        dispatcher,
        management_port=services.settings.management_port,
        routes=routes,
        middleware=[
            Middleware(MetricsMiddleware, metrics=metrics),
            Middleware(InteractionIdMiddleware, hsts=services.settings.secure_cookies),
            # 431 for a head past the limits, in the path's protocol (gateway/head_limits.py).
            Middleware(HeadLimitMiddleware, answers=answers),
        ],
        exception_handlers={
            **fdx_exception_handlers,
            # No route (404, 405) and the last resort (500), in each path's protocol.
            **answers.handlers(),
            OAuth2Error: handle_oauth_error,
            # Redis or PostgreSQL away: 503 in each path's protocol (gateway/outage.py).
            **outage_handlers(services.settings),
        },
        lifespan=lifespan,
    )


class Gateway(Starlette):
    """The app: Starlette, except that an FDX data operation is served by ``FdxDispatcher``
    before Starlette's middleware stack and router see it, and that with a management port the
    operator's paths are answered there and only there (gateway/management.py)."""

    def __init__(
        self, fdx_dispatcher: FdxDispatcher, *, management_port: int = 0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.fdx_dispatcher = fdx_dispatcher
        self.management_port = management_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self.management_port and not served_here(scope, self.management_port):
                await NOT_FOUND(scope, receive, send)
                return
        # A head past the limits is left to HeadLimitMiddleware, inside Starlette's stack.
        if scope["type"] == "http" and within_limits(scope["headers"]):
            hit = self.fdx_dispatcher.match(scope)
            if hit is not None:
                scope["app"] = self
                await self.fdx_dispatcher.serve(*hit, scope, receive, send)
                return
        await super().__call__(scope, receive, send)


@asynccontextmanager
async def _flushing(metrics: Metrics, every: float = 1.0) -> AsyncIterator[None]:
    """This worker's totals into the shared files every second, so a scrape answered by
    another worker is at most that stale; and once more, then marked dead, at shutdown."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            metrics.flush()

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        metrics.flush()
        if metrics.shared is not None:
            metrics.shared.close()


def build_services(settings: Settings, *, clock: Clock = time.time) -> Services:
    """Everything the settings name: stores, keys, the session secret and the bank adapter."""
    state = open_state(settings.state_url, clock=clock, prefix=settings.redis_prefix)
    material = load_keys(settings, clock=clock)
    services = Services.build(
        settings,
        policy=load_policy(),
        records=open_records(
            settings.database_url,
            clock=clock,
            pool_min_size=settings.database_pool_min_size,
            pool_max_size=settings.database_pool_max_size,
            timeout=settings.database_timeout,
            state=state,  # shared: record writes stamp it, the gate's cache trusts it
        ),
        state=state,
        subscriptions=open_subscriptions(settings.database_url),
        bank=load_adapter(settings.adapter, settings.adapter_config),
        keys=SigningKeys(material.ring, clock=clock),
        secret=material.secret,
        notices=open_notice_records(settings.database_url),
        clock=clock,
    )
    services.observers.append(Notifier(services))  # signed consent notices to recipients
    add_notices(services)  # notices to consumers: the portal's inbox, and email with smtp_url
    return services


def add_notices(services: Services) -> Notices:
    """Consumers told of their sharing (authz/notices): a consent and a recipient observer."""
    notices = Notices(services)
    services.observers.append(notices)
    services.recipient_observers.append(notices)
    return notices


def load_keys(settings: Settings, *, clock: Clock = time.time) -> keyring.KeyMaterial:
    """The signing keys and the session secret from the record store, made (or moved there from
    an earlier release's ``var_dir`` files) on a first start. Raises SchemaError before the
    schema is migrated, KeyringError or KekError when the KEK cannot open them.

    The store is async and this is called both outside an event loop (``fdxgw serve``) and
    inside one (the ``uvicorn --factory`` entry point), so it runs on a thread of its own with a
    record store of its own, closed when done."""
    kek = kek_from_settings(settings.key_encryption_key_file, settings.key_encryption_key)

    async def load() -> keyring.KeyMaterial:
        records = open_records(
            settings.database_url, pool_min_size=1, timeout=settings.database_timeout
        )
        try:
            await records.schema.check()
            return await keyring.open_keys(
                records.secrets,
                kek,
                now=clock(),
                legacy=settings.var_path,
                passphrase=passphrase_setting(settings.keys_passphrase_file),
            )
        finally:
            await records.aclose()

    with ThreadPoolExecutor(1, thread_name_prefix="keys-load") as pool:
        return pool.submit(asyncio.run, load()).result()


def _key_reloader(services: Services) -> keyring.Reloader:
    settings = services.settings
    kek = kek_from_settings(settings.key_encryption_key_file, settings.key_encryption_key)
    return keyring.Reloader(
        services.keys, services.records.secrets, kek, interval=settings.key_reload_interval
    )


def from_environment() -> Starlette:
    """``uvicorn --factory gateway.app:from_environment``: settings read once, here. What
    stops ``fdxgw serve`` (a schema not migrated, keys this KEK cannot open) stops this too,
    with the same one line and no traceback."""
    settings = Settings.load()
    try:
        return create_app(settings)
    except (SchemaError, RecordsUnavailable, ValueError, OSError) as exc:
        print(f"fdxgw: cannot start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
