"""The notification outbox in memory (one family of ``authz.store.memory.records``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import orjson

from authz.records import NotificationDelivery


@dataclass(eq=False)
class OutboxData:
    deliveries: dict[str, NotificationDelivery] = field(default_factory=dict)  # insertion = age
    dedupe: set[str] = field(default_factory=set)


class MemoryOutbox:
    def __init__(self, data: OutboxData | None = None) -> None:
        self._d = data if data is not None else OutboxData()

    async def enqueue(self, delivery: NotificationDelivery) -> bool:
        if delivery.dedupe_key is not None:
            if delivery.dedupe_key in self._d.dedupe:
                return False
            self._d.dedupe.add(delivery.dedupe_key)
        if delivery.id in self._d.deliveries:
            return False
        self._d.deliveries[delivery.id] = _copy(delivery)
        return True

    async def claim(self, now: float, *, limit: int, lease: float) -> list[NotificationDelivery]:
        due = sorted(
            (
                d
                for d in self._d.deliveries.values()
                if d.delivered_at is None and d.given_up_at is None and d.next_attempt_at <= now
            ),
            key=lambda d: d.next_attempt_at,
        )[:limit]
        for d in due:
            self._d.deliveries[d.id] = replace(d, next_attempt_at=now + lease)
        return [_copy(d) for d in due]

    async def record_attempt(
        self,
        delivery_id: str,
        *,
        now: float,
        status: str,
        delivered: bool,
        retry_at: float | None,
    ) -> None:
        d = self._d.deliveries.get(delivery_id)
        if d is None:
            return
        self._d.deliveries[delivery_id] = replace(
            d,
            attempts=d.attempts + 1,
            last_status=status,
            delivered_at=now if delivered else None,
            given_up_at=now if not delivered and retry_at is None else None,
            next_attempt_at=retry_at if retry_at is not None else d.next_attempt_at,
        )

    async def get(self, delivery_id: str) -> NotificationDelivery | None:
        d = self._d.deliveries.get(delivery_id)
        return None if d is None else _copy(d)

    async def of_consent(self, consent_id: str) -> list[NotificationDelivery]:
        rows = [_copy(d) for d in self._d.deliveries.values() if d.consent_id == consent_id]
        return sorted(rows, key=lambda d: d.created_at)  # stable: insertion order on ties


def _copy(d: NotificationDelivery) -> NotificationDelivery:
    """A delivery whose payload the caller cannot mutate the store through."""
    return replace(d, notification=orjson.loads(orjson.dumps(d.notification)))
