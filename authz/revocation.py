"""Token revocation (RFC 7009): a recipient ends a grant, or one access token, itself.

A refresh token ends the whole consent and every token hanging from it (§2.1: the AS SHOULD also
invalidate the access tokens of the same grant; ours die with the consent because the gate checks
it live). An access token is put on a deny-list until its ``exp``. Tokens that are unknown or
invalid still get 200 (§2.2); another client's token is refused with ``unauthorized_client``
(§2.1, §2.2.1) and keeps working for its owner.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authz.client_auth import ClientAuthenticator
from authz.consent import lifecycle
from authz.errors import NO_STORE, InvalidRequestError, UnauthorizedClientError
from authz.forms import read_form
from authz.services import Services
from authz.store.base import ClientRecord, Kind
from authz.token import MAX_TOKEN_CHARS, hash_token
from authz.tokens import TokenInvalid


async def revocation_endpoint(
    request: Request, services: Services, clients: ClientAuthenticator
) -> Response:
    form = await read_form(request, max_bytes=services.settings.max_body_bytes)
    client = await clients.authenticate(request, form)
    token = form.get("token")
    if not token:
        raise InvalidRequestError(description="token is required")
    if len(token) <= MAX_TOKEN_CHARS:
        # token_type_hint only orders the look-ups (§2.1); a JWT cannot be one of our refresh
        # tokens, so its shape decides.
        if token.count(".") == 2:
            await revoke_access_token(services, client, token)
        else:
            await revoke_refresh_token(services, client, token)
    return Response(status_code=200, headers=NO_STORE)


async def revoke_access_token(services: Services, client: ClientRecord, token: str) -> bool:
    try:
        claims = services.tokens.verify(token)
    except TokenInvalid:
        return False
    if claims.client_id != client.client_id:
        raise _not_yours()
    ttl = max(1, int(claims.exp - services.clock()))
    await services.state.put(Kind.REVOKED_ACCESS, claims.jti, {}, ttl=ttl)
    return True


async def revoke_refresh_token(services: Services, client: ClientRecord, token: str) -> bool:
    record = await services.records.refresh_tokens.get(hash_token(token))
    if record is None:
        return False
    if record.client_id != client.client_id:
        raise _not_yours()
    revocation = await lifecycle.revoke(
        services,
        record.consent_id,
        actor="DATA_RECIPIENT",
        reason="USER_ACTION",
        detail="refresh token revoked (RFC 7009)",
    )
    return revocation.changed


def _not_yours() -> UnauthorizedClientError:
    """RFC 7009 §2.1: a token issued to another client is refused, not silently kept."""
    return UnauthorizedClientError(description="the token was not issued to this client")
