"""The SQLite file's schema: created, upgraded, or refused when it is not ours."""

from __future__ import annotations

import sqlite3

from authz.store.base import SchemaError
from authz.store.schema import APPLICATION_ID, CURRENT_VERSION, MIGRATIONS
from authz.store.sqlite.connection import SqliteDb
from authz.store.sqlite.links import backfill_trail


class SqliteSchema:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    async def migrate(self) -> None:
        self._db.make_parent()
        with self._db.schema_errors(), self._db.tx() as db:
            version = _version(db)
            had_trail = _has_table(db, "trail")
            for number in range(version + 1, CURRENT_VERSION + 1):
                for statement in MIGRATIONS[number - 1]:
                    db.execute(statement)
            if not had_trail and _has_table(db, "trail"):
                backfill_trail(db)  # history stored before the trail existed is linked too
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {CURRENT_VERSION}")

    async def check(self) -> None:
        if not self._db.exists():
            raise SchemaError(f"no database at {self._db.path}; run migrate first")
        with self._db.schema_errors(), self._db.lock:
            version = _version(self._db.db())
        if version != CURRENT_VERSION:
            raise SchemaError(
                f"database schema version {version}, this code needs {CURRENT_VERSION}"
            )


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


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None
