"""GET /accounts/{accountId}/transactions (FDX searchForAccountTransactions)."""

from __future__ import annotations

from starlette.routing import Route

from adapters.base import Page, Transaction
from authz.services import Services
from gateway.audit import AuditLog
from gateway.dates import window
from gateway.fdx.endpoint import Call, Served, fdx_route
from gateway.pagination import envelope, page_request
from gateway.projection import project_all
from gateway.responses import fdx_json

ENDPOINT = "GET /accounts/{accountId}/transactions"
EMPTY: Page[Transaction] = Page((), total=0)  # the window lies wholly outside the look-back


async def list_transactions(call: Call) -> Served:
    ctx, services = call.ctx, call.services
    account_id = call.path["accountId"]
    clusters = ctx.require_account(account_id)
    dates = window(call.query, ctx.consent, call.today(), services.settings)
    paging = page_request(call.query, services.settings)
    page: Page[Transaction] = EMPTY
    if dates is not None:
        page = await services.bank.list_transactions(ctx.customer_id, account_id, dates, paging)
    allowed = services.policy.allowed_fields("transaction", clusters)
    items = project_all(page.items, allowed)
    body = envelope(call.request, page, "transactions", items)
    return Served(fdx_json(body), (account_id,), clusters, len(items))


def routes(services: Services, audit: AuditLog) -> list[Route]:
    path = "/accounts/{accountId}/transactions"
    return [fdx_route(path, ENDPOINT, list_transactions, services, audit)]
