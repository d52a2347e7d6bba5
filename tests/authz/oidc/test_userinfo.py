"""The userinfo endpoint (OIDC Core §5.3): sub always, contact claims only as consented."""

from __future__ import annotations

from typing import Any

import pytest

from authz.consent.model import Consent, ConsentEvent, ConsentResource, ConsentStatus, DurationType
from authz.registration import recipients
from authz.store.base import Kind
from authz.tokens import pairwise_subject
from tests.authz.oauth.conftest import CLIENT_ID, OTHER_ID, Harness, run

CONTACT = "fdx:customercontact:read"
BASIC = "fdx:accountbasic:read"


def _grant(
    h: Harness,
    clusters: tuple[str, ...],
    scope: str,
    *,
    client_id: str = CLIENT_ID,
    consent_id: str = "consent-u",
) -> str:
    now = h.clock()
    consent = Consent(
        id=consent_id, status=ConsentStatus.ACTIVE, client_id=client_id,
        customer_id="customer-7", created_at=now, updated_at=now, expires_at=now + 86400,
        duration_type=DurationType.TIME_BOUND, duration_period=1, lookback_period=90,
        resources=(ConsentResource("ACCOUNT", "acct-1", clusters),), purpose="Budgeting",
        scope=tuple(scope.split()),
    )  # fmt: skip
    run(h.services.records.consents.create, consent, ConsentEvent(consent_id, now, "granted", "X"))
    token, _ = h.services.tokens.issue(
        consent_id=consent_id,
        client_id=client_id,
        sub=pairwise_subject(h.services.secret, "customer-7", client_id),
        scope=scope,
    )
    return token


def _userinfo(h: Harness, token: str | None, method: str = "GET", **kwargs: Any) -> Any:
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return h.http.request(method, "/oauth/userinfo", headers=headers, **kwargs)


def test_without_the_contact_cluster_only_sub_is_released(oidc: Harness):
    """A consent without CUSTOMER_CONTACT: {sub} and nothing more; the bank is not asked."""
    token = _grant(oidc, ("ACCOUNT_BASIC",), f"openid {BASIC}")

    response = _userinfo(oidc, token)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {"sub": pairwise_subject(b"k" * 32, "customer-7", CLIENT_ID)}
    assert not any(name == "get_customer_info" for name, _ in oidc.services.bank.calls)  # type: ignore[attr-defined]


def test_with_the_contact_cluster_name_and_email_are_released(oidc: Harness):
    """CUSTOMER_CONTACT consented and in scope: name and email from the bank, nothing else
    (no date of birth, no tax id)."""
    token = _grant(oidc, ("ACCOUNT_BASIC", "CUSTOMER_CONTACT"), f"openid {BASIC} {CONTACT}")

    body = _userinfo(oidc, token, "POST").json()

    assert body == {
        "sub": pairwise_subject(b"k" * 32, "customer-7", CLIENT_ID),
        "name": "Alice Doe",
        "given_name": "Alice",
        "family_name": "Doe",
        "email": "alice@example.com",
    }


def test_a_token_narrowed_below_the_contact_scope_gets_only_sub(oidc: Harness):
    """The consent has CUSTOMER_CONTACT but this token's scope does not: sub only."""
    token = _grant(oidc, ("ACCOUNT_BASIC", "CUSTOMER_CONTACT"), f"openid {BASIC}")

    assert set(_userinfo(oidc, token).json()) == {"sub"}


def test_two_recipients_see_different_subjects(oidc: Harness):
    """Pairwise: the same consumer is two unrelated subs to two apps."""
    a = _grant(oidc, ("ACCOUNT_BASIC",), f"openid {BASIC}")
    b = _grant(oidc, ("ACCOUNT_BASIC",), f"openid {BASIC}", client_id=OTHER_ID, consent_id="c-b")

    assert _userinfo(oidc, a).json()["sub"] != _userinfo(oidc, b).json()["sub"]


def test_a_token_without_openid_is_insufficient_scope(oidc: Harness):
    """OIDC Core §5.3: userinfo needs the openid scope (403 insufficient_scope)."""
    token = _grant(oidc, ("ACCOUNT_BASIC",), BASIC)

    response = _userinfo(oidc, token)

    assert (response.status_code, response.json()["error"]) == (403, "insufficient_scope")
    assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope"'


def test_a_revoked_consent_stops_userinfo(oidc: Harness):
    """The consent is checked live: revoked, the next userinfo call is 401."""
    token = _grant(oidc, ("ACCOUNT_BASIC",), f"openid {BASIC}")
    consent = run(oidc.services.records.consents.get, "consent-u")
    assert consent is not None
    revoked = consent.with_status(ConsentStatus.REVOKED, oidc.clock())
    event = ConsentEvent("consent-u", oidc.clock(), "revoked", "INDIVIDUAL")
    run(lambda: oidc.services.records.consents.update(revoked, event, expected_version=1))

    response = _userinfo(oidc, token)

    assert (response.status_code, response.json()["error"]) == (401, "invalid_token")


def test_a_suspended_recipient_gets_nothing(oidc: Harness):
    """The bank's suspension applies to userinfo on the next call too."""
    token = _grant(oidc, ("ACCOUNT_BASIC",), f"openid {BASIC}")
    run(recipients.suspend, oidc.services.records, CLIENT_ID, now=oidc.clock())

    assert _userinfo(oidc, token).status_code == 401


def test_a_revoked_access_token_is_refused(oidc: Harness):
    """RFC 7009: a revoked access token is dead at userinfo as at the FDX API."""
    token = _grant(oidc, ("ACCOUNT_BASIC",), f"openid {BASIC}")
    jti = oidc.services.tokens.verify(token).jti
    run(oidc.services.state.put, Kind.REVOKED_ACCESS, jti, {}, ttl=300)

    assert _userinfo(oidc, token).status_code == 401


def test_an_expired_token_is_refused(oidc: Harness):
    """After exp the token opens nothing."""
    token = _grant(oidc, ("ACCOUNT_BASIC",), f"openid {BASIC}")
    oidc.clock.advance(301)

    assert _userinfo(oidc, token).status_code == 401


def test_without_credentials_the_challenge_carries_no_error_code(oidc: Harness):
    """RFC 6750 §3.1: a request with no token gets a bare Bearer challenge."""
    response = _userinfo(oidc, None)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"params": {"access_token": "x"}},
        {"method": "POST", "content": b"access_token=x",
         "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
    ],
    ids=["query", "form-body"],
)  # fmt: skip
def test_a_token_outside_the_header_is_refused(oidc: Harness, kwargs: dict[str, Any]):
    """FAPI 2.0: the token travels in the Authorization header only."""
    kwargs = dict(kwargs)
    method = kwargs.pop("method", "GET")

    response = _userinfo(oidc, None, method, **kwargs)

    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
