"""Consents and their history in SQLite; ``live`` is ``authz.store.live`` over ``versions``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from authz.records import Consent, ConsentEvent
from authz.store.base import LiveConsent
from authz.store.live import LiveConsents, Stored
from authz.store.sqlite.connection import SqliteDb, integrity, to_json
from authz.store.sqlite.links import insert_event

# The gate's read (one indexed select): the consent's version, its document only when the caller
# does not hold that version, and its recipient's status (from_dict's default when unset).
_VERSION = (
    "SELECT c.version, CASE WHEN c.version = ? THEN NULL ELSE c.data END,"
    " CASE WHEN cl.client_id IS NULL THEN NULL"
    " ELSE coalesce(json_extract(cl.data, '$.status'), 'approved') END"
    " FROM consents c LEFT JOIN clients cl ON cl.client_id = c.client_id WHERE c.id = ?"
)


class SqliteConsents:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db
        self._live = LiveConsents(self)

    async def create(self, consent: Consent, event: ConsentEvent) -> None:
        with integrity("consent already exists"), self._db.tx() as db:
            db.execute(
                "INSERT INTO consents (id, customer_id, client_id, status, version, created_at,"
                " data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                _consent_row(consent),
            )
            insert_event(db, event, consent)

    async def get(self, consent_id: str) -> Consent | None:
        row = self._db.one("SELECT data FROM consents WHERE id = ?", (consent_id,))
        return None if row is None else Consent.from_dict(orjson.loads(row[0]))

    async def live(self, consent_id: str) -> LiveConsent | None:
        return await self._live.live(consent_id)

    async def versions(self, held: Mapping[str, int]) -> dict[str, Stored]:
        found: dict[str, Stored] = {}
        with self._db.lock:
            db = self._db.db()
            for consent_id, version in held.items():
                row = db.execute(_VERSION, (version, consent_id)).fetchone()
                if row is not None:
                    document = None if row[1] is None else orjson.loads(row[1])
                    found[consent_id] = Stored(row[0], document, row[2])
        return found

    async def update(self, consent: Consent, event: ConsentEvent, *, expected_version: int) -> bool:
        if consent.version <= expected_version:
            raise ValueError("a consent update must raise its version")
        with integrity("event for an unknown consent"), self._db.tx() as db:
            cursor = db.execute(
                "UPDATE consents SET customer_id = ?, client_id = ?, status = ?, version = ?,"
                " created_at = ?, data = ? WHERE id = ? AND version = ?",
                (*_consent_row(consent)[1:], consent.id, expected_version),
            )
            if cursor.rowcount == 0:
                return False  # the transaction commits nothing
            insert_event(db, event, consent)
            return True

    async def find(
        self, *, customer_id: str | None = None, client_id: str | None = None
    ) -> list[Consent]:
        where: list[str] = []
        params: list[str] = []
        if customer_id is not None:
            where.append("customer_id = ?")
            params.append(customer_id)
        if client_id is not None:
            where.append("client_id = ?")
            params.append(client_id)
        sql = "SELECT data FROM consents"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, rowid DESC"
        return [Consent.from_dict(orjson.loads(r[0])) for r in self._db.all(sql, tuple(params))]

    async def events(self, consent_id: str) -> list[ConsentEvent]:
        rows = self._db.all(
            "SELECT consent_id, time, event, actor, reason, detail, initiator FROM consent_events"
            " WHERE consent_id = ? ORDER BY time, id",
            (consent_id,),
        )
        return [ConsentEvent(*r) for r in rows]

    async def append_event(self, event: ConsentEvent) -> None:
        with integrity("event for an unknown consent"), self._db.tx() as db:
            insert_event(db, event, None)

    async def expiring(
        self, before: float, *, limit: int, after: tuple[float, str] | None = None
    ) -> list[Consent]:
        # The expression matches the partial index consents_active_expiry; the row value
        # compares (expires_at, id) as the keyset cursor (SQLite >= 3.15).
        start, start_id = after if after is not None else (float("-inf"), "")
        rows = self._db.all(
            "SELECT data FROM consents WHERE status = 'ACTIVE'"
            " AND json_extract(data, '$.expires_at') < ?"
            " AND (json_extract(data, '$.expires_at'), id) > (?, ?)"
            " ORDER BY json_extract(data, '$.expires_at'), id LIMIT ?",
            (before, start, start_id, limit),
        )
        return [Consent.from_dict(orjson.loads(r[0])) for r in rows]

    async def count_active(self, now: float) -> int:
        # Both terms read the partial index consents_active_expiry (status = 'ACTIVE').
        row = self._db.one(
            "SELECT (SELECT count(*) FROM consents WHERE status = 'ACTIVE'"
            " AND json_extract(data, '$.expires_at') > ?)"
            " + (SELECT count(*) FROM consents WHERE status = 'ACTIVE'"
            " AND json_extract(data, '$.expires_at') IS NULL)",
            (now,),
        )
        return int(row[0]) if row is not None else 0


def _consent_row(c: Consent) -> tuple[Any, ...]:
    return (
        c.id,
        c.customer_id,
        c.client_id,
        c.status.value,
        c.version,
        c.created_at,
        to_json(c.to_dict()),
    )
