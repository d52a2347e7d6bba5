"""GET /accounts/{accountId}/statements[/{statementId}] (FDX searchForAccountStatements,
getAccountStatement). A statement dated before the consent's look-back period is as good as
absent: 404/1104, whether listed or fetched by id."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Route

from adapters.base import Page, PageRequest, Statement, Window
from authz.services import Services
from gateway.audit import AuditLog
from gateway.dates import window
from gateway.errors import StatementNotFound
from gateway.fdx.endpoint import Call, Served, fdx_route
from gateway.pagination import envelope, page_request
from gateway.projection import project
from gateway.responses import NO_STORE, fdx_json

LIST = "GET /accounts/{accountId}/statements"
ONE = "GET /accounts/{accountId}/statements/{statementId}"
MAX_SCAN_PAGES = 50  # bounds the look-back check of one document request
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


async def list_statements(call: Call) -> Served:
    ctx, services = call.ctx, call.services
    account_id = call.path["accountId"]
    clusters = ctx.require_account(account_id)
    dates = window(call.query, ctx.consent, call.today(), services.settings)
    paging = page_request(call.query, services.settings)
    page: Page[Statement] = Page((), total=0)
    if dates is not None:
        page = await services.bank.list_statements(ctx.customer_id, account_id, dates, paging)
    allowed = services.policy.allowed_fields("statement", clusters)
    items = [_with_link(project(s, allowed), account_id, allowed) for s in page.items]
    body = envelope(call.request, page, "statements", items)
    return Served(fdx_json(body), (account_id,), clusters, len(items))


async def get_statement(call: Call) -> Served:
    ctx, services = call.ctx, call.services
    account_id, statement_id = call.path["accountId"], call.path["statementId"]
    clusters = ctx.require_account(account_id)
    if ctx.consent.lookback_period is not None:
        earliest = call.today() - timedelta(days=ctx.consent.lookback_period)
        await _require_within(call, account_id, statement_id, Window(earliest, call.today()))
    document = await services.bank.get_statement(ctx.customer_id, account_id, statement_id)
    name = _UNSAFE.sub("_", statement_id)[:64] or "statement"
    response = Response(document.content, media_type=document.media_type)
    response.headers["cache-control"] = NO_STORE
    response.headers["content-disposition"] = f'inline; filename="statement-{name}.pdf"'
    return Served(response, (account_id,), clusters, 1)


async def _require_within(call: Call, account_id: str, statement_id: str, dates: Window) -> None:
    """The adapter's document call knows no dates, so the look-back is checked by listing the
    statements inside it (a handful a year) and finding this one among them."""
    bank, customer_id = call.services.bank, call.ctx.customer_id
    paging = PageRequest(limit=call.services.settings.page_limit_max)
    for _ in range(MAX_SCAN_PAGES):
        page = await bank.list_statements(customer_id, account_id, dates, paging)
        for s in page.items:
            if s.get("statementId") == statement_id and _dated_within(s, dates):
                return
        if page.next_offset is None:
            break
        paging = PageRequest(offset=page.next_offset, limit=paging.limit)
    raise StatementNotFound()


def _dated_within(statement: dict[str, Any], dates: Window) -> bool:
    try:
        day = date.fromisoformat(str(statement.get("statementDate", ""))[:10])
    except ValueError:
        return False
    return dates.start <= day <= dates.end


def _with_link(
    statement: dict[str, Any], account_id: str, allowed: frozenset[str]
) -> dict[str, Any]:
    """FDX Statement.links: the HATEOASLink to the document (action GET, types application/pdf)."""
    statement_id = statement.get("statementId")
    if "links" not in allowed or not isinstance(statement_id, str):
        return statement
    href = f"/fdx/v6/accounts/{_seg(account_id)}/statements/{_seg(statement_id)}"
    out = dict(statement)
    out["links"] = [{"href": href, "action": "GET", "types": ["application/pdf"]}]
    return out


def _seg(value: str) -> str:
    return quote(value, safe="")


def routes(services: Services, audit: AuditLog) -> list[Route]:
    path = "/accounts/{accountId}/statements"
    return [
        fdx_route(path, LIST, list_statements, services, audit),
        fdx_route(path + "/{statementId}", ONE, get_statement, services, audit),
    ]
