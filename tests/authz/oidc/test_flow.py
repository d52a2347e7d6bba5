"""Onboarding to OpenID Connect, through the assembled app: a recipient registers by DCR with
the sandbox registry's statement, the bank approves it, and its first consent flow returns an ID
token bound to the nonce it pushed and a userinfo answer limited to the consent."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import ECKey

from adapters.sandbox import SandboxBank
from authz.keys import SigningKeys
from authz.registration import recipients
from authz.services import Services
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings
from examples.budget_app import _fill, _forms
from gateway.app import create_app

pytestmark = pytest.mark.anyio
ISSUER = "http://127.0.0.1:8000"
DEMO = Path(__file__).resolve().parents[3] / "config" / "demo"
REDIRECT = "http://127.0.0.1:8765/callback"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _registry_statement() -> str:
    key = ECKey.import_key(json.loads((DEMO / "registry-private-jwks.json").read_text())["keys"][0])
    now = int(time.time())
    claims = {
        "iss": "https://registry.sandbox.example",
        "iat": now,
        "exp": now + 300,
        "software_id": "oidc-test-app",
        "client_name": "OIDC Test App",
        "redirect_uris": [REDIRECT],
        "scope": "ACCOUNT_BASIC TRANSACTIONS CUSTOMER_CONTACT",
    }
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])


def _assertion(client_id: str, key: ECKey) -> dict[str, str]:
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": ISSUER, "iat": now, "exp": now + 60,
              "jti": secrets.token_urlsafe(12)}  # fmt: skip
    token = jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])
    return {"client_id": client_id, "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": token}  # fmt: skip


async def _consent(http: httpx.AsyncClient, request_uri: str, client_id: str) -> dict[str, str]:
    page = await http.get(
        "/oauth/authorize",
        params={"client_id": client_id, "request_uri": request_uri},
        follow_redirects=True,
    )
    login = _forms(page.text)[0]
    page = await http.post(
        urljoin(str(page.url), login["action"]),
        data=_fill(login, username="alice", password="sandbox-alice"),
        follow_redirects=True,
    )
    form = next(
        f for f in _forms(page.text) if any(i.get("value") == "approve" for i in f["inputs"])
    )
    answer = await http.post(
        urljoin(str(page.url), form["action"]), data=_fill(form, decision="approve")
    )
    assert answer.status_code == 303, answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}


async def test_a_registered_and_approved_recipient_gets_an_id_token_with_its_nonce():
    """DCR (pending) → bank approval → PAR with openid and a nonce → sign-in and consent →
    code → token: the ID token carries the nonce, the sign-in time and the access token's sub;
    userinfo releases the consented contact claims."""
    settings = Settings(issuer=ISSUER, profile="sandbox")  # Bearer; DPoP: tests/authz/dpop
    services = Services.build(
        settings, policy=load_policy(), records=memory_records(),
        state=MemoryStateStore(clock=time.time), bank=SandboxBank(),
        keys=SigningKeys.generate(),
    )  # fmt: skip
    app = create_app(settings, services=services)
    key = ECKey.generate_key("P-256", parameters={"alg": "ES256", "kid": "app-1"}, private=True)
    transport = httpx.ASGITransport(app=app)

    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        registered = await http.post("/register", json={
            "client_name": "ignored, the registry names it",
            "redirect_uris": [REDIRECT],
            "jwks": {"keys": [key.as_dict(private=False)]},
            "software_statement": _registry_statement(),
        })  # fmt: skip
        client_id = registered.json()["client_id"]
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        par_form: dict[str, Any] = {
            "response_type": "code", "redirect_uri": REDIRECT, "state": "s-1", "nonce": nonce,
            "scope": "openid fdx:accountbasic:read fdx:transactions:read fdx:customercontact:read",
            "code_challenge": create_s256_code_challenge(verifier),  # type: ignore[no-untyped-call]
            "code_challenge_method": "S256",
        }  # fmt: skip
        refused = await http.post("/oauth/par", data={**par_form, **_assertion(client_id, key)})
        await recipients.approve(services.records, client_id, now=time.time())
        par = await http.post("/oauth/par", data={**par_form, **_assertion(client_id, key)})
        callback = await _consent(http, par.json()["request_uri"], client_id)
        token = await http.post("/oauth/token", data={
            "grant_type": "authorization_code", "code": callback["code"],
            "redirect_uri": REDIRECT, "code_verifier": verifier, **_assertion(client_id, key),
        })  # fmt: skip
        body = token.json()
        userinfo = await http.get(
            "/oauth/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
        )

    id_claims = jwt.decode(body["id_token"], services.keys.all, algorithms=["ES256"]).claims
    access_claims = jwt.decode(body["access_token"], services.keys.all, algorithms=["ES256"]).claims
    assert registered.status_code == 201
    assert registered.json()["client_name"] == "OIDC Test App"
    assert refused.status_code == 401
    assert par.status_code == 201
    assert id_claims["nonce"] == nonce
    assert id_claims["aud"] == client_id
    assert id_claims["sub"] == access_claims["sub"] == userinfo.json()["sub"]
    assert id_claims["auth_time"] <= id_claims["iat"]
    assert userinfo.json()["email"] == "alice.johnson@example.com"
