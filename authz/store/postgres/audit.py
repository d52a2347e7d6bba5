"""Data accesses and the hash-chained audit trail in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncClientCursor

from authz.records import AuditEvent, TrailAnchor, TrailEntry
from authz.store import chain
from authz.store.postgres.connection import PostgresDb, fetch_one, rolled_back_on_error, to_json
from authz.store.postgres.links import LOCK_TRAIL, TRAIL_LOCK, audit_event
from authz.store.schema import APPLICATION_ID

# An audit batch in one query (append_audit): the events, the trail's lock, their links, the
# commit. The rows travel as JSON, one parameter each (psycopg re-parses a query of more than 50
# parameters on every call). The links are computed here, where the lock is held, by a statement
# that starts after the lock was granted (so it reads the head the last holder committed):
# link i hashes the previous hash followed by the link's canonical JSON (chain.link_hash), which
# the caller sends cut around the seq ("head" and "tail") so that only the number is put in here.
_APPEND_AUDIT = """BEGIN ISOLATION LEVEL READ COMMITTED;
INSERT INTO audit_events (id, time, consent_id, client_id, customer_id, endpoint, account_ids,
  clusters, record_count, status, interaction_id)
SELECT id, time, consent_id, client_id, customer_id, endpoint, account_ids, clusters,
  record_count, status, interaction_id
FROM ROWS FROM (json_to_recordset(%s) AS (id text, time double precision, consent_id text,
  client_id text, customer_id text, endpoint text, account_ids json, clusters json,
  record_count integer, status integer, interaction_id text)) WITH ORDINALITY ORDER BY ordinality;
SELECT pg_advisory_xact_lock(%s, %s);
INSERT INTO trail (seq, time, kind, record, prev_hash, hash)
WITH RECURSIVE item AS (
  SELECT * FROM ROWS FROM (json_to_recordset(%s) AS (time double precision, kind text,
    record text, head text, tail text)) WITH ORDINALITY AS i (time, kind, record, head, tail, n)
), start AS (
  SELECT seq, hash FROM trail_anchor WHERE id = 1
  UNION ALL (SELECT seq, hash FROM trail ORDER BY seq DESC LIMIT 1)
  UNION ALL SELECT 0, %s
  ORDER BY seq DESC LIMIT 1
), link AS (
  SELECT i.n, s.seq + 1 AS seq, i.time, i.kind, i.record, s.hash AS prev_hash,
    encode(sha256(convert_to(s.hash || i.head || (s.seq + 1)::text || i.tail, 'UTF8')), 'hex')
      AS hash
  FROM item i, start s WHERE i.n = 1
  UNION ALL
  SELECT i.n, l.seq + 1, i.time, i.kind, i.record, l.hash,
    encode(sha256(convert_to(l.hash || i.head || (l.seq + 1)::text || i.tail, 'UTF8')), 'hex')
  FROM link l JOIN item i ON i.n = l.n + 1
)
SELECT seq, time, kind, record, prev_hash, hash FROM link ORDER BY n;
COMMIT"""
_SELECT_AUDIT = (
    "SELECT id, time, consent_id, client_id, customer_id, endpoint, account_ids, clusters,"
    " record_count, status, interaction_id FROM audit_events WHERE consent_id = %s"
    " ORDER BY time, seq"
)


class PostgresAudit:
    def __init__(self, db: PostgresDb) -> None:
        self._db = db

    async def append(self, events: Sequence[AuditEvent]) -> None:
        """One transaction per batch, appended in order, with its links, in two round trips.

        Every FDX request waits for one of these (gateway.audit batches them), so it is sent as
        two multi-statement queries rather than statement by statement: ``BEGIN``, the events,
        the trail's lock and the chain's head; then the links and ``COMMIT``. Each statement
        still runs on its own, so the head is read by a statement that starts after the lock was
        granted (as in ``_link``). The rows go as one JSON parameter per query, bound by psycopg on
        the client side (its ``ClientCursor``: the extended protocol allows one statement per
        query). In pipeline mode, where psycopg sends each statement on its own, a batch of
        eight cost ~1.5× the client CPU (~900 against ~590 µs on the benchmark machine)."""
        if not events:
            return
        rows = to_json([_audit_dict(e) for e in events])
        links = to_json([_link_parts(chain.access_item(e)) for e in events])
        async with (
            self._db.bounded("audit batch"),
            self._db.connection() as conn,
            rolled_back_on_error(conn),
        ):
            await AsyncClientCursor(conn).execute(
                _APPEND_AUDIT, (rows, *TRAIL_LOCK, links, chain.GENESIS)
            )

    async def of_consent(self, consent_id: str) -> list[AuditEvent]:
        return [audit_event(r) for r in await self._db.all(_SELECT_AUDIT, (consent_id,))]

    async def count_audit_statuses(
        self, start: float, end: float, endpoint: str | None = None
    ) -> dict[int, int]:
        """Data accesses recorded in [start, end), of ``endpoint`` if given, by HTTP status
        (gateway/response_rate.py)."""
        rows = await self._db.all(
            "SELECT status, count(*) FROM audit_events WHERE time >= %s AND time < %s"
            " AND (%s::text IS NULL OR endpoint = %s) GROUP BY status",
            (start, end, endpoint, endpoint),
        )
        return {int(status): int(n) for status, n in rows}

    async def trail(
        self,
        *,
        after_seq: int = 0,
        limit: int = 1000,
        start: float | None = None,
        end: float | None = None,
    ) -> list[TrailEntry]:
        rows = await self._db.all(
            "SELECT seq, time, kind, record, prev_hash, hash FROM trail WHERE seq > %s"
            " AND (%s::double precision IS NULL OR time >= %s)"
            " AND (%s::double precision IS NULL OR time < %s) ORDER BY seq LIMIT %s",
            (after_seq, start, start, end, end, limit),
        )
        return [TrailEntry(*r) for r in rows]

    async def anchor(self) -> TrailAnchor | None:
        row = await self._db.one("SELECT seq, time, hash FROM trail_anchor WHERE id = 1", ())
        return None if row is None else TrailAnchor(*row)

    async def prune(self, before: float) -> int:
        async with self._db.tx() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (APPLICATION_ID, LOCK_TRAIL))
            cutoff = await fetch_one(
                conn,
                "SELECT coalesce((SELECT min(seq) FROM trail WHERE time >= %s),"
                " (SELECT coalesce(max(seq), 0) + 1 FROM trail))",
                (before,),
            )
            first_kept = cutoff[0]
            last = await fetch_one(
                conn,
                "SELECT seq, time, hash FROM trail WHERE seq < %s ORDER BY seq DESC LIMIT 1",
                (first_kept,),
            )
            if last is not None:
                await conn.execute(
                    "INSERT INTO trail_anchor (id, seq, time, hash) VALUES (1, %s, %s, %s)"
                    " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, time = excluded.time,"
                    " hash = excluded.hash",
                    last,
                )
            pruned = await fetch_one(
                conn,
                "WITH gone AS (DELETE FROM trail WHERE seq < %s RETURNING 1)"
                " SELECT count(*) FROM gone",
                (first_kept,),
            )
            await conn.execute("DELETE FROM audit_events WHERE time < %s", (before,))
            return int(pruned[0])


def _audit_dict(e: AuditEvent) -> dict[str, Any]:
    """An audit event as a row of ``_APPEND_AUDIT``'s JSON (floats keep every bit: orjson writes
    the shortest text that reads back as the same double, and PostgreSQL reads it so)."""
    return {
        "id": e.id,
        "time": e.time,
        "consent_id": e.consent_id,
        "client_id": e.client_id,
        "customer_id": e.customer_id,
        "endpoint": e.endpoint,
        "account_ids": e.account_ids,
        "clusters": e.clusters,
        "record_count": e.record_count,
        "status": e.status,
        "interaction_id": e.interaction_id,
    }


def _link_parts(item: chain.Item) -> dict[str, Any]:
    """A link as ``_APPEND_AUDIT`` completes it: the canonical JSON that ``chain.link_hash``
    hashes after the previous hash, cut around the seq that only the database knows."""
    time, kind, record = item
    head, tail = chain.message_parts(time, kind, record)
    return {"time": time, "kind": kind, "record": record, "head": head, "tail": tail}
