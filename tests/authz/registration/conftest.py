"""A fresh authorization server with dynamic registration per test: memory stores (or SQLite),
a fake clock, and an ecosystem registry whose key the test holds."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import orjson
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.testclient import TestClient

from adapters.base import BankAdapter
from authz.endpoints import oauth_routes
from authz.errors import OAuth2Error, handle_oauth_error
from authz.keys import SigningKeys
from authz.services import Services
from authz.store.base import ClientRecord, Records
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings
from tests.authz.oauth.conftest import ASSERTION_TYPE, FakeBank, FakeClock, new_key, run

ISSUER = "https://as.example.com"
REGISTRY_ISS = "https://registry.example"
REDIRECT = "https://app.example.com/callback"


def sign_statement(key: ECKey, claims: dict[str, Any], *, kid: str | None = None) -> str:
    header = {"alg": "ES256", "kid": kid if kid is not None else key.kid}
    return jwt.encode(header, claims, key, algorithms=["ES256"])


@dataclass
class Registry:
    """The test's ecosystem registry: its key, the file the bank trusts, and the app under test."""

    services: Services
    clock: FakeClock
    http: TestClient
    registry_key: ECKey
    client_key: ECKey

    @property
    def records(self) -> Records:
        return self.services.records

    def statement(self, key: ECKey | None = None, **claims: Any) -> str:
        now = int(self.clock())
        body: dict[str, Any] = {
            "iss": REGISTRY_ISS,
            "iat": now,
            "exp": now + 600,
            "software_id": "budget-app",
            "client_name": "Budget App (registry)",
            "scope": "ACCOUNT_BASIC TRANSACTIONS",
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return sign_statement(key or self.registry_key, body)

    def metadata(self, **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "client_name": "Budget App",
            "redirect_uris": [REDIRECT],
            "jwks": {"keys": [self.client_key.as_dict(private=False)]},
            "token_endpoint_auth_method": "private_key_jwt",
            "grant_types": ["authorization_code", "refresh_token"],
            "software_statement": self.statement(),
        }
        body.update(fields)
        return {k: v for k, v in body.items() if v is not None}

    def register(self, **fields: Any) -> Any:
        return self.http.post("/register", content=orjson.dumps(self.metadata(**fields)),
                              headers={"Content-Type": "application/json"})  # fmt: skip

    def registered(self, **fields: Any) -> dict[str, Any]:
        response = self.register(**fields)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def client(self, client_id: str) -> ClientRecord:
        record = run(self.records.clients.get, client_id)
        assert record is not None
        return record

    def manage(self, method: str, client_id: str, token: str | None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, f"/register/{client_id}", headers=headers, **kwargs)

    def assertion(self, client_id: str, key: ECKey | None = None) -> dict[str, str]:
        now = int(self.clock())
        claims = {"iss": client_id, "sub": client_id, "aud": ISSUER, "iat": now,
                  "exp": now + 60, "jti": secrets.token_urlsafe(12)}  # fmt: skip
        signer = key or self.client_key
        token = jwt.encode({"alg": "ES256", "kid": signer.kid}, claims, signer, ["ES256"])
        return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": token}


def registry_file(directory: Path, key: ECKey) -> Path:
    path = directory / "registry-jwks.json"
    path.write_bytes(orjson.dumps({"keys": [key.as_dict(private=False)]}))
    return path


def make_registry(
    tmp_path: Path, *, issuer: str = ISSUER, records: Records | None = None, **settings: Any
) -> Iterator[Registry]:
    clock = FakeClock()
    registry_key = new_key("registry-key-1")
    config = Settings(
        issuer=issuer, registry_jwks=str(registry_file(tmp_path, registry_key)), **settings
    )
    services = Services.build(
        config,
        policy=load_policy(),
        records=records or memory_records(clock=clock),
        state=MemoryStateStore(clock=clock),
        bank=cast(BankAdapter, FakeBank()),
        keys=SigningKeys.generate(),
        secret=b"k" * 32,
        clock=clock,
    )
    app = Starlette(
        routes=oauth_routes(services), exception_handlers={OAuth2Error: handle_oauth_error}
    )
    with TestClient(app, base_url=issuer) as http:
        yield Registry(services, clock, http, registry_key, new_key("client-key-1"))


@pytest.fixture
def dcr(tmp_path: Path) -> Iterator[Registry]:
    yield from make_registry(tmp_path)
