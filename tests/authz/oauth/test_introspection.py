"""Token introspection (RFC 7662) with the FDX fdxConsentId claim."""

from __future__ import annotations

from typing import Any

from authz.consent.model import ConsentEvent, ConsentStatus
from tests.authz.oauth.conftest import CLIENT_ID, ISSUER, OTHER_ID, Harness, run


def _tokens(oauth: Harness) -> Any:
    code, verifier = oauth.code(oauth.consent())
    return oauth.exchange(code, verifier).json()


def _introspect(oauth: Harness, token: str, who: str = CLIENT_ID) -> Any:
    response = oauth.post("/oauth/introspect", oauth.auth(who, token=token))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


def test_a_live_access_token_is_active_with_its_claims(oauth: Harness) -> None:
    """The response carries the RFC 7662 members and the FDX consent id."""
    token = _tokens(oauth)["access_token"]
    claims = oauth.services.tokens.verify(token)

    body = _introspect(oauth, token)

    assert body == {
        "active": True,
        "scope": "fdx:accountbasic:read fdx:transactions:read",
        "client_id": CLIENT_ID,
        "sub": claims.sub,
        "exp": claims.exp,
        "iat": claims.iat,
        "iss": ISSUER,
        "aud": f"{ISSUER}/fdx/v6",
        "jti": claims.jti,
        "token_type": "Bearer",
        "fdxConsentId": "consent-1",
    }


def test_a_token_whose_consent_was_revoked_is_inactive(oauth: Harness) -> None:
    """The consent is checked live, not when the token expires."""
    token = _tokens(oauth)["access_token"]
    consent = oauth.get_consent()
    event = ConsentEvent("consent-1", oauth.clock(), "revoked", "INDIVIDUAL")
    run(
        oauth.services.records.consents.update,
        consent.with_status(ConsentStatus.REVOKED, oauth.clock()),
        event,
        expected_version=consent.version,
    )

    assert _introspect(oauth, token) == {"active": False}


def test_a_revoked_access_token_is_inactive(oauth: Harness) -> None:
    """A jti on the deny-list is inactive."""
    token = _tokens(oauth)["access_token"]
    oauth.post("/oauth/revoke", oauth.auth(token=token))

    assert _introspect(oauth, token) == {"active": False}


def test_another_clients_token_is_inactive(oauth: Harness) -> None:
    """A client only learns about its own tokens."""
    token = _tokens(oauth)["access_token"]

    assert _introspect(oauth, token, OTHER_ID) == {"active": False}


def test_an_expired_access_token_is_inactive(oauth: Harness) -> None:
    """Past exp the token is inactive."""
    token = _tokens(oauth)["access_token"]
    oauth.clock.advance(oauth.services.settings.access_token_ttl + 1)

    assert _introspect(oauth, token) == {"active": False}


def test_garbage_is_inactive(oauth: Harness) -> None:
    """Anything that is not one of our tokens is simply inactive."""
    assert _introspect(oauth, "garbage") == {"active": False}
    assert _introspect(oauth, "a.b.c") == {"active": False}
    assert _introspect(oauth, "x" * 5000) == {"active": False}


def test_a_live_refresh_token_is_active_and_introspection_does_not_use_it(oauth: Harness) -> None:
    """A refresh token reports its consent; reading it leaves it usable exactly once."""
    refresh = _tokens(oauth)["refresh_token"]

    body = _introspect(oauth, refresh)

    assert body["active"] is True
    assert body["fdxConsentId"] == "consent-1"
    assert body["client_id"] == CLIENT_ID
    assert _introspect(oauth, refresh, OTHER_ID) == {"active": False}
    assert oauth.refresh(refresh).status_code == 200
    assert _introspect(oauth, refresh) == {"active": False}, "a rotated token is spent"


def test_introspection_requires_a_token(oauth: Harness) -> None:
    """token is required."""
    response = oauth.post("/oauth/introspect", oauth.auth())

    assert response.json()["error"] == "invalid_request"


def test_introspection_requires_client_authentication(oauth: Harness) -> None:
    """An unauthenticated caller is invalid_client."""
    response = oauth.post("/oauth/introspect", {"token": "x"})

    assert response.status_code == 401
