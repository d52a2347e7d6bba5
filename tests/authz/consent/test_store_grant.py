"""Storing a grant when the record store fails: a lost commit acknowledgement is resolved by
reading the consent back, so a grant that was stored is not reported as failed."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, cast

import anyio
import pytest

from adapters.base import BankAdapter
from authz.consent import lifecycle
from authz.consent.model import Consent, ConsentEvent, ConsentStatus, DurationType
from authz.keys import SigningKeys
from authz.services import Services
from authz.store.base import Records, RecordsUnavailable
from authz.store.memory import MemoryConsents, MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings
from tests.authz.consent.conftest import NOW


class FailingConsents(MemoryConsents):
    """create fails "before" (nothing stored) or "after" (stored, the answer lost);
    ``reads_fail`` makes the read-back fail too (the store still away)."""

    def __init__(self, when: Literal["before", "after"], *, reads_fail: bool = False) -> None:
        super().__init__()
        self.when = when
        self.reads_fail = reads_fail

    async def create(self, consent: Consent, event: ConsentEvent) -> None:
        if self.when == "after":
            await super().create(consent, event)
        raise RecordsUnavailable("connection lost (test)")

    async def get(self, consent_id: str) -> Consent | None:
        if self.reads_fail:
            raise RecordsUnavailable("connection refused (test)")
        return await super().get(consent_id)


def failing_records(when: Literal["before", "after"], *, reads_fail: bool = False) -> Records:
    return replace(memory_records(), consents=FailingConsents(when, reads_fail=reads_fail))


def _grant() -> tuple[Consent, ConsentEvent]:
    consent = Consent(
        id="c-new",
        status=ConsentStatus.ACTIVE,
        client_id="client-1",
        customer_id="cust-1",
        created_at=NOW,
        updated_at=NOW,
        expires_at=NOW + 86400,
        duration_type=DurationType.PERSISTENT,
        duration_period=None,
        lookback_period=90,
        resources=(),
        purpose="Budgeting",
    )
    return consent, ConsentEvent("c-new", NOW, "granted", "INDIVIDUAL")


def _store(records: Records) -> None:
    services = Services.build(
        Settings(profile="sandbox"),
        policy=load_policy(),
        records=records,
        state=MemoryStateStore(clock=lambda: NOW),
        bank=cast(BankAdapter, object()),
        keys=SigningKeys.generate(),
        secret=b"s" * 32,
    )
    anyio.run(lifecycle.store_grant, services, *_grant())


def test_a_grant_stored_before_its_acknowledgement_was_lost_stands() -> None:
    """The commit happened: reading back finds the consent, and the grant completes."""
    records = failing_records("after")

    _store(records)

    stored = anyio.run(records.consents.get, "c-new")
    assert stored is not None
    assert ConsentStatus.ACTIVE is stored.status


def test_a_grant_that_was_not_stored_fails_as_an_outage() -> None:
    """Nothing committed: the outage propagates (503) and nothing is left behind."""
    records = failing_records("before")

    with pytest.raises(RecordsUnavailable):
        _store(records)
    assert anyio.run(records.consents.get, "c-new") is None


def test_a_grant_that_cannot_be_read_back_fails_as_an_outage() -> None:
    """Stored or not, nobody can tell while the store is away: the outage propagates."""
    records = failing_records("after", reads_fail=True)

    with pytest.raises(RecordsUnavailable):
        _store(records)
