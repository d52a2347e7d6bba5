"""The token endpoint's part in a consent's life: ONE_TIME ends with its token, expiry is
recorded on use, a renewal keeps the refresh token alive, and the client-credentials grant."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from authz.consent import lifecycle
from authz.consent.model import ConsentStatus, DurationType
from authz.tokens import CONSENTS_SCOPE
from tests.authz.oauth.conftest import CLIENT_ID, Harness, run

DAY = 86400


def _exchange(oauth: Harness, **consent: Any) -> dict[str, Any]:
    code, verifier = oauth.code(oauth.consent(**consent))
    response = oauth.exchange(code, verifier)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _unverified(token: str) -> dict[str, Any]:
    """The claims as sent (the signature is the verifier's business, tested elsewhere)."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_a_one_time_consent_ends_when_its_access_token_ends(oauth: Harness) -> None:
    """The code exchange sets the consent's end to the token's exp; no refresh token."""
    body = _exchange(oauth, duration=DurationType.ONE_TIME)
    exp = _unverified(body["access_token"])["exp"]

    consent = oauth.get_consent()

    assert "refresh_token" not in body
    assert consent.expires_at == exp
    assert consent.is_active(exp - 1)
    assert not consent.is_active(exp)
    assert [e.event for e in run(oauth.services.records.consents.events, "consent-1")][-1] == "used"


def test_the_token_endpoint_records_an_expiry_it_meets(oauth: Harness) -> None:
    """A refresh after the consent's end is refused and the EXPIRED transition stored."""
    body = _exchange(oauth, days=1)
    oauth.clock.advance(DAY)

    response = oauth.refresh(body["refresh_token"])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert oauth.get_consent().status is ConsentStatus.EXPIRED


def test_a_renewed_consent_keeps_its_refresh_token_usable_past_the_old_end(
    oauth: Harness,
) -> None:
    """The refresh token follows the consent: after a renewal, its old end no longer stops it."""
    body = _exchange(oauth, days=30)
    oauth.clock.advance(20 * DAY)
    run(lifecycle.renew, oauth.services, "consent-1")
    oauth.clock.advance(15 * DAY)  # past the original end, inside the renewed one

    response = oauth.refresh(body["refresh_token"])

    assert response.status_code == 200, response.text
    assert response.json()["refresh_token"]


# ---------------------------------------------------------------------------- client credentials


def _client_credentials(oauth: Harness, who: str = CLIENT_ID, **params: str) -> Any:
    return oauth.post("/oauth/token", oauth.auth(who, grant_type="client_credentials", **params))


@pytest.mark.parametrize("scope", [None, CONSENTS_SCOPE], ids=["default", "explicit"])
def test_client_credentials_grant_only_the_consent_management_scope(
    oauth: Harness, scope: str | None
) -> None:
    """An at+jwt for the client itself, no consent, no refresh token, never cached."""
    params = {} if scope is None else {"scope": scope}

    response = _client_credentials(oauth, **params)
    body = response.json()
    claims = oauth.services.tokens.verify(body["access_token"])

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert body["scope"] == CONSENTS_SCOPE
    assert body["token_type"] == "Bearer"
    assert "refresh_token" not in body
    assert "grant_id" not in body
    assert claims.consent_id is None
    assert (claims.client_id, claims.sub) == (CLIENT_ID, CLIENT_ID)
    assert "fdxConsentId" not in _unverified(body["access_token"])


@pytest.mark.parametrize(
    "scope",
    ["fdx:transactions:read", f"{CONSENTS_SCOPE} offline_access", "", "openid"],
    ids=["data", "with-offline", "empty", "openid"],
)
def test_client_credentials_refuse_any_other_scope(oauth: Harness, scope: str) -> None:
    """invalid_scope: this grant opens the Consent API and nothing else."""
    response = _client_credentials(oauth, scope=scope)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_client_credentials_need_private_key_jwt(oauth: Harness) -> None:
    """Authenticated exactly like the other grants: no assertion, invalid_client."""
    response = oauth.post("/oauth/token", {"grant_type": "client_credentials"})

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_client_credentials_token_introspects_without_a_consent(oauth: Harness) -> None:
    """Active for its own client, with no fdxConsentId."""
    token = _client_credentials(oauth).json()["access_token"]

    body = oauth.post("/oauth/introspect", oauth.auth(token=token)).json()

    assert body["active"] is True
    assert body["scope"] == CONSENTS_SCOPE
    assert "fdxConsentId" not in body
