"""Liveness, readiness and the bank adapter's health probe."""

from __future__ import annotations

import asyncio
import os
from functools import partial
from typing import Any

import anyio
import pytest

from adapters.base import Customer
from adapters.errors import BankTimeout, BankUnavailable, CustomerNotFound, ScheduledMaintenance
from authz import keyring
from authz.kek import AesGcmKek
from authz.store.base import SchemaError, StateUnavailable
from authz.store.memory import MemorySecrets
from gateway import __version__
from gateway.health import AdapterProbe, Availability, combine
from tests.gateway.fakes import FakeBank
from tests.gateway.operator_app import FullHarness


class ProbedBank(FakeBank):
    """The fake bank whose customer lookup (the probe's call) can fail, slow down, and count."""

    def __init__(self, fail: Exception | None = None, delay: float = 0.0) -> None:
        super().__init__()
        self.probe_error = fail
        self.delay = delay
        self.probes = 0

    async def get_customer(self, customer_id: str) -> Customer:
        self.probes += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.probe_error is not None:
            raise self.probe_error
        raise CustomerNotFound(customer_id)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def health(bank: Any, **kwargs: Any) -> Availability:
    return anyio.run(AdapterProbe(bank, **kwargs).health).status


def test_liveness_answers_without_a_token():
    """/healthz says the process is up, and asks nothing."""
    response = FullHarness().client.get("/healthz")

    assert (200, {"status": "alive", "version": __version__}) == (
        response.status_code,
        response.json(),
    )
    assert "no-store" == response.headers["cache-control"]


def test_readiness_reports_every_check_when_ready():
    """Storage schema, state store and the adapter are all fine: 200."""
    response = FullHarness(ProbedBank()).client.get("/readyz")

    assert 200 == response.status_code
    checks = response.json()["checks"]
    assert {"storage": "ok", "state": "ok", "keys": "ok", "adapter": "ALIVE"} == checks


def test_readiness_fails_while_the_stored_keys_cannot_be_loaded():
    """A key in the store this instance's KEK cannot open (rotated through an instance with
    another KEK): the reload keeps the old ring, and /readyz says not ready until one succeeds."""
    full = FullHarness(ProbedBank())
    store, theirs = MemorySecrets(), AesGcmKek(os.urandom(32))
    anyio.run(partial(keyring.open_keys, store, theirs, now=100.0))
    reloader = keyring.Reloader(full.services.keys, store, AesGcmKek(os.urandom(32)), interval=1)
    kid = full.services.keys.kid

    anyio.run(reloader.reload)
    refused = full.client.get("/readyz")
    anyio.run(reloader.reload)  # still the wrong KEK: still not ready
    reloader.kek = theirs
    anyio.run(reloader.reload)
    ready = full.client.get("/readyz")

    assert (503, "not loaded") == (refused.status_code, refused.json()["checks"]["keys"])
    assert (200, "ok") == (ready.status_code, ready.json()["checks"]["keys"])
    assert kid != full.services.keys.kid  # now the store's key


def test_readiness_fails_when_the_bank_is_down():
    """An unreachable core makes the instance not ready (503), naming the adapter."""
    response = FullHarness(ProbedBank(BankUnavailable("down"))).client.get("/readyz")

    assert 503 == response.status_code
    assert ("not ready", "DOWN") == (
        response.json()["status"],
        response.json()["checks"]["adapter"],
    )


def test_readiness_stays_ready_through_the_banks_maintenance():
    """The gateway still answers properly (503/503 with Retry-After) during maintenance."""
    response = FullHarness(ProbedBank(ScheduledMaintenance())).client.get("/readyz")

    assert (200, "MAINTENANCE") == (response.status_code, response.json()["checks"]["adapter"])


def test_readiness_fails_on_a_schema_the_code_does_not_know(monkeypatch):
    """A database not migrated to this release is reported, not served."""
    full = FullHarness(ProbedBank())

    async def refuse() -> None:
        raise SchemaError("version 9, expected 3")

    monkeypatch.setattr(full.records.schema, "check", refuse)
    response = full.client.get("/readyz")

    assert (503, "schema mismatch") == (response.status_code, response.json()["checks"]["storage"])


def test_readiness_fails_when_the_state_store_does_not_answer(monkeypatch):
    """Redis away: not ready, and the reason is a class name, never a host or a message."""
    full = FullHarness(ProbedBank())

    async def away(*args: Any) -> None:
        raise StateUnavailable("redis://secret-host:6379 refused")

    monkeypatch.setattr(full.state, "get", away)
    response = full.client.get("/readyz")

    assert 503 == response.status_code
    assert "failed (StateUnavailable)" == response.json()["checks"]["state"]
    assert "secret-host" not in response.text


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (None, Availability.ALIVE),
        (ScheduledMaintenance(), Availability.MAINTENANCE),
        (BankUnavailable("x"), Availability.DOWN),
        (BankTimeout("x"), Availability.DOWN),
        (RuntimeError("bug"), Availability.DOWN),
    ],
    ids=["answers", "maintenance", "unavailable", "timeout", "unexpected"],
)
def test_the_probe_reads_the_banks_answer(error, status):
    """ "Not found" is an answer (ALIVE); maintenance and failures say so."""
    assert status == health(ProbedBank(error))


def test_a_probe_slower_than_its_timeout_is_down():
    """The probe gives up after its timeout, so /readyz never hangs on a stuck core."""
    assert Availability.DOWN == health(ProbedBank(delay=5), timeout=0.05)


def test_the_probe_answer_is_reused_within_its_ttl():
    """Polling /availability does not poll the bank: one probe per ttl."""
    bank, clock = ProbedBank(), FakeClock()
    probe = AdapterProbe(bank, ttl=5, clock=clock)

    anyio.run(probe.health)
    anyio.run(probe.health)
    clock.now += 6
    anyio.run(probe.health)

    assert 2 == bank.probes


def test_an_adapter_may_report_its_own_health():
    """``async def health()`` on the adapter wins over the probe's customer lookup."""

    class SelfAware(ProbedBank):
        async def health(self) -> str:
            return "PARTIAL"

    bank = SelfAware()

    assert (Availability.PARTIAL, 0) == (health(bank), bank.probes)


def test_a_composite_with_one_member_down_is_partial():
    """Members alike give their status; a mix gives PARTIAL, member by member."""

    class Composite(ProbedBank):
        def __init__(self, **members: Any) -> None:
            super().__init__()
            self.members = members

    mixed = anyio.run(
        AdapterProbe(Composite(a=ProbedBank(), b=ProbedBank(BankUnavailable("x")))).health
    )
    both_down = health(
        Composite(a=ProbedBank(BankUnavailable("x")), b=ProbedBank(BankTimeout("y")))
    )

    assert Availability.PARTIAL == mixed.status
    assert {"a": Availability.ALIVE, "b": Availability.DOWN} == dict(mixed.members)
    assert Availability.DOWN == both_down


def test_combine_needs_all_alike_for_anything_but_partial():
    """ALIVE+MAINTENANCE is PARTIAL; MAINTENANCE twice is MAINTENANCE."""
    assert Availability.PARTIAL == combine([Availability.ALIVE, Availability.MAINTENANCE])
    assert Availability.MAINTENANCE == combine([Availability.MAINTENANCE] * 2)
