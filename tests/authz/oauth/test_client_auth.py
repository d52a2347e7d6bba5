"""private_key_jwt (RFC 7523) as FAPI 2.0 profiles it, seen through the token endpoint.

A request that passes client authentication but carries a bogus refresh token answers
invalid_grant (400); one that fails it answers invalid_client (401).
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from authz.store.base import Kind
from tests.authz.oauth.conftest import (
    ASSERTION_TYPE,
    CLIENT_ID,
    ISSUER,
    Harness,
    client_record,
    new_key,
    run,
)


def _token_call(oauth: Harness, assertion: str, **extra: str) -> Any:
    form = {
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        "grant_type": "refresh_token",
        "refresh_token": "not-a-real-token",
        **extra,
    }
    return oauth.post("/oauth/token", form)


def _refused(response: Any) -> str:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error"] == "invalid_client"
    return str(body.get("error_description", ""))


def test_a_valid_assertion_authenticates_the_client(oauth: Harness) -> None:
    """A well-formed ES256 assertion gets past client authentication."""
    response = _token_call(oauth, oauth.assertion())

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_an_assertion_without_kid_is_tried_against_every_key(oauth: Harness) -> None:
    """Without a kid the client's keys are tried in turn."""
    response = _token_call(oauth, oauth.assertion(header={"alg": "ES256"}))

    assert response.json()["error"] == "invalid_grant"


def test_ps256_with_a_registered_rsa_key_is_accepted(oauth: Harness) -> None:
    """PS256 is the other algorithm FAPI allows."""
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}, private=True)
    run(oauth.services.records.clients.put, client_record(CLIENT_ID, rsa))

    response = _token_call(oauth, oauth.assertion(key=rsa, alg="PS256"))

    assert response.json()["error"] == "invalid_grant"


def test_audience_of_the_token_endpoint_url_is_refused(oauth: Harness) -> None:
    """FAPI 2.0 audience-injection fix: aud must be the issuer, not an endpoint URL."""
    _refused(_token_call(oauth, oauth.assertion(aud=f"{ISSUER}/oauth/token")))


def test_audience_array_containing_the_issuer_is_refused(oauth: Harness) -> None:
    """aud must be the issuer as a single string, never an array."""
    _refused(_token_call(oauth, oauth.assertion(aud=[ISSUER])))


def test_missing_audience_is_refused(oauth: Harness) -> None:
    """aud is required."""
    _refused(_token_call(oauth, oauth.assertion(aud=None)))


def test_a_replayed_jti_is_refused(oauth: Harness) -> None:
    """RFC 7523 §3: a jti is accepted once."""
    assertion = oauth.assertion(jti="once")
    _token_call(oauth, assertion)

    description = _refused(_token_call(oauth, assertion))

    assert "already used" in description


def test_the_jti_cache_is_per_client(oauth: Harness) -> None:
    """Another client's use of the same jti does not block this one."""
    _token_call(oauth, oauth.assertion("client-2", jti="shared"))

    response = _token_call(oauth, oauth.assertion(jti="shared"))

    assert response.json()["error"] == "invalid_grant"


def test_an_assertion_without_jti_is_refused(oauth: Harness) -> None:
    """jti is required."""
    _refused(_token_call(oauth, oauth.assertion(jti=None)))


def test_an_expired_assertion_is_refused(oauth: Harness) -> None:
    """exp in the past, beyond the clock-skew leeway, is refused."""
    now = int(oauth.clock())

    _refused(_token_call(oauth, oauth.assertion(iat=now - 600, exp=now - 31)))


def test_an_assertion_within_the_clock_skew_is_accepted(oauth: Harness) -> None:
    """exp a few seconds ago is still within the 30 s leeway."""
    now = int(oauth.clock())

    response = _token_call(oauth, oauth.assertion(iat=now - 60, exp=now - 5))

    assert response.json()["error"] == "invalid_grant"


def test_an_assertion_living_too_long_is_refused(oauth: Harness) -> None:
    """exp more than assertion_max_lifetime + skew ahead is refused."""
    now = int(oauth.clock())

    description = _refused(_token_call(oauth, oauth.assertion(exp=now + 3600)))

    assert "too long" in description


def test_an_assertion_without_exp_is_refused(oauth: Harness) -> None:
    """exp is required."""
    _refused(_token_call(oauth, oauth.assertion(exp=None)))


@pytest.mark.parametrize(
    "iat",
    [None, -1, -1_000_000_000, "1767225600", True],
    ids=["missing", "-1", "-1e9", "text", "true"],
)
def test_an_assertion_without_a_valid_iat_is_refused(oauth: Harness, iat: object) -> None:
    """iat is required and must be a NumericDate (RFC 7519 §2): missing, negative or not a
    number is invalid_client, the assertion otherwise valid (None leaves it out)."""
    description = _refused(_token_call(oauth, oauth.assertion(iat=iat)))

    assert "assertion" in description


def test_an_assertion_issued_in_the_future_is_refused(oauth: Harness) -> None:
    """iat beyond the skew in the future is refused."""
    now = int(oauth.clock())

    _refused(_token_call(oauth, oauth.assertion(iat=now + 120, exp=now + 180)))


def test_hs256_with_a_registered_symmetric_key_is_refused(oauth: Harness) -> None:
    """A shared secret in the client's JWKS never verifies an assertion."""
    oct_key = OctKey.generate_key(256, parameters={"kid": "oct-1"})
    jwks = {"keys": [oauth.key.as_dict(private=False), oct_key.as_dict()]}
    run(oauth.services.records.clients.put, client_record(CLIENT_ID, oauth.key, jwks=jwks))

    assertion = oauth.assertion(key=oct_key, alg="HS256")

    _refused(_token_call(oauth, assertion))


def test_alg_none_is_refused(oauth: Harness) -> None:
    """An unsigned assertion is refused."""
    good = oauth.assertion()
    _, payload, _ = good.split(".")
    header = "eyJhbGciOiJub25lIn0"  # {"alg":"none"}

    _refused(_token_call(oauth, f"{header}.{payload}."))


def test_a_signature_by_an_unregistered_key_is_refused(oauth: Harness) -> None:
    """Only the client's registered keys verify its assertions."""
    stranger = new_key("client-key-1")

    _refused(_token_call(oauth, oauth.assertion(key=stranger)))


def test_an_unknown_client_is_refused(oauth: Harness) -> None:
    """An assertion for a client we never registered is refused."""
    _refused(_token_call(oauth, oauth.assertion("nobody", key=oauth.key)))


def test_a_suspended_client_is_refused(oauth: Harness) -> None:
    """Only approved clients authenticate."""
    run(
        oauth.services.records.clients.put,
        client_record(CLIENT_ID, oauth.key, status="suspended"),
    )

    _refused(_token_call(oauth, oauth.assertion()))


def test_iss_and_sub_must_both_be_the_client(oauth: Harness) -> None:
    """iss == sub == client_id."""
    _refused(_token_call(oauth, oauth.assertion(sub="client-2")))


def test_a_client_id_parameter_must_match_the_assertion(oauth: Harness) -> None:
    """A client_id form parameter naming another client is refused."""
    _refused(_token_call(oauth, oauth.assertion(), client_id="client-2"))


def test_client_secret_post_is_refused(oauth: Harness) -> None:
    """Only private_key_jwt is supported."""
    form = {"client_id": CLIENT_ID, "client_secret": "s3cret", "grant_type": "refresh_token"}

    description = _refused(oauth.post("/oauth/token", form))

    assert "private_key_jwt" in description


def test_basic_authentication_is_refused(oauth: Harness) -> None:
    """client_secret_basic is refused even alongside an assertion."""
    form = {
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": oauth.assertion(),
        "grant_type": "refresh_token",
        "refresh_token": "x",
    }
    response = oauth.post("/oauth/token", form, headers={"Authorization": "Basic Y2xpZW50OnM="})

    _refused(response)


def test_no_client_authentication_is_refused(oauth: Harness) -> None:
    """A public client (auth method none) is refused."""
    _refused(oauth.post("/oauth/token", {"grant_type": "refresh_token", "client_id": CLIENT_ID}))


def test_a_wrong_assertion_type_is_refused(oauth: Harness) -> None:
    """client_assertion_type must be the jwt-bearer URN."""
    form = {
        "client_assertion_type": "urn:other",
        "client_assertion": oauth.assertion(),
        "grant_type": "refresh_token",
    }

    _refused(oauth.post("/oauth/token", form))


@pytest.mark.parametrize("garbage", ["abc", "a.b.c", "e30.e30.", "!!.??.##", "x" * 9000])
def test_malformed_assertions_are_refused_without_echo(oauth: Harness, garbage: str) -> None:
    """Garbage is invalid_client, and the description never repeats it."""
    description = _refused(_token_call(oauth, garbage))

    assert garbage not in description


def test_a_rotated_client_key_takes_effect_at_once(oauth: Harness) -> None:
    """The key cache follows the registered JWKS: a new key works, the old one stops."""
    _token_call(oauth, oauth.assertion())
    new = new_key("client-key-2")
    run(oauth.services.records.clients.put, client_record(CLIENT_ID, new))

    assert _token_call(oauth, oauth.assertion(key=new)).json()["error"] == "invalid_grant"
    _refused(_token_call(oauth, oauth.assertion(key=oauth.key)))


def test_the_jti_is_remembered_until_the_assertion_expires(oauth: Harness) -> None:
    """The replay cache keys on client and jti and forgets it once exp + skew has passed."""
    jti = secrets.token_urlsafe(8)
    _token_call(oauth, oauth.assertion(jti=jti))
    key = f"{CLIENT_ID}:{jti}"

    assert not run(oauth.services.state.add_once, Kind.ASSERTION_JTI, key, ttl=10)
    oauth.clock.advance(60 + 30 + 1)
    assert run(oauth.services.state.add_once, Kind.ASSERTION_JTI, key, ttl=10)


def test_assertion_claims_are_checked_by_signature_not_by_peeking(oauth: Harness) -> None:
    """Claims altered after signing break the signature."""
    good = oauth.assertion()
    header, _, signature = good.split(".")
    forged = jwt.encode(
        {"alg": "ES256"}, {"iss": CLIENT_ID, "sub": CLIENT_ID}, new_key("x"), algorithms=["ES256"]
    ).split(".")[1]

    _refused(_token_call(oauth, f"{header}.{forged}.{signature}"))
