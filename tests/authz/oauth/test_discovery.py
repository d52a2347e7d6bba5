"""RFC 8414 metadata and the JWK Set."""

from __future__ import annotations

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from tests.authz.oauth.conftest import ISSUER, Harness


def test_metadata_is_valid_rfc8414(oauth: Harness) -> None:
    """The discovery document passes authlib's RFC 8414 validation and names our issuer."""
    doc = oauth.http.get("/.well-known/oauth-authorization-server").json()

    AuthorizationServerMetadata(doc).validate()
    assert doc["issuer"] == ISSUER
    assert doc["pushed_authorization_request_endpoint"] == f"{ISSUER}/oauth/par"
    assert doc["require_pushed_authorization_requests"] is True


def test_openid_configuration_serves_the_same_document(oauth: Harness) -> None:
    """Both well-known paths answer the same metadata."""
    a = oauth.http.get("/.well-known/oauth-authorization-server").json()
    b = oauth.http.get("/.well-known/openid-configuration").json()

    assert a == b


def test_metadata_advertises_only_what_is_implemented(oauth: Harness) -> None:
    """ES256 ID tokens only, DPoP with ES256/PS256, no secrets; PKCE S256 and private_key_jwt
    everywhere; no mTLS unless the deployment forwards client certificates."""
    doc = oauth.http.get("/.well-known/oauth-authorization-server").json()

    assert doc["id_token_signing_alg_values_supported"] == ["ES256"]
    assert doc["dpop_signing_alg_values_supported"] == ["ES256", "PS256"]
    assert "tls_client_certificate_bound_access_tokens" not in doc
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    for endpoint in ("token", "revocation", "introspection", "pushed_authorization_request"):
        assert doc[f"{endpoint}_endpoint_auth_methods_supported"] == ["private_key_jwt"]
        assert doc[f"{endpoint}_endpoint_auth_signing_alg_values_supported"] == ["ES256", "PS256"]
    assert "fdx:transactions:read" in doc["scopes_supported"]
    assert "offline_access" in doc["scopes_supported"]
    assert doc["authorization_details_types_supported"] == ["fdx_v1.0"]
    assert doc["subject_types_supported"] == ["pairwise"]


def test_jwks_publishes_public_keys_with_a_cache_header(oauth: Harness) -> None:
    """The JWK Set holds the signing key's public half and may be cached for five minutes."""
    response = oauth.http.get("/jwks")
    keys = response.json()["keys"]

    assert response.headers["cache-control"] == "public, max-age=300"
    assert [k["kid"] for k in keys] == [oauth.services.keys.kid]
    assert all("d" not in k for k in keys)
