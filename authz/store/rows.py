"""Records as the column tuples both SQL backends store, in their tables' column order: one
spelling for SQLite and PostgreSQL, whose placeholders differ but whose columns do not."""

from __future__ import annotations

from typing import Any

import orjson

from authz.records import NotificationDelivery


def delivery_row(d: NotificationDelivery) -> tuple[Any, ...]:
    """A delivery as ``notification_deliveries`` stores it (the notification as JSON text)."""
    return (
        d.id,
        d.client_id,
        d.consent_id,
        d.kind,
        orjson.dumps(d.notification).decode(),
        d.created_at,
        d.next_attempt_at,
        d.dedupe_key,
        d.attempts,
        d.last_status,
        d.delivered_at,
        d.given_up_at,
    )


__all__ = ["delivery_row"]
