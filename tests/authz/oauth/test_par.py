"""Pushed authorization requests (RFC 9126) as FAPI 2.0 profiles them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from authz.consent.model import DurationType
from authz.requests import REQUEST_URI_PREFIX, PushedRequest
from authz.store.base import Kind
from tests.authz.oauth.conftest import CLIENT_ID, REDIRECT, Harness, run

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
DETAILS = [
    {
        "type": "fdx_v1.0",
        "consentRequest": {
            "durationType": "TIME_BOUND",
            "durationPeriod": 30,
            "lookbackPeriod": 60,
            "resources": [
                {
                    "resourceType": "ACCOUNT",
                    "dataClusters": ["ACCOUNT_BASIC", "TRANSACTIONS"],
                    "optionalDataClusters": ["STATEMENTS"],
                }
            ],
            "purpose": "Budgeting app",
        },
    }
]


def _params(**overrides: Any) -> dict[str, str]:
    params: dict[str, Any] = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "state": "af0ifjsldkj",
        "scope": "offline_access",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "authorization_details": json.dumps(DETAILS),
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def _push(oauth: Harness, **overrides: Any) -> Any:
    return oauth.post("/oauth/par", oauth.auth(**_params(**overrides)))


def _error(response: Any, error: str = "invalid_request", status: int = 400) -> str:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    return str(response.json().get("error_description", ""))


def _stored(oauth: Harness, response: Any) -> PushedRequest:
    key = response.json()["request_uri"].removeprefix(REQUEST_URI_PREFIX)
    payload = run(oauth.services.state.get, Kind.PAR, key)
    assert payload is not None
    return PushedRequest.from_dict(payload)


def test_a_valid_push_returns_a_single_use_request_uri(oauth: Harness) -> None:
    """201 with a request_uri URN and expires_in, never cached."""
    response = _push(oauth)
    body = response.json()

    assert response.status_code == 201
    assert body["request_uri"].startswith(REQUEST_URI_PREFIX)
    assert body["expires_in"] == oauth.services.settings.par_ttl
    assert response.headers["cache-control"] == "no-store"


def test_the_stored_request_carries_the_validated_consent_request(oauth: Harness) -> None:
    """What the screens load is exactly what was validated."""
    pushed = _stored(oauth, _push(oauth))

    assert pushed.client_id == CLIENT_ID
    assert pushed.redirect_uri == REDIRECT
    assert pushed.state == "af0ifjsldkj"
    assert pushed.code_challenge == CHALLENGE
    assert pushed.scope == ("offline_access",)
    assert pushed.consent.duration_type is DurationType.TIME_BOUND
    assert pushed.consent.duration_period == 30
    assert pushed.consent.lookback_period == 60
    assert pushed.consent.clusters == ("ACCOUNT_BASIC", "TRANSACTIONS")
    assert pushed.consent.optional_clusters == ("STATEMENTS",)
    assert pushed.consent.purpose == "Budgeting app"


def test_the_request_uri_expires_after_par_ttl(oauth: Harness) -> None:
    """The pushed request is gone after its lifetime."""
    response = _push(oauth)
    key = response.json()["request_uri"].removeprefix(REQUEST_URI_PREFIX)
    oauth.clock.advance(oauth.services.settings.par_ttl + 1)

    assert run(oauth.services.state.get, Kind.PAR, key) is None


def test_each_push_gets_a_fresh_request_uri(oauth: Harness) -> None:
    """request_uris are never reused."""
    first = _push(oauth).json()["request_uri"]
    second = _push(oauth).json()["request_uri"]

    assert first != second


def test_a_request_uri_parameter_is_refused(oauth: Harness) -> None:
    """RFC 9126 §2.1: request_uri must not be pushed."""
    description = _error(_push(oauth, request_uri=REQUEST_URI_PREFIX + "x"))

    assert "request_uri" in description


def test_a_request_object_is_refused(oauth: Harness) -> None:
    """JAR is not supported, and says so."""
    description = _error(_push(oauth, request="eyJ.eyJ.sig"))

    assert description == "request objects are not supported"


def test_an_unknown_response_type_is_refused(oauth: Harness) -> None:
    """Only the code flow exists."""
    _error(_push(oauth, response_type="code id_token"), "unsupported_response_type")


def test_a_missing_response_type_is_refused(oauth: Harness) -> None:
    """response_type is required."""
    _error(_push(oauth, response_type=None))


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example.com/callback",
        REDIRECT + "/",
        REDIRECT.upper(),
        REDIRECT + "?x=1",
        "https://app.example.com:443/callback",
    ],
)
def test_a_redirect_uri_not_registered_exactly_is_refused(oauth: Harness, uri: str) -> None:
    """Exact string comparison against the registered redirect URIs, no normalisation."""
    _error(_push(oauth, redirect_uri=uri))


def test_another_registered_redirect_uri_is_accepted(oauth: Harness) -> None:
    """Any one of the registered URIs may be used."""
    assert _push(oauth, redirect_uri="https://app.example.com/other").status_code == 201


def test_a_missing_redirect_uri_is_refused(oauth: Harness) -> None:
    """redirect_uri is required under FAPI 2.0."""
    _error(_push(oauth, redirect_uri=None))


def test_a_missing_code_challenge_is_refused(oauth: Harness) -> None:
    """PKCE is mandatory."""
    _error(_push(oauth, code_challenge=None))


@pytest.mark.parametrize("method", ["plain", None, "s256", "S512"])
def test_a_code_challenge_method_other_than_s256_is_refused(
    oauth: Harness, method: str | None
) -> None:
    """FAPI 2.0 §5.3.2.2: S256 only; plain or missing is invalid_request."""
    _error(_push(oauth, code_challenge_method=method))


@pytest.mark.parametrize("challenge", ["short", "a" * 129, "a" * 42 + "=", "a" * 42 + "+"])
def test_a_malformed_code_challenge_is_refused(oauth: Harness, challenge: str) -> None:
    """43-128 characters of the base64url alphabet."""
    _error(_push(oauth, code_challenge=challenge))


def test_a_state_longer_than_512_characters_is_refused(oauth: Harness) -> None:
    """state is bounded."""
    _error(_push(oauth, state="s" * 513))


def test_a_missing_client_id_is_refused(oauth: Harness) -> None:
    """client_id is a required authorization request parameter."""
    form = oauth.auth(**_params(client_id=None))

    _error(oauth.post("/oauth/par", form))


def test_a_client_id_other_than_the_authenticated_client_is_refused(oauth: Harness) -> None:
    """The client_id parameter must name the authenticated client."""
    form = oauth.auth(**_params(client_id="client-2"))

    _error(oauth.post("/oauth/par", form), "invalid_client", 401)


def test_par_requires_client_authentication(oauth: Harness) -> None:
    """An unauthenticated push is invalid_client."""
    _error(oauth.post("/oauth/par", _params()), "invalid_client", 401)


def test_an_oversized_body_is_refused_with_413(oauth: Harness) -> None:
    """Bodies over max_body_bytes are refused before parsing."""
    form = oauth.auth(**_params(state="s" * 70_000))

    _error(oauth.post("/oauth/par", form), "invalid_request", 413)


def test_a_repeated_parameter_is_refused(oauth: Harness) -> None:
    """RFC 6749 §3.1: parameters must not repeat."""
    body = "&".join(
        f"{k}={v}" for k, v in oauth.auth(**_params(authorization_details=None)).items()
    )
    body += "&scope=fdx:transactions:read"

    response = oauth.http.post(
        "/oauth/par",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert "repeated" in _error(response)


def test_a_json_body_is_refused(oauth: Harness) -> None:
    """The endpoint speaks application/x-www-form-urlencoded only."""
    response = oauth.http.post("/oauth/par", json=_params())

    _error(response)


def test_malformed_authorization_details_is_refused_through_par(oauth: Harness) -> None:
    """A bad details value surfaces as invalid_authorization_details."""
    _error(_push(oauth, authorization_details="{not json"), "invalid_authorization_details")


def test_scope_alone_maps_fdx_scopes_to_clusters(oauth: Harness) -> None:
    """Without details, fdx scopes name the clusters; no offline_access means ONE_TIME."""
    response = _push(
        oauth,
        authorization_details=None,
        scope="openid fdx:transactions:read fdx:accountbasic:read",
    )
    consent = _stored(oauth, response).consent

    assert consent.duration_type is DurationType.ONE_TIME
    assert consent.clusters == ("ACCOUNT_BASIC", "TRANSACTIONS")
    assert consent.lookback_period == 365


def test_scope_with_offline_access_asks_for_a_persistent_consent(oauth: Harness) -> None:
    """offline_access turns a scope-only request into PERSISTENT."""
    response = _push(oauth, authorization_details=None, scope="offline_access fdx:statements:read")

    assert _stored(oauth, response).consent.duration_type is DurationType.PERSISTENT


@pytest.mark.parametrize(
    "scope",
    [
        "fdx:unknown:read",
        "fdx:investments:read",  # known cluster, not registered for the client
        "email",
        "openid fdx:transactions:read profile",
    ],
)
def test_scopes_outside_policy_or_registration_are_refused(oauth: Harness, scope: str) -> None:
    """Unknown scopes, unregistered clusters and foreign scopes are invalid_scope."""
    _error(_push(oauth, authorization_details=None, scope=scope), "invalid_scope")


def test_neither_details_nor_fdx_scope_is_refused(oauth: Harness) -> None:
    """Something must be asked for."""
    _error(_push(oauth, authorization_details=None, scope="openid offline_access"))


def test_no_scope_and_no_details_is_refused(oauth: Harness) -> None:
    """An empty request is invalid_request."""
    _error(_push(oauth, authorization_details=None, scope=None))


# ------------------------------------------------ parameters taken no action on, checked for form


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("claims", '{"id_token": {"email": null, "name": {"essential": true}}}'),
        ("claims", '{"userinfo": {}, "other": 1}'),
        ("max_age", "0"),
        ("max_age", "3600"),
        ("prompt", "login consent"),
        ("prompt", "none"),
        ("resource", "https://bank.example/fdx/v6"),
        ("resource", "urn:example:fdx"),
    ],
)
def test_well_formed_oidc_and_resource_parameters_are_accepted(
    oauth: Harness, name: str, value: str
) -> None:
    """Well-formed, they change nothing here: 201."""
    assert 201 == _push(oauth, **{name: value}).status_code


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("claims", "not json"),
        ("claims", "[]"),
        ("claims", '"id_token"'),
        ("claims", '{"id_token": []}'),
        ("claims", '{"userinfo": {"email": 1}}'),
        ("max_age", ""),
        ("max_age", "-1"),
        ("max_age", "1.5"),
        ("max_age", "ten"),
        ("max_age", "١٢"),
        ("max_age", "9" * 20),
        ("prompt", ""),
        ("prompt", "sometimes"),
        ("prompt", "login  consent"),
        ("prompt", "login login"),
        ("prompt", "none login"),
    ],
)
def test_malformed_oidc_parameters_are_refused(oauth: Harness, name: str, value: str) -> None:
    """OIDC Core §3.1.2.1, §5.5: invalid_request naming the parameter, not ignored."""
    assert name in _error(_push(oauth, **{name: value}))


@pytest.mark.parametrize(
    "value",
    ["", "fdx", "/fdx/v6", "https://bank.example/fdx#v6", "https://bank.example/a b", "é:x"],
)
def test_a_malformed_resource_is_invalid_target(oauth: Harness, value: str) -> None:
    """RFC 8707 §2: an absolute URI without a fragment, else invalid_target."""
    assert "resource" in _error(_push(oauth, resource=value), "invalid_target")
