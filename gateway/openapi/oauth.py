"""The authorization server's endpoints a recipient's code calls, as OpenAPI operations.

FDX leaves these to OAuth, so they are written here rather than copied: pushed authorization
(RFC 9126), token (RFC 6749 §3.2 with DPoP, RFC 9449 §5), revocation (RFC 7009), introspection
(RFC 7662) and dynamic registration (RFC 7591, RFC 7592). Every one authenticates the client with
``private_key_jwt`` (RFC 7523) in the form, except registration (a software statement; then the
registration access token). One row per operation in ``OAUTH_OPERATIONS``; ``build.py`` adds the
error responses from each row's answers, as for the FDX operations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.openapi.answers import (
    DPOP_NONCE,
    INVALID_DPOP,
    INVALID_REQUEST,
    OAUTH_COMMON,
    OAUTH_NONCE,
    OAUTH_UNAVAILABLE,
    TOO_LARGE,
    Answer,
    oauth,
)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True, slots=True)
class OAuthOperation:
    method: str
    path: str
    operation_id: str
    summary: str
    description: str
    answers: tuple[Answer, ...]
    success: dict[str, Any]  # status → OpenAPI response object
    body: tuple[str, str] | None = None  # (media type, schema name)
    dpop: bool = False  # takes a DPoP proof header (RFC 9449 §5, §10)
    path_parameters: tuple[str, ...] = ()
    security: tuple[dict[str, list[str]], ...] = ()
    resource: bool = False  # takes an access token like the FDX data operations (its security)
    tags: tuple[str, ...] = field(default=("OAuth",))


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: str, example: Any, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {JSON: {"schema": _ref(schema), "example": example}},
    }


_ASSERTION = {
    "client_assertion_type": {"type": "string", "enum": [ASSERTION_TYPE]},
    "client_assertion": {
        "type": "string",
        "description": "RFC 7523 §2.2: a JWT signed ES256 or PS256 with a registered key; `iss`"
        " and `sub` the client_id, `aud` exactly the issuer, `exp` within 300 s, `jti` once.",
    },
    "client_id": {"type": "string", "description": "Optional; must be the assertion's `sub`."},
}
_AUTHENTICATED = ["client_assertion_type", "client_assertion"]
_TOKEN_HINT = {"type": "string", "enum": ["access_token", "refresh_token"]}
_CODE_CHALLENGE = {"type": "string", "pattern": "^[A-Za-z0-9_-]{43,128}$"}

SCHEMAS: dict[str, dict[str, Any]] = {
    "OAuthError": {
        "type": "object",
        "description": "RFC 6749 §5.2 error body, on every OAuth endpoint.",
        "required": ["error"],
        "properties": {
            "error": {"type": "string"},
            "error_description": {"type": "string"},
        },
    },
    "PushedAuthorizationRequest": {
        "type": "object",
        "description": "RFC 9126 §2.1: the authorization request, pushed. PKCE with S256 is"
        " required (FAPI 2.0); what is asked for is `authorization_details` of type `fdx_v1.0`"
        " (RFC 9396, an FDX ConsentRequest) or data-cluster scopes.",
        "required": [
            *_AUTHENTICATED,
            "client_id",
            "response_type",
            "redirect_uri",
            "code_challenge",
            "code_challenge_method",
        ],
        "properties": {
            **_ASSERTION,
            "client_id": {"type": "string"},
            "response_type": {"type": "string", "enum": ["code"]},
            "redirect_uri": {"type": "string", "description": "Exactly a registered URI."},
            "code_challenge": _CODE_CHALLENGE,
            "code_challenge_method": {"type": "string", "enum": ["S256"]},
            "scope": {
                "type": "string",
                "description": "Space-separated: data-cluster scopes (`fdx:transactions:read`…),"
                " `openid`, `offline_access`.",
            },
            "authorization_details": {
                "type": "string",
                "description": 'JSON array of `{"type": "fdx_v1.0", "consentRequest":'
                " {…}}` (RFC 9396 §2).",
            },
            "state": {"type": "string", "maxLength": 512},
            "nonce": {"type": "string", "minLength": 1, "maxLength": 512},
            "max_age": {
                "type": "string",
                "pattern": "^[0-9]{1,9}$",
                "description": "OIDC Core §3.1.2.1: seconds since the consumer last signed in"
                " at the bank; older sign-ins are repeated.",
            },
            "acr_values": {
                "type": "string",
                "description": "OIDC Core §3.1.2.1: space-separated (at most 8) authentication"
                " context classes the app prefers; the bank's own levels always apply and the"
                " ID token's `acr` says which was met.",
            },
            "prompt": {
                "type": "string",
                "description": "OIDC Core §3.1.2.1: `login` signs the consumer in again; `none`"
                " (alone) is answered `login_required` or `consent_required`, since a consent"
                " screen always follows; `consent` and `select_account` are accepted.",
            },
            "dpop_jkt": {
                "type": "string",
                "pattern": "^[A-Za-z0-9_-]{43}$",
                "description": "RFC 9449 §10: the thumbprint of the DPoP key the code will be"
                " bound to (or send a `DPoP` proof with this request).",
            },
        },
    },
    "PushedAuthorizationResponse": {
        "type": "object",
        "required": ["request_uri", "expires_in"],
        "properties": {
            "request_uri": {"type": "string"},
            "expires_in": {"type": "integer"},
        },
    },
    "TokenRequest": {
        "type": "object",
        "description": "RFC 6749 §4.1.3 (`authorization_code`: `code`, `redirect_uri`,"
        " `code_verifier`), §6 (`refresh_token`: `refresh_token`, optional narrower `scope`) and"
        " §4.4 (`client_credentials`: `scope` `fdx:consents:manage`, for the Consent API).",
        "required": [*_AUTHENTICATED, "grant_type"],
        "properties": {
            **_ASSERTION,
            "grant_type": {
                "type": "string",
                "enum": ["authorization_code", "refresh_token", "client_credentials"],
            },
            "code": {"type": "string"},
            "redirect_uri": {"type": "string"},
            "code_verifier": {"type": "string", "pattern": "^[A-Za-z0-9._~-]{43,128}$"},
            "refresh_token": {"type": "string"},
            "scope": {"type": "string"},
        },
    },
    "TokenResponse": {
        "type": "object",
        "description": "RFC 6749 §5.1. `token_type` is `DPoP` for a DPoP-bound token (RFC 9449"
        " §5), `Bearer` for a certificate-bound (RFC 8705) or, under the sandbox profile, an"
        " unbound one. `grant_id` is the FDX consent id.",
        "required": ["access_token", "token_type", "expires_in"],
        "properties": {
            "access_token": {"type": "string"},
            "token_type": {"type": "string", "enum": ["DPoP", "Bearer"]},
            "expires_in": {"type": "integer"},
            "scope": {"type": "string"},
            "refresh_token": {"type": "string"},
            "grant_id": {"type": "string"},
            "authorization_details": {"type": "array", "items": {"type": "object"}},
            "id_token": {"type": "string"},
        },
    },
    "RevocationRequest": {
        "type": "object",
        "description": "RFC 7009 §2.1. Revoking a refresh token ends its consent.",
        "required": [*_AUTHENTICATED, "token"],
        "properties": {**_ASSERTION, "token": {"type": "string"}, "token_type_hint": _TOKEN_HINT},
    },
    "IntrospectionRequest": {
        "type": "object",
        "description": "RFC 7662 §2.1, for the calling client's own tokens.",
        "required": [*_AUTHENTICATED, "token"],
        "properties": {**_ASSERTION, "token": {"type": "string"}, "token_type_hint": _TOKEN_HINT},
    },
    "IntrospectionResponse": {
        "type": "object",
        "description": "RFC 7662 §2.2; `cnf` is the token's binding (RFC 9449 §6.2, RFC 8705"
        " §3.2); `fdxConsentId` its consent.",
        "required": ["active"],
        "properties": {
            "active": {"type": "boolean"},
            "scope": {"type": "string"},
            "client_id": {"type": "string"},
            "sub": {"type": "string"},
            "exp": {"type": "integer"},
            "iat": {"type": "integer"},
            "iss": {"type": "string"},
            "aud": {"type": "string"},
            "jti": {"type": "string"},
            "token_type": {"type": "string"},
            "cnf": {"type": "object"},
            "fdxConsentId": {"type": "string"},
        },
    },
    "UserInfo": {
        "type": "object",
        "description": "OIDC Core §5.3.2. `sub` is pairwise (one value per recipient); the"
        " name and email only when the consent shares CUSTOMER_CONTACT and the token carries"
        " its scope.",
        "required": ["sub"],
        "properties": {
            "sub": {"type": "string"},
            "name": {"type": "string"},
            "given_name": {"type": "string"},
            "family_name": {"type": "string"},
            "email": {"type": "string"},
        },
    },
    "ClientMetadata": {
        "type": "object",
        "description": "RFC 7591 §2 with the FDX recipient fields. The software statement's"
        " claims win over the request's (§2.3); unknown fields are ignored.",
        "required": ["software_statement"],
        "properties": {
            "software_statement": {
                "type": "string",
                "description": "A JWT signed by a registry this bank trusts.",
            },
            "client_name": {"type": "string"},
            "redirect_uris": {"type": "array", "items": {"type": "string"}},
            "jwks": {"type": "object", "description": "Public keys by value (or `jwks_uri`)."},
            "jwks_uri": {"type": "string"},
            "token_endpoint_auth_method": {"type": "string", "enum": ["private_key_jwt"]},
            "grant_types": {"type": "array", "items": {"type": "string"}},
            "scope": {"type": "string"},
            "logo_uri": {"type": "string"},
            "client_uri": {"type": "string"},
            "contacts": {"type": "array", "items": {"type": "string"}},
            "description": {"type": "string"},
            "notification_uri": {"type": "string"},
            "duration_type": {"type": "array", "items": {"type": "string"}},
            "duration_period": {"type": "integer"},
            "lookback_period": {"type": "integer"},
            "registry_references": {"type": "array", "items": {"type": "object"}},
        },
    },
    "ClientInformation": {
        "type": "object",
        "description": "RFC 7591 §3.2.1 / RFC 7592 §3: what is registered, with a new"
        " registration access token each time (the previous one stops working).",
        "required": ["client_id", "registration_client_uri", "status"],
        "properties": {
            "client_id": {"type": "string"},
            "client_id_issued_at": {"type": "integer"},
            "registration_access_token": {"type": "string"},
            "registration_client_uri": {"type": "string"},
            "status": {"type": "string", "enum": ["pending", "approved", "suspended", "deleted"]},
            "client_name": {"type": "string"},
            "redirect_uris": {"type": "array", "items": {"type": "string"}},
            "scope": {"type": "string"},
        },
    },
}

DPOP_HEADER = {
    "name": "DPoP",
    "in": "header",
    "required": False,
    "description": "RFC 9449 §4: a DPoP proof for this request (`htm` POST, `htu` this"
    " endpoint's URL). Required at the token endpoint under the fapi2 profile unless the"
    " client's certificate binds the token (RFC 8705).",
    "schema": {"type": "string"},
}
CLIENT_ID_PARAM = {
    "name": "client_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "maxLength": 128},
}

GRANT_ERRORS = (
    oauth(
        400,
        "invalid_grant",
        "The code or refresh token is invalid, used, expired or not"
        " this client's, or the consent has ended.",
    ),
    oauth(400, "unsupported_grant_type", "`grant_type` is none of the three."),
    oauth(400, "invalid_scope", "`scope` is wider than granted, or not `fdx:consents:manage`."),
)
PAR_ERRORS = (
    oauth(400, "unsupported_response_type", "`response_type` is not `code`."),
    oauth(400, "invalid_scope", "A scope is unknown or not registered for this client."),
    oauth(
        400,
        "invalid_authorization_details",
        "`authorization_details` is malformed, of an"
        " unknown type, or beyond what the client registered (RFC 9396 §5).",
    ),
)
REGISTRATION_ERRORS = (
    oauth(400, "invalid_client_metadata", "A field is invalid, or the body is not a JSON object."),
    oauth(400, "invalid_redirect_uri", "A redirect URI is not https, or has a fragment."),
    oauth(400, "invalid_software_statement", "The statement is missing, malformed or expired."),
    oauth(400, "unapproved_software_statement", "No trusted registry signed the statement."),
)
REGISTRATION_TOKEN = oauth(
    401,
    "invalid_token",
    "The registration access token is missing, unknown or not this client's.",
    "WWW-Authenticate",
)

_CHALLENGED = "WWW-Authenticate"
USERINFO_ERRORS = (
    oauth(400, "invalid_request", "The token was sent in the query or the body.", _CHALLENGED),
    oauth(
        401,
        "invalid_token",
        "The access token is missing, invalid, expired or revoked, its"
        " consent has ended, or its recipient is suspended.",
        _CHALLENGED,
    ),
    oauth(
        401,
        "invalid_dpop_proof",
        "The DPoP proof is missing, malformed or not for this request.",
        _CHALLENGED,
    ),
    oauth(
        401,
        "use_dpop_nonce",
        "Send the proof again with the `DPoP-Nonce` value.",
        _CHALLENGED,
        DPOP_NONCE,
    ),
    oauth(403, "insufficient_scope", "The token was not granted `openid`.", _CHALLENGED),
    oauth(413, "invalid_request", "The body is larger than `max_body_bytes`.", _CHALLENGED),
    oauth(503, "temporarily_unavailable", "The bank did not answer.", _CHALLENGED),
)
_USERINFO = (
    "Userinfo (OIDC Core §5.3)",
    "The consumer's claims for a token granted `openid`, presented like a data operation's"
    " token. Errors are RFC 6750 §3 challenges with an OAuth error body.",
)

_TOKEN_EXAMPLE = {
    "access_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiIuLi4ifQ.c2ln",
    "token_type": "DPoP",
    "expires_in": 300,
    "scope": "fdx:accountbasic:read fdx:transactions:read offline_access",
    "refresh_token": "x4zG0H9kM2Vq7wLr3bT5yP8sN1cD6fJa",
    "grant_id": "c8hVq3xk2XbW0d9T",
    "authorization_details": [{"type": "fdx_v1.0", "consentId": "c8hVq3xk2XbW0d9T"}],
}
_CLIENT_EXAMPLE = {
    "client_id": "pA3v9Qx2LmT7kZ0r8YwE1uB4",
    "client_id_issued_at": 1_800_000_000,
    "client_name": "Budget App",
    "redirect_uris": ["https://app.example.com/callback"],
    "registration_access_token": "Zt1lJmXo0qK5w3R8vN6cY2hP9dG4sB7e",
    "registration_client_uri": "https://bank.example/register/pA3v9Qx2LmT7kZ0r8YwE1uB4",
    "status": "pending",
}
_REGISTRATION = ("Registration",)

OAUTH_OPERATIONS: tuple[OAuthOperation, ...] = (
    OAuthOperation(
        "POST",
        "/oauth/par",
        "pushAuthorizationRequest",
        "Push an authorization request (RFC 9126)",
        "The only way to start a consent (FAPI 2.0): the answer's `request_uri` goes to"
        " `/oauth/authorize` with the `client_id`, in the consumer's browser. A DPoP proof sent"
        " here binds the authorization code to its key (RFC 9449 §10).",
        (*OAUTH_COMMON, *PAR_ERRORS, INVALID_DPOP, OAUTH_NONCE),
        {
            "201": _json(
                "PushedAuthorizationResponse",
                {
                    "request_uri": "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc",
                    "expires_in": 60,
                },
                "The request is stored; its `request_uri` is single use.",
            )
        },
        body=(FORM, "PushedAuthorizationRequest"),
        dpop=True,
    ),
    OAuthOperation(
        "POST",
        "/oauth/token",
        "requestToken",
        "Exchange a code, refresh, or get a Consent API token",
        "Under the fapi2 profile every token is sender-constrained: send a `DPoP` proof (the"
        " token is then `DPoP`-bound) or present the client certificate (RFC 8705). Refresh"
        " tokens rotate; the old one stops working.",
        (*OAUTH_COMMON, *GRANT_ERRORS, INVALID_DPOP, OAUTH_NONCE),
        {"200": _json("TokenResponse", _TOKEN_EXAMPLE, "Tokens issued.")},
        body=(FORM, "TokenRequest"),
        dpop=True,
    ),
    OAuthOperation(
        "POST",
        "/oauth/revoke",
        "revokeToken",
        "Revoke a token (RFC 7009)",
        "A refresh token ends its whole consent (and every token of it); an access token stops"
        " working at once. An unknown or invalid token is answered 200, revealing nothing.",
        (*OAUTH_COMMON, oauth(400, "unauthorized_client", "The token is another client's.")),
        {"200": {"description": "Revoked (or nothing to revoke)."}},
        body=(FORM, "RevocationRequest"),
    ),
    OAuthOperation(
        "POST",
        "/oauth/introspect",
        "introspectToken",
        "Introspect one of this client's tokens (RFC 7662)",
        "`active` is true only while the token is valid, unrevoked, the caller's, and its"
        " consent is live.",
        OAUTH_COMMON,
        {
            "200": _json(
                "IntrospectionResponse",
                {"active": True, "token_type": "DPoP", "fdxConsentId": "c8hVq3xk2XbW0d9T"},
                "The token's state.",
            )
        },
        body=(FORM, "IntrospectionRequest"),
    ),
    *(  # OIDC Core §5.3.1: the same resource by GET and by POST
        OAuthOperation(
            method,
            "/oauth/userinfo",
            operation_id,
            *_USERINFO,
            USERINFO_ERRORS,
            {"200": _json("UserInfo", {"sub": "Jf6x0wQm2u7pVb1kR9sT3yLd"}, "The claims.")},
            resource=True,
            tags=("OpenID Connect",),
        )
        for method, operation_id in (("GET", "getUserInfo"), ("POST", "postUserInfo"))
    ),
    OAuthOperation(
        "POST",
        "/register",
        "registerClient",
        "Register a data recipient (RFC 7591, FDX)",
        "Needs a software statement from a registry this bank trusts. The new client is"
        " `pending` until the bank approves it. Served only where a registry is configured.",
        (INVALID_REQUEST, *REGISTRATION_ERRORS, TOO_LARGE, OAUTH_UNAVAILABLE),
        {"201": _json("ClientInformation", _CLIENT_EXAMPLE, "Registered.")},
        body=(JSON, "ClientMetadata"),
        tags=_REGISTRATION,
    ),
    OAuthOperation(
        "GET",
        "/register/{client_id}",
        "readClientRegistration",
        "Read a registration (RFC 7592 §2.1)",
        "Answers with a new registration access token; the one sent stops working.",
        (REGISTRATION_TOKEN, OAUTH_UNAVAILABLE),
        {"200": _json("ClientInformation", _CLIENT_EXAMPLE, "The registration.")},
        path_parameters=("client_id",),
        security=({"registrationToken": []},),
        tags=_REGISTRATION,
    ),
    OAuthOperation(
        "PUT",
        "/register/{client_id}",
        "updateClientRegistration",
        "Replace a registration's metadata (RFC 7592 §2.2)",
        "The body replaces the metadata (with `client_id`); the status is kept.",
        (INVALID_REQUEST, *REGISTRATION_ERRORS, REGISTRATION_TOKEN, TOO_LARGE, OAUTH_UNAVAILABLE),
        {"200": _json("ClientInformation", _CLIENT_EXAMPLE, "The updated registration.")},
        body=(JSON, "ClientMetadata"),
        path_parameters=("client_id",),
        security=({"registrationToken": []},),
        tags=_REGISTRATION,
    ),
    OAuthOperation(
        "DELETE",
        "/register/{client_id}",
        "deleteClientRegistration",
        "Deregister (RFC 7592 §2.3)",
        "The client's consents are revoked and its tokens stop working.",
        (REGISTRATION_TOKEN, OAUTH_UNAVAILABLE),
        {"204": {"description": "Deregistered."}},
        path_parameters=("client_id",),
        security=({"registrationToken": []},),
        tags=_REGISTRATION,
    ),
)

PATH_PARAMETERS = {"client_id": CLIENT_ID_PARAM}
