"""GET /accounts/{accountId}/payment-networks (FDX getAccountPaymentNetworks): the only place an
account number leaves the gateway, and only under PAYMENT_SUPPORT (docs/fdx.md §8.16)."""

from __future__ import annotations

from starlette.routing import Route

from authz.services import Services
from gateway.audit import AuditLog
from gateway.fdx.endpoint import Call, Served, fdx_route
from gateway.pagination import envelope, page_request
from gateway.projection import project_all
from gateway.responses import fdx_json

ENDPOINT = "GET /accounts/{accountId}/payment-networks"


async def list_payment_networks(call: Call) -> Served:
    ctx, services = call.ctx, call.services
    account_id = call.path["accountId"]
    clusters = ctx.require_account(account_id)
    paging = page_request(call.query, services.settings)
    page = await services.bank.list_payment_networks(ctx.customer_id, account_id, paging)
    allowed = services.policy.allowed_fields("payment_network", clusters)
    items = project_all(page.items, allowed)
    body = envelope(call.request, page, "paymentNetworks", items)
    return Served(fdx_json(body), (account_id,), clusters, len(items))


def routes(services: Services, audit: AuditLog) -> list[Route]:
    path = "/accounts/{accountId}/payment-networks"
    return [fdx_route(path, ENDPOINT, list_payment_networks, services, audit)]
