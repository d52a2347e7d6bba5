"""The connection pool the PostgreSQL families of a store share, and how failures surface.

Connections come from a pool opened on first use (stores are built synchronously in
``create_app``), in autocommit mode: a single statement needs no transaction, and every write of
more than one statement runs in an explicit one. An unreachable server, a broken connection or no
connection free in time raise ``RecordsUnavailable``; integrity errors raise ``ValueError`` as the
other stores do.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg
from psycopg import AsyncConnection, IsolationLevel
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool

from authz.store.base import RecordsUnavailable

log = logging.getLogger("authz.store.postgres")

Conn = AsyncConnection[TupleRow]

_RETRY_EVERY = 1.0  # seconds between direct tries of a server that failed


_KEEP_FOR = 600.0  # seconds a kept connection serves before going back to the pool
_KEEP_IDLE = 60.0  # seconds unused after which it goes back rather than being trusted


@dataclass(slots=True)
class _Kept:
    pool: AsyncConnectionPool[Conn]
    conn: Conn
    taken: float  # time.monotonic() when taken from the pool
    used: float  # ... when last given back by its caller


class PostgresDb:
    def __init__(
        self, url: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 5.0
    ) -> None:
        """``timeout``: seconds to wait for a connection (a new one, or a pooled one when all
        are busy) before raising ``RecordsUnavailable``."""
        self._url = url
        self._where = _describe(url)  # host:port/dbname, for messages (never the password)
        self._min_size, self._max_size, self.timeout = min_size, max_size, timeout
        self._pool: AsyncConnectionPool[Conn] | None = None  # set once open
        self._opening = asyncio.Lock()
        # Set when a connection failed; cleared by the next new connection. While set, a call
        # that finds no idle connection fails at once instead of waiting for the timeout.
        self._suspect = False
        self._errors_at_connect = 0
        self._next_probe = 0.0  # while failing: when a call may next try the server itself
        self._kept: _Kept | None = None  # kept()'s connection while it is not in use

    async def aclose(self) -> None:
        kept, self._kept = self._kept, None
        await self._release(kept)
        async with self._opening:
            pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

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
                    timeout=self.timeout,
                    kwargs={"autocommit": True, "connect_timeout": _connect_timeout(self.timeout)},
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
                self._url, autocommit=True, connect_timeout=_connect_timeout(self.timeout)
            )
        except psycopg.OperationalError as exc:
            raise RecordsUnavailable(f"PostgreSQL at {self._where}: {_reason(exc)}") from None
        await conn.close()

    async def _configure(self, conn: Conn) -> None:
        """Each new pooled connection: JSON columns read with orjson, as SQLite's are; READ
        COMMITTED whatever the role's or database's default, because linking the trail reads
        the chain's head in a statement after the lock, and only READ COMMITTED gives that
        statement a snapshot taken after the lock was granted (a REPEATABLE READ default would
        read a stale head and fail the batch on the seq's key). psycopg's level applies to the
        transactions it begins; the session's default covers the single statements autocommit
        runs on their own, such as the audit batch's call (which refuses any other level)."""
        set_json_loads(orjson.loads, conn)
        await conn.set_isolation_level(IsolationLevel.READ_COMMITTED)
        await conn.execute(
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED"
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
    async def connection(self) -> AsyncIterator[Conn]:
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
    async def kept(self) -> AsyncIterator[Conn]:
        """A pooled connection kept from one call to the next, for a caller that never runs
        two at once (the audit log sends one batch at a time: authz.store.batch). Taking a
        connection from the pool and giving it back cost a lone FDX request about a tenth of
        its time on PostgreSQL (docs/performance.md). As with ``connection``, a
        connection-level failure becomes RecordsUnavailable; on any failure the connection
        goes back to the pool, which discards it if it is broken or still busy, and the next
        call takes another. A call that finds the kept one in use takes its own. A pool of one
        connection keeps none: everything else would wait for it.

        The pool's own upkeep (its connections' lifetime and idle limits) does not reach a kept
        connection, so it goes back to the pool after ``_KEEP_FOR`` seconds, or when it sat
        unused for ``_KEEP_IDLE`` (a server or a firewall may have dropped it meanwhile); one
        from a pool that was closed or replaced since is closed, not kept."""
        now = time.monotonic()
        held, self._kept = self._kept, None
        if held is not None and (
            held.pool is not self._pool
            or now - held.taken > _KEEP_FOR
            or now - held.used > _KEEP_IDLE
        ):
            await self._release(held)
            held = None
        try:
            if held is None:
                pool = await self._open()
                if self._failing(pool):
                    await self._retry()
                held = _Kept(pool, await pool.getconn(), now, now)
            yield held.conn
        except psycopg.OperationalError as exc:
            self._suspect = True
            await self._release(held)
            raise RecordsUnavailable(f"PostgreSQL at {self._where}: {_reason(exc)}") from None
        except BaseException:
            await self._release(held)
            raise
        held.used = time.monotonic()
        if self._kept is None and held.pool is self._pool and self._max_size > 1:
            self._kept = held
        else:
            await self._release(held)

    async def _release(self, held: _Kept | None) -> None:
        if held is None:
            return
        if held.pool is self._pool:
            await held.pool.putconn(held.conn)
        else:  # its pool was closed (aclose) or replaced: nobody else will close it
            await held.conn.close()

    @asynccontextmanager
    async def bounded(self, what: str) -> AsyncIterator[None]:
        """A batched round trip (the gate's consent check, the audit batch) within the store's
        timeout. One batch is in flight at a time (authz.store.batch), so a query stuck on a
        lock or a half-dead connection would otherwise hold every FDX request of the process,
        none answered; bounded, they fail closed with 503 (RecordsUnavailable) and the pool
        drops the connection the cancelled query leaves busy."""
        try:
            async with asyncio.timeout(self.timeout):
                yield
        except TimeoutError:
            self._suspect = True
            raise RecordsUnavailable(
                f"PostgreSQL at {self._where}: {what} took over {self.timeout:g} s"
            ) from None

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[Conn]:
        """A transaction in pipeline mode: statements are sent without waiting for each other's
        results, so a write costs a round trip per result it needs, plus the commit."""
        async with self.connection() as conn, conn.pipeline(), conn.transaction():
            yield conn

    async def one(self, sql: str, params: Sequence[Any]) -> Any:
        async with self.connection() as conn:
            return await (await conn.execute(sql, params)).fetchone()

    async def all(self, sql: str, params: Sequence[Any]) -> list[Any]:
        async with self.connection() as conn:
            return await (await conn.execute(sql, params)).fetchall()

    async def run(self, sql: str, params: Sequence[Any]) -> int:
        """One statement, committed on its own; returns the rows it changed."""
        async with self.connection() as conn:
            return (await conn.execute(sql, params)).rowcount


async def fetch_one(conn: Conn, sql: str, params: Sequence[Any]) -> Any:
    return await (await conn.execute(sql, params)).fetchone()


@asynccontextmanager
async def integrity(message: str) -> AsyncIterator[None]:
    try:
        yield
    except psycopg.IntegrityError as exc:
        raise ValueError(message) from exc


def to_json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _describe(url: str) -> str:
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(unparsable database_url)"
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def _connect_timeout(timeout: float) -> int:
    return max(2, math.ceil(timeout))  # libpq's smallest effective connect_timeout


def _reason(exc: BaseException) -> str:
    """libpq's first line (host, port and cause; never the password)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
