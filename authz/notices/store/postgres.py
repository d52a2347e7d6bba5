"""The notice families in the gateway's PostgreSQL database, beside the record store's tables.

A small pool of its own (opened on first use, at most two connections): a few statements per
notice, far from any hot path. A claim locks the rows it takes (``FOR UPDATE SKIP LOCKED``), so
two gateways never send one email at once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from authz.notices.store.base import NoticeRecords
from authz.notices.store.sql import Row, SqlDeletions, SqlInbox, SqlLanguages, SqlOutbox
from authz.store.base import RecordsUnavailable

_LOCK = 0x6E6F7469  # pg_advisory_xact_lock key of the notice tables' creation ("noti")


class PostgresDatabase:
    locks_rows = True

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self._url = url
        self._timeout = timeout
        self._pool: AsyncConnectionPool | None = None
        self._ready = False
        self._opening = asyncio.Lock()

    async def _open(self) -> AsyncConnectionPool:
        async with self._opening:
            if self._pool is None:
                pool = AsyncConnectionPool(
                    self._url, min_size=1, max_size=2, timeout=self._timeout, open=False
                )
                await pool.open()
                self._pool = pool
        return self._pool

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        pool = self._pool or await self._open()
        try:
            async with pool.connection() as conn:
                cursor = await conn.execute(sql.replace("?", "%s"), tuple(params))
                return list(await cursor.fetchall()) if cursor.description else []
        except (psycopg.OperationalError, TimeoutError) as exc:
            raise RecordsUnavailable(type(exc).__name__) from None

    async def ensure(self, ddl: Sequence[str]) -> None:
        if self._ready:
            return
        pool = self._pool or await self._open()
        async with pool.connection() as conn, conn.transaction():
            # Made by `fdxgw init` as the owner: the app's role may not create tables at all.
            cursor = await conn.execute("SELECT to_regclass('deletion_requests') IS NOT NULL")
            made = await cursor.fetchone()
            if not (made and made[0]):
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
                for statement in ddl:
                    await conn.execute(statement)
        self._ready = True

    async def aclose(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            self._ready = False
            await pool.close()


def open_postgres(url: str) -> NoticeRecords:
    db = PostgresDatabase(url)
    return NoticeRecords(SqlOutbox(db), SqlInbox(db), SqlLanguages(db), SqlDeletions(db))
