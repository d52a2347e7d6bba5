"""Negative tests modelled on the OpenID FAPI 2.0 Security Profile test plan (final), for what
no other suite already covers; tests/fapi/README.md maps every plan item to its test.

Each docstring names the conformance-suite module it mirrors.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc.jwk import RSAKey

from tests.authz.oauth.conftest import ASSERTION_TYPE, CLIENT_ID, REDIRECT, client_record, run
from tests.fapi.conftest import TOKEN_URL, Fapi, dpop_key, proof

OTHER_ISSUER = "https://other-as.example.com"


def push(fapi: Fapi, assertion: str | None = None, **overrides: Any) -> Any:
    params: dict[str, Any] = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": "fdx:accountbasic:read",
        "code_challenge": create_s256_code_challenge(secrets.token_urlsafe(48)),  # type: ignore[no-untyped-call]
        "code_challenge_method": "S256",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion or fapi.assertion(),
    }
    params.update(overrides)
    return fapi.http.post("/oauth/par", data={k: v for k, v in params.items() if v is not None})


def oauth_error(response: Any, status: int, *errors: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] in errors, response.text


# -------------------------------------------------------------- authorization endpoint


def test_a_plain_authorization_request_without_par_is_refused_without_redirect(fapi):
    """fapi2-security-profile-final-ensure-unsigned-authorization-request-without-using-par-fails:
    a classic front-channel request (client_id, redirect_uri, response_type…) gets the error page,
    never a redirect to the redirect_uri it names."""
    response = fapi.http.get(
        "/oauth/authorize",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "fdx:accountbasic:read",
            "state": "xyz",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
    )

    assert 400 == response.status_code
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert REDIRECT not in response.text


@pytest.mark.parametrize(
    "response_type", ["token", "id_token", "code id_token", "code token", "none", "CODE"]
)
def test_response_types_other_than_code_are_refused_at_par(fapi, response_type):
    """fapi2-security-profile-final-ensure-response-type-token-fails and
    -ensure-response-type-code-idtoken-fails: only response_type=code exists."""
    response = push(fapi, response_type=response_type)

    oauth_error(response, 400, "unsupported_response_type", "invalid_request")


# ------------------------------------------------------------------ client assertions


def test_an_assertion_without_sub_is_refused(fapi):
    """fapi2-security-profile-final-ensure-client-assertion-with-no-sub-fails."""
    oauth_error(push(fapi, fapi.assertion(sub=None)), 401, "invalid_client")


def test_an_assertion_for_another_issuer_is_refused(fapi):
    """fapi2-security-profile-final-ensure-client-assertion-with-wrong-aud-fails."""
    oauth_error(push(fapi, fapi.assertion(aud=OTHER_ISSUER)), 401, "invalid_client")


def test_an_rs256_assertion_is_refused_even_with_a_registered_rsa_key(fapi):
    """fapi2-security-profile-final-ensure-signed-client-assertion-with-RS256-fails: FAPI 2.0
    §5.4 allows PS256, ES256 and EdDSA only, so RS256 fails with the very key PS256 would use."""
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}, private=True)
    run(fapi.services.records.clients.put, client_record("client-rsa", rsa))
    assertion = fapi.assertion("client-rsa", key=rsa, alg="RS256")

    response = push(fapi, assertion, client_id="client-rsa")

    oauth_error(response, 401, "invalid_client")


def test_an_assertion_with_nbf_eight_seconds_ahead_is_accepted(fapi):
    """fapi2-security-profile-final-par-ensure-jwt-client-assertions-nbf-8-seconds-in-the-future-
    is-accepted: within the clock skew (clock_skew, docs/security.md)."""
    response = push(fapi, fapi.assertion(nbf=int(fapi.clock()) + 8))

    assert 201 == response.status_code, response.text


def test_an_assertion_with_nbf_far_in_the_future_is_refused(fapi):
    """An assertion not valid for another hour is refused (RFC 7519 §4.1.5)."""
    oauth_error(push(fapi, fapi.assertion(nbf=int(fapi.clock()) + 3600)), 401, "invalid_client")


@pytest.mark.parametrize(
    "claims",
    [{"sub": None}, {"aud": OTHER_ISSUER}, {"nbf": 1}, {"exp": 1}],
    ids=["no-sub", "wrong-aud", "nbf-far-ahead", "expired"],
)
def test_a_bad_assertion_fails_at_the_token_endpoint_too(fapi, claims):
    """fapi2-security-profile-final-ensure-client-assertion-in-token-endpoint: the same checks
    guard /oauth/token, before the code or the proof is looked at."""
    now = int(fapi.clock())
    values = {
        k: (now + 3600 if k == "nbf" else now - 600 if k == "exp" else v) for k, v in claims.items()
    }
    key = dpop_key()
    form = {
        "grant_type": "authorization_code",
        "code": "any-code",
        "redirect_uri": REDIRECT,
        "code_verifier": secrets.token_urlsafe(48),
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": fapi.assertion(**values),
    }

    response = fapi.http.post(
        "/oauth/token", data=form, headers={"DPoP": proof(key, TOKEN_URL, fapi.clock())}
    )

    oauth_error(response, 401, "invalid_client")


# -------------------------------------------------------------------- sender constraint


def test_a_token_request_without_sender_constraint_is_refused_and_burns_nothing(fapi):
    """fapi2-security-profile-final-ensure-holder-of-key-required: under fapi2 a token request
    with neither a DPoP proof nor a client certificate is refused, and the code still works
    when the client retries properly."""
    code, verifier = fapi.bound_code(None)
    key = dpop_key()

    refused = fapi.redeem(code, verifier, None)
    retried = fapi.redeem(code, verifier, key)

    oauth_error(refused, 400, "invalid_request", "invalid_dpop_proof")
    assert 200 == retried.status_code, retried.text
    assert "DPoP" == retried.json()["token_type"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_par_accepts_only_post(fapi, method):
    """fapi2-security-profile-final-par-attempt-invalid-http-method: RFC 9126 §2.1, POST only."""
    response = fapi.http.request(method, "/oauth/par")

    assert 405 == response.status_code
    assert "POST" in response.headers["allow"]
