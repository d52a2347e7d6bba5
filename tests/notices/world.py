"""A gateway's services with the sandbox bank, a clock the test moves and consumer notices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters import load_adapter
from authz.consent import lifecycle
from authz.consent.model import Consent, ConsentEvent, ConsentResource, ConsentStatus, DurationType
from authz.keys import SigningKeys
from authz.notices.mail import SmtpMailer
from authz.notices.notices import Notices
from authz.notices.store import Notice, NoticeRecords
from authz.notices.store.memory import open_memory
from authz.services import Services
from authz.store.base import ClientRecord
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
DAY = 86400
ALICE = "cus_9aa17a0cda166a4a5faa"  # the sandbox bank's alice (alice.johnson@example.com)
CHECKING = "acc_b28959f80308d16932c6"  # her Everyday Checking, ****4696


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class World:
    services: Services
    clock: FakeClock
    notices: Notices

    @property
    def records(self) -> NoticeRecords:
        return self.services.notices

    async def client(self, **changes: Any) -> ClientRecord:
        values: dict[str, Any] = {
            "client_id": "app-1",
            "client_name": "Demo Budget App",
            "redirect_uris": ("https://app.example/cb",),
            "jwks": {"keys": []},
            "description": "Shows your spending by category.",
            "clusters": ("ACCOUNT_BASIC", "TRANSACTIONS"),
        }
        values.update(changes)
        client = ClientRecord(**values)
        await self.services.records.clients.put(client)
        return client

    async def grant(
        self,
        consent_id: str = "c-1",
        *,
        duration: DurationType = DurationType.TIME_BOUND,
        days: int = 90,
    ) -> Consent:
        now = self.clock()
        consent = Consent(
            id=consent_id,
            status=ConsentStatus.ACTIVE,
            client_id="app-1",
            customer_id=ALICE,
            created_at=now,
            updated_at=now,
            expires_at=now + days * DAY,
            duration_type=duration,
            duration_period=days if duration is DurationType.TIME_BOUND else None,
            lookback_period=90,
            resources=(ConsentResource("ACCOUNT", CHECKING, ("ACCOUNT_BASIC", "TRANSACTIONS")),),
            purpose="Shows your spending by category.",
        )
        await lifecycle.store_grant(
            self.services, consent, ConsentEvent(consent_id, now, "granted", "INDIVIDUAL")
        )
        return consent

    async def inbox(self) -> list[Notice]:
        return await self.records.inbox.list(ALICE)


def build_world(*, smtp_url: str = "", **changes: Any) -> World:
    clock = FakeClock()
    values: dict[str, Any] = {
        "smtp_url": smtp_url,
        "mail_from": "notices@bank.example" if smtp_url else "",
        "mail_max_attempts": 4,
        "mail_backoff_base": 60,
        "notification_sweep_interval": 0,
    }
    values.update(changes)
    services = Services.build(
        Settings(**values),
        policy=load_policy(),
        records=memory_records(clock=clock),
        state=MemoryStateStore(clock=clock),
        bank=load_adapter("sandbox"),
        keys=SigningKeys.generate(),
        notices=open_memory(),
        clock=clock,
    )
    mailer = SmtpMailer(smtp_url, timeout=5.0) if smtp_url else None
    notices = Notices(services, mailer=mailer, rand=lambda: 0.5)  # jitter factor exactly 1
    services.observers.append(notices)
    services.recipient_observers.append(notices)
    return World(services, clock, notices)
