"""The embedded ``RecordStore``: one SQLite file, stdlib ``sqlite3``, called inline.

Why inline and not on a thread: a warm primary-key select costs ~3.5 µs, a thread hand-off ~55 µs
(docs/performance.md), so blocking the loop for the statement is cheaper than leaving it. WAL lets
readers run beside the one writer, so several processes of one node can share the file; every write
is its own committed transaction, so an application crash loses nothing (``synchronous=NORMAL`` in
WAL mode may lose the last commits on power loss only, never corrupt the file).

Errors: a duplicate consent id, or an event or refresh token for a consent that does not exist,
raises ``ValueError`` (as the in-memory store does); a schema this code does not know raises
``SchemaError``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple
from pathlib import Path
from typing import Any, ClassVar

import orjson

from authz.consent.model import Consent, ConsentEvent
from authz.store import chain
from authz.store.base import (
    AuditEvent,
    ClientRecord,
    NotificationDelivery,
    RefreshToken,
    SchemaError,
    TrailAnchor,
    TrailEntry,
)
from authz.store.schema import APPLICATION_ID, CURRENT_VERSION, MIGRATIONS

log = logging.getLogger(__name__)

_HAS_RETURNING = sqlite3.sqlite_version_info >= (3, 35, 0)
_BUSY_TIMEOUT_MS = 5000
# Statements are literals: every value goes through a ? parameter.
_INSERT_REFRESH = (
    "INSERT INTO refresh_tokens (token_hash, consent_id, client_id, created_at, expires_at,"
    " used_at, revoked_at, jkt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_USE_REFRESH = (
    "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?"
    " AND used_at IS NULL AND revoked_at IS NULL"
    " RETURNING token_hash, consent_id, client_id, created_at, expires_at, NULL, NULL, jkt"
)
_CONSENT_CACHE = 10_000
_CLIENT_CACHE = 10_000
_CHECKPOINT_EVERY = 500  # commits between WAL checkpoints (SQLite's own default: 1000 pages)
_SELECT_REFRESH = (
    "SELECT token_hash, consent_id, client_id, created_at, expires_at, used_at, revoked_at,"
    " jkt FROM refresh_tokens WHERE token_hash = ?"
)
_INSERT_AUDIT = (
    "INSERT INTO audit_events (id, time, consent_id, client_id, customer_id, endpoint,"
    " account_ids, clusters, record_count, status, interaction_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_AUDIT = (
    "SELECT id, time, consent_id, client_id, customer_id, endpoint, account_ids, clusters,"
    " record_count, status, interaction_id FROM audit_events WHERE consent_id = ?"
    " ORDER BY time, rowid"
)
_INSERT_TRAIL = (
    "INSERT INTO trail (seq, time, kind, record, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_DELIVERY = (
    "INSERT OR IGNORE INTO notification_deliveries (id, client_id, consent_id, kind,"
    " notification, created_at, next_attempt_at, dedupe_key, attempts, last_status,"
    " delivered_at, given_up_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_DUE_DELIVERIES = (
    "SELECT id, client_id, consent_id, kind, notification, created_at, next_attempt_at,"
    " dedupe_key, attempts, last_status, delivered_at, given_up_at FROM notification_deliveries"
    " WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= ?"
    " ORDER BY next_attempt_at LIMIT ?"
)
_DELIVERY_BY_ID = (
    "SELECT id, client_id, consent_id, kind, notification, created_at, next_attempt_at,"
    " dedupe_key, attempts, last_status, delivered_at, given_up_at FROM notification_deliveries"
    " WHERE id = ?"
)
_DELIVERIES_OF_CONSENT = (
    "SELECT id, client_id, consent_id, kind, notification, created_at, next_attempt_at,"
    " dedupe_key, attempts, last_status, delivered_at, given_up_at FROM notification_deliveries"
    " WHERE consent_id = ? ORDER BY created_at, rowid"
)


class SqliteRecordStore:
    # Every store of this process, by file: a commit through one forgets the data_version the
    # others hold for the current turn of the loop (_outside_version).
    _on_file: ClassVar[dict[str, weakref.WeakSet[SqliteRecordStore]]] = {}

    def __init__(self, path: str) -> None:
        self._path = path
        self._on_file.setdefault(path, weakref.WeakSet()).add(self)
        self._conn: sqlite3.Connection | None = None
        self._consents: dict[str, Consent] = {}  # parsed consents by id, checked by version
        self._fresh: set[str] = set()  # cached ids known current since _data_version was read
        self._data_version: int | None = None
        self._statuses: dict[str, str] = {}  # client statuses, valid for _statuses_version
        self._statuses_version: int | None = None
        self._version_read: tuple[object, int] | None = None  # (loop, data_version)
        self._commits = 0
        self._checkpointer: threading.Thread | None = None
        self._catch_up = False  # the background checkpoint left frames only this one can copy
        # The loop thread is the only caller in practice; the lock keeps a transaction whole if a
        # worker thread (e.g. a sync bridge) ever calls in too. Uncontended it costs ~50 ns.
        self._lock = threading.Lock()

    # -------------------------------------------------------------------- schema

    async def migrate(self) -> None:
        self._make_parent()
        with self._schema_errors(), self._tx() as db:
            version = _version(db)
            had_trail = _has_table(db, "trail")
            for number in range(version + 1, CURRENT_VERSION + 1):
                for statement in MIGRATIONS[number - 1]:
                    db.execute(statement)
            if not had_trail and _has_table(db, "trail"):
                _backfill_trail(db)  # history stored before the trail existed is linked too
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {CURRENT_VERSION}")

    async def check_schema(self) -> None:
        if not self._exists():
            raise SchemaError(f"no database at {self._path}; run migrate first")
        with self._schema_errors(), self._lock:
            version = _version(self._db())
        if version != CURRENT_VERSION:
            raise SchemaError(
                f"database schema version {version}, this code needs {CURRENT_VERSION}"
            )

    # -------------------------------------------------------------------- clients

    async def put_client(self, client: ClientRecord) -> None:
        # Our own commits do not move PRAGMA data_version: forget the cached status ourselves.
        self._statuses.pop(client.client_id, None)
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO clients (client_id, data) VALUES (?, ?)",
                (client.client_id, _json(client.to_dict())),
            )

    async def get_client(self, client_id: str) -> ClientRecord | None:
        row = self._one("SELECT data FROM clients WHERE client_id = ?", (client_id,))
        return None if row is None else ClientRecord.from_dict(orjson.loads(row[0]))

    async def client_status(self, client_id: str) -> str | None:
        # On every FDX call (a suspended recipient is refused on its next request), so cached
        # like consents: a select and parse cost ~10 µs, the PRAGMA ~2 µs. Another connection's
        # commit (``fdxgw recipients suspend`` in another process) moves data_version and
        # empties the cache; this store's own writes drop their entry (put_client).
        with self._lock:
            outside = self._outside_version()
            if outside != self._statuses_version:
                self._statuses_version = outside
                self._statuses.clear()
            else:
                cached = self._statuses.get(client_id)
                if cached is not None:
                    return cached
        row = self._one("SELECT data FROM clients WHERE client_id = ?", (client_id,))
        if row is None:
            return None
        status = str(orjson.loads(row[0]).get("status") or "approved")  # from_dict's default
        if len(self._statuses) >= _CLIENT_CACHE:
            self._statuses.pop(next(iter(self._statuses)))
        self._statuses[client_id] = status
        return status

    async def list_clients(self) -> list[ClientRecord]:
        rows = self._all("SELECT data FROM clients ORDER BY client_id", ())
        return [ClientRecord.from_dict(orjson.loads(r[0])) for r in rows]

    # -------------------------------------------------------------------- consents

    async def create_consent(self, consent: Consent, event: ConsentEvent) -> None:
        with self._integrity("consent already exists"), self._tx() as db:
            db.execute(
                "INSERT INTO consents (id, customer_id, client_id, status, version, created_at,"
                " data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                _consent_row(consent),
            )
            _insert_event(db, event, consent)

    async def get_consent(self, consent_id: str) -> Consent | None:
        # Read on every FDX call (the live consent check), so it is cached, never stale:
        # - this store's own writes drop the cached entry as they commit;
        # - PRAGMA data_version moves when any *other* connection (another gateway process on
        #   the same file) commits; then each cached consent is re-validated by its version
        #   (one indexed read) before it is trusted again.
        with self._lock:
            outside = self._outside_version()
            if outside != self._data_version:
                self._data_version = outside
                self._fresh.clear()
            elif consent_id in self._fresh:
                return self._consents[consent_id]
        row = self._one("SELECT version FROM consents WHERE id = ?", (consent_id,))
        if row is None:
            return None
        cached = self._consents.get(consent_id)
        if cached is not None and cached.version == row[0]:
            self._fresh.add(consent_id)
            return cached
        data = self._one("SELECT data FROM consents WHERE id = ?", (consent_id,))
        if data is None:
            return None
        consent = Consent.from_dict(orjson.loads(data[0]))
        if len(self._consents) >= _CONSENT_CACHE:
            evicted = next(iter(self._consents))
            self._consents.pop(evicted)
            self._fresh.discard(evicted)
        self._consents[consent_id] = consent
        self._fresh.add(consent_id)
        return consent

    async def update_consent(
        self, consent: Consent, event: ConsentEvent, *, expected_version: int
    ) -> bool:
        if consent.version <= expected_version:
            raise ValueError("a consent update must raise its version")
        # Our own commits do not move PRAGMA data_version: forget the cached copy ourselves.
        self._fresh.discard(consent.id)
        self._consents.pop(consent.id, None)
        with self._integrity("event for an unknown consent"), self._tx() as db:
            cursor = db.execute(
                "UPDATE consents SET customer_id = ?, client_id = ?, status = ?, version = ?,"
                " created_at = ?, data = ? WHERE id = ? AND version = ?",
                (*_consent_row(consent)[1:], consent.id, expected_version),
            )
            if cursor.rowcount == 0:
                return False  # the transaction commits nothing
            _insert_event(db, event, consent)
            return True

    async def list_consents(
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
        return [Consent.from_dict(orjson.loads(r[0])) for r in self._all(sql, tuple(params))]

    async def consent_events(self, consent_id: str) -> list[ConsentEvent]:
        rows = self._all(
            "SELECT consent_id, time, event, actor, reason, detail FROM consent_events"
            " WHERE consent_id = ? ORDER BY time, id",
            (consent_id,),
        )
        return [ConsentEvent(*r) for r in rows]

    async def append_consent_event(self, event: ConsentEvent) -> None:
        with self._integrity("event for an unknown consent"), self._tx() as db:
            _insert_event(db, event, None)

    # -------------------------------------------------------------------- refresh tokens

    async def put_refresh_token(self, token: RefreshToken) -> None:
        with (
            self._integrity("refresh token for an unknown consent or reused hash"),
            self._tx() as db,
        ):
            # The columns are RefreshToken's fields, in order (as the SELECT reads them back).
            db.execute(_INSERT_REFRESH, astuple(token))

    async def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        row = self._one(_SELECT_REFRESH, (token_hash,))
        return None if row is None else _token(*row)

    async def use_refresh_token(
        self, token_hash: str, now: float
    ) -> tuple[RefreshToken | None, bool]:
        """One conditional UPDATE decides the winner (RFC 6749 §10.4 rotation): only a live token
        matches, so of two concurrent callers, even in two processes, exactly one gets a row."""
        with self._tx() as db:
            if _HAS_RETURNING:
                won = db.execute(_USE_REFRESH, (now, token_hash)).fetchall()
                if won:
                    return _token(*won[0]), True  # as it was: used_at and revoked_at NULL
            row = db.execute(_SELECT_REFRESH, (token_hash,)).fetchone()
            if row is None:
                return None, False
            token = _token(*row)
            if token.used_at is not None or token.revoked_at is not None:
                return token, False
            # Only reached without RETURNING: BEGIN IMMEDIATE holds the write lock since the SELECT.
            db.execute(
                "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?", (now, token_hash)
            )
            return token, True

    async def revoke_refresh_tokens(self, consent_id: str, now: float) -> int:
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE refresh_tokens SET revoked_at = ?"
                " WHERE consent_id = ? AND used_at IS NULL AND revoked_at IS NULL",
                (now, consent_id),
            )
            return cursor.rowcount

    # -------------------------------------------------------------------- audit

    async def append_audit(self, events: Sequence[AuditEvent]) -> None:
        """One transaction per batch, appended in order (the audit trail is append-only)."""
        if not events:
            return
        links = [chain.access_item(e) for e in events]  # hashed inside, encoded out here
        with self._tx() as db:
            db.executemany(
                _INSERT_AUDIT,
                [
                    (
                        e.id,
                        e.time,
                        e.consent_id,
                        e.client_id,
                        e.customer_id,
                        e.endpoint,
                        _json(list(e.account_ids)),
                        _json(list(e.clusters)),
                        e.record_count,
                        e.status,
                        e.interaction_id,
                    )
                    for e in events
                ],
            )
            _link(db, links)

    async def list_audit(self, *, consent_id: str) -> list[AuditEvent]:
        return [_audit(r) for r in self._all(_SELECT_AUDIT, (consent_id,))]

    # -------------------------------------------------------------------- audit trail

    async def list_trail(
        self,
        *,
        after_seq: int = 0,
        limit: int = 1000,
        start: float | None = None,
        end: float | None = None,
    ) -> list[TrailEntry]:
        sql = "SELECT seq, time, kind, record, prev_hash, hash FROM trail WHERE seq > ?"
        params: list[Any] = [after_seq]
        if start is not None:
            sql += " AND time >= ?"
            params.append(start)
        if end is not None:
            sql += " AND time < ?"
            params.append(end)
        sql += " ORDER BY seq LIMIT ?"
        params.append(limit)
        return [TrailEntry(*r) for r in self._all(sql, tuple(params))]

    async def trail_anchor(self) -> TrailAnchor | None:
        row = self._one("SELECT seq, time, hash FROM trail_anchor WHERE id = 1", ())
        return None if row is None else TrailAnchor(*row)

    async def prune_trail(self, before: float) -> int:
        with self._tx() as db:
            first_kept = db.execute(
                "SELECT min(seq) FROM trail WHERE time >= ?", (before,)
            ).fetchone()[0]
            if first_kept is None:
                first_kept = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM trail").fetchone()[0]
            last = db.execute(
                "SELECT seq, time, hash FROM trail WHERE seq < ? ORDER BY seq DESC LIMIT 1",
                (first_kept,),
            ).fetchone()
            if last is not None:
                db.execute(
                    "INSERT OR REPLACE INTO trail_anchor (id, seq, time, hash) VALUES (1, ?, ?, ?)",
                    last,
                )
            pruned = db.execute("DELETE FROM trail WHERE seq < ?", (first_kept,)).rowcount
            db.execute("DELETE FROM audit_events WHERE time < ?", (before,))
            return int(pruned)

    # -------------------------------------------------------------------- notifications

    async def enqueue_notification(self, delivery: NotificationDelivery) -> bool:
        with self._tx() as db:
            cursor = db.execute(
                _INSERT_DELIVERY,
                (
                    delivery.id,
                    delivery.client_id,
                    delivery.consent_id,
                    delivery.kind,
                    _json(delivery.notification),
                    delivery.created_at,
                    delivery.next_attempt_at,
                    delivery.dedupe_key,
                    delivery.attempts,
                    delivery.last_status,
                    delivery.delivered_at,
                    delivery.given_up_at,
                ),
            )
            return cursor.rowcount == 1

    async def claim_notifications(
        self, now: float, *, limit: int, lease: float
    ) -> list[NotificationDelivery]:
        with self._tx() as db:  # IMMEDIATE: two workers never claim the same row
            rows = db.execute(_DUE_DELIVERIES, (now, limit)).fetchall()
            db.executemany(
                "UPDATE notification_deliveries SET next_attempt_at = ? WHERE id = ?",
                [(now + lease, r[0]) for r in rows],
            )
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
        with self._tx() as db:
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

    async def get_notification(self, delivery_id: str) -> NotificationDelivery | None:
        row = self._one(_DELIVERY_BY_ID, (delivery_id,))
        return None if row is None else _delivery(row)

    async def list_notifications(self, *, consent_id: str) -> list[NotificationDelivery]:
        rows = self._all(_DELIVERIES_OF_CONSENT, (consent_id,))
        return [_delivery(r) for r in rows]

    async def consents_expiring(
        self, before: float, *, limit: int, after: tuple[float, str] | None = None
    ) -> list[Consent]:
        # The expression matches the partial index consents_active_expiry; the row value
        # compares (expires_at, id) as the keyset cursor (SQLite >= 3.15).
        start, start_id = after if after is not None else (float("-inf"), "")
        rows = self._all(
            "SELECT data FROM consents WHERE status = 'ACTIVE'"
            " AND json_extract(data, '$.expires_at') < ?"
            " AND (json_extract(data, '$.expires_at'), id) > (?, ?)"
            " ORDER BY json_extract(data, '$.expires_at'), id LIMIT ?",
            (before, start, start_id, limit),
        )
        return [Consent.from_dict(orjson.loads(r[0])) for r in rows]

    async def count_active_consents(self, now: float) -> int:
        # Both terms read the partial index consents_active_expiry (status = 'ACTIVE').
        row = self._one(
            "SELECT (SELECT count(*) FROM consents WHERE status = 'ACTIVE'"
            " AND json_extract(data, '$.expires_at') > ?)"
            " + (SELECT count(*) FROM consents WHERE status = 'ACTIVE'"
            " AND json_extract(data, '$.expires_at') IS NULL)",
            (now,),
        )
        return int(row[0]) if row is not None else 0

    async def aclose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=5)
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -------------------------------------------------------------------- internals

    def _make_parent(self) -> None:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _keep_private(self) -> None:
        """The database holds personal data and the audit trail: it is created 0600, and a file
        left readable by others (an older gateway made it 0644) loses that access. SQLite gives
        the -wal and -shm files the database file's mode, so they follow it."""
        if self._path == ":memory:":
            return
        try:
            os.close(os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        for name in (self._path, self._path + "-wal", self._path + "-shm"):
            try:
                mode = os.stat(name).st_mode & 0o777
                if mode & 0o077:
                    os.chmod(name, mode & 0o700)
            except FileNotFoundError:
                continue

    def _exists(self) -> bool:
        """Whether there is a database to check, without creating an empty one by looking."""
        return self._conn is not None or self._path == ":memory:" or Path(self._path).is_file()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._keep_private()
            # isolation_level=None: no implicit transactions; _tx() says where they begin and end.
            conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            try:
                conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                # Checkpoints run on a thread of their own (_after_commit), not inside a request's
                # commit: an automatic one stalls the event loop for tens of milliseconds.
                conn.execute("PRAGMA wal_autocheckpoint = 0")
                conn.execute("PRAGMA foreign_keys = ON")
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, committed before returning. IMMEDIATE takes the write lock up
        front, so a read-then-write inside cannot be overtaken by another process."""
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            self._tell_neighbours()
            self._after_commit()

    def _after_commit(self) -> None:
        """Every so many commits, copy the WAL back into the database on a background thread.
        PASSIVE never blocks writers or readers; sqlite3 releases the GIL while it works.

        Under steady writes that pass never catches up with the frames this connection appends
        while it runs, so SQLite never restarted the WAL, which grew without end: ~0.9 GB after
        ~100,000 FDX requests under wrk, its mapped index growing the resident size with it
        (bench/memory.py). So after each background pass the next commit copies the
        remainder here, between two transactions, where nothing can be appended meanwhile: the
        checkpoint completes and the following commit starts the WAL afresh (~26 MB at most
        under the same load). The remainder is what was written during one background pass, a
        fraction of a full checkpoint; blocking checkpoints (RESTART, TRUNCATE) from the thread
        instead held the write lock for up to a second under load."""
        self._commits += 1
        if self._catch_up:
            self._catch_up = False
            try:
                self._db().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error:
                log.warning("sqlite.checkpoint_failed")  # the WAL keeps the data; retried later
            return
        busy = self._checkpointer is not None and self._checkpointer.is_alive()
        if self._commits < _CHECKPOINT_EVERY or busy or self._path == ":memory:":
            return
        self._commits = 0
        self._checkpointer = threading.Thread(
            target=self._checkpoint, name="sqlite-checkpoint", daemon=True
        )
        self._checkpointer.start()

    def _checkpoint(self) -> None:
        _checkpoint(self._path)
        # Even a pass that reports every frame copied only knew the frames present when it
        # began; this connection has kept appending since.
        self._catch_up = True

    def _outside_version(self) -> int:
        """``PRAGMA data_version``, read at most once per turn of the event loop (the caller
        holds the lock).

        The read opens and closes a read transaction, which under load costs ~10 µs (the WAL
        has moved since the last one, so a read mark is taken anew). Every FDX call needs it,
        twice (the consent, the recipient). So the value read in one turn of the loop serves
        every check made until the loop runs its next queued callback (``call_soon`` forgets
        it), and that is as fresh as reading it each time: the ready queue is first in, first
        out, so a check using the value belongs to a request whose task was queued before the
        read, that is a request the server had received before the read. A commit by another
        process before a request arrives is therefore still seen by that request; a commit by
        another store of this process forgets the value at once (``_tell_neighbours``). Off
        the event loop (a worker thread) the PRAGMA is read every time."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        read = self._version_read
        if read is not None and loop is not None and read[0] is loop:
            return read[1]
        version: int = self._db().execute("PRAGMA data_version").fetchone()[0]
        if loop is not None:
            self._version_read = mine = (loop, version)
            loop.call_soon(self._forget_version, mine)
        return version

    def _forget_version(self, read: tuple[object, int]) -> None:
        if self._version_read is read:
            self._version_read = None

    def _tell_neighbours(self) -> None:
        """Another store of this process on this file must see this commit at its next check,
        not at its next turn of the loop (usually there is none: one store per file)."""
        neighbours = self._on_file.get(self._path)
        if neighbours is not None and len(neighbours) > 1:
            for store in neighbours:
                if store is not self:
                    store._version_read = None

    def _one(self, sql: str, params: tuple[Any, ...]) -> Any:
        with self._lock:
            return self._db().execute(sql, params).fetchone()

    def _all(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self._lock:
            return self._db().execute(sql, params).fetchall()

    @staticmethod
    @contextmanager
    def _integrity(message: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.IntegrityError as exc:
            raise ValueError(message) from exc

    @contextmanager
    def _schema_errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError:
            raise  # locked, read-only, I/O: not a question of whose schema it is
        except sqlite3.DatabaseError as exc:  # "file is not a database", and the like
            raise SchemaError(f"{self._path} is not a record store database: {exc}") from exc


def _version(db: sqlite3.Connection) -> int:
    """The schema version in the file's header; SchemaError if the file is someone else's."""
    app_id = db.execute("PRAGMA application_id").fetchone()[0]
    version: int = db.execute("PRAGMA user_version").fetchone()[0]
    if app_id == 0 and version == 0:
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            raise SchemaError("the database holds tables that are not ours")
        return 0
    if app_id != APPLICATION_ID:
        raise SchemaError(f"the database belongs to another application (id {app_id:#x})")
    if version > CURRENT_VERSION:
        raise SchemaError(
            f"database schema version {version} is newer than this code ({CURRENT_VERSION})"
        )
    return version


def _token(
    token_hash: str,
    consent_id: str,
    client_id: str,
    created_at: float,
    expires_at: float,
    used_at: float | None = None,
    revoked_at: float | None = None,
    jkt: str | None = None,
) -> RefreshToken:
    # float(): RETURNING hands back the value as bound, before the column's REAL affinity.
    return RefreshToken(
        token_hash,
        consent_id,
        client_id,
        float(created_at),
        float(expires_at),
        used_at,
        revoked_at,
        jkt,
    )


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


def _insert_event(db: sqlite3.Connection, e: ConsentEvent, consent: Consent | None) -> None:
    """The event and its trail link, in the caller's transaction. Without ``consent`` (history
    that does not change it) the link records the consent as stored."""
    db.execute(
        "INSERT INTO consent_events (consent_id, time, event, actor, reason, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (e.consent_id, e.time, e.event, e.actor, e.reason, e.detail),
    )
    if consent is not None:
        _link(db, [chain.consent_item_of(consent, e)])
        return
    row = db.execute(
        "SELECT client_id, customer_id, status, version FROM consents WHERE id = ?",
        (e.consent_id,),
    ).fetchone()
    client_id, customer_id, status, version = row  # the insert above proved it exists
    _link(
        db,
        [
            chain.consent_item(
                e, client_id=client_id, customer_id=customer_id, status=status, version=version
            )
        ],
    )


def _link(db: sqlite3.Connection, items: Sequence[chain.Item]) -> None:
    """Append links after the last one. Callers hold BEGIN IMMEDIATE, so no writer in any
    process can append between reading the last hash and inserting after it."""
    last = db.execute("SELECT seq, hash FROM trail ORDER BY seq DESC LIMIT 1").fetchone()
    if last is None:
        last = db.execute("SELECT seq, hash FROM trail_anchor WHERE id = 1").fetchone()
    seq, prev = last if last is not None else (0, chain.GENESIS)
    db.executemany(_INSERT_TRAIL, chain.link_rows(seq, prev, items))


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


def _backfill_trail(db: sqlite3.Connection) -> None:
    """Link history stored before the trail existed, in time order (an upgrade, once)."""
    events = db.execute(
        "SELECT e.consent_id, e.time, e.event, e.actor, e.reason, e.detail, c.client_id,"
        " c.customer_id, c.status, c.version FROM consent_events e JOIN consents c"
        " ON c.id = e.consent_id ORDER BY e.time, e.id"
    ).fetchall()
    items = [
        chain.consent_item(
            ConsentEvent(*r[:6]), client_id=r[6], customer_id=r[7], status=r[8], version=r[9]
        )
        for r in events
    ]
    accesses = db.execute(
        "SELECT id, time, consent_id, client_id, customer_id, endpoint, account_ids, clusters,"
        " record_count, status, interaction_id FROM audit_events ORDER BY seq"
    ).fetchall()
    items += [chain.access_item(_audit(r)) for r in accesses]
    items.sort(key=lambda item: item[0])  # stable: equal times keep their table order
    if items:
        _link(db, items)


def _audit(r: Sequence[Any]) -> AuditEvent:
    return AuditEvent(
        id=r[0],
        time=r[1],
        consent_id=r[2],
        client_id=r[3],
        customer_id=r[4],
        endpoint=r[5],
        account_ids=tuple(orjson.loads(r[6])),
        clusters=tuple(orjson.loads(r[7])),
        record_count=r[8],
        status=r[9],
        interaction_id=r[10],
    )


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


def _checkpoint(path: str) -> None:
    """A PASSIVE checkpoint on a connection of its own."""
    try:
        conn = sqlite3.connect(path, timeout=5)
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        log.warning("sqlite.checkpoint_failed")  # the WAL keeps the data; the next one retries
