"""OpenID Connect: the ID token of the code flow and the userinfo endpoint (OIDC Core 1.0).

The subject is pairwise (OIDC Core §8.1): ``sub`` is ``pairwise_subject(secret, customer,
client)``, the same value as the access token's, so two recipients cannot correlate one consumer
and none learns the bank's customer id. Userinfo releases nothing the consent does not: ``sub``
always, the consumer's name and email only when the live consent includes CUSTOMER_CONTACT and
the token carries its scope. ID tokens are signed ES256 with the authorization server's key; PS256
is not offered because no RSA signing key exists (discovery advertises only what we do).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson
from joserfc import jwt
from starlette.requests import Request
from starlette.responses import Response

from adapters.errors import AdapterError
from authz.errors import NO_STORE
from authz.keys import SIGNING_ALG
from authz.sender import Challenge, SenderRefused
from authz.services import Services
from authz.store.base import Kind
from authz.tokens import AccessClaims, TokenInvalid, pairwise_subject

OPENID = "openid"
CONTACT_CLUSTER = "CUSTOMER_CONTACT"
ID_TOKEN_ALGS = (SIGNING_ALG,)
CLAIMS_SUPPORTED = (
    "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "acr", "amr",
    "name", "given_name", "family_name", "email",
)  # fmt: skip
MAX_NONCE_CHARS = 512
_FORM = "application/x-www-form-urlencoded"
MAX_BODY = 65536  # a userinfo request needs no body; the default max_body_bytes


class BearerError(Exception):
    """RFC 6750 §3.1: a userinfo request refused; rendered with a ``WWW-Authenticate`` whose
    scheme follows the presented ``scheme`` and the token's ``claims`` once known
    (``SenderConstraint.challenge_algs``: ``DPoP`` for a DPoP token or proof, RFC 9449 §7.1;
    ``Bearer`` for a certificate-bound token, RFC 8705), with the ``DPoP-Nonce`` to use when the
    error is ``use_dpop_nonce`` (§9)."""

    def __init__(
        self,
        error: str,
        description: str,
        status: int,
        *,
        bare: bool = False,
        nonce: str | None = None,
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.bare = bare  # §3.1: a request without credentials gets a challenge without a code
        self.nonce = nonce
        self.scheme: str | None = None
        self.claims: AccessClaims | None = None


def id_token(
    services: Services,
    *,
    client_id: str,
    customer_id: str,
    access_token: str,
    nonce: str | None,
    auth_time: float | None,
    acr: str | None = None,
    amr: tuple[str, ...] = (),
) -> str:
    """OIDC Core §2 / §3.1.3.6: an ID token for ``client_id`` about the consumer."""
    now = int(services.clock())
    claims: dict[str, Any] = {
        "iss": services.settings.issuer,
        "sub": pairwise_subject(services.secret, customer_id, client_id),
        "aud": client_id,
        "iat": now,
        "exp": now + services.settings.access_token_ttl,
        # When the consumer signed in at the bank; the issue time when it is not known.
        "auth_time": int(auth_time) if auth_time is not None else now,
        "at_hash": _half_hash(access_token),
    }
    if nonce is not None:
        claims["nonce"] = nonce  # §3.1.2.1: echoed unmodified from the authorization request
    if acr is not None:
        claims["acr"] = acr  # §2: as the bank's OP reported it
    if amr:
        claims["amr"] = list(amr)  # §2 and RFC 8176: pwd, otp, or what the bank's OP reported
    header = {"alg": SIGNING_ALG, "kid": services.keys.kid, "typ": "JWT"}
    return jwt.encode(header, claims, services.keys.current, algorithms=[SIGNING_ALG])


async def userinfo_endpoint(request: Request, services: Services) -> Response:
    """OIDC Core §5.3: GET or POST with ``Authorization: DPoP`` (or ``Bearer`` under the
    sandbox profile); errors per RFC 6750 §3 and RFC 9449 §7.1."""
    nonce = services.senders.nonce_headers()
    try:
        body = await userinfo(request, services)
    except BearerError as exc:
        algs = services.senders.challenge_algs(exc.scheme, exc.claims)
        challenge = Challenge(None if exc.bare else exc.error).header(algs)
        payload = {"error": exc.error, "error_description": exc.description}
        headers = {**NO_STORE, **nonce, "WWW-Authenticate": challenge}
        if exc.nonce is not None:
            headers["DPoP-Nonce"] = exc.nonce
        return Response(
            orjson.dumps(payload), exc.status, media_type="application/json", headers=headers
        )
    return Response(orjson.dumps(body), media_type="application/json", headers=NO_STORE | nonce)


async def userinfo(request: Request, services: Services) -> dict[str, Any]:
    scheme, token = await _presented(request)
    claims: AccessClaims | None = None
    try:
        try:
            claims = services.tokens.verify(token)
        except TokenInvalid:
            raise BearerError(
                "invalid_token", "the access token is invalid or expired", 401
            ) from None
        await _confirmed(request, services, scheme, token, claims)
        return await _userinfo(services, claims)
    except BearerError as exc:
        exc.scheme, exc.claims = scheme, claims  # the challenge's scheme follows them
        raise


async def _userinfo(services: Services, claims: AccessClaims) -> dict[str, Any]:
    if OPENID not in claims.scope:
        raise BearerError("insufficient_scope", "the token was not granted openid", 403)
    live = await services.records.consents.live(claims.consent_id or "")
    if (
        live is None
        or live.consent.client_id != claims.client_id
        or not live.consent.is_active(services.clock())
    ):
        raise BearerError("invalid_token", "the consent is no longer active", 401)
    if live.recipient_status != "approved":
        raise BearerError("invalid_token", "the recipient is not active", 401)
    consent = live.consent
    body: dict[str, Any] = {"sub": claims.sub}
    contact = services.policy.clusters.get(CONTACT_CLUSTER)
    if (
        contact is not None
        and CONTACT_CLUSTER in consent.clusters
        and contact.scope in claims.scope
    ):
        try:
            info = await services.bank.get_customer_info(consent.customer_id)
        except AdapterError:
            raise BearerError("temporarily_unavailable", "the bank did not answer", 503) from None
        body.update(contact_claims(info))
    return body


def contact_claims(info: dict[str, Any]) -> dict[str, str]:
    """OIDC Core §5.1 ``name``/``given_name``/``family_name``/``email`` from an FDX Customer."""
    out: dict[str, str] = {}
    name = info.get("name")
    if isinstance(name, dict):
        first, last = name.get("first"), name.get("last")
        parts = [name.get(k) for k in ("first", "middle", "last")]
        full = " ".join(p for p in parts if isinstance(p, str) and p)
        if full:
            out["name"] = full
        if isinstance(first, str) and first:
            out["given_name"] = first
        if isinstance(last, str) and last:
            out["family_name"] = last
    emails = info.get("emails")
    if isinstance(emails, list) and emails and isinstance(emails[0], str):
        out["email"] = emails[0]
    return out


async def _confirmed(
    request: Request, services: Services, scheme: str, token: str, claims: AccessClaims
) -> None:
    try:
        await services.senders.confirm(request, scheme, token, claims)
    except SenderRefused as exc:
        raise BearerError(exc.error, exc.description, 401, nonce=exc.nonce) from None
    if await services.state.get(Kind.REVOKED_ACCESS, claims.jti) is not None:
        raise BearerError("invalid_token", "the access token was revoked", 401)


async def _bounded_body(request: Request) -> bytes:
    """The body, refused once past ``MAX_BODY`` bytes: never read whole whatever its size."""
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise BearerError("invalid_request", "request body too large", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise BearerError("invalid_request", "request body too large", 413)
    return bytes(body)


async def _presented(request: Request) -> tuple[str, str]:
    """(scheme in lower case, token) from the one ``Authorization`` header, ``Bearer`` or
    ``DPoP`` (RFC 9449 §7.1), the scheme matched case-insensitively (RFC 9110 §11.1). The header
    only (FAPI 2.0 §5.3.3): a token in the query or a form body is refused."""
    if "access_token" in request.query_params:
        raise BearerError("invalid_request", "send the token in the Authorization header", 400)
    if request.headers.get("content-type", "").startswith(_FORM):
        if b"access_token" in await _bounded_body(request):
            raise BearerError("invalid_request", "send the token in the Authorization header", 400)
    values = request.headers.getlist("authorization")
    if not values:
        raise BearerError("invalid_token", "the Authorization header is missing", 401, bare=True)
    if len(values) != 1:
        raise BearerError("invalid_token", "exactly one Authorization header is required", 401)
    scheme, _, token = values[0].strip().partition(" ")
    scheme, token = scheme.lower(), token.strip()
    if scheme not in ("bearer", "dpop") or not token or " " in token:
        raise BearerError("invalid_token", "expected: Authorization: DPoP (or Bearer) <token>", 401)
    return scheme, token


def _half_hash(token: str) -> str:
    """OIDC Core §3.1.3.6 ``at_hash``: base64url of the left half of the SHA-256."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")
