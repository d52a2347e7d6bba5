"""The recipient confirms it deleted a consumer's data (our extension of the FDX Consent API)::

    PUT /consents/{consentId}/deletion   → 204 (no body); idempotent

When consumers stop sharing they may ask the app to delete the data it already has; the signed
``CONSENT_REVOKED`` notification then carries a ``deletionRequest`` link to this path
(``authz.notifications.message``). The recipient calls it once the data is gone. Same
authorization as the Consent API (a client-credentials token with ``fdx:consents:manage``);
another recipient's consent, an unknown id and a refused one get 404/1107, indistinguishably.
Confirming again changes nothing (the first confirmation's time stays). A confirmation without
a request is recorded too: the consumer is shown that the app deleted the data.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from authz.access_tokens import AccessClaims
from authz.consent.model import Consent
from authz.notices.store import DeletionRequest
from authz.services import Services
from gateway.fdx.consents import ConsentEndpoint
from gateway.responses import NO_STORE


async def confirm(
    request: Request, services: Services, claims: AccessClaims, consent: Consent
) -> Response:
    deletions = services.notices.deletions
    now = services.clock()
    if await deletions.confirm(consent.id, now) is None:
        asked = DeletionRequest(consent.id, consent.client_id, consent.customer_id, asked_at=now)
        await deletions.ask(asked)
        await deletions.confirm(consent.id, now)
    return Response(status_code=204, headers={"cache-control": NO_STORE})


def routes(services: Services) -> list[BaseRoute]:
    return [Route("/consents/{consentId}/deletion", ConsentEndpoint(services, {"PUT": confirm}))]


__all__ = ["routes"]
