"""GET /accounts/{accountId}/contact (FDX getAccountContact): the holders, emails, addresses and
telephones of an account, under CUSTOMER_CONTACT."""

from __future__ import annotations

from starlette.routing import Route

from authz.services import Services
from gateway.audit import AuditLog
from gateway.fdx.endpoint import Call, Served, fdx_route
from gateway.projection import project_contact
from gateway.responses import fdx_json

ENDPOINT = "GET /accounts/{accountId}/contact"


async def get_contact(call: Call) -> Served:
    ctx, policy = call.ctx, call.services.policy
    account_id = call.path["accountId"]
    clusters = ctx.require_account(account_id)
    contact = await call.services.bank.get_contact(ctx.customer_id, account_id)
    body = project_contact(
        contact,
        policy.allowed_fields("contact", clusters),
        policy.allowed_fields("holder", clusters),
    )
    return Served(fdx_json(body), (account_id,), clusters, 1)


def routes(services: Services, audit: AuditLog) -> list[Route]:
    return [fdx_route("/accounts/{accountId}/contact", ENDPOINT, get_contact, services, audit)]
