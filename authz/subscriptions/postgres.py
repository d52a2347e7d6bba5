"""Subscriptions in the gateway's PostgreSQL database, in a table of their own.

A small pool of its own (subscriptions are read when a notification is queued or sent, never on
the data path), opened on first use. The table is created under an advisory lock, so instances
starting together do not race on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from authz.store.base import RecordsUnavailable
from authz.subscriptions.model import Subscription

_LOCK = (0x46445847, 0x5355)  # our application id, "SU": the family's migration lock
_CREATE = (
    """CREATE TABLE IF NOT EXISTS notification_subscriptions (
        id             TEXT PRIMARY KEY,
        client_id      TEXT NOT NULL,
        type           TEXT NOT NULL,
        category       TEXT NOT NULL,
        callback_url   TEXT NOT NULL,
        effective_date TEXT NOT NULL,
        created_at     DOUBLE PRECISION NOT NULL,
        deleted_at     DOUBLE PRECISION,
        subscriber     JSONB NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS notification_subscriptions_client"
    " ON notification_subscriptions (client_id, created_at)",
)
_EXISTS = (
    "SELECT to_regclass('notification_subscriptions') IS NOT NULL"
    " AND to_regclass('notification_subscriptions_client') IS NOT NULL"
)
_SELECT = (
    "SELECT id, client_id, type, category, callback_url, effective_date, created_at,"
    " deleted_at, subscriber FROM notification_subscriptions"
)
_INSERT = (
    "INSERT INTO notification_subscriptions (id, client_id, type, category, callback_url,"
    " effective_date, created_at, deleted_at, subscriber)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_BY_ID = _SELECT + " WHERE id = %s"
_OF_CLIENT = _SELECT + " WHERE client_id = %s AND deleted_at IS NULL ORDER BY created_at, id"
_DELETE = (
    "UPDATE notification_subscriptions SET deleted_at = %s WHERE id = %s AND deleted_at IS NULL"
)


class PostgresSubscriptionStore:
    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self._url = url
        self._timeout = timeout
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] | None = None
        self._opening = asyncio.Lock()

    async def migrate(self) -> None:
        """Create the table if it is missing. ``fdxgw init`` and ``fdxgw db migrate`` run this as
        the schema's owner; a serving instance connected as the least-privilege role (which may
        not create tables, docs/deployment.md) then finds it and changes nothing."""
        pool = await self._open()
        try:
            async with pool.connection() as conn, conn.transaction():
                found = await conn.execute(_EXISTS)
                if (await found.fetchone()) == (True,):
                    return
                await conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", _LOCK)
                for statement in _CREATE:
                    await conn.execute(statement)
        except psycopg.OperationalError as exc:
            raise RecordsUnavailable(type(exc).__name__) from None

    async def create(self, subscription: Subscription) -> None:
        row = (*subscription.row(), Jsonb(subscription.subscriber))
        try:
            await self._execute(_INSERT, row)
        except psycopg.errors.UniqueViolation:
            raise ValueError("duplicate subscription id") from None

    async def get(self, subscription_id: str) -> Subscription | None:
        rows = await self._fetch(_BY_ID, (subscription_id,))
        return _subscription(rows[0]) if rows else None

    async def list_for_client(self, client_id: str) -> Sequence[Subscription]:
        return [_subscription(r) for r in await self._fetch(_OF_CLIENT, (client_id,))]

    async def delete(self, subscription_id: str, *, now: float) -> bool:
        return await self._execute(_DELETE, (now, subscription_id)) == 1

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _execute(self, sql: str, params: Sequence[Any]) -> int:
        pool = await self._open()
        try:
            async with pool.connection() as conn:
                cursor = await conn.execute(sql, params)
                return cursor.rowcount
        except psycopg.OperationalError as exc:
            raise RecordsUnavailable(type(exc).__name__) from None

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        pool = await self._open()
        try:
            async with pool.connection() as conn:
                cursor = await conn.execute(sql, params)
                return await cursor.fetchall()
        except psycopg.OperationalError as exc:
            raise RecordsUnavailable(type(exc).__name__) from None

    async def _open(self) -> AsyncConnectionPool[psycopg.AsyncConnection[Any]]:
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is None:
                pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
                    self._url,
                    min_size=0,
                    max_size=2,
                    timeout=self._timeout,
                    kwargs={"autocommit": True},
                    name="fdxgw-subscriptions",
                    open=False,
                )
                await pool.open()
                self._pool = pool
        return self._pool


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
        subscriber=row[8],
    )
