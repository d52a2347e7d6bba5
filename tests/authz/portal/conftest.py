"""The assembled gateway (create_app) over memory stores, a fake clock and the screens' fake bank,
with helpers to sign in to the portal and to set the scene (consents, accesses)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from starlette.testclient import TestClient

from authz.consent import lifecycle
from authz.consent.model import Consent, DurationType
from authz.keys import SigningKeys
from authz.requests import ConsentRequest
from authz.services import Services
from authz.store.base import AuditEvent, ClientRecord
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings
from gateway.app import create_app
from tests.authz.screens.conftest import (
    CLIENT,
    CLIENT_ID,
    CUSTOMER,
    PASSWORD,
    USERNAME,
    FakeBank,
    FakeClock,
)

BASE = "http://127.0.0.1:8000"
OTHER_CLIENT = ClientRecord(
    client_id="tax-helper",
    client_name="Tax Helper",
    redirect_uris=("https://tax.example/cb",),
    jwks={"keys": []},
    description="Prepares your tax return.",
    clusters=("ACCOUNT_BASIC", "STATEMENTS"),
)


@dataclass
class Portal:
    services: Services
    clock: FakeClock
    client: TestClient

    def run(self, fn: Any, *args: Any) -> Any:
        return anyio.run(fn, *args)

    def sign_in(self, username: str = USERNAME, password: str = PASSWORD) -> Any:
        page = self.client.get("/consumer")
        return self.client.post(
            "/consumer/login",
            data={"csrf": form_csrf(page.text, "/consumer/login"), "username": username,
                  "password": password},
        )  # fmt: skip

    def grant(
        self,
        *,
        client_id: str = CLIENT_ID,
        customer_id: str = CUSTOMER,
        accounts: Sequence[str] = ("acc-checking",),
        clusters: Sequence[str] = ("ACCOUNT_BASIC", "TRANSACTIONS"),
        duration: DurationType = DurationType.TIME_BOUND,
        period: int | None = 90,
        purpose: str = "Shows your spending by category.",
    ) -> Consent:
        asked = ConsentRequest(
            duration_type=duration,
            duration_period=period if duration is DurationType.TIME_BOUND else None,
            lookback_period=30,
            clusters=tuple(clusters),
        )
        consent, event = lifecycle.grant(
            consent_id="c-" + secrets.token_hex(6),
            request=asked,
            requested_scope=(),
            client_id=client_id,
            customer_id=customer_id,
            account_ids=list(accounts),
            optional_clusters=(),
            purpose=purpose,
            now=self.clock(),
            settings=self.services.settings,
            policy=self.services.policy,
        )
        self.run(self.services.records.consents.create, consent, event)
        return consent

    def access(
        self,
        consent: Consent,
        *,
        at: float | None = None,
        accounts: Sequence[str] = ("acc-checking",),
        clusters: Sequence[str] = ("TRANSACTIONS",),
        count: int = 3,
        interaction_id: str | None = None,
    ) -> AuditEvent:
        event = AuditEvent(
            id=secrets.token_hex(8),
            time=self.clock() if at is None else at,
            consent_id=consent.id,
            client_id=consent.client_id,
            customer_id=consent.customer_id,
            endpoint="GET /accounts/{accountId}/transactions",
            account_ids=tuple(accounts),
            clusters=tuple(clusters),
            record_count=count,
            status=200,
            interaction_id=interaction_id or secrets.token_hex(8),
        )
        self.run(self.services.records.audit.append, [event])
        return event

    def token(self, consent: Consent) -> str:
        scope = " ".join(self.services.policy.scopes_for(consent.clusters))
        token, _ = self.services.tokens.issue(
            consent_id=consent.id, client_id=consent.client_id, sub="pairwise", scope=scope
        )
        return token

    def consent(self, consent_id: str) -> Consent:
        found = self.run(self.services.records.consents.get, consent_id)
        assert found is not None
        return found  # type: ignore[no-any-return]

    def events(self, consent_id: str) -> list[Any]:
        return self.run(self.services.records.consents.events, consent_id)  # type: ignore[no-any-return]


def form_csrf(html: str, action: str) -> str:
    """The CSRF value of the form that posts to ``action`` (a page may carry several forms)."""
    for form in re.findall(r"<form\b.*?</form>", html, flags=re.S):
        if f'action="{action}"' in form:
            match = re.search(r'name="csrf" value="([^"]+)"', form)
            assert match, f"no csrf in the form posting to {action}"
            return match.group(1)
    raise AssertionError(f"no form posting to {action}")


def build(settings: Settings, clock: FakeClock, bank: Any = None) -> Services:
    records = memory_records(clock=clock)
    services = Services.build(
        settings,
        policy=load_policy(),
        records=records,
        state=MemoryStateStore(clock=clock),
        bank=FakeBank() if bank is None else bank,
        keys=SigningKeys.generate(),
        secret=b"p" * 32,
        clock=clock,
    )
    anyio.run(records.schema.migrate)
    anyio.run(records.clients.put, CLIENT)
    anyio.run(records.clients.put, OTHER_CLIENT)
    return services


@pytest.fixture
def portal() -> Iterator[Portal]:
    clock = FakeClock()
    services = build(Settings(issuer=BASE, profile="sandbox"), clock)
    app = create_app(services.settings, services=services)
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        yield Portal(services, clock, client)


@pytest.fixture
def signed_in(portal: Portal) -> Portal:
    response = portal.sign_in()
    assert response.status_code == 303, response.text
    return portal
