"""ID tokens from the code exchange (OIDC Core §3.1.3) and the pairwise subject."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import replace
from typing import Any

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt

from authz.access_tokens import pairwise_subject
from authz.consent.model import DurationType
from authz.pushed import AuthorizationCode, ConsentRequest, PushedRequest
from authz.store.base import Kind
from tests.authz.oauth.conftest import CLIENT_ID, ISSUER, OTHER_ID, REDIRECT, Harness, run

OPENID_SCOPE = ("openid", "fdx:accountbasic:read", "fdx:transactions:read")


def _code(h: Harness, *, client_id: str = CLIENT_ID, **fields: Any) -> tuple[str, str]:
    consent = h.consent(f"consent-{secrets.token_hex(4)}", client_id=client_id)
    verifier = secrets.token_urlsafe(48)
    values: dict[str, Any] = {
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "code_challenge": create_s256_code_challenge(verifier),  # type: ignore[no-untyped-call]
        "consent_id": consent.id,
        "customer_id": consent.customer_id,
        "scope": OPENID_SCOPE,
        "issued_at": h.clock(),
        "nonce": "n-0S6_WzA2Mj",
        "auth_time": h.clock() - 40,
    }
    values.update(fields)
    raw = secrets.token_urlsafe(32)
    run(h.services.state.put, Kind.CODE, raw, AuthorizationCode(**values).to_dict(), ttl=60)
    return raw, verifier


def _claims(h: Harness, token: str) -> dict[str, Any]:
    decoded = jwt.decode(token, h.services.keys.all, algorithms=["ES256"])
    assert decoded.header["alg"] == "ES256"
    assert decoded.header["kid"] == h.services.keys.kid
    return dict(decoded.claims)


def test_openid_yields_an_id_token_with_the_core_claims(oidc: Harness):
    """iss, sub, aud = client_id, iat, exp, auth_time from the sign-in, nonce, at_hash."""
    code, verifier = _code(oidc)

    body = oidc.exchange(code, verifier).json()
    claims = _claims(oidc, body["id_token"])
    access = _claims(oidc, body["access_token"])
    digest = hashlib.sha256(body["access_token"].encode()).digest()[:16]

    assert claims["iss"] == ISSUER
    assert claims["aud"] == CLIENT_ID
    assert claims["sub"] == access["sub"] == pairwise_subject(b"k" * 32, "customer-7", CLIENT_ID)
    assert claims["iat"] == int(oidc.clock())
    assert claims["exp"] == claims["iat"] + oidc.services.settings.access_token_ttl
    assert claims["auth_time"] == int(oidc.clock()) - 40
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_without_openid_there_is_no_id_token(oidc: Harness):
    """A plain OAuth grant gets no ID token."""
    code, verifier = _code(oidc, scope=("fdx:accountbasic:read",))

    assert "id_token" not in oidc.exchange(code, verifier).json()


def test_auth_time_falls_back_to_the_issue_time_and_nonce_is_optional(oidc: Harness):
    """A code without a sign-in time or nonce: auth_time = iat, no nonce claim."""
    code, verifier = _code(oidc, auth_time=None, nonce=None)

    claims = _claims(oidc, oidc.exchange(code, verifier).json()["id_token"])

    assert claims["auth_time"] == claims["iat"]
    assert "nonce" not in claims


def test_two_recipients_get_different_subjects_for_one_consumer(oidc: Harness):
    """Pairwise subjects (OIDC Core §8.1): the same consumer, two apps, two subs, neither the
    bank's customer id."""
    code_a, verifier_a = _code(oidc)
    code_b, verifier_b = _code(oidc, client_id=OTHER_ID)

    sub_a = _claims(oidc, oidc.exchange(code_a, verifier_a).json()["id_token"])["sub"]
    sub_b = _claims(oidc, oidc.exchange(code_b, verifier_b, OTHER_ID).json()["id_token"])["sub"]

    assert sub_a != sub_b
    assert "customer-7" not in (sub_a, sub_b)


def test_an_id_token_is_not_an_access_token(oidc: Harness):
    """RFC 9068 §4: the resource side refuses an ID token presented as a bearer token."""
    code, verifier = _code(oidc)
    id_token = oidc.exchange(code, verifier).json()["id_token"]

    response = oidc.http.get("/oauth/userinfo", headers={"Authorization": f"Bearer {id_token}"})

    assert response.status_code == 401


def test_par_stores_the_nonce(oidc: Harness):
    """The pushed request keeps the nonce for the ID token (OIDC Core §3.1.2.1)."""
    verifier = secrets.token_urlsafe(48)
    form = oidc.auth(
        client_id=CLIENT_ID,
        response_type="code",
        redirect_uri=REDIRECT,
        scope="openid fdx:accountbasic:read",
        code_challenge=create_s256_code_challenge(verifier),  # type: ignore[no-untyped-call]
        code_challenge_method="S256",
        nonce="abc-123",
    )

    response = oidc.post("/oauth/par", form)
    key = response.json()["request_uri"].rsplit(":", 1)[1]
    stored = run(oidc.services.state.get, Kind.PAR, key)

    assert response.status_code == 201
    assert stored is not None
    assert PushedRequest.from_dict(stored).nonce == "abc-123"


@pytest.mark.parametrize("nonce", ["", "n" * 513], ids=["empty", "too-long"])
def test_par_refuses_a_bad_nonce(oidc: Harness, nonce: str):
    """A nonce is 1 to 512 characters."""
    form = oidc.auth(
        client_id=CLIENT_ID, response_type="code", redirect_uri=REDIRECT,
        scope="openid fdx:accountbasic:read", code_challenge="E" * 43,
        code_challenge_method="S256", nonce=nonce,
    )  # fmt: skip

    response = oidc.post("/oauth/par", form)

    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_stored_requests_and_codes_without_the_new_fields_still_load():
    """Dicts stored before nonce/auth_time existed load with None (rolling upgrade)."""
    request = ConsentRequest(DurationType.ONE_TIME, None, None, ("ACCOUNT_BASIC",))
    pushed = PushedRequest(CLIENT_ID, REDIRECT, None, (), "c" * 43, request, 1.0)
    code = AuthorizationCode(CLIENT_ID, REDIRECT, "c" * 43, "cid", "cust", (), 1.0)
    old_pushed = {k: v for k, v in pushed.to_dict().items() if k != "nonce"}
    old_code = {k: v for k, v in code.to_dict().items() if k not in ("nonce", "auth_time")}

    assert PushedRequest.from_dict(old_pushed) == pushed
    assert AuthorizationCode.from_dict(old_code) == replace(code, nonce=None, auth_time=None)


def test_discovery_advertises_openid(oidc: Harness):
    """OIDC Discovery §3: userinfo, ES256 ID tokens (only), pairwise subjects, openid scope."""
    doc = oidc.http.get("/.well-known/openid-configuration").json()

    assert doc["userinfo_endpoint"] == f"{ISSUER}/oauth/userinfo"
    assert doc["id_token_signing_alg_values_supported"] == ["ES256"]
    assert doc["subject_types_supported"] == ["pairwise"]
    assert "openid" in doc["scopes_supported"]
    assert {"sub", "nonce", "auth_time", "email", "name"} <= set(doc["claims_supported"])
