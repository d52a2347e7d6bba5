"""Token revocation (RFC 7009)."""

from __future__ import annotations

from typing import Any

from authz.consent.model import ConsentStatus
from authz.store.base import Kind
from tests.authz.oauth.conftest import OTHER_ID, Harness, run


def _tokens(oauth: Harness, consent_id: str = "consent-1", client_id: str = "client-1") -> Any:
    code, verifier = oauth.code(oauth.consent(consent_id, client_id=client_id), client_id=client_id)
    return oauth.exchange(code, verifier, client_id).json()


def _revoke(oauth: Harness, token: str, who: str = "client-1", **extra: str) -> Any:
    return oauth.post("/oauth/revoke", oauth.auth(who, token=token, **extra))


def test_revoking_a_refresh_token_revokes_the_whole_consent(oauth: Harness) -> None:
    """RFC 7009 §2.1: the grant ends, with a DATA_RECIPIENT USER_ACTION event."""
    tokens = _tokens(oauth)

    response = _revoke(oauth, tokens["refresh_token"], token_type_hint="refresh_token")
    events = run(oauth.services.records.consents.events, "consent-1")

    assert response.status_code == 200
    assert response.content == b""
    assert oauth.get_consent().status is ConsentStatus.REVOKED
    assert (events[-1].actor, events[-1].reason) == ("DATA_RECIPIENT", "USER_ACTION")
    assert events[-1].detail == "refresh token revoked (RFC 7009)"
    assert oauth.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoking_a_refresh_token_ends_its_access_tokens(oauth: Harness) -> None:
    """Access tokens of the grant stop being active once the consent is revoked."""
    tokens = _tokens(oauth)

    _revoke(oauth, tokens["refresh_token"])
    body = oauth.post("/oauth/introspect", oauth.auth(token=tokens["access_token"])).json()

    assert body == {"active": False}


def test_revoking_an_access_token_puts_its_jti_on_the_deny_list(oauth: Harness) -> None:
    """The gate checks REVOKED_ACCESS; the consent itself stays active."""
    tokens = _tokens(oauth)
    jti = oauth.services.tokens.verify(tokens["access_token"]).jti

    response = _revoke(oauth, tokens["access_token"], token_type_hint="access_token")

    assert response.status_code == 200
    assert run(oauth.services.state.get, Kind.REVOKED_ACCESS, jti) is not None
    assert oauth.get_consent().status is ConsentStatus.ACTIVE


def test_the_deny_list_entry_lasts_until_the_token_expires(oauth: Harness) -> None:
    """No need to remember a jti past its exp."""
    tokens = _tokens(oauth)
    jti = oauth.services.tokens.verify(tokens["access_token"]).jti
    _revoke(oauth, tokens["access_token"])

    oauth.clock.advance(oauth.services.settings.access_token_ttl + 1)

    assert run(oauth.services.state.get, Kind.REVOKED_ACCESS, jti) is None


def test_an_unknown_token_still_answers_200(oauth: Harness) -> None:
    """RFC 7009 §2.2: invalid tokens do not cause an error."""
    assert _revoke(oauth, "never-issued").status_code == 200
    assert _revoke(oauth, "a.b.c").status_code == 200


def test_another_clients_access_token_is_not_revoked(oauth: Harness) -> None:
    """RFC 7009 §2.1: a client can revoke only its own tokens; another's is refused with
    unauthorized_client (§2.2.1) and stays valid."""
    tokens = _tokens(oauth)
    jti = oauth.services.tokens.verify(tokens["access_token"]).jti

    response = _revoke(oauth, tokens["access_token"], who=OTHER_ID)

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert run(oauth.services.state.get, Kind.REVOKED_ACCESS, jti) is None


def test_another_clients_refresh_token_does_not_revoke_the_consent(oauth: Harness) -> None:
    """The consent survives a revocation attempt by a different client, which is told
    unauthorized_client (RFC 7009 §2.1)."""
    tokens = _tokens(oauth)

    response = _revoke(oauth, tokens["refresh_token"], who=OTHER_ID)

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert oauth.get_consent().status is ConsentStatus.ACTIVE
    assert oauth.refresh(tokens["refresh_token"]).status_code == 200, "the token is not burnt"


def test_revocation_requires_a_token(oauth: Harness) -> None:
    """token is required."""
    response = oauth.post("/oauth/revoke", oauth.auth())

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_revocation_requires_client_authentication(oauth: Harness) -> None:
    """An unauthenticated caller is invalid_client."""
    response = oauth.post("/oauth/revoke", {"token": "x"})

    assert response.status_code == 401
