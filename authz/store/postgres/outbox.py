"""The notification outbox in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from authz.records import NotificationDelivery
from authz.store.postgres.connection import PostgresDb
from authz.store.rows import delivery_row

_INSERT_DELIVERY = (
    "INSERT INTO notification_deliveries (id, client_id, consent_id, kind, notification,"
    " created_at, next_attempt_at, dedupe_key, attempts, last_status, delivered_at, given_up_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)
# Rows another worker holds are skipped, not waited for; the outer SELECT sees the rows as they
# were before the lease moved their next attempt (as the SQLite store returns them).
_CLAIM_DELIVERIES = (
    "WITH due AS (SELECT id, client_id, consent_id, kind, notification, created_at,"
    " next_attempt_at, dedupe_key, attempts, last_status, delivered_at, given_up_at, rowid"
    " FROM notification_deliveries"
    " WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= %s"
    " ORDER BY next_attempt_at, rowid LIMIT %s FOR UPDATE SKIP LOCKED),"
    " leased AS (UPDATE notification_deliveries d SET next_attempt_at = %s"
    " FROM due WHERE d.id = due.id)"
    " SELECT id, client_id, consent_id, kind, notification, created_at, next_attempt_at,"
    " dedupe_key, attempts, last_status, delivered_at, given_up_at FROM due"
    " ORDER BY next_attempt_at, rowid"
)
_SELECT_DELIVERIES = (
    "SELECT id, client_id, consent_id, kind, notification, created_at, next_attempt_at,"
    " dedupe_key, attempts, last_status, delivered_at, given_up_at FROM notification_deliveries"
)
_RECORD_ATTEMPT = (
    "UPDATE notification_deliveries SET attempts = attempts + 1, last_status = %s,"
    " delivered_at = %s, given_up_at = %s,"
    " next_attempt_at = coalesce(%s, next_attempt_at) WHERE id = %s"
)


class PostgresOutbox:
    def __init__(self, db: PostgresDb) -> None:
        self._db = db

    async def enqueue(self, delivery: NotificationDelivery) -> bool:
        stored = await self._db.run(
            _INSERT_DELIVERY,
            delivery_row(delivery),
        )
        return stored == 1

    async def claim(self, now: float, *, limit: int, lease: float) -> list[NotificationDelivery]:
        rows = await self._db.all(_CLAIM_DELIVERIES, (now, limit, now + lease))
        return [_delivery(r) for r in rows]

    async def record_attempt(
        self,
        delivery_id: str,
        *,
        now: float,
        status: str,
        delivered: bool,
        retry_at: float | None,
    ) -> None:
        given_up = now if not delivered and retry_at is None else None
        await self._db.run(
            _RECORD_ATTEMPT,
            (status, now if delivered else None, given_up, retry_at, delivery_id),
        )

    async def get(self, delivery_id: str) -> NotificationDelivery | None:
        row = await self._db.one(
            _SELECT_DELIVERIES + " WHERE id = %s",
            (delivery_id,),
        )
        return None if row is None else _delivery(row)

    async def of_consent(self, consent_id: str) -> list[NotificationDelivery]:
        rows = await self._db.all(
            _SELECT_DELIVERIES + " WHERE consent_id = %s ORDER BY created_at, rowid",
            (consent_id,),
        )
        return [_delivery(r) for r in rows]


def _delivery(r: Sequence[Any]) -> NotificationDelivery:
    return NotificationDelivery(*r)
