"""Consents and their history in PostgreSQL; ``live`` is ``authz.store.live`` over ``versions``.

The gate's read is shared: the ``versions`` of every request that asks in the same turn of the
event loop go out as one query (``authz.store.batch.Batcher``, one in flight at a time, the later
ones gathering for the next), so under load one query serves many requests. A question never
joins a query already sent, so its read still starts after it was asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authz.records import Consent, ConsentEvent
from authz.store.base import LiveConsent
from authz.store.batch import Batcher
from authz.store.live import LiveConsents, Stored
from authz.store.postgres.connection import PostgresDb, integrity, to_json
from authz.store.postgres.links import insert_event

# The FDX gate's read, for every consent a batch of requests asks for: each consent's version
# (its document only when the asker does not hold that version) and its recipient's status
# (from_dict's default when unset).
_VERSIONS = (
    "SELECT c.id, c.version, CASE WHEN c.version = v.version THEN NULL ELSE c.data END,"
    " CASE WHEN cl.client_id IS NULL THEN NULL ELSE coalesce(cl.data ->> 'status', 'approved')"
    " END FROM unnest(%s::text[], %s::integer[]) AS v (id, version)"
    " JOIN consents c ON c.id = v.id LEFT JOIN clients cl ON cl.client_id = c.client_id"
)
_INSERT = (
    "INSERT INTO consents (id, customer_id, client_id, status, version, created_at, data)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_UPDATE = (
    "UPDATE consents SET customer_id = %s, client_id = %s, status = %s, version = %s,"
    " created_at = %s, data = %s WHERE id = %s AND version = %s RETURNING version"
)

_Asked = tuple[str, int]  # (consent id, version held)


class PostgresConsents:
    def __init__(self, db: PostgresDb) -> None:
        self._db = db
        self._live = LiveConsents(self)
        self._batches = Batcher[_Asked, Stored | None](self._read)

    async def create(self, consent: Consent, event: ConsentEvent) -> None:
        async with integrity("consent already exists"), self._db.tx() as conn:
            await conn.execute(_INSERT, _consent_row(consent))
            await insert_event(conn, event, consent)

    async def get(self, consent_id: str) -> Consent | None:
        row = await self._db.one("SELECT data FROM consents WHERE id = %s", (consent_id,))
        return None if row is None else Consent.from_dict(row[0])

    async def live(self, consent_id: str) -> LiveConsent | None:
        return await self._live.live(consent_id)

    async def versions(self, held: Mapping[str, int]) -> dict[str, Stored]:
        found: dict[str, Stored] = {}
        for asked in held.items():
            stored = await self._batches.submit(asked)
            if stored is not None:
                found[asked[0]] = stored
        return found

    async def _read(self, asked: list[_Asked]) -> list[Stored | None]:
        """One indexed read for a batch of questions, within the store's timeout."""
        unique: dict[str, int] = {}
        for consent_id, version in asked:  # one id held at two versions: send the document
            unique[consent_id] = version if unique.get(consent_id, version) == version else -1
        async with self._db.bounded("consent check"):
            rows = await self._db.all(_VERSIONS, (list(unique), list(unique.values())))
        stored = {r[0]: Stored(r[1], r[2], r[3]) for r in rows}
        return [stored.get(consent_id) for consent_id, _ in asked]

    async def update(self, consent: Consent, event: ConsentEvent, *, expected_version: int) -> bool:
        if consent.version <= expected_version:
            raise ValueError("a consent update must raise its version")
        async with integrity("event for an unknown consent"), self._db.tx() as conn:
            cursor = await conn.execute(
                _UPDATE, (*_consent_row(consent)[1:], consent.id, expected_version)
            )
            if await cursor.fetchone() is None:
                return False  # the transaction commits nothing
            await insert_event(conn, event, consent)
        return True

    async def find(
        self, *, customer_id: str | None = None, client_id: str | None = None
    ) -> list[Consent]:
        rows = await self._db.all(
            "SELECT data FROM consents WHERE (%s::text IS NULL OR customer_id = %s)"
            " AND (%s::text IS NULL OR client_id = %s) ORDER BY created_at DESC, rowid DESC",
            (customer_id, customer_id, client_id, client_id),
        )
        return [Consent.from_dict(r[0]) for r in rows]

    async def events(self, consent_id: str) -> list[ConsentEvent]:
        rows = await self._db.all(
            "SELECT consent_id, time, event, actor, reason, detail, initiator FROM consent_events"
            " WHERE consent_id = %s ORDER BY time, id",
            (consent_id,),
        )
        return [ConsentEvent(*r) for r in rows]

    async def append_event(self, event: ConsentEvent) -> None:
        async with integrity("event for an unknown consent"), self._db.tx() as conn:
            await insert_event(conn, event, None)

    async def expiring(
        self, before: float, *, limit: int, after: tuple[float, str] | None = None
    ) -> list[Consent]:
        start, start_id = after if after is not None else (float("-inf"), "")
        rows = await self._db.all(
            "SELECT data FROM consents WHERE status = 'ACTIVE'"
            " AND (data ->> 'expires_at')::double precision < %s"
            " AND ((data ->> 'expires_at')::double precision, id) > (%s, %s)"
            " ORDER BY (data ->> 'expires_at')::double precision, id LIMIT %s",
            (before, start, start_id, limit),
        )
        return [Consent.from_dict(r[0]) for r in rows]

    async def count_active(self, now: float) -> int:
        row = await self._db.one(
            "SELECT count(*) FROM consents WHERE status = 'ACTIVE'"
            " AND ((data ->> 'expires_at')::double precision > %s"
            " OR data ->> 'expires_at' IS NULL)",
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
