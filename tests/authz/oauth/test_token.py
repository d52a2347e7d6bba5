"""The token endpoint: code exchange with PKCE, refresh rotation, replay revokes the consent."""

from __future__ import annotations

from typing import Any

import pytest

from authz.consent import lifecycle
from authz.consent.model import ConsentEvent, ConsentStatus, DurationType
from authz.tokens import pairwise_subject
from tests.authz.oauth.conftest import CLIENT_ID, GRANTED_SCOPE, OTHER_ID, Harness, run


def _error(response: Any, error: str, status: int = 400) -> str:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    return str(response.json().get("error_description", ""))


def _tokens(oauth: Harness, **consent: Any) -> dict[str, Any]:
    code, verifier = oauth.code(oauth.consent(**consent))
    response = oauth.exchange(code, verifier)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_code_exchange_issues_tokens_for_the_consent(oauth: Harness) -> None:
    """Access token, rotating refresh token, grant_id and the granted details, never cached."""
    code, verifier = oauth.code(oauth.consent())

    response = oauth.exchange(code, verifier)
    body = response.json()

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == oauth.services.settings.access_token_ttl
    assert body["scope"] == " ".join(GRANTED_SCOPE)
    assert body["grant_id"] == "consent-1"
    assert body["refresh_token"]
    assert body["authorization_details"] == [
        {
            "type": "fdx_v1.0",
            "consentRequest": {
                "durationType": "PERSISTENT",
                "lookbackPeriod": 90,
                "resources": [
                    {
                        "resourceType": "ACCOUNT",
                        "resourceId": "acct-1",
                        "dataClusters": ["ACCOUNT_BASIC", "TRANSACTIONS"],
                    }
                ],
            },
        }
    ]


def test_the_access_token_carries_consent_and_pairwise_subject(oauth: Harness) -> None:
    """The JWT verifies and names the consent and a per-client subject, not the customer id."""
    body = _tokens(oauth)

    claims = oauth.services.tokens.verify(body["access_token"])

    assert claims.consent_id == "consent-1"
    assert claims.client_id == CLIENT_ID
    assert claims.sub == pairwise_subject(b"k" * 32, "customer-7", CLIENT_ID)
    assert claims.sub != "customer-7"
    assert claims.scope == frozenset(GRANTED_SCOPE)


def test_a_time_bound_consent_reports_its_duration(oauth: Harness) -> None:
    """durationPeriod is echoed for TIME_BOUND consents."""
    body = _tokens(oauth, duration=DurationType.TIME_BOUND, days=30)

    assert body["authorization_details"][0]["consentRequest"]["durationPeriod"] == 30


def test_a_one_time_consent_gets_no_refresh_token(oauth: Harness) -> None:
    """ONE_TIME issues no refresh token."""
    body = _tokens(oauth, duration=DurationType.ONE_TIME)

    assert "refresh_token" not in body
    assert body["access_token"]


def test_a_reused_code_revokes_the_consent_and_its_refresh_tokens(oauth: Harness) -> None:
    """RFC 6749 §4.1.2: the second use is refused and the grant ends."""
    code, verifier = oauth.code(oauth.consent())
    first = oauth.exchange(code, verifier).json()

    description = _error(oauth.exchange(code, verifier), "invalid_grant")
    consent = oauth.get_consent()
    events = run(oauth.services.records.consents.events, "consent-1")

    assert "already used" in description
    assert consent.status is ConsentStatus.REVOKED
    assert (events[-1].event, events[-1].actor, events[-1].reason) == (
        "revoked",
        "DATA_PROVIDER",
        "BUSINESS_RULE",
    )
    assert events[-1].detail == "authorization code replayed"
    _error(oauth.refresh(first["refresh_token"]), "invalid_grant")


def test_a_code_of_another_client_is_refused(oauth: Harness) -> None:
    """The code is bound to the client it was issued to, and another client cannot burn it."""
    code, verifier = oauth.code(oauth.consent())

    _error(oauth.exchange(code, verifier, OTHER_ID), "invalid_grant")
    assert 200 == oauth.exchange(code, verifier).status_code
    assert oauth.get_consent().status is ConsentStatus.ACTIVE


def test_a_wrong_redirect_uri_is_refused(oauth: Harness) -> None:
    """redirect_uri must equal the one of the authorization request."""
    code, verifier = oauth.code(oauth.consent())

    response = oauth.exchange(code, verifier, redirect_uri="https://app.example.com/other")

    _error(response, "invalid_grant")


def test_a_missing_redirect_uri_is_refused(oauth: Harness) -> None:
    """redirect_uri is required at the token endpoint."""
    code, verifier = oauth.code(oauth.consent())

    _error(oauth.exchange(code, verifier, redirect_uri=""), "invalid_request")


def test_a_wrong_code_verifier_is_refused(oauth: Harness) -> None:
    """RFC 7636 §4.6: S256(verifier) must equal the challenge."""
    code, verifier = oauth.code(oauth.consent())

    description = _error(oauth.exchange(code, "x" * 64), "invalid_grant")

    assert "code_verifier" in description
    assert 200 == oauth.exchange(code, verifier).status_code, "a wrong verifier burns nothing"


def test_a_missing_code_verifier_is_refused(oauth: Harness) -> None:
    """PKCE is mandatory at the token endpoint too."""
    code, _ = oauth.code(oauth.consent())

    _error(oauth.exchange(code, ""), "invalid_request")


@pytest.mark.parametrize("verifier", ["short", "x" * 129, "a" * 42 + "/", "a" * 42 + " "])
def test_a_malformed_code_verifier_is_refused(oauth: Harness, verifier: str) -> None:
    """RFC 7636 §4.1: 43-128 unreserved characters."""
    code, _ = oauth.code(oauth.consent())

    _error(oauth.exchange(code, verifier), "invalid_request")


def test_an_unknown_code_is_refused(oauth: Harness) -> None:
    """An invented or expired code is invalid_grant."""
    _error(oauth.exchange("made-up", "v" * 43), "invalid_grant")


def test_an_expired_code_is_refused(oauth: Harness) -> None:
    """Codes live 60 seconds."""
    code, verifier = oauth.code(oauth.consent())
    oauth.clock.advance(61)

    _error(oauth.exchange(code, verifier), "invalid_grant")


def test_a_code_for_a_revoked_consent_is_refused(oauth: Harness) -> None:
    """The consent must be active when the code is exchanged."""
    code, verifier = oauth.code(oauth.consent(status=ConsentStatus.REVOKED))

    _error(oauth.exchange(code, verifier), "invalid_grant")


def test_a_refresh_rotates_the_refresh_token(oauth: Harness) -> None:
    """Each refresh returns a new refresh token and a new access token."""
    first = _tokens(oauth)
    oauth.clock.advance(10)

    response = oauth.refresh(first["refresh_token"])
    second = response.json()

    assert response.status_code == 200
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["grant_id"] == "consent-1"
    assert oauth.refresh(second["refresh_token"]).status_code == 200


def test_a_rotated_refresh_token_keeps_the_original_expiry(oauth: Harness) -> None:
    """Rotation never extends the grant: the new token ends when the consent ends."""
    first = _tokens(oauth, days=1)
    second = oauth.refresh(first["refresh_token"]).json()
    oauth.clock.advance(86400 + 1)

    _error(oauth.refresh(second["refresh_token"]), "invalid_grant")


def test_a_replayed_refresh_token_revokes_the_consent(oauth: Harness) -> None:
    """RFC 9700 §4.14.2: the old token again ends the grant, and the new token with it."""
    first = _tokens(oauth)
    second = oauth.refresh(first["refresh_token"]).json()

    _error(oauth.refresh(first["refresh_token"]), "invalid_grant")
    events = run(oauth.services.records.consents.events, "consent-1")

    assert oauth.get_consent().status is ConsentStatus.REVOKED
    assert events[-1].detail == "refresh token replayed"
    _error(oauth.refresh(second["refresh_token"]), "invalid_grant")


def test_a_refresh_token_of_another_client_is_refused(oauth: Harness) -> None:
    """Refresh tokens are bound to their client, and another client cannot burn one."""
    first = _tokens(oauth)

    _error(oauth.refresh(first["refresh_token"], OTHER_ID), "invalid_grant")
    assert oauth.refresh(first["refresh_token"]).status_code == 200
    assert oauth.get_consent().status is ConsentStatus.ACTIVE


def test_an_unknown_refresh_token_is_refused(oauth: Harness) -> None:
    """An invented refresh token is invalid_grant."""
    _error(oauth.refresh("nope"), "invalid_grant")


def test_a_refresh_after_the_consent_was_revoked_is_refused(oauth: Harness) -> None:
    """The consent is checked on every refresh."""
    first = _tokens(oauth)
    consent = oauth.get_consent()
    revoked = consent.with_status(ConsentStatus.REVOKED, oauth.clock())
    event = ConsentEvent("consent-1", oauth.clock(), "revoked", "INDIVIDUAL")
    assert run(
        oauth.services.records.consents.update, revoked, event, expected_version=consent.version
    )

    _error(oauth.refresh(first["refresh_token"]), "invalid_grant")


def test_a_refresh_token_of_a_revoked_consent_is_told_the_consent_ended(oauth: Harness) -> None:
    """A consent ended by the consumer revokes its refresh tokens; presenting one is not a
    replay: the answer says the consent ended, and no replay is recorded."""
    first = _tokens(oauth)
    run(lambda: lifecycle.revoke(oauth.services, "consent-1", actor="INDIVIDUAL",
                               reason="USER_ACTION", detail="stopped in the portal"))  # fmt: skip

    description = _error(oauth.refresh(first["refresh_token"]), "invalid_grant")
    events = run(oauth.services.records.consents.events, "consent-1")

    assert "already used" not in description
    assert "consent has ended" in description
    assert [e.detail for e in events if e.event == "revoked"] == ["stopped in the portal"]


def test_a_refresh_may_narrow_the_scope(oauth: Harness) -> None:
    """A subset of the granted scope is allowed."""
    first = _tokens(oauth)

    body = oauth.refresh(first["refresh_token"], scope="fdx:transactions:read").json()

    assert body["scope"] == "fdx:transactions:read"
    claims = oauth.services.tokens.verify(body["access_token"])
    assert claims.scope == frozenset({"fdx:transactions:read"})


def test_a_refresh_may_not_widen_the_scope(oauth: Harness) -> None:
    """Scopes beyond the grant are invalid_scope."""
    first = _tokens(oauth)

    _error(oauth.refresh(first["refresh_token"], scope="fdx:statements:read"), "invalid_scope")
    _error(oauth.refresh(first["refresh_token"], scope=""), "invalid_scope")
    assert 200 == oauth.refresh(first["refresh_token"]).status_code, "the token is not burnt"
    assert oauth.get_consent().status is ConsentStatus.ACTIVE


def test_an_unsupported_grant_type_is_refused(oauth: Harness) -> None:
    """Only authorization_code, refresh_token and client_credentials."""
    form = oauth.auth(grant_type="password")

    _error(oauth.post("/oauth/token", form), "unsupported_grant_type")


def test_a_missing_grant_type_is_refused(oauth: Harness) -> None:
    """grant_type is required."""
    _error(oauth.post("/oauth/token", oauth.auth()), "invalid_request")


def test_a_repeated_parameter_is_refused(oauth: Harness) -> None:
    """RFC 6749 §3.1 at the token endpoint."""
    form = oauth.auth(grant_type="refresh_token", refresh_token="a")
    body = "&".join(f"{k}={v}" for k, v in form.items()) + "&refresh_token=b"

    response = oauth.http.post(
        "/oauth/token",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    _error(response, "invalid_request")


def test_a_non_utf8_body_is_refused(oauth: Harness) -> None:
    """Undecodable bytes are invalid_request, not a crash."""
    response = oauth.http.post(
        "/oauth/token",
        content=b"grant_type=%ff%fe&code=\xff",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 400


def test_an_oversized_token_request_is_refused_with_413(oauth: Harness) -> None:
    """max_body_bytes applies here too."""
    form = oauth.auth(grant_type="refresh_token", refresh_token="r" * 70_000)

    _error(oauth.post("/oauth/token", form), "invalid_request", 413)
