"""Client authentication for every OAuth endpoint: ``private_key_jwt`` and nothing else.

RFC 7523 §2.2 / §3 and OIDC Core §9, as profiled by FAPI 2.0 §5.3.2.1: the assertion is signed
ES256 or PS256 with a key from the client's registered JWK Set, ``iss`` and ``sub`` are the
client_id, ``aud`` is exactly our issuer identifier (a single string, never the token endpoint
URL nor an array: the audience-injection fix to FAPI 2.0), it says when it was made (``iat``, a
NumericDate not in the future: RFC 7523 leaves it optional, we require it so that every
assertion is dated), it lives at most ``assertion_max_lifetime`` seconds and its ``jti`` is
accepted once.

Every failure is ``invalid_client`` (401) with a short description that never echoes the
assertion. Imported client keys are cached per client and JWK Set, so a token request pays for a
signature check, not a key import (docs/performance.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import orjson
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key
from starlette.requests import Request

from authz.errors import InvalidClientError
from authz.registration.jwks_fetcher import JwksFetcher, JwksFetchError
from authz.services import Services
from authz.store.base import ClientRecord, Kind

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("ES256", "PS256")
AUTH_METHOD = "private_key_jwt"
MAX_ASSERTION_CHARS = 8192
_KEY_TYPES = {"ES256": "EC", "PS256": "RSA"}


class ClientAuthenticator:
    """Authenticates the calling client of one request; built once per app."""

    def __init__(
        self, services: Services, *, cache_size: int = 1024, fetcher: JwksFetcher | None = None
    ) -> None:
        self._services = services
        self._keys: OrderedDict[str, tuple[str, tuple[Key, ...]]] = OrderedDict()
        self._cache_size = cache_size
        self._fetcher = fetcher or JwksFetcher(
            clock=services.clock, allow_private=services.settings.jwks_fetch_allow_private
        )

    async def authenticate(self, request: Request, form: Mapping[str, str]) -> ClientRecord:
        """The approved client that signed ``client_assertion``; raises ``InvalidClientError``."""
        if "authorization" in request.headers or "client_secret" in form:
            raise InvalidClientError(description=f"only {AUTH_METHOD} is supported")
        assertion_type = form.get("client_assertion_type")
        assertion = form.get("client_assertion")
        if assertion_type is None and assertion is None:
            raise InvalidClientError(description=f"client authentication required ({AUTH_METHOD})")
        if assertion_type != ASSERTION_TYPE:
            raise InvalidClientError(description=f"only {AUTH_METHOD} is supported")
        if not assertion or len(assertion) > MAX_ASSERTION_CHARS:
            raise InvalidClientError(description="client_assertion missing or too long")
        header, unverified = _peek(assertion)
        client_id = unverified.get("iss")
        if not isinstance(client_id, str) or not client_id or unverified.get("sub") != client_id:
            raise InvalidClientError(
                description="client_assertion iss and sub must be the client_id"
            )
        if "client_id" in form and form["client_id"] != client_id:
            raise InvalidClientError(description="client_id does not match the client_assertion")
        client = await self._services.records.clients.get(client_id)
        if client is None or client.status != "approved":
            raise InvalidClientError(description="unknown or inactive client")
        claims = await self._verify(client, assertion, header)
        await self._check_claims(client_id, claims)
        return client

    async def _verify(
        self, client: ClientRecord, assertion: str, header: Mapping[str, Any]
    ) -> dict[str, Any]:
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise InvalidClientError(description="client_assertion must be signed ES256 or PS256")
        kid = header.get("kid")
        keys = await self._client_keys(client)
        claims = _verified_by(keys, assertion, alg, kid)
        if claims is None and client.jwks_uri and (kid is None or kid not in _kids(keys)):
            # An unknown kid: the client may have rotated its keys (the fetcher rate-limits).
            claims = _verified_by(
                await self._client_keys(client, refresh=True), assertion, alg, kid
            )
        if claims is None:
            raise InvalidClientError(description="client_assertion signature invalid")
        return claims

    async def _check_claims(self, client_id: str, claims: Mapping[str, Any]) -> None:
        settings = self._services.settings
        now = int(self._services.clock())
        skew = settings.clock_skew
        try:
            jwt.JWTClaimsRegistry(
                now=now,
                leeway=skew,
                iss={"essential": True, "value": client_id},
                sub={"essential": True, "value": client_id},
                exp={"essential": True},
                iat={"essential": True},
                jti={"essential": True},
            ).validate(dict(claims))
        except JoseError:
            raise InvalidClientError(description="client_assertion expired or malformed") from None
        # A NumericDate is seconds since the epoch (RFC 7519 §2): one before it is no date.
        if claims["iat"] < 0:
            raise InvalidClientError(description="client_assertion iat malformed")
        # RFC 7523 §3 allows an array; FAPI 2.0 (audience-injection fix) wants the issuer alone.
        if claims.get("aud") != settings.issuer:
            raise InvalidClientError(description="client_assertion aud must be the issuer")
        exp = claims["exp"]
        if exp - now > settings.assertion_max_lifetime + skew:
            raise InvalidClientError(description="client_assertion lives too long")
        jti = claims["jti"]
        if not jti or len(jti) > 256:
            raise InvalidClientError(description="client_assertion jti malformed")
        ttl = max(1, int(exp - now) + skew)
        if not await self._services.state.add_once(
            Kind.ASSERTION_JTI, f"{client_id}:{jti}", ttl=ttl
        ):
            raise InvalidClientError(description="client_assertion already used")

    async def _client_keys(self, client: ClientRecord, *, refresh: bool = False) -> tuple[Key, ...]:
        jwks = client.jwks
        if client.jwks_uri:
            try:
                jwks = await self._fetcher.get(client.client_id, client.jwks_uri, refresh=refresh)
            except JwksFetchError:
                raise InvalidClientError(
                    description="client keys unavailable at jwks_uri"
                ) from None
        fingerprint = hashlib.sha256(orjson.dumps(jwks, option=orjson.OPT_SORT_KEYS))
        digest = fingerprint.hexdigest()
        cached = self._keys.get(client.client_id)
        if cached is not None and cached[0] == digest:
            self._keys.move_to_end(client.client_id)
            return cached[1]
        keys = _import_keys(jwks)
        self._keys[client.client_id] = (digest, keys)
        if len(self._keys) > self._cache_size:
            self._keys.popitem(last=False)
        return keys


def _verified_by(
    keys: tuple[Key, ...], assertion: str, alg: str, kid: Any
) -> dict[str, Any] | None:
    """The assertion's claims if one of ``keys`` (of the algorithm's type and the ``kid``, when
    given) verifies it; None otherwise."""
    for key in keys:
        if key.key_type != _KEY_TYPES[alg] or (kid is not None and key.kid != kid):
            continue
        try:
            token = jwt.decode(assertion, key, algorithms=[alg])
        except (JoseError, ValueError, TypeError):
            continue
        return dict(token.claims)
    return None


def _kids(keys: tuple[Key, ...]) -> set[str]:
    return {str(k.kid) for k in keys if k.kid is not None}


def _import_keys(jwks: Mapping[str, Any]) -> tuple[Key, ...]:
    """The client's public signing keys; symmetric, encryption-only and malformed ones are
    skipped (a registered ``oct`` key must never verify an assertion)."""
    out: list[Key] = []
    entries = jwks.get("keys") if isinstance(jwks, Mapping) else None
    for jwk in entries if isinstance(entries, list) else []:
        if not isinstance(jwk, dict) or jwk.get("kty") not in ("EC", "RSA"):
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        public = {k: v for k, v in jwk.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
        try:
            out.append(JWKRegistry.import_key(public))
        except (JoseError, ValueError, TypeError, KeyError):
            continue
    return tuple(out)


def _peek(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims before verification: only to find the client and its key."""
    parts = assertion.split(".")
    if len(parts) != 3:
        raise InvalidClientError(description="client_assertion is not a signed JWT")
    try:
        header = orjson.loads(_b64(parts[0]))
        claims = orjson.loads(_b64(parts[1]))
    except (ValueError, binascii.Error):
        raise InvalidClientError(description="client_assertion is not a signed JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidClientError(description="client_assertion is not a signed JWT")
    return header, claims


def _b64(segment: str) -> bytes:
    if not segment or not segment.isascii():
        raise ValueError("empty or non-ASCII segment")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
