"""A fresh authorization server per test: memory stores, a fake clock, two seeded clients."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar, cast

import anyio
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import ECKey, Key
from starlette.applications import Starlette
from starlette.testclient import TestClient

from adapters.base import BankAdapter
from authz.consent.model import (
    Consent,
    ConsentEvent,
    ConsentResource,
    ConsentStatus,
    DurationType,
)
from authz.endpoints import oauth_routes
from authz.errors import OAuth2Error, handle_oauth_error
from authz.keys import SigningKeys
from authz.requests import AuthorizationCode
from authz.services import Services
from authz.store.base import ClientRecord, Kind, Records
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings

ISSUER = "https://as.example.com"
CLIENT_ID = "client-1"
OTHER_ID = "client-2"
REDIRECT = "https://app.example.com/callback"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GRANTED_SCOPE = ("fdx:accountbasic:read", "fdx:transactions:read")

T = TypeVar("T")


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeBank:
    """The OAuth endpoints never call the bank; this only fills the Services slot."""

    name = "fake"


def run(fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    return anyio.run(partial(fn, *args, **kwargs))


def new_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "alg": "ES256"}, private=True)


def client_record(client_id: str, key: Key, **overrides: Any) -> ClientRecord:
    values: dict[str, Any] = {
        "client_id": client_id,
        "client_name": f"App {client_id}",
        "redirect_uris": (REDIRECT, "https://app.example.com/other"),
        "jwks": {"keys": [key.as_dict(private=False)]},
        "clusters": ("ACCOUNT_BASIC", "ACCOUNT_DETAILED", "TRANSACTIONS", "STATEMENTS"),
        "max_duration_period": 90,
        "max_lookback_period": 365,
    }
    values.update(overrides)
    return ClientRecord(**values)


@dataclass
class Harness:
    services: Services
    clock: FakeClock
    http: TestClient
    key: ECKey
    other_key: ECKey
    codes: list[str] = field(default_factory=list)

    @property
    def records(self) -> Records:
        return self.services.records

    def assertion(
        self,
        client_id: str = CLIENT_ID,
        *,
        key: Key | None = None,
        alg: str = "ES256",
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        now = int(self.clock())
        body: dict[str, Any] = {
            "iss": client_id,
            "sub": client_id,
            "aud": ISSUER,
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_urlsafe(12),
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        signer = key or (self.key if client_id == CLIENT_ID else self.other_key)
        hdr = {"alg": alg, "kid": signer.kid} if header is None else header
        return jwt.encode(hdr, body, signer, algorithms=[alg])

    def auth(self, who: str = CLIENT_ID, **params: str) -> dict[str, str]:
        """Form parameters authenticating as ``who`` plus ``params``."""
        return {
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(who),
            **params,
        }

    def post(self, path: str, data: dict[str, str], **kwargs: Any) -> Any:
        return self.http.post(path, data=data, **kwargs)

    def consent(
        self,
        consent_id: str = "consent-1",
        *,
        client_id: str = CLIENT_ID,
        duration: DurationType = DurationType.PERSISTENT,
        status: ConsentStatus = ConsentStatus.ACTIVE,
        days: int = 30,
    ) -> Consent:
        now = self.clock()
        consent = Consent(
            id=consent_id,
            status=status,
            client_id=client_id,
            customer_id="customer-7",
            created_at=now,
            updated_at=now,
            expires_at=now + days * 86400,
            duration_type=duration,
            duration_period=days if duration is DurationType.TIME_BOUND else None,
            lookback_period=90,
            resources=(ConsentResource("ACCOUNT", "acct-1", ("ACCOUNT_BASIC", "TRANSACTIONS")),),
            purpose="Budgeting",
            scope=GRANTED_SCOPE,
        )
        event = ConsentEvent(consent_id, now, "granted", "INDIVIDUAL")
        run(self.services.records.consents.create, consent, event)
        return consent

    def code(
        self, consent: Consent, *, client_id: str = CLIENT_ID, redirect_uri: str = REDIRECT
    ) -> tuple[str, str]:
        """What the consent screen stores: returns (code, code_verifier)."""
        verifier = secrets.token_urlsafe(48)
        code = AuthorizationCode(
            client_id=client_id,
            redirect_uri=redirect_uri,
            code_challenge=create_s256_code_challenge(verifier),  # type: ignore[no-untyped-call]
            consent_id=consent.id,
            customer_id=consent.customer_id,
            scope=GRANTED_SCOPE,
            issued_at=self.clock(),
        )
        raw = secrets.token_urlsafe(32)
        run(self.services.state.put, Kind.CODE, raw, code.to_dict(), ttl=60)
        return raw, verifier

    def exchange(self, code: str, verifier: str, client_id: str = CLIENT_ID, **extra: str) -> Any:
        form = self.auth(
            client_id,
            grant_type="authorization_code",
            code=code,
            redirect_uri=REDIRECT,
            code_verifier=verifier,
        )
        form.update(extra)
        return self.post("/oauth/token", form)

    def refresh(self, token: str, client_id: str = CLIENT_ID, **extra: str) -> Any:
        form = self.auth(client_id, grant_type="refresh_token", refresh_token=token, **extra)
        return self.post("/oauth/token", form)

    def get_consent(self, consent_id: str = "consent-1") -> Consent:
        consent = run(self.services.records.consents.get, consent_id)
        assert consent is not None
        return consent


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def oauth(clock: FakeClock) -> Iterator[Harness]:
    services = Services.build(
        Settings(issuer=ISSUER, profile="sandbox"),
        policy=load_policy(),
        records=memory_records(clock=clock),
        state=MemoryStateStore(clock=clock),
        bank=cast(BankAdapter, FakeBank()),
        keys=SigningKeys.generate(),
        secret=b"k" * 32,
        clock=clock,
    )
    key, other = new_key("client-key-1"), new_key("other-key-1")
    run(services.records.clients.put, client_record(CLIENT_ID, key))
    run(services.records.clients.put, client_record(OTHER_ID, other))
    app = Starlette(
        routes=oauth_routes(services), exception_handlers={OAuth2Error: handle_oauth_error}
    )
    with TestClient(app, base_url=ISSUER) as http:
        yield Harness(services, clock, http, key, other)
