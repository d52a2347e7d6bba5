"""The per-request gate: access token → sender constraint → live consent → which clusters open
this endpoint.

Order matters and is cheap (performance.md): the token is verified locally (a cache hit after the
first call), its binding confirmed (``authz/sender.py``: a DPoP proof, one ES256 verify and one
replay-cache write, or the forwarded client certificate; under the fapi2 profile an unbound token
is refused), then one state read for a revoked jti and one record read each for the consent and
the recipient (both cached by the store, never stale), checked live on every call so that a
revocation, an expiry or the bank suspending the recipient takes effect on the very next
request, not when the token expires (docs/architecture.md §5, docs/fdx.md §8.6). A consent
found ACTIVE
but past its expiry is refused like any other and, on that rare path only, its EXPIRED
transition recorded.

``authorize_client`` is the other gate, for the FDX Consent API: a client-credentials token of the
recipient with the consent-management scope, bound to no consent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

from starlette.requests import Request

from authz.access_tokens import CONSENTS_SCOPE, SUBSCRIPTIONS_SCOPE, AccessClaims, TokenInvalid
from authz.consent import lifecycle
from authz.consent.model import Consent
from authz.dpop import INVALID_PROOF
from authz.sender import Challenge, SenderRefused
from authz.services import Services
from authz.store.base import Kind, LiveConsent
from authz.store.stamped import StampedConsents
from config.policy import Policy
from gateway.errors import (
    DPOP_CHALLENGE,
    AccountNotFound,
    ConsentInactive,
    FdxError,
    InsufficientScope,
    InvalidDpopProof,
    InvalidToken,
    MissingToken,
    UseDpopNonce,
    interaction_id,
)
from gateway.ratelimit import RateLimiter

ACCESS_SCOPE_KEY = "fdx.access"
_FORM = b"application/x-www-form-urlencoded"
_SCHEMES = ("dpop", "bearer")


@dataclass(frozen=True, slots=True)
class AccessContext:
    """What one request may see: the verified claims, the live consent and the clusters that
    both open ``endpoint`` and are named by the token's scope."""

    claims: AccessClaims
    consent: Consent
    endpoint: str
    interaction_id: str
    usable: frozenset[str]  # clusters opening ``endpoint`` whose scope the token carries

    @property
    def customer_id(self) -> str:
        return self.consent.customer_id

    def clusters_for(self, account_id: str) -> frozenset[str]:
        """Clusters the consent grants on the account that open this endpoint (empty if none)."""
        return self.consent.clusters_for(account_id) & self.usable

    def require_account(self, account_id: str) -> frozenset[str]:
        """The account's usable clusters. An account outside the consent and an unknown one get
        the same 404/701, so a recipient cannot probe which ids exist (docs/fdx.md §3)."""
        if account_id not in self.consent.account_ids:
            raise AccountNotFound()
        clusters = self.clusters_for(account_id)
        if not clusters:
            raise InsufficientScope()
        return clusters


async def authorize(
    request: Request, services: Services, endpoint: str, limiter: RateLimiter | None = None
) -> AccessContext:
    """The gate. With ``limiter``, the call is also counted against its recipient's and its
    consent's limits, beside the gate's own reads (one Redis round trip for all of them), and
    refused with 429 only once every check of the gate has passed."""
    claims = await _verified(request, services)
    if claims.consent_id is None:
        raise InvalidToken("a client-credentials token opens no customer data")
    if limiter is None:
        return await _admit(request, services, endpoint, claims, claims.consent_id)
    admitted = limiter.admit(claims.client_id, claims.consent_id)  # before the gate's reads
    try:
        ctx = await _admit(request, services, endpoint, claims, claims.consent_id)
        await admitted
    except BaseException:
        _abandon(admitted)
        raise
    return ctx


def _abandon(future: asyncio.Future[Any]) -> None:
    """A future nobody will await: cancelled if pending, its outcome taken if done (so asyncio
    does not log an exception that was never retrieved)."""
    if not future.done():
        future.cancel()
    elif not future.cancelled():
        future.exception()


async def _admit(
    request: Request, services: Services, endpoint: str, claims: AccessClaims, consent_id: str
) -> AccessContext:
    revoked, live = await _revoked_and_live(services, claims.jti, consent_id)
    if revoked:
        raise InvalidToken()  # RFC 7009: revoked before its exp
    if live is None or live.consent.client_id != claims.client_id:
        raise ConsentInactive()
    consent = live.consent
    ctx = AccessContext(
        claims=claims,
        consent=consent,
        endpoint=endpoint,
        interaction_id=interaction_id(request),
        usable=_usable(services.policy, endpoint, claims.scope),
    )
    # Known from here on: a refusal below is audited against this consent (12 CFR 1033.351
    # keeps denials too), including a call on a consent that was revoked or has expired.
    request.scope[ACCESS_SCOPE_KEY] = ctx
    if not consent.is_active(services.clock()):
        await lifecycle.expire_if_due(services, consent)  # no I/O unless the expiry is new
        raise ConsentInactive()
    _require_admitted(live.recipient_status)
    return ctx


class ManagementScopeRequired(FdxError):
    """403 on the Consent API (or notification subscriptions) for a token without its
    client-credentials scope (a data-access token): FDX 6.2 gives ``{"code": "403", "message":
    "Forbidden"}`` as its 403 example, and RFC 6750 §3.1 names the scope that is missing."""

    code, status, message = "403", 403, "Forbidden"
    challenge: ClassVar[Challenge | None] = Challenge("insufficient_scope", CONSENTS_SCOPE)


async def _revoked_and_live(
    services: Services, jti: str, consent_id: str
) -> tuple[bool, LiveConsent | None]:
    """Whether the token was revoked (RFC 7009), and the gate's one read: the consent and its
    recipient, never older than this request (authz.store.live). For stamped consents both
    reads are asked in the same turn of the event loop, so on Redis they share one pipeline
    (authz.store.redis); otherwise the consent is read only for an unrevoked token."""
    consents = services.records.consents
    if not isinstance(consents, StampedConsents):
        if await services.state.get(Kind.REVOKED_ACCESS, jti) is not None:
            return True, None
        return False, await consents.live(consent_id)
    reading = asyncio.ensure_future(consents.live(consent_id))
    try:
        revoked = await services.state.get(Kind.REVOKED_ACCESS, jti) is not None
    except BaseException:
        _abandon(reading)
        raise
    if revoked:
        _abandon(reading)  # not needed: the token is refused whatever the consent says
        return True, None
    return False, await reading


class SubscriptionScopeRequired(ManagementScopeRequired):
    """The same 403 on notification subscriptions, naming their scope."""

    challenge = Challenge("insufficient_scope", SUBSCRIPTIONS_SCOPE)


# The refusal of a client-credentials token that lacks the scope an operation needs.
_SCOPE_REQUIRED: dict[str, type[ManagementScopeRequired]] = {
    CONSENTS_SCOPE: ManagementScopeRequired,
    SUBSCRIPTIONS_SCOPE: SubscriptionScopeRequired,
}


async def authorize_client(
    request: Request, services: Services, scope: str = CONSENTS_SCOPE
) -> AccessClaims:
    """The gate of the recipient's own operations: a valid, unrevoked client-credentials token
    carrying ``scope`` (the Consent API's by default) and no consent. Which records the client
    may see is the caller's check (its own only)."""
    claims = await _verified(request, services)
    if await services.state.get(Kind.REVOKED_ACCESS, claims.jti) is not None:
        raise InvalidToken()
    if claims.consent_id is not None or scope not in claims.scope:
        raise _SCOPE_REQUIRED[scope](f"this operation needs a {scope} token")
    await _require_active_recipient(services, claims.client_id)
    return claims


async def _require_active_recipient(services: Services, client_id: str) -> None:
    """A recipient the bank suspended (or that deregistered) is refused from its very next call;
    its consents are kept as they are. 401/603, as for any credential no longer honoured
    (docs/fdx.md §3): the token is sound, the party holding it is not admitted."""
    _require_admitted(await services.records.clients.status(client_id))


def _require_admitted(recipient_status: str | None) -> None:
    if recipient_status != "approved":
        raise InvalidToken("the data recipient is not active (suspended or deregistered)")


async def _verified(request: Request, services: Services) -> AccessClaims:
    """The presented token, verified and sent as its binding demands (RFC 9449 §7, RFC 8705
    §3, FAPI 2.0 §5.3.3)."""
    senders = services.senders
    _challenge_with(request, senders.challenge_algs(None, None))  # what is missing: a DPoP token?
    scheme, token = _presented_token(request)
    _challenge_with(request, senders.challenge_algs(scheme, None))
    try:
        claims = services.tokens.verify(token)
    except TokenInvalid:
        raise InvalidToken() from None
    _challenge_with(request, senders.challenge_algs(scheme, claims))  # the token's own scheme
    try:
        await senders.confirm(request, scheme, token, claims)
    except SenderRefused as exc:
        if exc.nonce is not None:
            raise UseDpopNonce(exc.description, nonce=exc.nonce) from None
        if exc.error == INVALID_PROOF:
            raise InvalidDpopProof(exc.description) from None
        if not exc.dpop:
            request.scope.pop(DPOP_CHALLENGE, None)
        raise InvalidToken(exc.description) from None
    return claims


def _challenge_with(request: Request, dpop_algs: tuple[str, ...] | None) -> None:
    """Mark the request for ``gateway.errors.render``: a refusal is challenged with ``DPoP``
    listing ``dpop_algs``, or with ``Bearer`` when None."""
    if dpop_algs is None:
        request.scope.pop(DPOP_CHALLENGE, None)
    else:
        request.scope[DPOP_CHALLENGE] = dpop_algs


def _presented_token(request: Request) -> tuple[str, str]:
    """RFC 6750 §2.1 / RFC 9449 §7.1: exactly one ``Authorization: Bearer|DPoP <token>``; the
    scheme is matched case-insensitively (RFC 9110 §11.1) and returned in lower case. A token
    in the query or a form body is refused (FAPI: header only), since URLs end up in logs and
    caches (RFC 6750 §5.3)."""
    scope = request.scope
    if b"access_token" in scope["query_string"] and "access_token" in request.query_params:
        raise InvalidToken("access token must be sent in the Authorization header")
    # One pass over the raw header list (names arrive in lower case, ASGI §2.2), not a Headers
    # object and three lookups: this runs on every FDX call.
    values: list[str] = []
    content_type: bytes | None = None  # the first, as Headers.get gives
    for name, value in scope["headers"]:
        if name == b"authorization":
            values.append(value.decode("latin-1"))
        elif name == b"content-type" and content_type is None:
            content_type = value
    if content_type is not None and content_type.startswith(_FORM):
        # RFC 6750 §2.2 form-body tokens are refused outright, without reading the body: no FDX
        # operation takes a form, and an unauthenticated body must not be buffered.
        raise InvalidToken("access token must be sent in the Authorization header")
    if not values:
        raise MissingToken("Authorization header is missing")
    if len(values) > 1:
        raise InvalidToken("more than one Authorization header")
    scheme, _, token = values[0].strip().partition(" ")
    scheme, token = scheme.lower(), token.strip()
    if scheme not in _SCHEMES or not token or " " in token:
        raise InvalidToken("expected: Authorization: DPoP <token> (or Bearer)")
    return scheme, token


@lru_cache(maxsize=1024)
def _usable(policy: Policy, endpoint: str, scope: frozenset[str]) -> frozenset[str]:
    return frozenset(
        c for c in policy.clusters_for_endpoint(endpoint) if policy.scope_for(c) in scope
    )
