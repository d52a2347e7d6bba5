"""GET /accounts/{accountId}/statements[/{statementId}] (FDX searchForAccountStatements,
getAccountStatement).

A statement document shows every transaction of its period, so the look-back window must cover
the whole period, not only the statement date: a statement whose period starts before the
window is as good as absent (not listed; 404/1104 when fetched by id). An adapter may say where a
period starts with a ``periodStartDate`` (YYYY-MM-DD; never released, it is in no cluster);
otherwise the period is taken to be the PERIOD_DAYS before the statement date.
"""

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
PERIOD_DAYS = 31  # a monthly statement's longest period, when the adapter does not say
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
    earliest = _earliest(call)
    items = [
        _with_link(project(s, allowed), account_id, allowed)
        for s in page.items
        if earliest is None or _period_within(s, earliest)
    ]
    body = envelope(call.request, page, "statements", items)
    return Served(fdx_json(body), (account_id,), clusters, len(items))


async def get_statement(call: Call) -> Served:
    ctx, services = call.ctx, call.services
    account_id, statement_id = call.path["accountId"], call.path["statementId"]
    clusters = ctx.require_account(account_id)
    earliest = _earliest(call)
    if earliest is not None:
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
            if s.get("statementId") == statement_id and _period_within(s, dates.start):
                return
        if page.next_offset is None:
            break
        paging = PageRequest(offset=page.next_offset, limit=paging.limit)
    raise StatementNotFound()


def _earliest(call: Call) -> date | None:
    lookback = call.ctx.consent.lookback_period
    return None if lookback is None else call.today() - timedelta(days=lookback)


def _period_within(statement: dict[str, Any], earliest: date) -> bool:
    """True when the statement's whole period starts on or after ``earliest``."""
    try:
        day = date.fromisoformat(str(statement.get("statementDate", ""))[:10])
        given = statement.get("periodStartDate")
        start = date.fromisoformat(str(given)[:10]) if given else day - timedelta(PERIOD_DAYS)
    except ValueError:
        return False  # an undated statement cannot be shown to lie inside the window
    return start >= earliest


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
