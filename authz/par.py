"""The pushed authorization request endpoint (RFC 9126), the only way into /oauth/authorize.

FAPI 2.0 §5.3.1.2 makes PAR mandatory, so every authorization request is validated here, with the
client authenticated, before the consumer sees a screen: response type, redirect URI, PKCE S256,
what is asked for (``authorization_details`` or ``scope``), and the form of the parameters that
change nothing here (``authz/request_parameters.py``). The validated request is stored
once under a fresh request_uri; ``authz/screens`` consumes it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import replace

import orjson
from starlette.requests import Request
from starlette.responses import Response

from authz.authorization_details import consent_request, parse_scope
from authz.client_auth import ClientAuthenticator
from authz.errors import (
    NO_STORE,
    InvalidDpopProofError,
    InvalidRequestError,
    UnsupportedResponseTypeError,
)
from authz.forms import read_form
from authz.request_parameters import check_request_parameters
from authz.requests import REQUEST_URI_PREFIX, PushedRequest
from authz.services import Services
from authz.store.base import ClientRecord, Kind

MAX_STATE_CHARS = 512
MAX_NONCE_CHARS = 512
CODE_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43,128}")  # base64url, RFC 7636 §4.2
JKT = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url SHA-256, RFC 7638 §3
# OIDC Core §3.1.2.1 acr_values: space-separated strings, here RFC 6749 §3.3's scope-token
# characters (printable ASCII but space, '"' and '\\'), as acr URIs and names use.
PROMPTS = frozenset({"none", "login", "consent", "select_account"})
ACR_VALUE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,128}")


async def pushed_authorization_request(
    request: Request, services: Services, clients: ClientAuthenticator
) -> Response:
    """RFC 9126 §2: 201 with a single-use request_uri."""
    form = await read_form(request, max_bytes=services.settings.max_body_bytes)
    # RFC 9449 §10.1: a proof at PAR, when sent, binds the code to its key.
    binding = await services.senders.bind(request, required=False)
    client = await clients.authenticate(request, form)
    pushed = validate_pushed(form, client, services)
    pushed = replace(pushed, dpop_jkt=_dpop_jkt(form.get("dpop_jkt"), binding.jkt))
    key = secrets.token_urlsafe(32)
    ttl = services.settings.par_ttl
    await services.state.put(Kind.PAR, key, pushed.to_dict(), ttl=ttl)
    body = {"request_uri": REQUEST_URI_PREFIX + key, "expires_in": ttl}
    headers = {**NO_STORE, **services.senders.nonce_headers()}
    return Response(
        orjson.dumps(body), status_code=201, media_type="application/json", headers=headers
    )


def _dpop_jkt(param: str | None, proof_jkt: str | None) -> str | None:
    """RFC 9449 §10: the key the code is bound to: ``dpop_jkt`` if given (which must then be
    the proof's key, if a proof came too), else the proof's key, else none."""
    if param is None:
        return proof_jkt
    if not JKT.fullmatch(param):
        raise InvalidRequestError(description="dpop_jkt must be a base64url SHA-256 thumbprint")
    if proof_jkt is not None and param != proof_jkt:
        raise InvalidDpopProofError(description="dpop_jkt is not the DPoP proof's key")
    return param


def validate_pushed(
    form: Mapping[str, str], client: ClientRecord, services: Services
) -> PushedRequest:
    """The authorization request as the authenticated ``client`` pushed it, fully checked."""
    if "request_uri" in form:
        # RFC 9126 §2.1: a pushed request must not itself point at another one.
        raise InvalidRequestError(description="request_uri is not allowed in a pushed request")
    if "request" in form:
        raise InvalidRequestError(description="request objects are not supported")
    if form.get("client_id") != client.client_id:
        raise InvalidRequestError(description="client_id is required and must be the client's")
    _check_response_type(form.get("response_type"))
    redirect_uri = form.get("redirect_uri")
    if not redirect_uri:
        raise InvalidRequestError(description="redirect_uri is required")
    if redirect_uri not in client.redirect_uris:
        # Exact string match, no normalisation (RFC 9700 §4.1.3, FAPI 2.0 §5.3.1.2).
        raise InvalidRequestError(description="redirect_uri is not registered for this client")
    state = form.get("state")
    if state is not None and len(state) > MAX_STATE_CHARS:
        raise InvalidRequestError(description=f"state exceeds {MAX_STATE_CHARS} characters")
    code_challenge = _check_pkce(form)
    nonce = form.get("nonce")
    if nonce is not None and not 0 < len(nonce) <= MAX_NONCE_CHARS:
        raise InvalidRequestError(description=f"nonce must be 1 to {MAX_NONCE_CHARS} characters")
    check_request_parameters(form)
    max_age, acr_values = _check_authentication_request(form)
    prompt = _check_prompt(form.get("prompt"))
    scopes = parse_scope(form.get("scope"), client, services.policy)
    consent = consent_request(
        form.get("authorization_details"), scopes, client, services.policy, services.settings
    )
    return PushedRequest(
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        state=state or None,
        scope=scopes,
        code_challenge=code_challenge,
        consent=consent,
        created_at=services.clock(),
        nonce=nonce,
        max_age=max_age,
        acr_values=acr_values,
        prompt=prompt,
    )


def _check_authentication_request(form: Mapping[str, str]) -> tuple[int | None, tuple[str, ...]]:
    """OIDC Core §3.1.2.1 ``max_age`` (seconds) and ``acr_values`` (space-separated)."""
    raw = form.get("max_age")
    max_age = None
    if raw is not None:
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
            raise InvalidRequestError(description="max_age must be a number of seconds")
        max_age = int(raw)
    values = tuple((form.get("acr_values") or "").split(" "))
    values = tuple(v for v in values if v)
    if len(values) > 8 or not all(ACR_VALUE.fullmatch(v) for v in values):
        raise InvalidRequestError(
            description="acr_values: at most 8 space-separated values of 1 to 128 printable "
            "ASCII characters, without quotes or backslashes"
        )
    return max_age, values


def _check_prompt(raw: str | None) -> tuple[str, ...]:
    """OIDC Core §3.1.2.1 ``prompt``: known values, ``none`` only on its own."""
    values = tuple(dict.fromkeys(v for v in (raw or "").split(" ") if v))
    if any(v not in PROMPTS for v in values):
        raise InvalidRequestError(
            description="prompt: space-separated none, login, consent or select_account"
        )
    if "none" in values and len(values) > 1:
        raise InvalidRequestError(description="prompt: none cannot be combined with other values")
    return values


def _check_response_type(value: str | None) -> None:
    if not value:
        raise InvalidRequestError(description="response_type is required")
    if value != "code":
        raise UnsupportedResponseTypeError(
            value, description="only response_type code is supported"
        )


def _check_pkce(form: Mapping[str, str]) -> str:
    """FAPI 2.0 §5.3.2.2: PKCE with S256 on every request; plain is refused."""
    challenge = form.get("code_challenge")
    if not challenge:
        raise InvalidRequestError(description="code_challenge is required")
    if not CODE_CHALLENGE.fullmatch(challenge):
        raise InvalidRequestError(description="code_challenge is malformed")
    if form.get("code_challenge_method") != "S256":
        raise InvalidRequestError(description="code_challenge_method must be S256")
    return challenge
