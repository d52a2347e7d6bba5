"""The PostgreSQL schema: created, upgraded, or refused when it is not ours."""

from __future__ import annotations

from psycopg import errors

from authz.store.base import SchemaError
from authz.store.postgres.connection import Conn, PostgresDb, fetch_one
from authz.store.postgres.links import LOCK_MIGRATE, backfill_trail
from authz.store.schema import APPLICATION_ID, CURRENT_VERSION, POSTGRES_MIGRATIONS, dialect_gap

_SCHEMA_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version     integer PRIMARY KEY,
    application integer NOT NULL,
    applied_at  double precision NOT NULL DEFAULT extract(epoch FROM clock_timestamp())
)"""
_SCHEMA_STATE = (
    "SELECT to_regclass('schema_version') IS NOT NULL,"
    " (SELECT count(*) FROM pg_tables WHERE schemaname = current_schema())"
)


class PostgresSchema:
    def __init__(self, db: PostgresDb) -> None:
        self._db = db

    async def migrate(self) -> None:
        """Apply the missing migrations in one transaction; the advisory lock makes a second
        instance migrating at the same moment wait, then find nothing left to do."""
        _require_dialect()
        async with self._db.tx() as conn:
            await conn.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", (APPLICATION_ID, LOCK_MIGRATE)
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
                await backfill_trail(conn)  # history stored before the trail existed

    async def check(self) -> None:
        _require_dialect()
        async with self._db.connection() as conn:
            await _require_utf8(conn)
            version = await _version(conn)
        if version != CURRENT_VERSION:
            raise SchemaError(
                f"database schema version {version}, this code needs {CURRENT_VERSION}"
            )


def _require_dialect() -> None:
    gap = dialect_gap()
    if gap is not None:
        raise SchemaError(gap)


async def _require_utf8(conn: Conn) -> None:
    """The audit trail's links are hashed in SQL over the rows' text (``append_audit``): only a
    UTF-8 database gives the bytes Python's ``chain.link_hash`` hashes. Under SQL_ASCII or
    LATIN1 a non-ASCII name would make a link that ``fdxgw audit verify`` calls broken."""
    (encoding,) = await fetch_one(conn, "SHOW server_encoding", ())
    if encoding != "UTF8":
        raise SchemaError(f"the database's encoding is {encoding}; the gateway needs UTF8")


async def _version(conn: Conn) -> int:
    """The schema version the database holds; SchemaError if it is someone else's."""
    has_versions, tables = await fetch_one(conn, _SCHEMA_STATE, ())
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
    row = await fetch_one(conn, "SELECT to_regclass(%s) IS NOT NULL", (name,))
    return bool(row[0])
