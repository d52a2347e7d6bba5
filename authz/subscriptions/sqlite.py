"""Subscriptions in the gateway's SQLite file, in a table of their own.

Its own connection to the record store's file (WAL lets both write); statements are literals
with ``?`` parameters. Called inline, as the record store is: each is a primary-key or indexed
lookup on a small table.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

import orjson

from authz.subscriptions.model import Subscription

_CREATE = (
    """CREATE TABLE IF NOT EXISTS notification_subscriptions (
        id            TEXT PRIMARY KEY,
        client_id     TEXT NOT NULL,
        type          TEXT NOT NULL,
        category      TEXT NOT NULL,
        callback_url  TEXT NOT NULL,
        effective_date TEXT NOT NULL,
        created_at    REAL NOT NULL,
        deleted_at    REAL,
        subscriber    TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS notification_subscriptions_client"
    " ON notification_subscriptions (client_id, created_at)",
)
_SELECT = (
    "SELECT id, client_id, type, category, callback_url, effective_date, created_at,"
    " deleted_at, subscriber FROM notification_subscriptions"
)
_INSERT = (
    "INSERT INTO notification_subscriptions (id, client_id, type, category, callback_url,"
    " effective_date, created_at, deleted_at, subscriber) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_BY_ID = _SELECT + " WHERE id = ?"
_OF_CLIENT = _SELECT + " WHERE client_id = ? AND deleted_at IS NULL ORDER BY created_at, id"
_DELETE = "UPDATE notification_subscriptions SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL"
_BUSY_TIMEOUT_MS = 5000


class SqliteSubscriptionStore:
    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    async def migrate(self) -> None:
        with self._lock:
            db = self._db()
            for statement in _CREATE:
                db.execute(statement)

    async def create(self, subscription: Subscription) -> None:
        with self._lock:
            try:
                self._db().execute(_INSERT, (*subscription.row(), _json(subscription)))
            except sqlite3.IntegrityError:
                raise ValueError("duplicate subscription id") from None

    async def get(self, subscription_id: str) -> Subscription | None:
        with self._lock:
            row = self._db().execute(_BY_ID, (subscription_id,)).fetchone()
        return None if row is None else _subscription(row)

    async def list_for_client(self, client_id: str) -> Sequence[Subscription]:
        with self._lock:
            rows = self._db().execute(_OF_CLIENT, (client_id,)).fetchall()
        return [_subscription(r) for r in rows]

    async def delete(self, subscription_id: str, *, now: float) -> bool:
        with self._lock:
            cursor = self._db().execute(_DELETE, (now, subscription_id))
        return cursor.rowcount == 1

    async def aclose(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            # Autocommit: every statement above is a whole change on its own.
            conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            self._conn = conn
        return self._conn


def _json(subscription: Subscription) -> str:
    return orjson.dumps(subscription.subscriber).decode()


def _subscription(row: Sequence[Any]) -> Subscription:
    return Subscription(
        id=row[0],
        client_id=row[1],
        type=row[2],
        category=row[3],
        callback_url=row[4],
        effective_date=row[5],
        created_at=row[6],
        deleted_at=row[7],
        subscriber=orjson.loads(row[8]),
    )
