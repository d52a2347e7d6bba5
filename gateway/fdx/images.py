"""IMAGES: ``GET /accounts/{accountId}/transaction-images/{imageId}`` (FDX
getAccountTransactionImages): a check or receipt image, by an id from a transaction's
``imageIds``.

The account must be consented with IMAGES (404/701 outside the consent, 403/602 without the
cluster), and the image's transaction must be dated inside the look-back window: an older one is
as absent as an unknown id (404/1103). The bytes go out as the bank stored them, never cached.
"""

from __future__ import annotations

import re

from starlette.responses import Response
from starlette.routing import Route

from adapters import capability
from authz.services import Services
from gateway.audit import AuditLog
from gateway.errors import ImageNotFound
from gateway.fdx.endpoint import Call, Served, fdx_route
from gateway.negotiation import negotiate
from gateway.responses import NO_STORE

ENDPOINT = "GET /accounts/{accountId}/transaction-images/{imageId}"
# The types FDX 6.2 lists for this operation's 200.
MEDIA_TYPES = ("image/png", "image/tiff", "image/jpeg", "image/gif", "application/pdf")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


async def get_image(call: Call) -> Served:
    ctx = call.ctx
    account_id, image_id = call.path["accountId"], call.path["imageId"]
    clusters = ctx.require_account(account_id)
    bank = capability.images(call.services.bank)
    image = await bank.get_transaction_image(ctx.customer_id, account_id, image_id)
    earliest = call.earliest()
    if earliest is not None and image.transaction_date < earliest:
        raise ImageNotFound()
    if image.media_type not in MEDIA_TYPES:
        raise ImageNotFound("the bank holds this image in a type FDX does not define")
    negotiate(call.request, (image.media_type,))  # 406/1203 if the client cannot take it
    response = Response(image.content, media_type=image.media_type)
    response.headers["cache-control"] = NO_STORE
    name = _UNSAFE.sub("_", image_id)[:64] or "image"
    response.headers["content-disposition"] = f'inline; filename="{name}"'
    return Served(response, (account_id,), clusters, 1)


def routes(services: Services, audit: AuditLog) -> list[Route]:
    path = "/accounts/{accountId}/transaction-images/{imageId}"
    return [fdx_route(path, ENDPOINT, get_image, services, audit)]
