"""The notice families in the gateway's SQLite file, beside the record store's tables.

Its own connection (WAL, a busy timeout), called inline as the record store's is: these are
a few small statements per notice, far from any hot path."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from authz.notices.store.base import NoticeRecords
from authz.notices.store.sql import Row, SqlDeletions, SqlInbox, SqlLanguages, SqlOutbox

_BUSY_TIMEOUT_MS = 5000


class SqliteDatabase:
    locks_rows = False  # one writer at a time: an UPDATE … RETURNING is atomic

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._ready = False
        self._lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            self._conn = conn
        return self._conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            cursor = self._db().execute(sql, tuple(params))
            return list(cursor.fetchall())

    async def ensure(self, ddl: Sequence[str]) -> None:
        if self._ready:
            return
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in ddl:
                    db.execute(statement)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        self._ready = True

    async def aclose(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
                self._ready = False


def open_sqlite(path: str) -> NoticeRecords:
    db = SqliteDatabase(path)
    return NoticeRecords(SqlOutbox(db), SqlInbox(db), SqlLanguages(db), SqlDeletions(db))
