"""The token endpoint (RFC 6749 §3.2): authorization codes, rotating refresh tokens, and client
credentials for the FDX Consent API.

Every token hangs from a consent (``grant_id``): an access token is a short JWT the gate checks
against the live consent, a refresh token is opaque, stored hashed and rotated on each use. A code
or refresh token presented twice revokes the consent (RFC 6749 §4.1.2, RFC 9700 §4.14.2), since
one of the two callers holds a stolen copy and we cannot tell which.

Tokens are sender-constrained (``authz/sender.py``): a DPoP proof binds the access token
(``cnf.jkt``, ``token_type`` DPoP) and the refresh token to the client's key, a forwarded client
certificate binds the access token by ``cnf.x5t#S256``; the fapi2 profile issues nothing else.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, NoReturn

import orjson
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from starlette.requests import Request
from starlette.responses import Response

from authz.client_auth import ClientAuthenticator
from authz.consent import lifecycle
from authz.consent.model import Consent, DurationType
from authz.errors import (
    NO_STORE,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnsupportedGrantTypeError,
)
from authz.forms import read_form
from authz.oidc import OPENID, id_token
from authz.requests import AuthorizationCode
from authz.sender import Binding
from authz.services import Services
from authz.store.base import (
    ClientRecord,
    Kind,
    Payload,
    RecordsUnavailable,
    RefreshToken,
    StateUnavailable,
)
from authz.tokens import CLIENT_SCOPES, CONSENTS_SCOPE, pairwise_subject

log = logging.getLogger("authz.token")

CODE_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 §4.1
MAX_TOKEN_CHARS = 4096


async def token_endpoint(
    request: Request, services: Services, clients: ClientAuthenticator
) -> Response:
    form = await read_form(request, max_bytes=services.settings.max_body_bytes)
    # The proof first: a request refused for want of a server nonce (RFC 9449 §8) is retried at
    # once, and must not have spent the client's assertion on the way.
    binding = await services.senders.bind(request)
    client = await clients.authenticate(request, form)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise InvalidRequestError(description="grant_type is required")
    if grant_type == "authorization_code":
        body = await exchange_code(form, client, services, binding)
    elif grant_type == "refresh_token":
        body = await refresh(form, client, services, binding)
    elif grant_type == "client_credentials":
        body = client_credentials(form, client, services, binding)
    else:
        error = UnsupportedGrantTypeError(grant_type)
        error.description = (
            "grant_type must be authorization_code, refresh_token or client_credentials"
        )
        raise error
    headers = {**NO_STORE, **services.senders.nonce_headers()}
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)


async def exchange_code(
    form: Mapping[str, str], client: ClientRecord, services: Services, binding: Binding
) -> dict[str, Any]:
    """RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6)."""
    raw = _required(form, "code")
    redirect_uri = _required(form, "redirect_uri")
    verifier = _required(form, "code_verifier")
    if not CODE_VERIFIER.fullmatch(verifier):
        raise InvalidRequestError(description="code_verifier is malformed")
    # Look before using: a code presented by another client or without its PKCE verifier is
    # refused without consuming it, so whoever intercepts a code cannot burn it (or, through the
    # replay rule below, the consumer's consent).
    payload = await services.state.get(Kind.CODE, raw) if len(raw) <= 256 else None
    if payload is None:
        raise InvalidGrantError(description="authorization code is invalid or expired")
    try:
        code = AuthorizationCode.from_dict(payload)
    except (KeyError, TypeError, ValueError):
        raise InvalidGrantError(description="authorization code is invalid") from None
    if code.client_id != client.client_id:
        raise InvalidGrantError(description="authorization code was issued to another client")
    if code.redirect_uri != redirect_uri:
        raise InvalidGrantError(description="redirect_uri does not match the authorization")
    challenge: str = create_s256_code_challenge(verifier)  # type: ignore[no-untyped-call]
    if not secrets.compare_digest(challenge, code.code_challenge):
        raise InvalidGrantError(description="code_verifier does not match the code_challenge")
    if code.dpop_jkt is not None and code.dpop_jkt != binding.jkt:
        # RFC 9449 §10: the code was bound to a key at PAR; only that key may redeem it.
        raise InvalidGrantError(description="the DPoP key is not the one bound at PAR (dpop_jkt)")
    if "consumed_at" in payload:
        await _code_replayed(services, code)
    # The consent is read before the code is used too: a record store that is away answers 503
    # here with the code intact, so the client's retry succeeds instead of counting as a replay.
    consent = await _active_consent(services, code.consent_id, client)
    issued = int(services.clock())  # the token's iat is this or later
    # Everything durable is written before the code is used, and using it is the commit point
    # (RFC 6749 §4.1.2: a code is used once). A record store that fails on the way (PostgreSQL
    # restarting, or a commit whose acknowledgement was lost) stops the request with a 503
    # (gateway/outage.py) and leaves the code as it was, so the client's retry is served, not
    # taken for a replay. What a failed attempt stored is inert: its refresh token was never
    # sent to anyone and only its SHA-256 is kept. Only the request that wins the use answers
    # with tokens; one that loses it is a replay and revokes the consent, and with it every
    # refresh token stored so far, so two racing requests never both hold a live grant.
    body = await _issue(
        services,
        consent,
        client,
        customer_id=code.customer_id,
        scope=code.scope,
        rotate=None,
        binding=binding,
    )
    if OPENID in code.scope:
        # OIDC Core §3.1.3.3: the code flow's token response carries the ID token.
        body["id_token"] = id_token(
            services,
            client_id=client.client_id,
            customer_id=code.customer_id,
            access_token=body["access_token"],
            nonce=code.nonce,
            auth_time=code.auth_time,
            acr=code.acr,
            amr=code.amr,
        )
    if consent.duration_type is DurationType.ONE_TIME:
        # One data session: the consent ends when this access token ends (docs/architecture.md
        # §5). Should the use below fail, a retry's later token cannot move this end
        # (end_with_token keeps the earlier one): the session is never longer than the first
        # token's life.
        token_exp = issued + int(body["expires_in"])
        await lifecycle.end_with_token(services, consent.id, token_exp=token_exp)
    used = await _use_code(services, raw)
    if used is None:
        raise InvalidGrantError(description="authorization code is invalid or expired")
    if "consumed_at" in used:
        await _code_replayed(services, code)
    return body


async def _use_code(services: Services, raw: str) -> Payload | None:
    """Use the code (the commit point above). Redis may apply the use and lose its answer (a
    reply later than the client's timeout, a cut connection): then the code is read back,
    and a use stamped with this request's own instant was this request's, so the tokens go
    out instead of a 503 whose retry would be taken for a replay and revoke the consent. Any
    other reading keeps the outage (503); the retry then finds the code used."""
    stamp = services.clock()
    try:
        return await services.state.consume(Kind.CODE, raw, at=stamp)
    except StateUnavailable:
        after = await services.state.get(Kind.CODE, raw)  # still away: the 503 stands
        if after is None or after.get("consumed_at") != stamp:
            raise
        log.warning("token.code_use_confirmed_after_error")
        return {k: v for k, v in after.items() if k != "consumed_at"}


async def _code_replayed(services: Services, code: AuthorizationCode) -> NoReturn:
    """RFC 6749 §4.1.2: the code was exchanged before; revoke what it granted."""
    await _revoke(services, code.consent_id, "authorization code replayed")
    raise InvalidGrantError(description="authorization code was already used")


def client_credentials(
    form: Mapping[str, str], client: ClientRecord, services: Services, binding: Binding
) -> dict[str, Any]:
    """RFC 6749 §4.4, for the FDX Consent API and notification subscriptions only (``scope``:
    either or both of ``CLIENT_SCOPES``): the recipient acts for itself, so the token
    carries no consent (no ``fdxConsentId``, RFC 9068 §2.2 ``sub`` = the client) and opens no
    data; the FDX data gate refuses it. No refresh token (§4.4.3)."""
    asked = form.get("scope", CONSENTS_SCOPE).split()
    if not asked or not set(asked) <= set(CLIENT_SCOPES) or len(asked) != len(set(asked)):
        raise InvalidScopeError(
            description=f"client_credentials grants only {' and '.join(CLIENT_SCOPES)}"
        )
    scope = " ".join(s for s in CLIENT_SCOPES if s in asked)
    access, claims = services.tokens.issue(
        consent_id=None,
        client_id=client.client_id,
        sub=client.client_id,
        scope=scope,
        jkt=binding.jkt,
        x5t=binding.x5t,
    )
    return {
        "access_token": access,
        "token_type": binding.token_type,
        "expires_in": claims.exp - claims.iat,
        "scope": scope,
    }


CONSENT_ENDED = "the consent has ended (revoked or expired): the consumer must authorize again"


async def refresh(
    form: Mapping[str, str], client: ClientRecord, services: Services, binding: Binding
) -> dict[str, Any]:
    """RFC 6749 §6, rotated on every use (RFC 9700 §4.14.2)."""
    raw = _required(form, "refresh_token")
    now = services.clock()
    if len(raw) > MAX_TOKEN_CHARS:
        raise InvalidGrantError(description="refresh token is invalid")
    token_hash = hash_token(raw)
    # Look before using: another client presenting this token must not burn it (RFC 6749 §10.4).
    seen = await services.records.refresh_tokens.get(token_hash)
    if seen is None:
        raise InvalidGrantError(description="refresh token is invalid")
    if seen.client_id != client.client_id:
        raise InvalidGrantError(description="refresh token was issued to another client")
    if seen.jkt is not None and seen.jkt != binding.jkt:
        # RFC 9449 §5: a DPoP-bound refresh token is used with its key only. Checked before the
        # replay rule, so a thief without the key cannot revoke the consent by replaying it.
        raise InvalidGrantError(description="refresh token is bound to another DPoP key")
    if seen.used_at is not None:
        await _revoke(services, seen.consent_id, "refresh token replayed")
        raise InvalidGrantError(description="refresh token was already used")
    if seen.revoked_at is not None:
        # Unused but revoked: its consent ended (revoked by someone, or by a replay). Saying
        # "already used" would send the recipient hunting for a replay that never happened.
        raise InvalidGrantError(description=CONSENT_ENDED)
    # Every refusal that is not a replay comes before the token is used, so a request with a bad
    # scope (or for an ended consent) leaves the token as it was.
    consent = await _active_consent(services, seen.consent_id, client)
    # A token's end is its consent's end when issued; a renewal (lifecycle.renew) moves the
    # consent's end later, and the consent is checked live, so the later end wins.
    if seen.expires_at <= now and (consent.expires_at or 0.0) <= seen.expires_at:
        raise InvalidGrantError(description="refresh token expired")
    granted = consent.scope or tuple(services.policy.scopes_for(consent.clusters))
    scope = granted
    if "scope" in form:
        asked = tuple(dict.fromkeys(form["scope"].split()))
        if not asked or not set(asked) <= set(granted):
            raise InvalidScopeError(description="scope must be a subset of the granted scope")
        scope = asked
    # As for a code: the new token is stored before the old one is used, and that use is the
    # commit point (RFC 9700 §4.14.2, rotation). A record store failing in between answers 503
    # with the presented token still unused, so the retry rotates it instead of being taken for
    # a replay that revokes the consent; the new token stored by the failed attempt was never
    # sent, and a replay (losing the use below) revokes it with the consent's others. A use
    # whose own acknowledgement is lost is read back (``_use_refresh_token``).
    body = await _issue(
        services,
        consent,
        client,
        customer_id=consent.customer_id,
        scope=scope,
        rotate=seen,
        binding=binding,
    )
    record, won = await _use_refresh_token(services, token_hash, now)
    if record is None:
        raise InvalidGrantError(description="refresh token is invalid")
    if not won:  # lost a race with a concurrent use of the same token: a replay
        await _revoke(services, record.consent_id, "refresh token replayed")
        raise InvalidGrantError(description="refresh token was already used")
    return body


async def _use_refresh_token(
    services: Services, token_hash: str, now: float
) -> tuple[RefreshToken | None, bool]:
    """``Records.refresh_tokens.use``, resolving a lost commit acknowledgement: the store
    writes ``used_at`` as exactly the ``now`` given (a double, compared exactly), so a token
    read back as used at that very instant was used by this request, which therefore won. Any
    other reading leaves the outage to propagate (503); the retry then finds the token used
    and, as before, counts a replay. A concurrent use stamped with the same double (within a
    fraction of a microsecond, by the holder of the client's and the DPoP key) is the one case
    this could take for ours."""
    try:
        return await services.records.refresh_tokens.use(token_hash, now)
    except RecordsUnavailable:
        after = await services.records.refresh_tokens.get(token_hash)
        if after is None or after.used_at != now:
            raise
        log.warning("token.refresh_use_confirmed_after_error consent_id=%s", after.consent_id)
        return replace(after, used_at=None), True


async def _issue(
    services: Services,
    consent: Consent,
    client: ClientRecord,
    *,
    customer_id: str,
    scope: tuple[str, ...],
    rotate: RefreshToken | None,
    binding: Binding,
) -> dict[str, Any]:
    now = services.clock()
    access, claims = services.tokens.issue(
        consent_id=consent.id,
        client_id=client.client_id,
        sub=pairwise_subject(services.secret, customer_id, client.client_id),
        scope=" ".join(scope),
        jkt=binding.jkt,
        x5t=binding.x5t,
    )
    body: dict[str, Any] = {
        "access_token": access,
        "token_type": binding.token_type,
        "expires_in": claims.exp - claims.iat,
        "scope": " ".join(scope),
    }
    if consent.duration_type is not DurationType.ONE_TIME:
        # A rotated token keeps the consent's end: rotation never extends a grant (only the
        # consumer's renewal does, and then the consent's end is the new one).
        if consent.expires_at is not None:
            expires_at = consent.expires_at
        elif rotate is not None:
            expires_at = rotate.expires_at
        else:
            expires_at = now + services.settings.max_consent_days * 86400
        body["refresh_token"] = await _new_refresh_token(
            services, consent.id, client.client_id, now, expires_at, jkt=binding.jkt
        )
    body["grant_id"] = consent.id
    body["authorization_details"] = [granted_details(consent)]
    return body


def granted_details(consent: Consent) -> dict[str, Any]:
    """RFC 9396 §7: the token response says what was actually granted, accounts included."""
    request: dict[str, Any] = {"durationType": consent.duration_type.value}
    if consent.duration_period is not None:
        request["durationPeriod"] = consent.duration_period
    if consent.lookback_period is not None:
        request["lookbackPeriod"] = consent.lookback_period
    request["resources"] = [r.to_fdx() for r in consent.resources]
    return {"type": "fdx_v1.0", "consentRequest": request}


def hash_token(token: str) -> str:
    """Refresh tokens are stored as their SHA-256 only (RFC 6819 §5.1.4.1.3)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def _new_refresh_token(
    services: Services,
    consent_id: str,
    client_id: str,
    now: float,
    expires_at: float,
    *,
    jkt: str | None,
) -> str:
    token = secrets.token_urlsafe(32)
    await services.records.refresh_tokens.put(
        RefreshToken(
            token_hash=hash_token(token),
            consent_id=consent_id,
            client_id=client_id,
            created_at=now,
            expires_at=expires_at,
            jkt=jkt,
        )
    )
    return token


async def _active_consent(services: Services, consent_id: str, client: ClientRecord) -> Consent:
    consent = await services.records.consents.get(consent_id)
    if consent is None or consent.client_id != client.client_id:
        raise InvalidGrantError(description=CONSENT_ENDED)
    if not consent.is_active(services.clock()):
        await lifecycle.expire_if_due(services, consent)  # records an expiry seen on use
        raise InvalidGrantError(description=CONSENT_ENDED)
    return consent


async def _revoke(services: Services, consent_id: str, detail: str) -> None:
    await lifecycle.revoke(
        services, consent_id, actor="DATA_PROVIDER", reason="BUSINESS_RULE", detail=detail
    )


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise InvalidRequestError(description=f"{name} is required")
    return value
