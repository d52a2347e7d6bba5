"""The notification outbox in SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from authz.records import NotificationDelivery
from authz.store.rows import delivery_row
from authz.store.sqlite.connection import SqliteDb

_INSERT = (
    "INSERT OR IGNORE INTO notification_deliveries (id, client_id, consent_id, kind,"
    " notification, created_at, next_attempt_at, dedupe_key, attempts, last_status,"
    " delivered_at, given_up_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT = (
    "SELECT id, client_id, consent_id, kind, notification, created_at, next_attempt_at,"
    " dedupe_key, attempts, last_status, delivered_at, given_up_at FROM notification_deliveries"
)
_DUE = (
    _SELECT + " WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= ?"
    " ORDER BY next_attempt_at LIMIT ?"
)


class SqliteOutbox:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    async def enqueue(self, delivery: NotificationDelivery) -> bool:
        with self._db.tx() as db:
            cursor = db.execute(
                _INSERT,
                delivery_row(delivery),
            )
            return cursor.rowcount == 1

    async def claim(self, now: float, *, limit: int, lease: float) -> list[NotificationDelivery]:
        with self._db.tx() as db:  # IMMEDIATE: two workers never claim the same row
            rows = db.execute(_DUE, (now, limit)).fetchall()
            db.executemany(
                "UPDATE notification_deliveries SET next_attempt_at = ? WHERE id = ?",
                [(now + lease, r[0]) for r in rows],
            )
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
        with self._db.tx() as db:
            db.execute(
                "UPDATE notification_deliveries SET attempts = attempts + 1, last_status = ?,"
                " delivered_at = ?, given_up_at = ?,"
                " next_attempt_at = coalesce(?, next_attempt_at) WHERE id = ?",
                (
                    status,
                    now if delivered else None,
                    now if not delivered and retry_at is None else None,
                    retry_at,
                    delivery_id,
                ),
            )

    async def get(self, delivery_id: str) -> NotificationDelivery | None:
        row = self._db.one(_SELECT + " WHERE id = ?", (delivery_id,))
        return None if row is None else _delivery(row)

    async def of_consent(self, consent_id: str) -> list[NotificationDelivery]:
        rows = self._db.all(
            _SELECT + " WHERE consent_id = ? ORDER BY created_at, rowid", (consent_id,)
        )
        return [_delivery(r) for r in rows]


def _delivery(r: Sequence[Any]) -> NotificationDelivery:
    return NotificationDelivery(
        id=r[0],
        client_id=r[1],
        consent_id=r[2],
        kind=r[3],
        notification=orjson.loads(r[4]),
        created_at=r[5],
        next_attempt_at=r[6],
        dedupe_key=r[7],
        attempts=r[8],
        last_status=r[9],
        delivered_at=r[10],
        given_up_at=r[11],
    )
