"""The FDX Consent API for recipients (FDX 6.2 "User Consent", docs/fdx.md §4)::

    GET /consents/{consentId}              → 200 ConsentGrant
    PUT /consents/{consentId}/revocation   → 204; 409 when already revoked or expired
    GET /consents/{consentId}/revocation   → 200 ConsentRevocationList

Authorised by a client-credentials token of the recipient with ``fdx:consents:manage``
(``gateway.access.authorize_client``); a data-access token gets 403. A recipient sees only its own
consents: another recipient's, an unknown id and a consent the consumer refused (DENIED, never a
grant) all get the same 404/1107, the spec's example for these paths, so none can be probed.

These calls read and end consents, not customer data: they are not written to the data-access
audit. A revocation is recorded in the consent's own history (actor DATA_RECIPIENT, the
initiator named in the body) by ``authz.consent.lifecycle``, which also kills the refresh tokens
and tells the observers; the recipient's next FDX data call is refused (401/602).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from authz.consent import lifecycle
from authz.consent.model import Consent, ConsentStatus
from authz.services import Services
from authz.store.base import ClientRecord
from authz.tokens import AccessClaims
from gateway.access import authorize_client
from gateway.errors import FdxError, InvalidInput, MethodNotAllowed, NotFound, render
from gateway.responses import NO_STORE, fdx_json

REGISTRIES = frozenset({"FDX", "GLEIF", "ICANN", "PRIVATE"})  # FDX Registry enum
REASONS = frozenset({lifecycle.USER_ACTION, lifecycle.BUSINESS_RULE})  # ConsentUpdateReason
MAX_ID_CHARS = 256  # FDX consentId maxLength


class ConsentConflict(FdxError):
    """FDX 6.2 PUT /consents/{consentId}/revocation: 409 "Conflict with current state of target
    resource", code "409" in the spec's example: the consent is already revoked or expired."""

    code, status, message = "409", 409, "Conflict with current state of target resource"


Operation = Callable[[Request, Services, AccessClaims, Consent], Awaitable[Response]]


class ConsentEndpoint:
    """One Consent API path: method → operation; the gate and the ownership check run first."""

    def __init__(self, services: Services, operations: dict[str, Operation]) -> None:
        self.services = services
        self.operations = operations
        self.allow = ", ".join(operations)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            operation = self.operations.get(request.method)
            if operation is None:
                error = MethodNotAllowed()
                error.headers["Allow"] = self.allow
                raise error
            claims = await authorize_client(request, self.services)
            consent = await _own_consent(self.services, claims, request.path_params["consentId"])
            response = await operation(request, self.services, claims, consent)
        except Exception as exc:
            response = render(request, exc)
        await response(scope, receive, send)


async def get_consent(
    request: Request, services: Services, claims: AccessClaims, consent: Consent
) -> Response:
    client = await services.records.clients.get(consent.client_id)
    return fdx_json(consent.to_fdx(parties(client, consent, services)))


async def revoke(
    request: Request, services: Services, claims: AccessClaims, consent: Consent
) -> Response:
    reason, initiator = await _revocation_request(request, services.settings.max_body_bytes)
    if consent.status is not ConsentStatus.ACTIVE:
        raise ConsentConflict(f"the consent is already {consent.status.value}")
    try:
        ended, revoked = await lifecycle.revoke(
            services,
            consent.id,
            actor=lifecycle.DATA_RECIPIENT,
            reason=reason,
            initiator=initiator,
            detail="FDX Consent API",
        )
    except lifecycle.RevocationConflict:
        raise ConsentConflict("the consent is changing; read it again") from None
    if not revoked:
        status = ended.status.value if ended is not None else "ended"
        raise ConsentConflict(f"the consent is already {status}")
    return Response(status_code=204, headers={"cache-control": NO_STORE})


async def revocations(
    request: Request, services: Services, claims: AccessClaims, consent: Consent
) -> Response:
    """FDX ConsentRevocationList: every "revoked" event, oldest first (there is at most one,
    since revocation is final)."""
    events = await services.records.consents.events(consent.id)
    body = {
        "revocations": [
            {
                "status": ConsentStatus.REVOKED.value,
                **({"reason": e.reason} if e.reason else {}),
                "initiator": lifecycle.revocation_initiator(e),
                "updatedTime": _iso(e.time),
            }
            for e in events
            if e.event == "revoked"
        ]
    }
    return fdx_json(body)


def parties(
    client: ClientRecord | None, consent: Consent, services: Services
) -> list[dict[str, Any]]:
    """The ConsentGrant's non-end-user parties: the recipient and the bank (FDX Partyentity).

    The recipient's registry entry comes from its registered ``registry_references`` (FDX DCR:
    ``registered_entity_name``, ``registered_entity_id``, ``registry``) when it has one; otherwise
    the gateway's own registration vouches for it: PRIVATE, its client name and client_id.
    """
    settings = services.settings
    name = client.client_name if client is not None else consent.client_id
    recipient: dict[str, Any] = {
        "name": name,
        "type": lifecycle.DATA_RECIPIENT,
        "registry": "PRIVATE",
        "registeredEntityName": name,
        "registeredEntityId": consent.client_id,
    }
    if client is not None:
        if client.client_uri:
            recipient["homeUri"] = client.client_uri
        if client.logo_uri:
            recipient["logoUri"] = client.logo_uri
        recipient.update(_registry_entry(client))
    provider = {
        "name": settings.provider_name,
        "type": lifecycle.DATA_PROVIDER,
        "homeUri": settings.issuer,
        "registry": "PRIVATE",
        "registeredEntityName": settings.provider_name,
        "registeredEntityId": settings.issuer,
    }
    return [recipient, provider]


def _registry_entry(client: ClientRecord) -> dict[str, str]:
    references = client.extra.get("registry_references")
    if not isinstance(references, list):
        return {}
    for ref in references:
        if not isinstance(ref, dict):
            continue
        registry, name, entity_id = (
            ref.get("registry"),
            ref.get("registered_entity_name"),
            ref.get("registered_entity_id"),
        )
        if registry in REGISTRIES and _text(name) and _text(entity_id):
            return {
                "registry": registry,
                "registeredEntityName": name,
                "registeredEntityId": entity_id,
            }
    return {}


def _iso(ts: float) -> str:
    """FDX Timestamp: ISO 8601 in UTC with a Z suffix (as ``Consent.to_fdx``)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


async def _own_consent(services: Services, claims: AccessClaims, consent_id: str) -> Consent:
    """The caller's own consent as it stands now (an expiry due is recorded first); 404/1107
    for anything else, indistinguishably."""
    consent = None
    if len(consent_id) <= MAX_ID_CHARS:
        consent = await services.records.consents.get(consent_id)
    if (
        consent is None
        or consent.client_id != claims.client_id
        or consent.status is ConsentStatus.DENIED
    ):
        raise NotFound("consent not found")
    return await lifecycle.expire_if_due(services, consent)


async def _revocation_request(request: Request, max_bytes: int) -> tuple[str | None, str]:
    """FDX Consentrevocationrequestentity: ``reason`` (ConsentUpdateReason) and ``initiator``
    (PartyType) are both optional; without an initiator the recipient itself started it.

    The recipient may name any PartyType but the consumer's: a revocation recorded as the
    consumer's (INDIVIDUAL) is the one the bank took from the consumer directly (the portal), and
    a recipient cannot write into that record. A consumer who asked the recipient to stop is a
    ``USER_ACTION`` the recipient initiated (12 CFR 1033.421(h): the recipient tells the bank)."""
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > max_bytes:
            raise InvalidInput("request body too large")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("body must be a JSON ConsentRevocationRequest") from None
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object")
    reason = body.get("reason")
    # isinstance first: a list or an object is not hashable, so not looked up in a frozenset.
    if reason is not None and not (isinstance(reason, str) and reason in REASONS):
        raise InvalidInput(f"reason must be one of {', '.join(sorted(REASONS))}")
    initiator = body.get("initiator", lifecycle.DATA_RECIPIENT)
    if not (isinstance(initiator, str) and initiator in lifecycle.PARTY_TYPES):
        raise InvalidInput("initiator must be an FDX PartyType")
    if initiator == lifecycle.INDIVIDUAL:
        raise InvalidInput(
            "initiator INDIVIDUAL is recorded only for the consumer's own revocation at the"
            " bank; send reason USER_ACTION with the initiator that forwards it"
        )
    return reason, initiator


def routes(services: Services) -> list[BaseRoute]:
    return [
        Route("/consents/{consentId}", ConsentEndpoint(services, {"GET": get_consent})),
        Route(
            "/consents/{consentId}/revocation",
            ConsentEndpoint(services, {"GET": revocations, "PUT": revoke}),
        ),
    ]


__all__ = ["ConsentConflict", "parties", "routes"]
