"""The per-request gate: bearer token → live consent → which clusters open this endpoint.

Order matters and is cheap (performance.md): the token is verified locally (a cache hit after the
first call), then one state read for a revoked jti and one record read for the consent, checked
live on every call so that a revocation or an expiry takes effect on the very next request, not
when the token expires (design.md §5, docs/fdx.md §8.6).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from starlette.requests import Request

from authz.consent.model import Consent
from authz.services import Services
from authz.store.base import Kind
from authz.tokens import AccessClaims, TokenInvalid
from config.policy import Policy
from gateway.errors import (
    AccountNotFound,
    ConsentInactive,
    InsufficientScope,
    InvalidToken,
    MissingToken,
    interaction_id,
)

ACCESS_SCOPE_KEY = "fdx.access"
_FORM = "application/x-www-form-urlencoded"


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
        the same 404/701, so a recipient cannot probe which ids exist (style.md §2.5)."""
        if account_id not in self.consent.account_ids:
            raise AccountNotFound()
        clusters = self.clusters_for(account_id)
        if not clusters:
            raise InsufficientScope()
        return clusters


async def authorize(request: Request, services: Services, endpoint: str) -> AccessContext:
    token = await _bearer_token(request)
    try:
        claims = services.tokens.verify(token)
    except TokenInvalid:
        raise InvalidToken() from None
    if await services.state.get(Kind.REVOKED_ACCESS, claims.jti) is not None:
        raise InvalidToken()  # RFC 7009: revoked before its exp
    consent = await services.records.get_consent(claims.consent_id)
    if (
        consent is None
        or consent.client_id != claims.client_id
        or not consent.is_active(services.clock())
    ):
        raise ConsentInactive()
    ctx = AccessContext(
        claims=claims,
        consent=consent,
        endpoint=endpoint,
        interaction_id=interaction_id(request),
        usable=_usable(services.policy, endpoint, claims.scope),
    )
    request.scope[ACCESS_SCOPE_KEY] = ctx
    return ctx


async def _bearer_token(request: Request) -> str:
    """RFC 6750 §2.1: exactly one ``Authorization: Bearer <token>``; the scheme is matched
    case-insensitively (RFC 7235 §2.1). A token in the query or a form body is refused (FAPI:
    header only), since URLs end up in logs and caches (RFC 6750 §5.3)."""
    if b"access_token" in request.scope["query_string"] and "access_token" in request.query_params:
        raise InvalidToken("access token must be sent in the Authorization header")
    if request.headers.get("content-type", "").startswith(_FORM):
        if b"access_token" in await request.body():
            raise InvalidToken("access token must be sent in the Authorization header")
    values = request.headers.getlist("authorization")
    if not values:
        raise MissingToken("Authorization header is missing")
    if len(values) > 1:
        raise InvalidToken("more than one Authorization header")
    scheme, _, token = values[0].strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise InvalidToken("expected: Authorization: Bearer <token>")
    return token


@lru_cache(maxsize=1024)
def _usable(policy: Policy, endpoint: str, scope: frozenset[str]) -> frozenset[str]:
    return frozenset(
        c for c in policy.clusters_for_endpoint(endpoint) if policy.scope_for(c) in scope
    )
