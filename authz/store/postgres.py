"""The ``RecordStore`` on PostgreSQL, shared by many gateway instances (design.md §7).

The schema is ``POSTGRES_MIGRATIONS`` (the SQLite schema, spelled for PostgreSQL) and the
semantics are ``SqliteRecordStore``'s, method for method; the contract suite runs over both. What
many processes on one database need, and how this store gives it:

- Consistency without a shared lock: an optimistic ``UPDATE … WHERE version = %s`` for consents,
  ``UPDATE … WHERE used_at IS NULL AND revoked_at IS NULL RETURNING`` for refresh-token
  rotation, ``FOR UPDATE SKIP LOCKED`` for notification claims.
- One hash chain (``authz.store.chain``) for every instance: a link is appended in the same
  transaction as its record, after ``pg_advisory_xact_lock``, so writers in any process append
  one after another and nothing is stored without its link. The data accesses' links (one audit
  batch per FDX request's wait, ``gateway.audit``) are hashed by the database, as ``chain`` would,
  so a batch costs one round trip and holds the lock for none (``append_audit``).
- The FDX gate's two reads (the consent, its recipient's status) cost one round trip: a consent
  is cached by version, and the query that checks the version also reads the recipient's status,
  which ``client_status`` takes if it is asked in the same turn of the event loop (``_Prefetch``).
  Nothing is trusted without that read, so a revocation or suspension committed by any instance
  is seen by the next request everywhere.
- That round trip is shared: the checks of every request that asks in the same turn of the event
  loop go out as one query (``authz.store.batch.Batcher``, one in flight at a time, the later
  ones gathering for the next), so under load one query serves many requests. A check never
  joins a query already sent, so its read still starts after its request arrived.

Connections come from a pool opened on first use (stores are built synchronously in
``create_app``), in autocommit mode: a single statement needs no transaction, and every write of
more than one statement runs in an explicit one. An unreachable server, a broken connection or no
connection free in time raise ``RecordsUnavailable``; integrity errors raise ``ValueError`` as the
other stores do; a schema this code does not know raises ``SchemaError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import astuple
from typing import Any

import orjson
import psycopg
from psycopg import AsyncClientCursor, AsyncConnection, IsolationLevel, errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool

from authz.consent.model import Consent, ConsentEvent
from authz.store import chain
from authz.store.base import (
    AuditEvent,
    ClientRecord,
    NotificationDelivery,
    RecordsUnavailable,
    RefreshToken,
    SchemaError,
    TrailAnchor,
    TrailEntry,
)
from authz.store.batch import Batcher
from authz.store.schema import APPLICATION_ID, CURRENT_VERSION, POSTGRES_MIGRATIONS, dialect_gap

log = logging.getLogger("authz.store.postgres")

Conn = AsyncConnection[TupleRow]

# pg_advisory_xact_lock(APPLICATION_ID, n): one lock per serialised activity, per database.
_LOCK_MIGRATE = 1
_LOCK_TRAIL = 2
_TRAIL_LOCK = (APPLICATION_ID, _LOCK_TRAIL)
_CONSENT_CACHE = 10_000
_RETRY_EVERY = 1.0  # seconds between direct tries of a server that failed

# Statements are literals: every value goes through a %s parameter.
_SCHEMA_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version     integer PRIMARY KEY,
    application integer NOT NULL,
    applied_at  double precision NOT NULL DEFAULT extract(epoch FROM clock_timestamp())
)"""
_SCHEMA_STATE = (
    "SELECT to_regclass('schema_version') IS NOT NULL,"
    " (SELECT count(*) FROM pg_tables WHERE schemaname = current_schema())"
)
# The FDX gate's read, for every consent a batch of requests asks for: each consent's version
# (its document only when the cached copy is not that version) and its recipient's status.
_CONSENT_CHECK = (
    "SELECT c.id, c.version, CASE WHEN c.version = v.version THEN NULL ELSE c.data END,"
    " cl.data ->> 'status' FROM unnest(%s::text[], %s::integer[]) AS v (id, version)"
    " JOIN consents c ON c.id = v.id LEFT JOIN clients cl ON cl.client_id = c.client_id"
)
_INSERT_CONSENT = (
    "INSERT INTO consents (id, customer_id, client_id, status, version, created_at, data)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_UPDATE_CONSENT = (
    "UPDATE consents SET customer_id = %s, client_id = %s, status = %s, version = %s,"
    " created_at = %s, data = %s WHERE id = %s AND version = %s RETURNING version"
)
_INSERT_EVENT = (
    "INSERT INTO consent_events (consent_id, time, event, actor, reason, detail)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
)
_INSERT_REFRESH = (
    "INSERT INTO refresh_tokens (token_hash, consent_id, client_id, created_at, expires_at,"
    " used_at, revoked_at, jkt) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
_USE_REFRESH = (
    "UPDATE refresh_tokens SET used_at = %s WHERE token_hash = %s"
    " AND used_at IS NULL AND revoked_at IS NULL"
    " RETURNING token_hash, consent_id, client_id, created_at, expires_at, NULL, NULL, jkt"
)
_SELECT_REFRESH = (
    "SELECT token_hash, consent_id, client_id, created_at, expires_at, used_at, revoked_at,"
    " jkt FROM refresh_tokens WHERE token_hash = %s"
)
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
# The chain's head: the last link, or the anchor when retention pruned them all (every kept
# link's seq is above the anchor's).
_TRAIL_HEAD = (
    "SELECT seq, hash FROM trail_anchor WHERE id = 1 UNION ALL"
    " (SELECT seq, hash FROM trail ORDER BY seq DESC LIMIT 1) ORDER BY seq DESC LIMIT 1"
)
_INSERT_TRAIL = (
    "INSERT INTO trail (seq, time, kind, record, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s)"
)
_TAKE_TRAIL_LOCK = "SELECT pg_advisory_xact_lock(%s, %s)"
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

_prefetched: ContextVar[_Prefetched | None] = ContextVar(
    "fdxgw_prefetched_client_status", default=None
)

# A consent as the gate read it, with its recipient's status; (None, None) when it is unknown.
ConsentCheck = tuple[Consent | None, str | None]


class PostgresRecordStore:
    def __init__(
        self, url: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 5.0
    ) -> None:
        """``timeout``: seconds to wait for a connection (a new one, or a pooled one when all
        are busy) before raising ``RecordsUnavailable``."""
        self._url = url
        self._where = _describe(url)  # host:port/dbname, for messages (never the password)
        self._min_size, self._max_size, self._timeout = min_size, max_size, timeout
        self._pool: AsyncConnectionPool[Conn] | None = None  # set once open
        self._opening = asyncio.Lock()
        # Set when a connection failed; cleared by the next new connection. While set, a call
        # that finds no idle connection fails at once instead of waiting for the timeout.
        self._suspect = False
        self._errors_at_connect = 0
        self._told_log_setting = False
        self._next_probe = 0.0  # while failing: when a call may next try the server itself
        self._consents: dict[str, Consent] = {}  # parsed consents by id, trusted per version
        self._prefetch = _Prefetch()
        self._consent_checks = Batcher[str, ConsentCheck](self._check_consents)

    # -------------------------------------------------------------------- schema

    async def migrate(self) -> None:
        """Apply the missing migrations in one transaction; the advisory lock makes a second
        instance migrating at the same moment wait, then find nothing left to do."""
        _require_dialect()
        async with self._tx() as conn:
            await conn.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", (APPLICATION_ID, _LOCK_MIGRATE)
            )
            await _require_utf8(conn)
            version = await _version(conn)
            had_trail = await _has_table(conn, "trail")
            await conn.execute(_SCHEMA_VERSION_TABLE)
            for number in range(version + 1, CURRENT_VERSION + 1):
                for statement in POSTGRES_MIGRATIONS[number - 1]:
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_version (version, application) VALUES (%s, %s)",
                    (number, APPLICATION_ID),
                )
            if not had_trail and await _has_table(conn, "trail"):
                await _backfill_trail(conn)  # history stored before the trail existed

    async def check_schema(self) -> None:
        _require_dialect()
        async with self._connection() as conn:
            await _require_utf8(conn)
            version = await _version(conn)
        if version != CURRENT_VERSION:
            raise SchemaError(
                f"database schema version {version}, this code needs {CURRENT_VERSION}"
            )

    # -------------------------------------------------------------------- clients

    async def put_client(self, client: ClientRecord) -> None:
        await self._run(
            "INSERT INTO clients (client_id, data) VALUES (%s, %s)"
            " ON CONFLICT (client_id) DO UPDATE SET data = excluded.data",
            (client.client_id, _json(client.to_dict())),
        )

    async def get_client(self, client_id: str) -> ClientRecord | None:
        row = await self._one("SELECT data FROM clients WHERE client_id = %s", (client_id,))
        return None if row is None else ClientRecord.from_dict(row[0])

    async def client_status(self, client_id: str) -> str | None:
        # Read by the FDX gate right after get_consent, which read it in its own round trip.
        known, status = self._prefetch.take(client_id)
        if not known:
            row = await self._one(
                "SELECT data ->> 'status' FROM clients WHERE client_id = %s", (client_id,)
            )
            if row is None:
                return None
            status = row[0]
        return status or "approved"  # ClientRecord.from_dict's default

    async def list_clients(self) -> list[ClientRecord]:
        rows = await self._all("SELECT data FROM clients ORDER BY client_id", ())
        return [ClientRecord.from_dict(r[0]) for r in rows]

    # -------------------------------------------------------------------- consents

    async def create_consent(self, consent: Consent, event: ConsentEvent) -> None:
        async with _integrity("consent already exists"), self._tx() as conn:
            await conn.execute(_INSERT_CONSENT, _consent_row(consent))
            await _insert_event(conn, event, consent)

    async def get_consent(self, consent_id: str) -> Consent | None:
        # On every FDX call (the live consent check), batched with the other requests' checks.
        consent, status = await self._consent_checks.submit(consent_id)
        if consent is not None:
            self._prefetch.put(consent.client_id, status)
        return consent

    async def _check_consents(self, ids: list[str]) -> list[ConsentCheck]:
        """One indexed read for a batch: whether each cached copy is still the stored version,
        with the document only where it is not, and each recipient's status."""
        cached = {i: self._consents.get(i) for i in ids}  # also drops repeated ids
        versions = [-1 if c is None else c.version for c in cached.values()]
        async with self._bounded("consent check"):
            rows = await self._all(_CONSENT_CHECK, (list(cached), versions))
        found: dict[str, ConsentCheck] = {}
        for consent_id, version, data, status in rows:
            known = cached[consent_id]
            if data is None and known is not None and known.version == version:
                found[consent_id] = known, status
            else:
                found[consent_id] = self._remember(Consent.from_dict(data)), status
        for consent_id in cached.keys() - found.keys():
            self._consents.pop(consent_id, None)
        return [found.get(i, (None, None)) for i in ids]

    async def update_consent(
        self, consent: Consent, event: ConsentEvent, *, expected_version: int
    ) -> bool:
        if consent.version <= expected_version:
            raise ValueError("a consent update must raise its version")
        async with _integrity("event for an unknown consent"), self._tx() as conn:
            cursor = await conn.execute(
                _UPDATE_CONSENT, (*_consent_row(consent)[1:], consent.id, expected_version)
            )
            if await cursor.fetchone() is None:
                return False  # the transaction commits nothing
            await _insert_event(conn, event, consent)
        return True

    async def list_consents(
        self, *, customer_id: str | None = None, client_id: str | None = None
    ) -> list[Consent]:
        rows = await self._all(
            "SELECT data FROM consents WHERE (%s::text IS NULL OR customer_id = %s)"
            " AND (%s::text IS NULL OR client_id = %s) ORDER BY created_at DESC, rowid DESC",
            (customer_id, customer_id, client_id, client_id),
        )
        return [Consent.from_dict(r[0]) for r in rows]

    async def consent_events(self, consent_id: str) -> list[ConsentEvent]:
        rows = await self._all(
            "SELECT consent_id, time, event, actor, reason, detail FROM consent_events"
            " WHERE consent_id = %s ORDER BY time, id",
            (consent_id,),
        )
        return [ConsentEvent(*r) for r in rows]

    async def append_consent_event(self, event: ConsentEvent) -> None:
        async with _integrity("event for an unknown consent"), self._tx() as conn:
            await _insert_event(conn, event, None)

    # -------------------------------------------------------------------- refresh tokens

    async def put_refresh_token(self, token: RefreshToken) -> None:
        async with _integrity("refresh token for an unknown consent or reused hash"):
            # The columns are RefreshToken's fields, in order (as the SELECT reads them back).
            await self._run(_INSERT_REFRESH, astuple(token))

    async def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        row = await self._one(_SELECT_REFRESH, (token_hash,))
        return None if row is None else RefreshToken(*row)

    async def use_refresh_token(
        self, token_hash: str, now: float
    ) -> tuple[RefreshToken | None, bool]:
        """One conditional UPDATE decides the winner (RFC 6749 §10.4 rotation): a concurrent
        second UPDATE waits for the first's row lock, re-reads the row, and no longer matches."""
        async with self._connection() as conn:
            won = await (await conn.execute(_USE_REFRESH, (now, token_hash))).fetchone()
            if won is not None:
                return RefreshToken(*won), True  # as it was: used_at and revoked_at NULL
            row = await (await conn.execute(_SELECT_REFRESH, (token_hash,))).fetchone()
        return (None, False) if row is None else (RefreshToken(*row), False)

    async def revoke_refresh_tokens(self, consent_id: str, now: float) -> int:
        return await self._run(
            "UPDATE refresh_tokens SET revoked_at = %s"
            " WHERE consent_id = %s AND used_at IS NULL AND revoked_at IS NULL",
            (now, consent_id),
        )

    # -------------------------------------------------------------------- audit

    async def append_audit(self, events: Sequence[AuditEvent]) -> None:
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
        rows = _json([_audit_dict(e) for e in events])
        links = _json([_link_parts(chain.access_item(e)) for e in events])
        async with (
            self._bounded("audit batch"),
            self._connection() as conn,
            _rolled_back_on_error(conn),
        ):
            await AsyncClientCursor(conn).execute(
                _APPEND_AUDIT, (rows, *_TRAIL_LOCK, links, chain.GENESIS)
            )

    async def list_audit(self, *, consent_id: str) -> list[AuditEvent]:
        return [_audit(r) for r in await self._all(_SELECT_AUDIT, (consent_id,))]

    # -------------------------------------------------------------------- audit trail

    async def list_trail(
        self,
        *,
        after_seq: int = 0,
        limit: int = 1000,
        start: float | None = None,
        end: float | None = None,
    ) -> list[TrailEntry]:
        rows = await self._all(
            "SELECT seq, time, kind, record, prev_hash, hash FROM trail WHERE seq > %s"
            " AND (%s::double precision IS NULL OR time >= %s)"
            " AND (%s::double precision IS NULL OR time < %s) ORDER BY seq LIMIT %s",
            (after_seq, start, start, end, end, limit),
        )
        return [TrailEntry(*r) for r in rows]

    async def trail_anchor(self) -> TrailAnchor | None:
        row = await self._one("SELECT seq, time, hash FROM trail_anchor WHERE id = 1", ())
        return None if row is None else TrailAnchor(*row)

    async def prune_trail(self, before: float) -> int:
        async with self._tx() as conn:
            await conn.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", (APPLICATION_ID, _LOCK_TRAIL)
            )
            cutoff = await _fetch_one(
                conn,
                "SELECT coalesce((SELECT min(seq) FROM trail WHERE time >= %s),"
                " (SELECT coalesce(max(seq), 0) + 1 FROM trail))",
                (before,),
            )
            first_kept = cutoff[0]
            last = await _fetch_one(
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
            pruned = await _fetch_one(
                conn,
                "WITH gone AS (DELETE FROM trail WHERE seq < %s RETURNING 1)"
                " SELECT count(*) FROM gone",
                (first_kept,),
            )
            await conn.execute("DELETE FROM audit_events WHERE time < %s", (before,))
            return int(pruned[0])

    # -------------------------------------------------------------------- notifications

    async def enqueue_notification(self, delivery: NotificationDelivery) -> bool:
        d = delivery
        stored = await self._run(
            _INSERT_DELIVERY,
            (
                d.id,
                d.client_id,
                d.consent_id,
                d.kind,
                _json(d.notification),
                d.created_at,
                d.next_attempt_at,
                d.dedupe_key,
                d.attempts,
                d.last_status,
                d.delivered_at,
                d.given_up_at,
            ),
        )
        return stored == 1

    async def claim_notifications(
        self, now: float, *, limit: int, lease: float
    ) -> list[NotificationDelivery]:
        rows = await self._all(_CLAIM_DELIVERIES, (now, limit, now + lease))
        return [_delivery(r) for r in rows]

    async def record_notification_attempt(
        self,
        delivery_id: str,
        *,
        now: float,
        status: str,
        delivered: bool,
        retry_at: float | None,
    ) -> None:
        given_up = now if not delivered and retry_at is None else None
        await self._run(
            _RECORD_ATTEMPT,
            (status, now if delivered else None, given_up, retry_at, delivery_id),
        )

    async def get_notification(self, delivery_id: str) -> NotificationDelivery | None:
        row = await self._one(
            _SELECT_DELIVERIES + " WHERE id = %s",
            (delivery_id,),
        )
        return None if row is None else _delivery(row)

    async def list_notifications(self, *, consent_id: str) -> list[NotificationDelivery]:
        rows = await self._all(
            _SELECT_DELIVERIES + " WHERE consent_id = %s ORDER BY created_at, rowid",
            (consent_id,),
        )
        return [_delivery(r) for r in rows]

    async def consents_expiring(
        self, before: float, *, limit: int, after: tuple[float, str] | None = None
    ) -> list[Consent]:
        start, start_id = after if after is not None else (float("-inf"), "")
        rows = await self._all(
            "SELECT data FROM consents WHERE status = 'ACTIVE'"
            " AND (data ->> 'expires_at')::double precision < %s"
            " AND ((data ->> 'expires_at')::double precision, id) > (%s, %s)"
            " ORDER BY (data ->> 'expires_at')::double precision, id LIMIT %s",
            (before, start, start_id, limit),
        )
        return [Consent.from_dict(r[0]) for r in rows]

    async def count_active_consents(self, now: float) -> int:
        row = await self._one(
            "SELECT count(*) FROM consents WHERE status = 'ACTIVE'"
            " AND ((data ->> 'expires_at')::double precision > %s"
            " OR data ->> 'expires_at' IS NULL)",
            (now,),
        )
        return int(row[0]) if row is not None else 0

    async def count_audit_statuses(
        self, start: float, end: float, endpoint: str | None = None
    ) -> dict[int, int]:
        """Data accesses recorded in [start, end), of ``endpoint`` if given, by HTTP status
        (gateway/response_rate.py)."""
        rows = await self._all(
            "SELECT status, count(*) FROM audit_events WHERE time >= %s AND time < %s"
            " AND (%s::text IS NULL OR endpoint = %s) GROUP BY status",
            (start, end, endpoint, endpoint),
        )
        return {int(status): int(n) for status, n in rows}

    async def aclose(self) -> None:
        async with self._opening:
            pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    # -------------------------------------------------------------------- connections

    async def _open(self) -> AsyncConnectionPool[Conn]:
        """The pool, opened on first use. A first direct connection gives an unreachable or
        misconfigured server's own reason at once, instead of a pool timeout later."""
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is None:
                await self._probe()
                pool = AsyncConnectionPool(
                    self._url,
                    min_size=self._min_size,
                    max_size=self._max_size,
                    timeout=self._timeout,
                    kwargs={"autocommit": True, "connect_timeout": _connect_timeout(self)},
                    configure=self._configure,
                    name="fdxgw-records",
                    open=False,
                )
                await pool.open()
                self._pool = pool
            return self._pool

    async def _probe(self) -> None:
        try:
            conn = await AsyncConnection.connect(
                self._url, autocommit=True, connect_timeout=_connect_timeout(self)
            )
        except psycopg.OperationalError as exc:
            raise RecordsUnavailable(f"PostgreSQL at {self._where}: {_reason(exc)}") from None
        await conn.close()

    async def _configure(self, conn: Conn) -> None:
        """Each new pooled connection: JSON columns read with orjson, as SQLite's are; READ
        COMMITTED whatever the role's or database's default, because linking the trail reads
        the chain's head in a statement after the lock, and only READ COMMITTED gives that
        statement a snapshot taken after the lock was granted (a REPEATABLE READ default would
        read a stale head and fail the batch on the seq's key)."""
        set_json_loads(orjson.loads, conn)
        await conn.set_isolation_level(IsolationLevel.READ_COMMITTED)
        # The audit batch is bound on the client side (one multi-statement query), so its text
        # holds the consumers' identifiers, and PostgreSQL logs a failing statement's text by
        # default (log_min_error_statement = error). Not for this session's statements: the
        # error itself is still logged. Only a superuser may set it here; otherwise the
        # operator sets it on the gateway's role (docs/operations.md).
        try:
            await conn.execute("SET log_min_error_statement = panic")
        except errors.InsufficientPrivilege:
            if not self._told_log_setting:
                self._told_log_setting = True
                log.warning(
                    "records.statement_logging_on: PostgreSQL logs failing statements' text;"
                    " set log_min_error_statement = panic on the gateway's role"
                )
        if self._pool is not None:
            self._errors_at_connect = self._pool.get_stats().get("connections_errors", 0)
        self._suspect = False

    def _failing(self, pool: AsyncConnectionPool[Conn]) -> bool:
        """No idle connection, and the pool could not make one since the last failure: waiting
        for the timeout would only delay the same answer."""
        if not self._suspect:
            return False
        stats = pool.get_stats()
        return stats.get("pool_available", 0) == 0 and (
            stats.get("connections_errors", 0) > self._errors_at_connect
        )

    async def _retry(self) -> None:
        """While the server is away, one call a second tries it directly (and, when it is back,
        goes on to the pool, which its demand makes reconnect); the rest fail at once."""
        now = time.monotonic()
        if now < self._next_probe:
            raise RecordsUnavailable(f"PostgreSQL at {self._where}: cannot connect")
        self._next_probe = now + _RETRY_EVERY
        await self._probe()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Conn]:
        """A pooled connection; every connection-level failure becomes RecordsUnavailable."""
        try:
            pool = await self._open()
            if self._failing(pool):
                await self._retry()
            async with pool.connection() as conn:
                yield conn
        except psycopg.OperationalError as exc:
            self._suspect = True
            raise RecordsUnavailable(f"PostgreSQL at {self._where}: {_reason(exc)}") from None

    @asynccontextmanager
    async def _bounded(self, what: str) -> AsyncIterator[None]:
        """A batched round trip (the gate's consent check, the audit batch) within the store's
        timeout. One batch is in flight at a time (authz.store.batch), so a query stuck on a
        lock or a half-dead connection would otherwise hold every FDX request of the process,
        none answered; bounded, they fail closed with 503 (RecordsUnavailable) and the pool
        drops the connection the cancelled query leaves busy."""
        try:
            async with asyncio.timeout(self._timeout):
                yield
        except TimeoutError:
            self._suspect = True
            raise RecordsUnavailable(
                f"PostgreSQL at {self._where}: {what} took over {self._timeout:g} s"
            ) from None

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[Conn]:
        """A transaction in pipeline mode: statements are sent without waiting for each other's
        results, so a write costs a round trip per result it needs, plus the commit."""
        async with self._connection() as conn, conn.pipeline(), conn.transaction():
            yield conn

    async def _one(self, sql: str, params: Sequence[Any]) -> Any:
        async with self._connection() as conn:
            return await (await conn.execute(sql, params)).fetchone()

    async def _all(self, sql: str, params: Sequence[Any]) -> list[Any]:
        async with self._connection() as conn:
            return await (await conn.execute(sql, params)).fetchall()

    async def _run(self, sql: str, params: Sequence[Any]) -> int:
        """One statement, committed on its own; returns the rows it changed."""
        async with self._connection() as conn:
            return (await conn.execute(sql, params)).rowcount

    def _remember(self, consent: Consent) -> Consent:
        if consent.id not in self._consents and len(self._consents) >= _CONSENT_CACHE:
            self._consents.pop(next(iter(self._consents)))
        self._consents[consent.id] = consent
        return consent


class _Prefetch:
    """A recipient status read by ``get_consent``, handed to the ``client_status`` call of the
    same store that follows it in the same task and the same turn of the event loop, and to no
    other.

    The status is as fresh as the consent beside it: read by a statement that began after the
    caller's request did. Another task, or this one after an ``await`` let the loop turn (a
    background loop, a later request), finds nothing and reads the database itself. Each task
    holds its own (a context variable), so the many requests a batched check answers in one
    turn each take theirs."""

    def put(self, client_id: str, status: str | None) -> None:
        held = _Prefetched(self, client_id, status)
        _prefetched.set(held)
        asyncio.get_running_loop().call_soon(held.expire)

    def take(self, client_id: str) -> tuple[bool, str | None]:
        held = _prefetched.get()
        if held is None or not held.live or held.owner is not self or held.client_id != client_id:
            return False, None
        held.live = False  # once
        return True, held.status


class _Prefetched:
    __slots__ = ("client_id", "live", "owner", "status")

    def __init__(self, owner: _Prefetch, client_id: str, status: str | None) -> None:
        self.owner, self.client_id, self.status, self.live = owner, client_id, status, True

    def expire(self) -> None:
        self.live = False


# ---------------------------------------------------------------------------- helpers


def _require_dialect() -> None:
    gap = dialect_gap()
    if gap is not None:
        raise SchemaError(gap)


async def _fetch_one(conn: Conn, sql: str, params: Sequence[Any]) -> Any:
    return await (await conn.execute(sql, params)).fetchone()


async def _require_utf8(conn: Conn) -> None:
    """The audit trail's links are hashed in SQL over the rows' text (``append_audit``): only a
    UTF-8 database gives the bytes Python's ``chain.link_hash`` hashes. Under SQL_ASCII or
    LATIN1 a non-ASCII name would make a link that ``fdxgw audit verify`` calls broken."""
    (encoding,) = await _fetch_one(conn, "SHOW server_encoding", ())
    if encoding != "UTF8":
        raise SchemaError(f"the database's encoding is {encoding}; the gateway needs UTF8")


async def _version(conn: Conn) -> int:
    """The schema version the database holds; SchemaError if it is someone else's."""
    has_versions, tables = await _fetch_one(conn, _SCHEMA_STATE, ())
    if not has_versions:
        if tables:
            raise SchemaError("the database holds tables that are not ours")
        return 0
    try:
        rows = await (
            await conn.execute(
                "SELECT application, max(version) FROM schema_version GROUP BY application"
            )
        ).fetchall()
    except errors.UndefinedColumn:
        raise SchemaError("the database's schema_version table is not ours") from None
    if not rows:
        return 0
    if len(rows) > 1 or rows[0][0] != APPLICATION_ID:
        raise SchemaError(f"the database belongs to another application (id {rows[0][0]:#x})")
    version = int(rows[0][1])
    if version > CURRENT_VERSION:
        raise SchemaError(
            f"database schema version {version} is newer than this code ({CURRENT_VERSION})"
        )
    return version


async def _has_table(conn: Conn, name: str) -> bool:
    row = await _fetch_one(conn, "SELECT to_regclass(%s) IS NOT NULL", (name,))
    return bool(row[0])


async def _insert_event(conn: Conn, e: ConsentEvent, consent: Consent | None) -> None:
    """The event and its trail link, in the caller's transaction. Without ``consent`` (history
    that does not change it) the link records the consent as stored."""
    await conn.execute(_INSERT_EVENT, (e.consent_id, e.time, e.event, e.actor, e.reason, e.detail))
    if consent is not None:
        await _link(conn, [chain.consent_item_of(consent, e)])
        return
    row = await _fetch_one(
        conn,
        "SELECT client_id, customer_id, status, version FROM consents WHERE id = %s",
        (e.consent_id,),
    )
    client_id, customer_id, status, version = row  # the insert above proved it exists
    item = chain.consent_item(
        e, client_id=client_id, customer_id=customer_id, status=status, version=version
    )
    await _link(conn, [item])


async def _link(conn: Conn, items: Sequence[chain.Item]) -> None:
    """Append links after the chain's head. The advisory lock is held to the end of the
    caller's transaction, and under READ COMMITTED the head is read by a statement that starts
    after the lock was granted, so it sees the previous holder's committed links: writers in
    every process append one after another."""
    await conn.execute(_TAKE_TRAIL_LOCK, _TRAIL_LOCK)
    head = await _fetch_one(conn, _TRAIL_HEAD, ())
    seq, prev = head if head is not None else (0, chain.GENESIS)
    async with conn.cursor() as cursor:
        await cursor.executemany(
            _INSERT_TRAIL,
            [
                (t.seq, t.time, t.kind, t.record, t.prev_hash, t.hash)
                for t in chain.link(seq, prev, items)
            ],
        )


async def _backfill_trail(conn: Conn) -> None:
    """Link history stored before the trail existed, in time order (an upgrade, once)."""
    events = await (
        await conn.execute(
            "SELECT e.consent_id, e.time, e.event, e.actor, e.reason, e.detail, c.client_id,"
            " c.customer_id, c.status, c.version FROM consent_events e JOIN consents c"
            " ON c.id = e.consent_id ORDER BY e.time, e.id"
        )
    ).fetchall()
    items = [
        chain.consent_item(
            ConsentEvent(*r[:6]), client_id=r[6], customer_id=r[7], status=r[8], version=r[9]
        )
        for r in events
    ]
    accesses = await (
        await conn.execute(
            "SELECT id, time, consent_id, client_id, customer_id, endpoint, account_ids,"
            " clusters, record_count, status, interaction_id FROM audit_events ORDER BY seq"
        )
    ).fetchall()
    items += [chain.access_item(_audit(r)) for r in accesses]
    items.sort(key=lambda item: item[0])  # stable: equal times keep their table order
    if items:
        await _link(conn, items)


@asynccontextmanager
async def _integrity(message: str) -> AsyncIterator[None]:
    try:
        yield
    except psycopg.IntegrityError as exc:
        raise ValueError(message) from exc


@asynccontextmanager
async def _rolled_back_on_error(conn: Conn) -> AsyncIterator[None]:
    """For a transaction the caller opened with ``BEGIN`` itself: nothing of it is left open
    (or committed) when it fails half-way, or when the connection is returned."""
    try:
        yield
    except BaseException:
        # ACTIVE: a query cancelled mid-way (a timeout); the pool closes such a connection,
        # which ends its transaction, where a ROLLBACK would only wait behind the query.
        status = conn.info.transaction_status
        if not conn.closed and status not in (TransactionStatus.IDLE, TransactionStatus.ACTIVE):
            with contextlib.suppress(psycopg.Error):
                await conn.rollback()
        raise


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _consent_row(c: Consent) -> tuple[Any, ...]:
    return (
        c.id,
        c.customer_id,
        c.client_id,
        c.status.value,
        c.version,
        c.created_at,
        _json(c.to_dict()),
    )


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


def _audit(r: Sequence[Any]) -> AuditEvent:
    return AuditEvent(
        id=r[0],
        time=r[1],
        consent_id=r[2],
        client_id=r[3],
        customer_id=r[4],
        endpoint=r[5],
        account_ids=tuple(r[6]),
        clusters=tuple(r[7]),
        record_count=r[8],
        status=r[9],
        interaction_id=r[10],
    )


def _delivery(r: Sequence[Any]) -> NotificationDelivery:
    return NotificationDelivery(*r)


def _describe(url: str) -> str:
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(unparsable database_url)"
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def _connect_timeout(store: PostgresRecordStore) -> int:
    return max(2, math.ceil(store._timeout))  # libpq's smallest effective connect_timeout


def _reason(exc: BaseException) -> str:
    """libpq's first line (host, port and cause; never the password)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
