"""The assembled gateway (``create_app``) over SQLite in a temporary folder, with an https issuer,
the sandbox bank and the demo recipient, driven in process through a recording HTTP client.

``tests/test_hardening.py`` runs whole flows in it and then looks at what was left behind: the
responses (headers, forms), the log records and the database file. ``Recorder`` keeps every
exchange, so the secrets a flow handled (tokens, codes, assertions, passwords) can be collected
from the traffic rather than listed by hand.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import ECKey

from authz.services import Services
from authz.store import open_records
from config.settings import Settings
from examples.budget_app import Recipient, _fill, _forms
from gateway.admin.token import new_token, write_token_hash
from gateway.app import build_services, create_app
from gateway.cli import _seed_demo

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "config" / "demo"
ISSUER = "https://bank.example"
CONSUMERS = json.loads((DEMO / "consumers.json").read_text(encoding="utf-8"))["consumers"]
SECRET_FIELDS = (
    "access_token",
    "refresh_token",
    "id_token",
    "registration_access_token",
    "client_assertion",
    "password",
    "code",
    "code_verifier",
    "token",
    "software_statement",
)


class Recorder(httpx.AsyncBaseTransport):
    """An ``ASGITransport`` that keeps every request and its (read) response."""

    def __init__(self, app: Any, client: tuple[str, int] = ("198.51.100.7", 50000)) -> None:
        self.inner = httpx.ASGITransport(app=app, client=client)
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        kept = httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )
        self.exchanges.append((request, kept))
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )

    def html(self) -> list[httpx.Response]:
        return [
            r
            for _, r in self.exchanges
            if r.headers.get("content-type", "").startswith("text/html")
        ]

    def secrets(self) -> set[str]:
        """Every credential that crossed the wire, from bodies, headers and redirects."""
        found: set[str] = set()
        for request, response in self.exchanges:
            for value in request.headers.get_list("authorization"):
                found.add(value.partition(" ")[2].strip())
            found.update(request.headers.get_list("dpop"))
            form = parse_qs(request.content.decode("utf-8", "replace"))
            for name in SECRET_FIELDS:
                found.update(form.get(name, []))
            if request.headers.get("content-type", "").startswith("application/json"):
                found.update(_json_secrets(request.content))
            found.update(_json_secrets(response.content))
            location = response.headers.get("location", "")
            found.update(parse_qs(urlsplit(location).query).get("code", []))
        return {s for s in found if len(s) >= 8}


def _json_secrets(content: bytes) -> set[str]:
    try:
        body = json.loads(content)
    except ValueError:
        return set()
    if not isinstance(body, dict):
        return set()
    return {str(body[k]) for k in SECRET_FIELDS if isinstance(body.get(k), str)}


@dataclass
class World:
    settings: Settings
    services: Services
    recorder: Recorder
    http: httpx.AsyncClient
    var: Path
    admin_token: str
    recipient: Recipient = field(default_factory=Recipient.demo)

    async def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        return await self.http.request(method, "/admin" + path, headers=headers, **kwargs)

    def assertion(self) -> dict[str, str]:
        return self.recipient.assertion(ISSUER)

    async def consent(self, username: str, password: str) -> dict[str, Any]:
        """PAR → authorize → sign-in → consent → code → tokens (plain bearer: sandbox), in a
        fresh browser (no session cookie of an earlier consumer)."""
        self.http.cookies.clear()
        verifier = secrets.token_urlsafe(48)
        details = [{
            "type": "fdx_v1.0",
            "consentRequest": {
                "durationType": "TIME_BOUND", "durationPeriod": 90, "lookbackPeriod": 365,
                "resources": [{"resourceType": "ACCOUNT",
                               "dataClusters": ["ACCOUNT_BASIC", "TRANSACTIONS"]}],
                "purpose": "Budgeting",
            },
        }]  # fmt: skip
        par = await self.http.post("/oauth/par", data={
            "response_type": "code", "redirect_uri": self.recipient.redirect_uri,
            "scope": "openid offline_access", "state": "st-" + secrets.token_hex(4),
            "nonce": "n-" + secrets.token_hex(4),
            "code_challenge": create_s256_code_challenge(verifier),  # type: ignore[no-untyped-call]
            "code_challenge_method": "S256", "authorization_details": json.dumps(details),
            **self.assertion(),
        })  # fmt: skip
        assert par.status_code == 201, par.text
        page = await self.http.get(
            "/oauth/authorize",
            params={
                "client_id": self.recipient.client_id,
                "request_uri": par.json()["request_uri"],
            },
            follow_redirects=True,
        )
        assert page.status_code == 200, page.text
        login = _forms(page.text)[0]
        page = await self.http.post(
            urljoin(str(page.url), login["action"]),
            data=_fill(login, username=username, password=password),
            follow_redirects=True,
        )
        assert page.status_code == 200, page.text
        form = next(
            f for f in _forms(page.text) if any(i.get("value") == "approve" for i in f["inputs"])
        )
        answer = await self.http.post(
            urljoin(str(page.url), form["action"]), data=_fill(form, decision="approve")
        )
        assert answer.status_code == 303, answer.text
        code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
        tokens = await self.http.post("/oauth/token", data={
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": self.recipient.redirect_uri, "code_verifier": verifier,
            **self.assertion(),
        })  # fmt: skip
        assert tokens.status_code == 200, tokens.text
        body: dict[str, Any] = tokens.json()
        body["code"] = code
        return body

    async def portal_sign_in(self, username: str, password: str) -> httpx.Response:
        self.http.cookies.clear()
        page = await self.http.get("/consumer")
        form = _forms(page.text)[0]
        return await self.http.post(
            urljoin(str(page.url), form["action"]),
            data=_fill(form, username=username, password=password),
            follow_redirects=True,
        )

    async def register(self) -> dict[str, Any]:
        """Dynamic registration with a statement from the (published) demo registry key."""
        registry = json.loads((DEMO / "registry-private-jwks.json").read_text(encoding="utf-8"))
        key = ECKey.import_key(registry["keys"][0])
        now = int(time.time())
        statement = jwt.encode(
            {"alg": "ES256", "kid": key.kid},
            {"iss": "https://registry.example", "iat": now, "exp": now + 600,
             "software_id": "hardening-app", "client_name": "Hardening App",
             "scope": "ACCOUNT_BASIC TRANSACTIONS"},
            key,
            algorithms=["ES256"],
        )  # fmt: skip
        app_key = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, private=True)
        body = {
            "client_name": "Hardening App",
            "redirect_uris": ["https://hardening.example/cb"],
            "jwks": {"keys": [app_key.as_dict(private=False)]},
            "token_endpoint_auth_method": "private_key_jwt",
            "grant_types": ["authorization_code", "refresh_token"],
            "software_statement": statement,
        }
        response = await self.http.post("/register", json=body)
        assert response.status_code == 201, response.text
        registered: dict[str, Any] = response.json()
        return registered


async def open_world(tmp_path: Path, **overrides: Any) -> World:
    admin_token = new_token()
    write_token_hash(tmp_path / "admin-token.sha256", admin_token)
    settings = Settings(
        admin_token_file=str(tmp_path / "admin-token.sha256"),
        issuer=ISSUER,
        database_url=f"sqlite:///{tmp_path}/gateway.db",
        var_dir=str(tmp_path / "var"),
        profile="sandbox",
        **overrides,
    )
    records = open_records(settings.database_url)
    await records.schema.migrate()
    await _seed_demo(records, DEMO)
    await records.aclose()
    services = build_services(settings)
    recorder = Recorder(create_app(settings, services=services))
    http = httpx.AsyncClient(transport=recorder, base_url=ISSUER)
    return World(settings, services, recorder, http, tmp_path, admin_token)
