"""One FDX operation as an ASGI endpoint: method check, gate, handler, audit, error rendering.

Every operation runs the same steps in the same order, so none can forget one::

    GET only → authorize (token, revoked jti, live consent, rate limit) → handler → audit
    → response

The handler parses, calls the adapter once, projects and says what it served; it never builds an
error response (errors.py does) and never writes the audit (this module does, for success and for
denials after a valid token alike).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from authz.services import Services
from gateway.access import ACCESS_SCOPE_KEY, AccessContext, authorize
from gateway.audit import AuditLog
from gateway.errors import InsufficientScope, MethodNotAllowed, render
from gateway.query import Query, read_query
from gateway.ratelimit import RateLimiter

log = logging.getLogger("gateway.fdx")


@dataclass(frozen=True, slots=True)
class Served:
    """A handler's answer: the response and what it disclosed, for the audit."""

    response: Response
    account_ids: tuple[str, ...]
    clusters: frozenset[str]
    count: int


@dataclass(frozen=True, slots=True)
class Call:
    """What a handler gets: the request, its parsed query, the gate's verdict and the services."""

    request: Request
    query: Query
    ctx: AccessContext
    services: Services
    path: dict[str, str] = field(default_factory=dict)

    def today(self) -> date:
        return datetime.fromtimestamp(self.services.clock(), UTC).date()

    def earliest(self) -> date | None:
        """The first day the consent's look-back reaches (None: no limit), measured from
        request time (docs/fdx.md §4)."""
        lookback = self.ctx.consent.lookback_period
        return None if lookback is None else self.today() - timedelta(days=lookback)

    def customer_scope(self) -> tuple[tuple[str, ...], frozenset[str]]:
        """For a customer-level operation (no account in its path): the consented accounts on
        which a cluster opening it is granted, and those clusters; 403/602 if there are none."""
        accounts = accounts_with(self.ctx, self.ctx.consent.account_ids)
        if not accounts:
            raise InsufficientScope()
        return accounts, frozenset(c for a in accounts for c in self.ctx.clusters_for(a))


Handler = Callable[[Call], Awaitable[Served]]


class FdxEndpoint:
    def __init__(self, endpoint: str, handler: Handler, services: Services, audit: AuditLog):
        self.endpoint = endpoint  # "GET /accounts/{accountId}" as in config/clusters.toml
        self.handler = handler
        self.services = services
        self.audit = audit
        self.limiter = RateLimiter.from_settings(services.state, services.settings, services.clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.respond(request)
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        try:
            if request.method != "GET":
                raise MethodNotAllowed()
            # Counted beside the gate's reads, judged after them: limits are per recipient and
            # consent, and a 429 is audited against the consent like any refusal.
            ctx = await authorize(request, self.services, self.endpoint, self.limiter)
            call = Call(request, read_query(request), ctx, self.services, request.path_params)
            served = await self.handler(call)
            # Recorded before the data leaves: an access that cannot be audited is not served.
            await self.audit.record(
                ctx,
                self.endpoint,
                served.account_ids,
                served.clusters,
                served.count,
                served.response.status_code,
            )
        except Exception as exc:
            response = render(request, exc)
            await self._audit_denial(request, response.status_code)
            return response
        return served.response

    async def _audit_denial(self, request: Request, status: int) -> None:
        ctx = request.scope.get(ACCESS_SCOPE_KEY)
        if not isinstance(ctx, AccessContext):
            return  # no valid token: nothing to attribute the attempt to
        account_id = request.path_params.get("accountId")
        # An id outside the consent is the recipient's input, not the consumer's data: keep it
        # out of the consumer's access log.
        accounts = (account_id,) if account_id in ctx.consent.account_ids else ()
        try:
            await self.audit.record(ctx, self.endpoint, accounts, (), 0, status)
        except Exception:
            log.exception("fdx.audit_failed interaction_id=%s", ctx.interaction_id)


def fdx_route(
    path: str, endpoint: str, handler: Handler, services: Services, audit: AuditLog
) -> Route:
    # An ASGI endpoint is given every method, so a wrong one gets FDX 405/1206, not Starlette's.
    return Route(path, FdxEndpoint(endpoint, handler, services, audit))


def accounts_with(ctx: AccessContext, ids: Iterable[str]) -> tuple[str, ...]:
    """Of ``ids``, those on which the consent grants a cluster opening the endpoint."""
    return tuple(a for a in ids if ctx.clusters_for(a))


__all__ = ["Call", "FdxEndpoint", "Handler", "Served", "accounts_with", "fdx_route"]
