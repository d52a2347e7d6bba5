"""PAR and the adapter's capability: a cluster the bank cannot serve is refused up front."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from adapters.sandbox import SandboxBank
from authz.endpoints import oauth_routes
from authz.errors import OAuth2Error, handle_oauth_error
from authz.keys import SigningKeys
from authz.services import Services
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings
from tests.authz.oauth.conftest import (
    CLIENT_ID,
    ISSUER,
    REDIRECT,
    FakeClock,
    Harness,
    client_record,
    new_key,
    run,
)
from tests.authz.oauth.test_par import CHALLENGE

NEW = ("BILLS", "REWARDS", "IMAGES", "TAX")


def _details(*clusters: str) -> str:
    request = {
        "durationType": "TIME_BOUND",
        "durationPeriod": 30,
        "resources": [{"resourceType": "ACCOUNT", "dataClusters": ["ACCOUNT_BASIC", *clusters]}],
    }
    return json.dumps([{"type": "fdx_v1.0", "consentRequest": request}])


def _push(oauth: Harness, details: str) -> Any:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "state": "s",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "authorization_details": details,
    }
    return oauth.post("/oauth/par", oauth.auth(**params))


@pytest.mark.parametrize("cluster", NEW)
def test_a_cluster_the_adapter_cannot_serve_is_refused(oauth: Harness, cluster: str) -> None:
    """The test bank implements no optional category: invalid_authorization_details, naming it,
    although the client registered the cluster."""
    key = new_key("k2")
    clusters = ("ACCOUNT_BASIC", *NEW)
    run(oauth.services.records.clients.put, client_record(CLIENT_ID, key, clusters=clusters))
    oauth.key = key

    response = _push(oauth, _details(cluster))

    assert 400 == response.status_code
    assert "invalid_authorization_details" == response.json()["error"]
    assert f"{cluster} is not offered by this bank" in response.json()["error_description"]


def test_a_bank_serving_the_categories_accepts_them(clock: FakeClock) -> None:
    """Over the sandbox bank (every category), the same requests are pushed."""
    services = Services.build(
        Settings(issuer=ISSUER, profile="sandbox"),
        policy=load_policy(),
        records=memory_records(clock=clock),
        state=MemoryStateStore(clock=clock),
        bank=SandboxBank(),
        keys=SigningKeys.generate(),
        clock=clock,
    )
    key = new_key("k3")
    run(
        services.records.clients.put,
        client_record(CLIENT_ID, key, clusters=("ACCOUNT_BASIC", *NEW)),
    )
    app = Starlette(
        routes=oauth_routes(services), exception_handlers={OAuth2Error: handle_oauth_error}
    )
    with TestClient(app, base_url=ISSUER) as http:
        oauth = Harness(services, clock, http, key, key)

        response = _push(oauth, _details(*NEW))

    assert 201 == response.status_code, response.text
    assert frozenset() == services.policy.withheld


def test_the_withheld_scopes_are_not_advertised(oauth: Harness) -> None:
    """Discovery's scopes_supported leaves out what the bank cannot serve."""
    doc = oauth.http.get("/.well-known/oauth-authorization-server").json()

    assert "fdx:transactions:read" in doc["scopes_supported"]
    assert "fdx:bills:read" not in doc["scopes_supported"]
