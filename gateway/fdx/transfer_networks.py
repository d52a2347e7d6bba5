"""``GET /accounts/{accountId}/asset-transfer-networks`` (FDX getAccountAssetTransferNetworks):
the coordinates for moving securities to another firm (ACATS, DTC, ATON), under PAYMENT_SUPPORT
like the account's payment networks, since both carry the full account number."""

from __future__ import annotations

from starlette.routing import Route

from adapters import capability
from authz.services import Services
from gateway.audit import AuditLog
from gateway.fdx.endpoint import Call, Served, fdx_route
from gateway.projection import project_all
from gateway.responses import fdx_json

ENDPOINT = "GET /accounts/{accountId}/asset-transfer-networks"


async def list_asset_transfer_networks(call: Call) -> Served:
    ctx, services = call.ctx, call.services
    account_id = call.path["accountId"]
    clusters = ctx.require_account(account_id)
    bank = capability.transfer_networks(services.bank)
    networks = await bank.list_asset_transfer_networks(ctx.customer_id, account_id)
    allowed = services.policy.allowed_fields("asset_transfer_network", clusters)
    items = project_all(networks, allowed)
    return Served(fdx_json({"assetTransferNetworks": items}), (account_id,), clusters, len(items))


def routes(services: Services, audit: AuditLog) -> list[Route]:
    path = "/accounts/{accountId}/asset-transfer-networks"
    return [fdx_route(path, ENDPOINT, list_asset_transfer_networks, services, audit)]
