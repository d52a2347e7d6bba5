"""A fresh FDX app per test: memory stores, a fake clock, the fake bank, real tokens."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.testclient import TestClient

from adapters.sandbox import SandboxBank
from authz.consent.model import (
    Consent,
    ConsentEvent,
    ConsentResource,
    ConsentStatus,
    DurationType,
)
from authz.keys import SigningKeys
from authz.services import Services
from authz.store.base import ClientRecord
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings
from gateway.errors import fdx_exception_handlers
from gateway.fdx import routes, version_routes
from gateway.middleware import InteractionIdMiddleware
from tests.gateway.fakes import CUSTOMER, NOW, TODAY, FakeBank

CLIENT = "client-1"
ALL_ON_CHECKING = {
    "acc-chk": (
        "ACCOUNT_BASIC",
        "ACCOUNT_DETAILED",
        "TRANSACTIONS",
        "STATEMENTS",
        "CUSTOMER_CONTACT",
        "PAYMENT_SUPPORT",
    )
}


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Harness:
    """The app under test and the handles a test needs to set the scene and look behind it."""

    def __init__(self, bank: Any = None, settings: Settings | None = None) -> None:
        self.clock = FakeClock()
        self.bank = FakeBank() if bank is None else bank
        self.records = memory_records(clock=self.clock)
        self.state = MemoryStateStore(clock=self.clock)
        self.services = Services.build(
            settings or Settings(profile="sandbox"),  # Bearer tokens; DPoP: test_dpop.py
            policy=load_policy(),
            records=self.records,
            state=self.state,
            bank=self.bank,
            keys=SigningKeys.generate(),
            clock=self.clock,
        )
        app = Starlette(
            routes=[
                Mount(
                    "/fdx/v6",
                    routes=routes(self.services),
                    middleware=self.services.senders.resource_middleware(),
                ),
                *version_routes(),
            ],
            middleware=[Middleware(InteractionIdMiddleware)],
            exception_handlers=fdx_exception_handlers,
        )
        self.client = TestClient(app, raise_server_exceptions=False)
        self._n = 0

    def grant(
        self,
        accounts: Mapping[str, Iterable[str]] = ALL_ON_CHECKING,
        *,
        lookback: int | None = None,
        expires_in: float = 86400,
        scope_clusters: Iterable[str] | None = None,
        client_id: str = CLIENT,
        customer_id: str = CUSTOMER,
        jkt: str | None = None,
        x5t: str | None = None,
    ) -> tuple[Consent, str]:
        """An ACTIVE consent on ``accounts`` and an access token for it (bound to the DPoP key
        ``jkt`` or the certificate ``x5t`` when given)."""
        self._n += 1
        consent = Consent(
            id=f"consent-{self._n}",
            status=ConsentStatus.ACTIVE,
            client_id=client_id,
            customer_id=customer_id,
            created_at=self.clock(),
            updated_at=self.clock(),
            expires_at=self.clock() + expires_in,
            duration_type=DurationType.TIME_BOUND,
            duration_period=1,
            lookback_period=lookback,
            resources=tuple(ConsentResource("ACCOUNT", a, tuple(cs)) for a, cs in accounts.items()),
            purpose="Budgeting",
        )
        event = ConsentEvent(consent.id, self.clock(), "granted", "INDIVIDUAL")
        anyio.run(self.records.consents.create, consent, event)
        self.register(client_id)
        clusters = consent.clusters if scope_clusters is None else frozenset(scope_clusters)
        scope = " ".join(self.services.policy.scopes_for(clusters))
        token, _ = self.services.tokens.issue(
            consent_id=consent.id,
            client_id=client_id,
            sub="pairwise-sub",
            scope=scope,
            jkt=jkt,
            x5t=x5t,
        )
        return consent, token

    def register(self, client_id: str = CLIENT, status: str = "approved") -> None:
        """The recipient as the bank approved it (the gate reads its status on every call)."""
        if anyio.run(self.records.clients.status, client_id) != status:
            client = ClientRecord(
                client_id=client_id,
                client_name=f"App {client_id}",
                redirect_uris=("https://app.example.com/callback",),
                jwks={"keys": []},
                status=status,
            )
            anyio.run(self.records.clients.put, client)

    def revoke(self, consent: Consent) -> None:
        revoked = consent.with_status(ConsentStatus.REVOKED, self.clock())
        event = ConsentEvent(consent.id, self.clock(), "revoked", "INDIVIDUAL", "USER_ACTION")
        ok = anyio.run(
            lambda: self.records.consents.update(revoked, event, expected_version=consent.version)
        )
        assert ok

    def audit(self, consent: Consent) -> list[Any]:
        return anyio.run(lambda: self.records.audit.of_consent(consent.id))

    def get(self, path: str, token: str | None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers.setdefault("Authorization", f"Bearer {token}")
        return self.client.get(path, headers=headers, **kwargs)


@pytest.fixture
def h() -> Iterator[Harness]:
    harness = Harness()
    with harness.client:
        yield harness


def assert_fdx_error(response: Any, status: int, code: str, fdx_validate: Any) -> dict[str, Any]:
    """The response is an FDX Error1 with this status and code, never cached, with an id."""
    assert (status, code) == (response.status_code, response.json().get("code"))
    fdx_validate(response.json(), "Error1")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-fapi-interaction-id"]
    body: dict[str, Any] = response.json()
    return body


class Alice:
    """The sandbox's alice, her accounts by type, and a harness over the sandbox bank."""

    def __init__(self, harness: Harness, bank: SandboxBank) -> None:
        self.h = harness
        customer = anyio.run(bank.authenticate, "alice", "sandbox-alice")
        assert customer is not None
        self.customer_id = customer.customer_id
        accounts = anyio.run(bank.list_accounts, self.customer_id)
        self.accounts = {a["accountType"]: a["accountId"] for a in accounts}
        self.record = bank.data.customers[self.customer_id]

    def grant(self, clusters: Mapping[str, Iterable[str]], **kwargs: Any) -> str:
        """A token for alice's consent: account type → clusters granted on it."""
        granted = {self.accounts[kind]: tuple(cs) for kind, cs in clusters.items()}
        _, token = self.h.grant(granted, customer_id=self.customer_id, **kwargs)
        return token


@pytest.fixture
def alice() -> Iterator[Alice]:
    """Alice at the sandbox bank, on the day the fake clock shows."""
    bank = SandboxBank(today=TODAY)
    harness = Harness(bank=bank)
    with harness.client:
        yield Alice(harness, bank)
