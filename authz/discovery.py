"""Authorization server metadata (RFC 8414) and the JWK Set that verifies our tokens.

The document advertises only what is implemented: code flow through PAR, PKCE S256,
``private_key_jwt`` with ES256/PS256, RAR type ``fdx_v1.0``, pairwise subjects, ID tokens and
userinfo (OIDC Discovery §3; ES256 only: no RSA signing key exists), dynamic registration
when a registry is configured, DPoP (RFC 9449 §5.1) and, when the deployment forwards client
certificates, certificate-bound tokens (RFC 8705 §3.3).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from authz.authorization_details import DETAILS_TYPE
from authz.client_auth import ALGORITHMS, AUTH_METHOD
from authz.oidc import CLAIMS_SUPPORTED, ID_TOKEN_ALGS, OPENID
from authz.registration.statement import registry_file
from authz.services import Services
from authz.tokens import CONSENTS_SCOPE, SUBSCRIPTIONS_SCOPE
from config.policy import Policy
from config.settings import Settings

JWKS_CACHE = "public, max-age=300"


def metadata(settings: Settings, policy: Policy) -> dict[str, Any]:
    issuer = settings.issuer
    doc: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "pushed_authorization_request_endpoint": f"{issuer}/oauth/par",
        "require_pushed_authorization_requests": True,
        "token_endpoint": f"{issuer}/oauth/token",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "jwks_uri": f"{issuer}/jwks",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        # The cluster scopes (authorization code), offline_access, and the Consent API's scope,
        # granted only through client_credentials.
        "scopes_supported": [c.scope for c in policy.clusters.values()]
        + ["offline_access", CONSENTS_SCOPE, SUBSCRIPTIONS_SCOPE, OPENID],
        "authorization_details_types_supported": [DETAILS_TYPE],
        "authorization_response_iss_parameter_supported": True,
        "subject_types_supported": ["pairwise"],
        "ui_locales_supported": ["en", "ja"],
    }
    doc.update(_openid(settings))
    doc["dpop_signing_alg_values_supported"] = list(settings.dpop_algorithms)
    if settings.mtls_client_cert_header:
        doc["tls_client_certificate_bound_access_tokens"] = True
    for endpoint in ("token", "revocation", "introspection", "pushed_authorization_request"):
        doc[f"{endpoint}_endpoint_auth_methods_supported"] = [AUTH_METHOD]
        doc[f"{endpoint}_endpoint_auth_signing_alg_values_supported"] = list(ALGORITHMS)
    return doc


def _openid(settings: Settings) -> dict[str, Any]:
    """OIDC Discovery §3 fields, and RFC 7591 §3's registration endpoint when DCR is on."""
    doc: dict[str, Any] = {
        "userinfo_endpoint": f"{settings.issuer}/oauth/userinfo",
        "id_token_signing_alg_values_supported": list(ID_TOKEN_ALGS),
        "claims_supported": list(CLAIMS_SUPPORTED),
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
    }
    acr = settings.login_oidc_acr_values.split()
    if settings.login == "oidc" and acr:
        doc["acr_values_supported"] = acr  # §3: the levels the bank's OP signs in at
    if registry_file(settings) is not None:
        doc["registration_endpoint"] = f"{settings.issuer}/register"
    return doc


def metadata_response(services: Services) -> Response:
    body = orjson.dumps(metadata(services.settings, services.policy))
    return Response(body, media_type="application/json")


def jwks_response(services: Services) -> Response:
    body = orjson.dumps(services.keys.jwks())
    return Response(
        body, media_type="application/jwk-set+json", headers={"Cache-Control": JWKS_CACHE}
    )
