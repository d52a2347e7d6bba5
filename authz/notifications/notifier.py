"""Tells recipients about their consents: the ``ConsentObserver`` that queues notifications.

``consent_changed`` runs inside the consumer's (or recipient's, or bank's) action, after the
change is stored. It only writes one outbox row and wakes the worker, then returns; it never
raises, so a broken outbox can never fail or undo a revocation (the failure is logged, by type
and consent id only). Delivery happens later, on the worker (``authz.notifications.worker``).

Which changes are told: revoked, expired, renewed; and, from the sweeper,
reauthorization due. A ONE_TIME consent's expiry is not told: the recipient knew it ended with
its one session. Each goes to the recipient's registered ``notification_uri`` and to each of its
notification subscriptions of that FDX type (``authz.notifications.targets``); a recipient with
neither gets nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import httpx

from authz.consent.model import Consent, ConsentEvent, DurationType
from authz.notifications import message
from authz.notifications import targets as targets_
from authz.notifications.sender import Sender
from authz.notifications.sweeper import Sweeper
from authz.notifications.worker import DeliveryWorker
from authz.services import Services
from authz.store.base import NotificationDelivery

log = logging.getLogger("authz.notifications")

_KIND_OF_EVENT = {
    "revoked": message.REVOKED,
    "expired": message.EXPIRED,
    "renewed": message.RENEWED,
}


class Notifier:
    """The observer, its delivery worker and its sweeper, built from ``Services``."""

    def __init__(
        self,
        services: Services,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        rand: Callable[[], float] | None = None,
        ids: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._services = services
        self._ids = ids
        self.sender = Sender(services.settings, transport=transport)
        extra = {} if rand is None else {"rand": rand}
        self.worker = DeliveryWorker(
            services.records,
            services.keys,
            services.settings,
            clock=services.clock,
            sender=self.sender,
            subscriptions=services.subscriptions,
            **extra,
        )
        self.sweeper = Sweeper(services, self)

    async def consent_changed(self, consent: Consent, event: ConsentEvent) -> None:
        kind = _KIND_OF_EVENT.get(event.event)
        if kind is None:
            return
        if kind == message.EXPIRED and consent.duration_type is DurationType.ONE_TIME:
            return
        try:
            await self.enqueue(kind, consent, event)
        except Exception as exc:  # never fail the consumer's action; no personal data logged
            log.error(
                "notification.enqueue_failed %s consent_id=%s", type(exc).__name__, consent.id
            )

    async def enqueue(
        self,
        kind: str,
        consent: Consent,
        event: ConsentEvent | None = None,
        *,
        dedupe_key: str | None = None,
    ) -> bool:
        """Queue one notification about ``consent``; False if its recipient takes none or
        ``dedupe_key`` was already used."""
        records = self._services.records
        client = await records.clients.get(consent.client_id)
        if client is None:
            return False
        # The registered URI hears of everything; each live subscription of the recipient, of
        # the notification's FDX type, in effect today, gets its own copy (own id, own retries).
        targets: list[str | None] = [None] if client.notification_uri else []
        fdx_type = message.fdx_type(kind)
        today = message.timestamp(self._services.clock())[:10]
        for sub in await self._services.subscriptions.list_for_client(client.client_id):
            if sub.type == fdx_type and sub.effective_date <= today:
                targets.append(sub.id)
        stored = False
        for target in targets:
            unique = self._ids()
            notification_id = targets_.delivery_id(target, unique)
            now = self._services.clock()
            delivery = NotificationDelivery(
                id=notification_id,
                client_id=client.client_id,
                consent_id=consent.id,
                kind=kind,
                notification=message.build(
                    kind,
                    consent,
                    client,
                    notification_id=unique,
                    settings=self._services.settings,
                    event=event,
                ),
                created_at=now,
                next_attempt_at=now,
                dedupe_key=targets_.delivery_id(target, dedupe_key) if dedupe_key else None,
            )
            stored = await records.outbox.enqueue(delivery) or stored
        if stored:
            self.worker.wake()
        return stored

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The worker and (unless its interval is 0) the sweeper, for the app's lifespan."""
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self.worker.run)
                interval = self._services.settings.notification_sweep_interval
                if interval:
                    tg.start_soon(self.sweeper.run, float(interval))
                try:
                    yield
                finally:
                    tg.cancel_scope.cancel()
        finally:
            await self.sender.aclose()
