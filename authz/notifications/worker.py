"""Delivers queued notifications: claims due rows, signs, POSTs, records every attempt.

The queue is the ``notification_deliveries`` table, so nothing is lost across restarts and the
backlog lives on disk, not in memory. At most ``notification_concurrency`` deliveries are in
flight; each claimed row is leased (its next attempt moved past the longest an attempt can take)
so a second worker, or this one after a crash, never sends it twice at once. A failed attempt is
retried after ``backoff`` (exponential, capped, with jitter); after
``notification_max_attempts`` the delivery is given up, and that is recorded too.

``run_once`` does one round and returns, so tests drive the worker step by step with their own
clock; ``run`` loops until cancelled, waking on ``wake()`` or every ``POLL`` seconds.
"""

from __future__ import annotations

import logging
import random as _random
from collections.abc import Callable

import anyio

from authz.keys import SigningKeys
from authz.notifications import message, targets
from authz.notifications.sender import Refused, Sender
from authz.store.base import NotificationDelivery, Records
from authz.subscriptions.store import SubscriptionStore
from config.settings import Settings

log = logging.getLogger("authz.notifications")

POLL = 5.0  # seconds between looks for due retries when nothing wakes the worker


def backoff(attempts: int, *, base: float, cap: float, rand: Callable[[], float]) -> float:
    """Seconds to wait after ``attempts`` failed attempts: base·2^(n-1), at most ``cap``, times
    a jitter factor in [0.75, 1.25) so receivers that failed together do not retry together."""
    return min(cap, base * 2.0 ** (attempts - 1)) * (0.75 + 0.5 * rand())


class DeliveryWorker:
    def __init__(
        self,
        records: Records,
        keys: SigningKeys,
        settings: Settings,
        *,
        clock: Callable[[], float],
        sender: Sender,
        subscriptions: SubscriptionStore | None = None,
        rand: Callable[[], float] = _random.random,
    ) -> None:
        self._records = records
        self._subscriptions = subscriptions
        self._keys = keys
        self._settings = settings
        self._clock = clock
        self._sender = sender
        self._rand = rand
        self._slots = settings.notification_concurrency
        self._in_flight = 0
        self._lease = sender.deadline + 60.0
        self._wake = anyio.Event()

    def wake(self) -> None:
        """Something was enqueued: look now rather than at the next poll."""
        self._wake.set()

    async def run_once(self) -> int:
        """Claim what is due (up to the concurrency cap), deliver it all, return how many."""
        claimed = await self._claim(self._slots)
        async with anyio.create_task_group() as tg:
            for delivery in claimed:
                tg.start_soon(self.deliver, delivery)
        return len(claimed)

    async def run(self) -> None:
        """Deliver until cancelled: slots refill as soon as a delivery ends, so one slow
        receiver holds one slot, never the queue."""
        async with anyio.create_task_group() as tg:
            while True:
                # A fresh event before claiming: a wake() during the claim is not lost.
                self._wake = anyio.Event()
                for delivery in await self._claim(self._slots - self._in_flight):
                    self._in_flight += 1
                    tg.start_soon(self._deliver_in_slot, delivery)
                with anyio.move_on_after(POLL):
                    await self._wake.wait()

    async def _deliver_in_slot(self, delivery: NotificationDelivery) -> None:
        try:
            await self.deliver(delivery)
        finally:
            self._in_flight -= 1
            self.wake()  # a slot is free

    async def _claim(self, limit: int) -> list[NotificationDelivery]:
        if limit <= 0:
            return []
        try:
            return await self._records.outbox.claim(self._clock(), limit=limit, lease=self._lease)
        except Exception as exc:
            log.error("notification.claim_failed %s", type(exc).__name__)
            return []

    async def deliver(self, delivery: NotificationDelivery) -> None:
        """One attempt, recorded whatever happens; never raises."""
        try:
            delivered, status = await self._attempt(delivery)
        except Exception as exc:  # a bug must not stop the worker; the row is retried
            delivered, status = False, f"error: {type(exc).__name__}"
        now = self._clock()
        attempts = delivery.attempts + 1
        retry_at: float | None = None
        if not delivered and attempts < self._settings.notification_max_attempts:
            if not status.startswith("refused"):
                retry_at = now + backoff(
                    attempts,
                    base=self._settings.notification_backoff_base,
                    cap=self._settings.notification_backoff_max,
                    rand=self._rand,
                )
        log.info(
            "notification.attempt id=%s client_id=%s attempt=%d status=%s outcome=%s",
            delivery.id,
            delivery.client_id,
            attempts,
            status,
            "delivered" if delivered else ("retry" if retry_at else "given_up"),
        )
        try:
            await self._records.outbox.record_attempt(
                delivery.id, now=now, status=status, delivered=delivered, retry_at=retry_at
            )
        except Exception as exc:  # the lease runs out and the row is tried again
            log.error("notification.record_failed %s id=%s", type(exc).__name__, delivery.id)

    async def _attempt(self, delivery: NotificationDelivery) -> tuple[bool, str]:
        client = await self._records.clients.get(delivery.client_id)
        url = client.notification_uri if client is not None else None
        subscription_id = targets.subscription_of(delivery.id)
        if subscription_id is not None:
            url = await self._subscription_url(subscription_id, delivery.client_id)
            if url is None:
                return False, "refused: subscription deleted"
        if client is None or not url:
            return False, "refused: no notification_uri"
        jws = message.sign(
            delivery.notification,
            self._keys,
            issuer=self._settings.issuer,
            audience=delivery.client_id,
            now=self._clock(),
        )
        try:
            outcome = await self._sender.post(url, jws)
        except Refused as exc:
            return False, f"refused: {exc}"
        return outcome.delivered, outcome.status

    async def _subscription_url(self, subscription_id: str, client_id: str) -> str | None:
        """The live subscription's callback URL; None once deleted (or not the client's)."""
        if self._subscriptions is None:
            return None
        sub = await self._subscriptions.get(subscription_id)
        if sub is None or sub.deleted_at is not None or sub.client_id != client_id:
            return None
        return sub.callback_url
