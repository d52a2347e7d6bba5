"""OAuth errors: authlib's RFC 6749 classes plus ours, rendered in exactly one place.

Deep code raises (``raise InvalidRequestError("code_verifier is required")``); the OAuth
endpoints' exception handler turns any ``OAuth2Error`` into an RFC 6749 §5.2 body with
``Cache-Control: no-store``. authlib stays inside ``authz`` (docs/architecture.md §3).
"""

from __future__ import annotations

import orjson
from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
    UnsupportedResponseTypeError,
)
from starlette.requests import Request
from starlette.responses import Response


class InvalidAuthorizationDetailsError(OAuth2Error):
    """RFC 9396 §5: authorization_details malformed, of an unknown type, or beyond what the
    client registered."""

    error = "invalid_authorization_details"


class InvalidRequestUriError(OAuth2Error):
    """RFC 9101 §7: the request_uri is unknown, expired, already used or not this client's."""

    error = "invalid_request_uri"


class UnsupportedTokenTypeError(OAuth2Error):
    """RFC 7009 §2.2.1."""

    error = "unsupported_token_type"


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: the ``resource`` asked for is invalid, unknown or malformed."""

    error = "invalid_target"


class RequestTooLargeError(InvalidRequestError):
    status_code = 413


class InvalidDpopProofError(OAuth2Error):
    """RFC 9449 §5: the DPoP proof is missing, malformed or does not fit this request."""

    error = "invalid_dpop_proof"


class UseDpopNonceError(OAuth2Error):
    """RFC 9449 §8: retry with the server nonce sent in the ``DPoP-Nonce`` header."""

    error = "use_dpop_nonce"

    def __init__(self, nonce: str, description: str) -> None:
        super().__init__(description=description)
        self.response_headers = {"DPoP-Nonce": nonce}


class TemporarilyUnavailableError(OAuth2Error):
    """RFC 6749 §4.1.2.1 ``temporarily_unavailable``: a store the server needs is away (Redis,
    PostgreSQL). RFC 6749 lists it for the authorization endpoint; we answer it, as 503 with
    ``Retry-After`` (RFC 9110 §15.6.4, §10.2.3), on every OAuth endpoint, so a client retries
    later instead of treating a refusal as final."""

    error = "temporarily_unavailable"
    status_code = 503

    def __init__(self, description: str, *, retry_after: int) -> None:
        super().__init__(description=description)
        self.response_headers = {"Retry-After": str(retry_after)}


NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error_response(error: OAuth2Error) -> Response:
    """RFC 6749 §5.2. ``invalid_client`` is a 401 (§5.2: the client failed to authenticate)."""
    status = 401 if isinstance(error, InvalidClientError) else int(error.status_code or 400)
    body: dict[str, str] = {"error": str(error.error)}
    if error.description:
        body["error_description"] = str(error.description)
    headers = {**NO_STORE, **getattr(error, "response_headers", {})}
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


async def handle_oauth_error(request: Request, exc: Exception) -> Response:
    """Starlette exception handler, registered once for ``OAuth2Error``."""
    assert isinstance(exc, OAuth2Error)
    return oauth_error_response(exc)


__all__ = [
    "NO_STORE",
    "AccessDeniedError",
    "InvalidAuthorizationDetailsError",
    "InvalidClientError",
    "InvalidDpopProofError",
    "InvalidGrantError",
    "InvalidRequestError",
    "InvalidRequestUriError",
    "InvalidScopeError",
    "InvalidTargetError",
    "OAuth2Error",
    "RequestTooLargeError",
    "TemporarilyUnavailableError",
    "UnauthorizedClientError",
    "UnsupportedGrantTypeError",
    "UnsupportedResponseTypeError",
    "UnsupportedTokenTypeError",
    "UseDpopNonceError",
    "handle_oauth_error",
    "oauth_error_response",
]
