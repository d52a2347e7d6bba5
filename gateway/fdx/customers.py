"""GET /customers/current (FDX getCustomerInfo): the signed-in customer, with the fields of the
CUSTOMER_CONTACT and CUSTOMER_PERSONAL clusters granted on any consented account, and only the
consented accounts in ``accounts[]``."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from authz.services import Services
from gateway.audit import AuditLog
from gateway.errors import InsufficientScope
from gateway.fdx.endpoint import Call, Served, accounts_with, fdx_route
from gateway.projection import project
from gateway.responses import fdx_json

ENDPOINT = "GET /customers/current"


async def get_current(call: Call) -> Served:
    ctx = call.ctx
    accounts = accounts_with(ctx, ctx.consent.account_ids)
    if not accounts:
        raise InsufficientScope()
    clusters = frozenset(c for a in accounts for c in ctx.clusters_for(a))
    info = await call.services.bank.get_customer_info(ctx.customer_id)
    body = dict(project(info, call.services.policy.allowed_fields("customer", clusters)))
    if "customerId" in body:
        # The bank's own id would let two recipients correlate one consumer: each recipient sees
        # the pairwise subject of its token instead (OIDC Core §8.1; the same value as `sub`).
        body["customerId"] = ctx.claims.sub
    if isinstance(body.get("accounts"), list):
        consented = set(ctx.consent.account_ids)
        body["accounts"] = [a for a in body["accounts"] if _account_id(a) in consented]
    return Served(fdx_json(body), accounts, clusters, 1)


def _account_id(relationship: Any) -> Any:
    return relationship.get("accountId") if isinstance(relationship, dict) else None


def routes(services: Services, audit: AuditLog) -> list[Route]:
    return [fdx_route("/customers/current", ENDPOINT, get_current, services, audit)]
