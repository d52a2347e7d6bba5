"""How the assembled app answers when a store is away or the bank is slow, in process.

The stores are the in-process ones behind a switch (``Flaky``) that makes the named methods raise
what the real engines raise: ``StateUnavailable`` (Redis) and ``RecordsUnavailable``
(PostgreSQL). tests/faults/test_processes.py does the same with real servers stopped and started.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters import load_adapter
from authz.keys import SigningKeys
from authz.services import Services
from authz.store.base import Kind, Records, RecordsUnavailable, StateUnavailable
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings
from gateway.app import create_app
from gateway.cli import _seed_demo
from tests.multi.driver import Driver, Tokens

pytestmark = pytest.mark.anyio

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo"
EVERYTHING = "*"


class Flaky:
    """A store whose methods named in ``failing`` (or all, with ``"*"``) raise ``error``."""

    def __init__(self, inner: Any, error: type[Exception]) -> None:
        self.inner = inner
        self.error = error
        self.failing: set[str] = set()
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            if name in self.failing or EVERYTHING in self.failing:
                raise self.error(f"{name}: store unavailable (test)")
            return await attr(*args, **kwargs)

        return call


class FlakyRecords:
    """A record store whose methods named in ``failing`` (``"audit.append"``; all, with
    ``"*"``) raise ``RecordsUnavailable``; ``records`` is the store the gateway is given."""

    def __init__(self, inner: Records) -> None:
        self.failing: set[str] = set()
        self.calls: list[str] = []
        self.records = Records(
            schema=_FlakyFamily(self, "schema", inner.schema),
            clients=_FlakyFamily(self, "clients", inner.clients),
            consents=_FlakyFamily(self, "consents", inner.consents),
            refresh_tokens=_FlakyFamily(self, "refresh_tokens", inner.refresh_tokens),
            audit=_FlakyFamily(self, "audit", inner.audit),
            outbox=_FlakyFamily(self, "outbox", inner.outbox),
            secrets=_FlakyFamily(self, "secrets", inner.secrets),
            closer=inner.closer,
        )


class _FlakyFamily:
    def __init__(self, owner: FlakyRecords, family: str, inner: Any) -> None:
        self.owner, self.family, self.inner = owner, family, inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        key = f"{self.family}.{name}"

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.owner.calls.append(key)
            if key in self.owner.failing or EVERYTHING in self.owner.failing:
                raise RecordsUnavailable(f"{key}: store unavailable (test)")
            return await attr(*args, **kwargs)

        return call


class SlowBank:
    """The sandbox bank with ``delay`` seconds added to the calls named in ``slow``."""

    def __init__(self, inner: Any, delay: float) -> None:
        self.inner = inner
        self.delay = delay
        self.slow: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in self.slow:
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(self.delay)
            return await attr(*args, **kwargs)

        return call


@dataclass
class World:
    driver: Driver
    records: FlakyRecords
    state: Flaky
    memory: Records
    memory_state: MemoryStateStore
    bank: SlowBank

    async def grant(self) -> Tokens:
        pushed = await self.driver.par()
        return await self.driver.token(await self.driver.authorize(pushed), pushed)


WorldFactory = Callable[..., Awaitable[World]]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[WorldFactory]:
    clients: list[httpx.AsyncClient] = []

    async def make(**overrides: Any) -> World:
        settings = Settings(var_dir=str(tmp_path / "var"), **overrides)
        memory = memory_records()
        memory_state = MemoryStateStore(clock=time.time)
        await _seed_demo(memory, DEMO)
        records = FlakyRecords(memory)
        state = Flaky(memory_state, StateUnavailable)
        bank = SlowBank(load_adapter("sandbox"), delay=30)
        services = Services.build(
            settings,
            policy=load_policy(),
            records=records.records,
            state=state,
            bank=bank,
            keys=SigningKeys.generate(),
        )
        app = create_app(settings, services=services)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), timeout=30)
        clients.append(http)
        driver = Driver(http, settings.issuer)
        return World(driver, records, state, memory, memory_state, bank)

    yield make
    for http in clients:
        await http.aclose()


def assert_fdx_unavailable(response: httpx.Response) -> None:
    assert 503 == response.status_code, response.text
    body = response.json()
    assert {"code": "501", "message": "Subsystem unavailable"} == {
        "code": body["code"],
        "message": body["message"],
    }
    assert "unavailable (test)" not in body["debugMessage"], "the store's text stays in the log"
    assert response.headers["retry-after"].isdigit()


@pytest.mark.parametrize("store", ["state", "records"])
async def test_an_fdx_call_fails_closed_with_fdx_503_and_recovers(
    world: WorldFactory, store: str
) -> None:
    """Redis (state) or PostgreSQL (records) away: the data call answers FDX 503/501 with
    Retry-After and serves nothing; back, the same token works again."""
    w = await world()
    tokens = await w.grant()
    flaky = getattr(w, store)

    flaky.failing.add(EVERYTHING)
    during = await w.driver.fdx(tokens)
    flaky.failing.clear()
    after = await w.driver.fdx(tokens)

    assert_fdx_unavailable(during)
    assert "accounts" not in during.json()
    assert 200 == after.status_code


async def test_no_data_leaves_when_its_audit_record_cannot_be_written(world: WorldFactory) -> None:
    """The consent checks out but the audit write fails: 503/501, and no data in the body."""
    w = await world()
    tokens = await w.grant()
    w.records.failing.add("audit.append")

    response = await w.driver.fdx(tokens)

    assert_fdx_unavailable(response)
    assert not await w.memory.audit.of_consent(tokens.consent_id)


@pytest.mark.parametrize(
    ("store", "step"),
    [("state", "par"), ("state", "token"), ("records", "token"), ("records", "revoke")],
)
async def test_oauth_endpoints_answer_temporarily_unavailable(
    world: WorldFactory, store: str, step: str
) -> None:
    """PAR, token and revocation: 503 ``temporarily_unavailable``, no-store, Retry-After."""
    w = await world()
    pushed = await w.driver.par()
    code = await w.driver.authorize(pushed)
    getattr(w, store).failing.add(EVERYTHING)

    if step == "par":
        response = await w.driver.call(
            "POST", "/oauth/par", form={"response_type": "code"}, authenticate=True
        )
    elif step == "token":
        response = await w.driver.call(
            "POST",
            "/oauth/token",
            form={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": w.driver.recipient.redirect_uri,
                "code_verifier": pushed.verifier,
            },
            authenticate=True,
        )
    else:
        response = await w.driver.revoke(Tokens("-", "some-refresh-token", "-", ""))

    assert 503 == response.status_code, response.text
    assert "temporarily_unavailable" == response.json()["error"]
    assert "no-store" == response.headers["cache-control"]
    assert response.headers["retry-after"].isdigit()


@pytest.mark.parametrize("store", ["state", "records"])
async def test_the_screens_show_a_plain_503_page(world: WorldFactory, store: str) -> None:
    """The consumer's browser gets the friendly page, in HTML, with no traceback."""
    w = await world()
    pushed = await w.driver.par()
    getattr(w, store).failing.add(EVERYTHING)

    page = await w.driver.http.get(
        w.driver.issuer + "/oauth/authorize",
        params={"client_id": w.driver.recipient.client_id, "request_uri": pushed.request_uri},
    )

    assert 503 == page.status_code
    assert page.headers["content-type"].startswith("text/html")
    assert "cannot be reached right now" in page.text
    assert "Traceback" not in page.text
    assert "unavailable (test)" not in page.text
    assert page.headers["retry-after"].isdigit()
    assert "location" not in page.headers, "no redirect to a client we could not check"


@pytest.mark.parametrize(("store", "method"), [("records", "consents.create"), ("state", "put")])
async def test_a_grant_that_cannot_be_stored_leaves_no_consent_and_no_code(
    world: WorldFactory, store: str, method: str
) -> None:
    """Approving while the consent (PostgreSQL) or the code (Redis) cannot be stored: the
    503 page, no consent in the records and no code in the state store."""
    w = await world()
    pushed = await w.driver.par()
    screen = await w.driver.consent_screen(pushed)
    getattr(w, store).failing.add(method)

    answer = await w.driver.approve(screen, pushed)

    assert 503 == answer.status_code
    assert "cannot be reached right now" in answer.text
    assert [] == await w.memory.consents.find()
    codes = [k for (kind, k) in w.memory_state._items if kind == Kind.CODE]
    assert [] == codes


async def test_a_slow_bank_call_ends_with_fdx_503_inside_the_budget(world: WorldFactory) -> None:
    """adapter_timeout cuts a hung adapter call (here 30 s; it would answer 200 at the end):
    FDX 503/501, while calls to other endpoints flow meanwhile."""
    w = await world(adapter_timeout=0.5)
    tokens = await w.grant()
    w.bank.slow.add("list_transactions")
    account = (await w.driver.fdx(tokens)).json()["accounts"][0]["accountId"]

    slow = asyncio.ensure_future(w.driver.fdx(tokens, f"/accounts/{account}/transactions"))
    others = [await w.driver.fdx(tokens) for _ in range(3)]
    response = await slow

    assert 503 == response.status_code, response.text
    assert "501" == response.json()["code"]
    assert [200, 200, 200] == [r.status_code for r in others]
