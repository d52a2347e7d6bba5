"""The periodic look for consents that need a notice before anyone uses them.

Expiry never depends on this (the gate refuses a consent at ``expires_at`` on use); the sweeper
only makes sure recipients hear of it:

- a consent past its expiry and still ACTIVE (nobody used it since) is recorded EXPIRED through
  ``lifecycle.expire_if_due``, whose observers queue the expiry notice;
- a PERSISTENT consent whose reauthorization falls due within 30 days
  (``lifecycle.reauthorization_due``; FDX UX guidelines recommend a reminder 30 days ahead)
  gets one ``CONSENT_UPDATED`` notice per authorization: the outbox's unique
  ``dedupe_key`` (consent id + the expiry being reminded of) makes repeated sweeps no-ops,
  and a renewal (a new expiry) earns a new notice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from authz.consent import lifecycle
from authz.consent.model import Consent
from authz.notifications import message
from authz.services import Services

if TYPE_CHECKING:
    from authz.notifications.notifier import Notifier

log = logging.getLogger("authz.notifications")

NOTICE_DAYS = 30
BATCH = 1000  # consents read by the first query of a sweep, soonest expiry first


@dataclass(frozen=True, slots=True)
class SweepResult:
    expired: int
    reminded: int


class Sweeper:
    def __init__(self, services: Services, notifier: Notifier, *, batch: int = BATCH) -> None:
        self._services = services
        self._notifier = notifier
        self._batch = batch

    async def sweep(self) -> SweepResult:
        """Look at every ACTIVE consent ending within ``NOTICE_DAYS``, however many there are.

        ``RecordStore.consents_expiring`` has an upper bound and a limit but no cursor, and the
        consents reminded stay ACTIVE, so the same first rows come back on each query. The
        limit doubles until a query returns fewer rows than it asked for (the end), and a
        consent already handled in this sweep is skipped by id: every due consent is seen once
        for at most about four times as many rows read, whatever expired meanwhile."""
        now = self._services.clock()
        horizon = now + NOTICE_DAYS * lifecycle.DAY
        seen: set[str] = set()
        expired = reminded = 0
        limit = self._batch
        while True:
            page = await self._services.records.consents_expiring(horizon, limit=limit)
            for consent in page:
                if consent.id not in seen:
                    seen.add(consent.id)
                    outcome = await self._handle(consent, now)
                    expired += outcome == "expired"
                    reminded += outcome == "reminded"
            if len(page) < limit:
                return SweepResult(expired, reminded)
            limit *= 2

    async def _handle(self, consent: Consent, now: float) -> str | None:
        services = self._services
        if consent.expires_at is not None and consent.expires_at <= now:
            stored = await lifecycle.expire_if_due(services, consent)
            return "expired" if stored.status is not consent.status else None
        if lifecycle.reauthorization_due(consent, now, within_days=NOTICE_DAYS):
            key = f"{message.REAUTHORIZATION_DUE}:{consent.id}:{consent.expires_at!r}"
            if await self._notifier.enqueue(message.REAUTHORIZATION_DUE, consent, dedupe_key=key):
                return "reminded"
        return None

    async def run(self, interval: float) -> None:
        """Sweep every ``interval`` seconds (the first after one interval) until cancelled."""
        while True:
            await anyio.sleep(interval)
            try:
                await self.sweep()
            except Exception as exc:  # the next sweep tries again
                log.error("notification.sweep_failed %s", type(exc).__name__)
