"""JWT access tokens (RFC 9068): issued by the token endpoint, verified by the FDX gate.

Verification is local (no I/O). A verified token's claims are cached by the token string until
its ``exp``, so a recipient paging through transactions pays for one ES256 verify, not one per
call (docs/performance.md: ~63 µs a verify against ~5 µs a cache hit). The cache holds no
authority of its own: the gate still checks the consent live on every call.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from authz.keys import SIGNING_ALG, SigningKeys

Clock = Callable[[], float]
AT_TYP = "at+jwt"  # RFC 9068 §2.1
# The client-credentials scope of the FDX Consent API (GET/PUT /consents/{id}[/revocation]). FDX
# 6.2 secures those paths with a bearer token but publishes no scope for them; this one follows
# FDX's ``fdx:<resource>:<action>`` pattern (``fdx:notifications:subscribe``) and names the path.
CONSENTS_SCOPE = "fdx:consents:manage"
# The client-credentials scope of FDX notification subscriptions (/notification-subscriptions).
SUBSCRIPTIONS_SCOPE = "fdx:notifications:subscribe"
# What a client-credentials token may carry: the recipient acting for itself, never for a consumer.
CLIENT_SCOPES = (CONSENTS_SCOPE, SUBSCRIPTIONS_SCOPE)
X5T = "x5t#S256"  # RFC 8705 §3.1 confirmation method


class TokenInvalid(Exception):
    """The access token is missing, malformed, badly signed, expired or not for us."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    jti: str
    sub: str
    client_id: str
    consent_id: str | None  # None only for a client-credentials token (no consumer, no consent)
    scope: frozenset[str]
    iat: int
    exp: int
    # RFC 7800 ``cnf``: the DPoP key thumbprint (RFC 9449 §6.1) or the client certificate's
    # (RFC 8705 §3.1) the token is bound to; both None for a Bearer token (sandbox profile only).
    jkt: str | None = None
    x5t: str | None = None

    @property
    def bound(self) -> bool:
        return self.jkt is not None or self.x5t is not None


class AccessTokens:
    def __init__(
        self,
        keys: SigningKeys,
        *,
        issuer: str,
        audience: str,
        ttl: int,
        clock: Clock,
        cache_size: int = 10_000,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self.ttl = ttl
        self._clock = clock
        self._cache: OrderedDict[str, AccessClaims] = OrderedDict()
        self._cache_size = cache_size

    def issue(
        self,
        *,
        consent_id: str | None,
        client_id: str,
        sub: str,
        scope: str,
        jkt: str | None = None,
        x5t: str | None = None,
    ) -> tuple[str, AccessClaims]:
        """A signed access token; ``consent_id`` None (no ``fdxConsentId``) only for the
        client-credentials grant, whose token the FDX data gate refuses. ``jkt`` or ``x5t``
        binds it to the client's DPoP key or TLS certificate (``cnf``)."""
        now = int(self._clock())
        claims = AccessClaims(
            jti=secrets.token_urlsafe(16),
            sub=sub,
            client_id=client_id,
            consent_id=consent_id,
            scope=frozenset(scope.split()),
            iat=now,
            exp=now + self.ttl,
            jkt=jkt,
            x5t=x5t,
        )
        body: dict[str, Any] = {
            "iss": self._issuer,
            "sub": sub,
            "aud": self._audience,
            "client_id": client_id,
            "scope": scope,
            "jti": claims.jti,
            "iat": now,
            "exp": claims.exp,
        }
        if consent_id is not None:
            body["fdxConsentId"] = consent_id
        if jkt is not None:
            body["cnf"] = {"jkt": jkt}
        elif x5t is not None:
            body["cnf"] = {X5T: x5t}
        header = {"alg": SIGNING_ALG, "kid": self._keys.kid, "typ": AT_TYP}
        token = jwt.encode(header, body, self._keys.current, algorithms=[SIGNING_ALG])
        return token, claims

    def verify(self, token: str) -> AccessClaims:
        now = self._clock()
        cached = self._cache.get(token)
        if cached is not None:
            if cached.exp > now:
                return cached
            del self._cache[token]
            raise TokenInvalid("token expired")
        claims = self._verify(token, now)
        self._cache[token] = claims
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return claims

    def _verify(self, token: str, now: float) -> AccessClaims:
        if len(token) > 4096 or token.count(".") != 2:
            raise TokenInvalid("malformed token")
        try:
            decoded = jwt.decode(token, self._keys.all, algorithms=[SIGNING_ALG])
        except (JoseError, ValueError, TypeError):
            raise TokenInvalid("token signature or format invalid") from None
        if decoded.header.get("typ") != AT_TYP:
            # RFC 9068 §4: reject JWTs of another type (an ID token, a client assertion…).
            raise TokenInvalid("not an access token")
        c = decoded.claims
        try:
            registry = jwt.JWTClaimsRegistry(
                now=int(now),
                iss={"essential": True, "value": self._issuer},
                aud={"essential": True, "value": self._audience},
                exp={"essential": True},
                iat={"essential": True},
            )
            registry.validate(c)
        except JoseError:
            raise TokenInvalid("token expired or not for this resource server") from None
        fields = ("jti", "sub", "client_id", "scope")
        if not all(isinstance(c.get(k), str) and c.get(k) for k in fields):
            raise TokenInvalid("token lacks required claims")
        consent_id = c.get("fdxConsentId")
        if consent_id is not None and not (isinstance(consent_id, str) and consent_id):
            raise TokenInvalid("token has a malformed fdxConsentId")
        jkt, x5t = _confirmation(c.get("cnf"))
        return AccessClaims(
            jti=c["jti"],
            sub=c["sub"],
            client_id=c["client_id"],
            consent_id=consent_id,
            scope=frozenset(c["scope"].split()),
            iat=int(c["iat"]),
            exp=int(c["exp"]),
            jkt=jkt,
            x5t=x5t,
        )


def _confirmation(cnf: Any) -> tuple[str | None, str | None]:
    """(jkt, x5t#S256) of a ``cnf`` claim; a token with an unreadable one is refused rather
    than treated as unbound."""
    if cnf is None:
        return None, None
    if not isinstance(cnf, dict) or len(cnf) != 1:
        raise TokenInvalid("token has a malformed cnf")
    jkt, x5t = cnf.get("jkt"), cnf.get(X5T)
    if not any(isinstance(v, str) and v for v in (jkt, x5t)):
        raise TokenInvalid("token has a malformed cnf")
    return jkt, x5t


def pairwise_subject(secret: bytes, customer_id: str, client_id: str) -> str:
    """A ``sub`` per (customer, recipient): two recipients cannot correlate one consumer, and no
    recipient learns the bank's own customer id (OIDC Core §8.1 pairwise identifiers)."""
    mac = hmac.new(secret, f"{client_id}\x00{customer_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]
