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
from collections import OrderedDict
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
BATCH = 1000  # consents read by each query of a sweep, soonest expiry first
QUEUED_KEYS = 100_000  # reminders remembered as queued, about 10 MB at most


@dataclass(frozen=True, slots=True)
class SweepResult:
    expired: int
    reminded: int


class Sweeper:
    def __init__(self, services: Services, notifier: Notifier, *, batch: int = BATCH) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self._services = services
        self._notifier = notifier
        self._batch = batch
        # Dedupe keys of reminders known to be in the outbox, oldest first (bounded: forgetting
        # one only costs a refused insert on a later sweep).
        self._queued: OrderedDict[str, None] = OrderedDict()

    async def sweep(self) -> SweepResult:
        """Look at every ACTIVE consent ending within ``NOTICE_DAYS``, however many there are.

        Pages of ``batch`` consents by ``(expires_at, id)`` (keyset paging): each due row is
        read once a sweep and never all at once. A reminder this process already queued is
        not built and offered to the outbox again on every sweep (the outbox's dedupe key
        would only drop it): the keys it queued are kept, a bounded number of them."""
        now = self._services.clock()
        horizon = now + NOTICE_DAYS * lifecycle.DAY
        expired = reminded = 0
        after: tuple[float, str] | None = None
        while True:
            page = await self._services.records.consents.expiring(
                horizon, limit=self._batch, after=after
            )
            for consent in page:
                outcome = await self._handle(consent, now)
                expired += outcome == "expired"
                reminded += outcome == "reminded"
            if len(page) < self._batch:
                return SweepResult(expired, reminded)
            last = page[-1]
            after = (last.expires_at or 0.0, last.id)

    async def _handle(self, consent: Consent, now: float) -> str | None:
        services = self._services
        if consent.expires_at is not None and consent.expires_at <= now:
            stored = await lifecycle.expire_if_due(services, consent)
            return "expired" if stored.status is not consent.status else None
        if lifecycle.reauthorization_due(consent, now, within_days=NOTICE_DAYS):
            key = f"{message.REAUTHORIZATION_DUE}:{consent.id}:{consent.expires_at!r}"
            if key in self._queued:
                self._queued.move_to_end(key)
                return None
            queued = await self._notifier.enqueue(
                message.REAUTHORIZATION_DUE, consent, dedupe_key=key
            )
            self._queued[key] = None  # queued now, or by an earlier sweep or another instance
            if len(self._queued) > QUEUED_KEYS:
                self._queued.popitem(last=False)
            if queued:
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
