"""The composition root's second half: ``create_app`` puts the app together over ``Services``.

``gateway.services.build_services`` chooses and builds the parts the settings name (stores,
keys, the bank, the notifier); this module connects them: the routes, the middleware, the error
handlers and the lifespan (start-up checks, background work, closing), each a small function.
Nothing else in the code base chooses or connects parts. Tests call ``create_app`` with their
own ``Services``; ``fdxgw serve`` (and ``uvicorn --factory gateway.app:from_environment``) build
everything from the settings.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from authz import screens
from authz.endpoints import oauth_routes
from authz.errors import OAuth2Error, handle_oauth_error
from authz.notices.notices import Notices
from authz.notifications import Notifier, Sweeper
from authz.screens import portal
from authz.services import Services
from authz.store import RecordsUnavailable, SchemaError
from config.settings import Settings
from gateway import fdx
from gateway.admin import AdminToken, admin_routes
from gateway.areas import AreaAnswers
from gateway.budget import within_budget
from gateway.errors import ExceptionHandler, fdx_exception_handlers
from gateway.fdx.dispatch import FdxDispatcher
from gateway.fdx.meta import load_windows
from gateway.head_limits import HeadLimitMiddleware, within_limits
from gateway.health import AdapterProbe, health_routes
from gateway.management import NOT_FOUND, served_here
from gateway.metrics import Metrics, MetricsMiddleware, measure, metrics_route
from gateway.middleware import InteractionIdMiddleware
from gateway.openapi.routes import docs_route
from gateway.outage import outage_handlers
from gateway.response_rate import ResponseRates
from gateway.services import build_services, key_reloader
from gateway.worker_metrics import WorkerFiles


def create_app(
    settings: Settings, *, services: Services | None = None, metrics_dir: str | None = None
) -> Gateway:
    """The app over ``services`` (built from ``settings`` when not given): the operator's tools
    around the bank, then the routes, the middleware, the error handlers and the lifespan.
    ``metrics_dir``: this is one of ``fdxgw serve --workers``' processes, and ``/metrics`` sums
    every worker's files there (gateway/worker_metrics.py)."""
    services = services or build_services(settings)
    # Operator tools (docs/operations.md): the adapter measured from outside, its health probe,
    # the admin credential.
    metrics = Metrics(shared=WorkerFiles(metrics_dir) if metrics_dir else None)
    windows = load_windows(services.settings.maintenance_file)
    rates = fdx.response_rates(services, windows)
    services = _measured_bank(services, metrics)
    probe = AdapterProbe(
        services.bank,
        timeout=services.settings.adapter_probe_timeout,
        ttl=services.settings.adapter_probe_ttl,
    )
    admin_file = services.settings.admin_token_file
    admin_token = AdminToken(Path(admin_file) if admin_file else None)
    fdx_routes = fdx.routes(services, probe=probe, windows=windows, rates=rates)
    fdx_middleware = services.senders.resource_middleware()  # DPoP-Nonce, when required
    answers = AreaAnswers(services.settings)  # in each path's protocol: FDX, OAuth, HTML
    # The data operations skip the stack below (gateway/fdx/dispatch.py): the same checks, the
    # same middleware work, in one layer.
    dispatcher = FdxDispatcher(
        fdx_routes,
        metrics=metrics,
        hsts=services.settings.secure_cookies,
        middleware=fdx_middleware,
    )
    return Gateway(
        dispatcher,
        management_port=services.settings.management_port,
        routes=[
            # The FDX API first: Starlette matches routes in order, and this is the hot path.
            Mount("/fdx/v6", routes=fdx_routes, middleware=fdx_middleware),
            *_routes(services, probe, metrics, rates, admin_token),
        ],
        middleware=_middleware(services.settings, metrics, answers),
        exception_handlers=_exception_handlers(services.settings, answers),
        lifespan=_lifespan(services, metrics),
    )


def _measured_bank(services: Services, metrics: Metrics) -> Services:
    """Every adapter call within adapter_timeout (gateway/budget.py), then measured."""
    bank = within_budget(services.bank, services.settings.adapter_timeout)
    return replace(services, bank=measure(bank, metrics))


def _routes(
    services: Services,
    probe: AdapterProbe,
    metrics: Metrics,
    rates: ResponseRates,
    admin_token: AdminToken,
) -> list[BaseRoute]:
    """Everything but the FDX data API: OAuth, the screens, the portal, the operator's paths."""
    settings = services.settings
    return [
        *fdx.version_routes(),
        *oauth_routes(services),
        *screens.routes(services),
        *portal.routes(services),
        Route("/", _index(settings.issuer), methods=["GET"]),
        *health_routes(services, probe),
        metrics_route(
            metrics,
            services,
            rates,
            probe,
            token=admin_token if settings.metrics_require_admin else None,
        ),
        *admin_routes(services, admin_token),
        docs_route(settings),
    ]


def _index(issuer: str) -> Callable[[Request], Awaitable[JSONResponse]]:
    """GET /: where the metadata and the FDX API are."""
    body = {
        "issuer": issuer,
        "metadata": f"{issuer}/.well-known/oauth-authorization-server",
        "fdx": f"{issuer}/fdx/v6",
    }

    async def index(request: Request) -> JSONResponse:
        return JSONResponse(body)

    return index


def _middleware(settings: Settings, metrics: Metrics, answers: AreaAnswers) -> list[Middleware]:
    return [
        Middleware(MetricsMiddleware, metrics=metrics),
        Middleware(InteractionIdMiddleware, hsts=settings.secure_cookies),
        # 431 for a head past the limits, in the path's protocol (gateway/head_limits.py).
        Middleware(HeadLimitMiddleware, answers=answers),
    ]


def _exception_handlers(settings: Settings, answers: AreaAnswers) -> dict[Any, ExceptionHandler]:
    return {
        **fdx_exception_handlers,
        # No route (404, 405) and the last resort (500), in each path's protocol.
        **answers.handlers(),
        OAuth2Error: handle_oauth_error,
        # Redis or PostgreSQL away: 503 in each path's protocol (gateway/outage.py).
        **outage_handlers(settings),
    }


def _lifespan(
    services: Services, metrics: Metrics
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """Start-up checks, the background work beside the app, and every store closed at the end."""

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
                await _start_background(services, metrics, background)
                yield
        finally:
            await _close(services)

    return lifespan


async def _start_background(
    services: Services, metrics: Metrics, background: AsyncExitStack
) -> None:
    """Notification delivery and the sweeper run beside the app, off the request path; the
    sweeper queues its reminders through the Notifier's enqueue. A worker of several flushes
    its metrics to the shared files. With shared keys, a reloader follows the ones other
    instances rotate."""
    for observer in services.observers:
        if isinstance(observer, Notifier):
            await background.enter_async_context(observer.running())
            sweeper = Sweeper(services, observer.enqueue)
            await background.enter_async_context(sweeper.running())
        elif isinstance(observer, Notices):  # the consumers' notices: inbox, email, reminders
            await background.enter_async_context(observer.running())
    if metrics.shared is not None:
        await background.enter_async_context(_flushing(metrics))
    if services.settings.database_url != "memory://":  # keys shared: follow them
        await background.enter_async_context(key_reloader(services).running())


async def _close(services: Services) -> None:
    await services.notices.aclose()
    await services.bank.aclose()
    if services.bank_login is not None:
        await services.bank_login.aclose()
    await services.state.aclose()
    await services.subscriptions.aclose()
    await services.records.aclose()


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
