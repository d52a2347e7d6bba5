"""A services bundle per test over the memory stores, a fake clock and a recording observer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from adapters.base import BankAdapter
from authz.consent.model import (
    Consent,
    ConsentEvent,
    ConsentResource,
    ConsentStatus,
    DurationType,
)
from authz.keys import SigningKeys
from authz.services import Services
from authz.store.base import Records, RefreshToken
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings

# The OAuth harness's fixtures, for the token-endpoint tests beside these.
from tests.authz.oauth.conftest import FakeClock, clock, oauth, run  # noqa: F401

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
DAY = 86400


@dataclass
class Recorder:
    """A ConsentObserver that remembers what it was told, in order."""

    seen: list[tuple[Consent, ConsentEvent]] = field(default_factory=list)

    async def consent_changed(self, consent: Consent, event: ConsentEvent) -> None:
        self.seen.append((consent, event))

    @property
    def events(self) -> list[str]:
        return [e.event for _, e in self.seen]


@dataclass
class World:
    services: Services
    clock: FakeClock
    observer: Recorder

    @property
    def records(self) -> Records:
        return self.services.records

    def consent(
        self,
        consent_id: str = "c-1",
        *,
        duration: DurationType = DurationType.PERSISTENT,
        period: int | None = None,
        expires_in: float | None = None,
        status: ConsentStatus = ConsentStatus.ACTIVE,
    ) -> Consent:
        """A stored consent granted now; by default ending as ``lifecycle.expiry`` would."""
        now = self.clock()
        if expires_in is None:
            days = {DurationType.PERSISTENT: 365, DurationType.TIME_BOUND: period or 90}
            expires_in = days.get(duration, 0) * DAY or 360.0
        consent = Consent(
            id=consent_id,
            status=status,
            client_id="client-1",
            customer_id="cust-1",
            created_at=now,
            updated_at=now,
            expires_at=now + expires_in,
            duration_type=duration,
            duration_period=period if duration is DurationType.TIME_BOUND else None,
            lookback_period=90,
            resources=(ConsentResource("ACCOUNT", "acc-1", ("ACCOUNT_BASIC",)),),
            purpose="Budgeting",
            scope=("fdx:accountbasic:read", "offline_access"),
        )
        run(self.records.consents.create, consent, ConsentEvent(consent_id, now, "granted", "X"))
        return consent

    def refresh_token(self, consent: Consent, hashed: str = "h-1") -> None:
        assert consent.expires_at is not None
        record = RefreshToken(
            hashed, consent.id, consent.client_id, self.clock(), consent.expires_at
        )
        run(self.records.refresh_tokens.put, record)

    def refresh_token_live(self, hashed: str = "h-1") -> bool:
        record = run(self.records.refresh_tokens.get, hashed)
        assert record is not None
        return record.revoked_at is None and record.used_at is None

    def stored(self, consent_id: str = "c-1") -> Consent:
        consent = run(self.records.consents.get, consent_id)
        assert consent is not None
        return consent

    def history(self, consent_id: str = "c-1") -> list[ConsentEvent]:
        return run(self.records.consents.events, consent_id)

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return run(fn, self.services, *args, **kwargs)


@pytest.fixture
def world() -> World:
    fake = FakeClock(NOW)
    observer = Recorder()
    services = Services.build(
        Settings(profile="sandbox"),
        policy=load_policy(),
        records=memory_records(clock=fake),
        state=MemoryStateStore(clock=fake),
        bank=cast(BankAdapter, object()),
        keys=SigningKeys.generate(),
        secret=b"s" * 32,
        observers=[observer],
        clock=fake,
    )
    return World(services, fake, observer)
