"""A fresh screens app per test over in-memory stores, a fake clock and a small fake bank."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from adapters.base import Account, Customer, Document, Page, PageRequest, Window
from adapters.errors import AccountNotFound, CustomerNotFound
from authz.consent.model import DurationType
from authz.keys import SigningKeys
from authz.requests import REQUEST_URI_PREFIX, ConsentRequest, PushedRequest
from authz.screens import routes
from authz.services import Services
from authz.store.base import ClientRecord, Kind
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
USERNAME = "alice"
PASSWORD = "correct horse battery staple"
CUSTOMER = "cust-alice"
CLIENT_ID = "budget-app"
REDIRECT_URI = "https://budget.example/callback?from=bank"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


ACCOUNTS: dict[str, list[Account]] = {
    CUSTOMER: [
        {
            "accountId": "acc-checking",
            "accountType": "CHECKING",
            "productName": "Everyday Checking",
            "nickname": "Bills",
            "accountNumberDisplay": "*1234",
            "status": "OPEN",
        },
        {
            "accountId": "acc-savings",
            "accountType": "SAVINGS",
            "nickname": "Rainy day",
            "accountNumberDisplay": "*5678",
            "status": "OPEN",
        },
        {
            "accountId": "acc-closed",
            "accountType": "CHECKING",
            "productName": "Old Checking",
            "accountNumberDisplay": "*9999",
            "status": "CLOSED",
        },
    ],
    "cust-bob": [
        {
            "accountId": "acc-bob",
            "accountType": "CHECKING",
            "productName": "Bob's",
            "status": "OPEN",
        }
    ],
}


class FakeBank:
    """Just enough bank for the screens: one login, two open accounts and a closed one."""

    name = "fake"

    async def authenticate(self, username: str, password: str) -> Customer | None:
        if username == USERNAME and password == PASSWORD:
            return Customer(CUSTOMER, "Alice")
        return None

    async def get_customer(self, customer_id: str) -> Customer:
        if customer_id != CUSTOMER:
            raise CustomerNotFound(customer_id)
        return Customer(CUSTOMER, "Alice")

    async def list_accounts(self, customer_id: str) -> Sequence[Account]:
        return [dict(a) for a in ACCOUNTS.get(customer_id, [])]

    async def get_account(self, customer_id: str, account_id: str) -> Account:
        raise AccountNotFound(account_id)

    async def list_transactions(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Any]:
        raise AccountNotFound(account_id)

    async def get_contact(self, customer_id: str, account_id: str) -> Any:
        raise AccountNotFound(account_id)

    async def list_payment_networks(
        self, customer_id: str, account_id: str, page: PageRequest
    ) -> Page[Any]:
        raise AccountNotFound(account_id)

    async def list_statements(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Any]:
        raise AccountNotFound(account_id)

    async def get_statement(self, customer_id: str, account_id: str, statement_id: str) -> Document:
        raise AccountNotFound(account_id)

    async def get_customer_info(self, customer_id: str) -> Any:
        raise CustomerNotFound(customer_id)

    async def aclose(self) -> None:
        return None


CONSENT_REQUEST = ConsentRequest(
    duration_type=DurationType.TIME_BOUND,
    duration_period=90,
    lookback_period=30,
    clusters=("ACCOUNT_BASIC", "TRANSACTIONS"),
    optional_clusters=("ACCOUNT_DETAILED",),
    purpose="Shows your spending by category.",
)

CLIENT = ClientRecord(
    client_id=CLIENT_ID,
    client_name="Budget <App>",
    redirect_uris=(REDIRECT_URI,),
    jwks={"keys": []},
    logo_uri="https://budget.example/logo.svg",
    client_uri="https://budget.example/",
    description="A budgeting app.",
    clusters=("ACCOUNT_BASIC", "ACCOUNT_DETAILED", "TRANSACTIONS"),
)


@dataclass
class World:
    """Everything a test touches: the services, the clock, and a client for the app."""

    services: Services
    clock: FakeClock
    client: TestClient

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return anyio.run(fn, *args)

    def push(
        self,
        consent: ConsentRequest = CONSENT_REQUEST,
        *,
        client_id: str = CLIENT_ID,
        state: str | None = "af0ifjsldkj",
        scope: tuple[str, ...] = ("openid", "fdx:accountbasic:read", "fdx:transactions:read"),
        ttl: float = 60,
        max_age: int | None = None,
        prompt: tuple[str, ...] = (),
    ) -> str:
        """What PAR does: store a PushedRequest; returns its request_uri."""
        pushed = PushedRequest(
            client_id=client_id,
            redirect_uri=REDIRECT_URI,
            state=state,
            scope=scope,
            code_challenge=CHALLENGE,
            consent=consent,
            created_at=self.clock(),
            max_age=max_age,
            prompt=prompt,
        )
        key = secrets.token_urlsafe(32)
        self.run(self._put, key, pushed.to_dict(), ttl)
        return REQUEST_URI_PREFIX + key

    async def _put(self, key: str, payload: dict[str, Any], ttl: float) -> None:
        await self.services.state.put(Kind.PAR, key, payload, ttl=ttl)

    def start(self, **push: Any) -> str:
        """Push, authorize, and return the interaction path the browser is sent to."""
        response = self.client.get(
            "/oauth/authorize", params={"client_id": CLIENT_ID, "request_uri": self.push(**push)}
        )
        assert response.status_code == 303, response.text
        return str(response.headers["location"])

    def sign_in(self, path: str, username: str = USERNAME, password: str = PASSWORD) -> Any:
        page = self.client.get(path)
        return self.client.post(
            path + "/login",
            data={"csrf": csrf_of(page.text), "username": username, "password": password},
        )

    def consent_page(self, **push: Any) -> tuple[str, str]:
        """Signed in (now, or already) and looking at the consent screen: (path, page HTML)."""
        path = self.start(**push)
        page = self.client.get(path)
        if 'name="username"' in page.text:
            assert self.sign_in(path).status_code == 303
            page = self.client.get(path)
        assert page.status_code == 200, page.text
        assert 'name="decision"' in page.text
        return path, page.text

    def decide(self, path: str, html: str, **fields: str) -> Any:
        return self.client.post(path + "/consent", data={"csrf": csrf_of(html), **fields})


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no csrf field on the page"
    return match.group(1)


def make_world(settings: Settings, base_url: str, bank: Any = None) -> Iterator[World]:
    clock = FakeClock()
    records = memory_records(clock=clock)
    services = Services.build(
        settings,
        policy=load_policy(),
        records=records,
        state=MemoryStateStore(clock=clock),
        bank=bank or FakeBank(),
        keys=SigningKeys.generate(),
        secret=b"s" * 32,
        clock=clock,
    )
    anyio.run(records.schema.migrate)
    anyio.run(records.clients.put, CLIENT)
    app = Starlette(routes=routes(services))
    with TestClient(app, base_url=base_url, follow_redirects=False) as client:
        yield World(services, clock, client)


@pytest.fixture
def world() -> Iterator[World]:
    yield from make_world(Settings(), "http://127.0.0.1:8000")


@pytest.fixture
def https_world() -> Iterator[World]:
    yield from make_world(Settings(issuer="https://bank.example"), "https://bank.example")
