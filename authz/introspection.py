"""Token introspection (RFC 7662) for the calling client's own tokens.

``active`` is true only for an access token that verifies, is not on the revocation deny-list,
belongs to the caller and whose consent is live right now (FDX: "is the ConsentGrant active").
A refresh token is active while it is unused, unrevoked, unexpired, the caller's, and its consent
is live. Everything else answers ``{"active": false}`` (§2.2).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from authz.client_auth import ClientAuthenticator
from authz.errors import NO_STORE, InvalidRequestError
from authz.forms import read_form
from authz.services import Services
from authz.store.base import ClientRecord, Kind
from authz.token import MAX_TOKEN_CHARS, hash_token
from authz.tokens import X5T, TokenInvalid

INACTIVE: dict[str, Any] = {"active": False}


async def introspection_endpoint(
    request: Request, services: Services, clients: ClientAuthenticator
) -> Response:
    form = await read_form(request, max_bytes=services.settings.max_body_bytes)
    client = await clients.authenticate(request, form)
    token = form.get("token")
    if not token:
        raise InvalidRequestError(description="token is required")
    body = await introspect(services, client, token) if len(token) <= MAX_TOKEN_CHARS else INACTIVE
    return Response(orjson.dumps(body), media_type="application/json", headers=NO_STORE)


async def introspect(services: Services, client: ClientRecord, token: str) -> dict[str, Any]:
    try:
        claims = services.tokens.verify(token)
    except TokenInvalid:
        return await _introspect_refresh(services, client, token)
    if claims.client_id != client.client_id:
        return INACTIVE
    if await services.state.get(Kind.REVOKED_ACCESS, claims.jti) is not None:
        return INACTIVE
    if claims.consent_id is not None:  # None: a client-credentials token, bound to no consent
        consent = await services.records.consents.get(claims.consent_id)
        if consent is None or not consent.is_active(services.clock()):
            return INACTIVE
    settings = services.settings
    body: dict[str, Any] = {
        "active": True,
        "scope": " ".join(sorted(claims.scope)),
        "client_id": claims.client_id,
        "sub": claims.sub,
        "exp": claims.exp,
        "iat": claims.iat,
        "iss": settings.issuer,
        "aud": settings.resource_audience,
        "jti": claims.jti,
        "token_type": "DPoP" if claims.jkt is not None else "Bearer",
    }
    if claims.jkt is not None:
        body["cnf"] = {"jkt": claims.jkt}  # RFC 9449 §6.2
    elif claims.x5t is not None:
        body["cnf"] = {X5T: claims.x5t}  # RFC 8705 §3.2
    if claims.consent_id is not None:
        body["fdxConsentId"] = claims.consent_id
    return body


async def _introspect_refresh(
    services: Services, client: ClientRecord, token: str
) -> dict[str, Any]:
    record = await services.records.refresh_tokens.get(hash_token(token))
    now = services.clock()
    if (
        record is None
        or record.client_id != client.client_id
        or record.used_at is not None
        or record.revoked_at is not None
        or record.expires_at <= now
    ):
        return INACTIVE
    consent = await services.records.consents.get(record.consent_id)
    if consent is None or not consent.is_active(now):
        return INACTIVE
    return {
        "active": True,
        "scope": " ".join(consent.scope),
        "client_id": client.client_id,
        "exp": int(record.expires_at),
        "iat": int(record.created_at),
        "iss": services.settings.issuer,
        "token_type": "refresh_token",
        "fdxConsentId": consent.id,
    }
