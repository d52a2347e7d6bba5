"""GET /accounts and GET /accounts/{accountId} (FDX searchForAccounts, getAccount)."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from adapters.base import Page
from authz.services import Services
from gateway.audit import AuditLog
from gateway.errors import InsufficientScope, InvalidInput
from gateway.fdx.endpoint import Call, Served, accounts_with, fdx_route
from gateway.pagination import envelope, page_request
from gateway.projection import project
from gateway.responses import fdx_json

LIST = "GET /accounts"
ONE = "GET /accounts/{accountId}"
MAX_IDS = 100
RESULT_TYPES = ("lightweight", "details")


async def list_accounts(call: Call) -> Served:
    ctx, policy, q = call.ctx, call.services.policy, call.query
    result_type = q.get("resultType", "lightweight")
    if result_type not in RESULT_TYPES:
        raise InvalidInput("resultType must be lightweight or details")
    paging = page_request(q, call.services.settings)
    start = _index(paging.offset)
    granted = accounts_with(ctx, ctx.consent.account_ids)
    if not granted:
        raise InsufficientScope()
    wanted = set(granted)
    if "accountIds" in q:
        wanted &= _ids(q["accountIds"])  # ids outside the consent drop silently: never reveal
    lightweight = policy.allowed_fields("account", ("ACCOUNT_BASIC",))
    accounts: list[dict[str, Any]] = []
    clusters: set[str] = set()
    for account in await call.services.bank.list_accounts(ctx.customer_id):
        account_id = account.get("accountId")
        if account_id not in wanted:
            continue
        granted_here = ctx.clusters_for(account_id)
        allowed = policy.allowed_fields("account", granted_here)
        if result_type == "lightweight":
            allowed &= lightweight  # lightweight is the AccountDescriptor, never the details
        accounts.append(project(account, allowed))
        clusters |= granted_here
    shown = accounts[start : start + paging.limit]
    more = start + paging.limit < len(accounts)
    page = Page(shown, next_offset=str(start + paging.limit) if more else None, total=len(accounts))
    body = envelope(call.request, page, "accounts", list(shown))
    ids = tuple(a["accountId"] for a in shown)
    return Served(fdx_json(body), ids, frozenset(clusters), len(shown))


async def get_account(call: Call) -> Served:
    account_id = call.path["accountId"]
    clusters = call.ctx.require_account(account_id)
    account = await call.services.bank.get_account(call.ctx.customer_id, account_id)
    body = project(account, call.services.policy.allowed_fields("account", clusters))
    return Served(fdx_json(body), (account_id,), clusters, 1)


def _index(offset: str | None) -> int:
    """This endpoint pages over a list it holds, so its cursor is a position."""
    if offset is None:
        return 0
    if not offset.isdigit() or len(offset) > 6:
        raise InvalidInput("offset is not a cursor this server issued")
    return int(offset)


def _ids(raw: str) -> set[str]:
    ids = [i.strip() for i in raw.split(",") if i.strip()]
    if not ids or len(ids) > MAX_IDS or any(len(i) > 256 for i in ids):
        raise InvalidInput(f"accountIds takes 1 to {MAX_IDS} comma-separated ids")
    return set(ids)


def routes(services: Services, audit: AuditLog) -> list[Route]:
    return [
        fdx_route("/accounts", LIST, list_accounts, services, audit),
        fdx_route("/accounts/{accountId}", ONE, get_account, services, audit),
    ]
