"""The ``StateStore`` of a multi-instance deployment: short-lived state in Redis
(docs/architecture.md §4).

Key layout: one Redis key per item, ``<prefix>{<kind>:<key>}``, e.g. ``fdxgw:{code:Xy3…}``. The
braces are a Redis Cluster hash tag: the slot is computed from ``<kind>:<key>`` alone, so every
item lands wherever its own name hashes, and any companion key a later script needs for the same
item must reuse the tag (``fdxgw:{code:Xy3…}:…``) to stay in one slot. Each command and script
here touches exactly one key, so the layout works unchanged on a cluster. Kinds never contain
``:``, so ``<kind>:<key>`` is unambiguous however many colons ``key`` has (PAR request URIs do).

Values are JSON, ``[consumed_at, payload]``: ``[null,{…}]`` until the first ``consume`` writes the
time in place of ``null`` (atomically, in Lua, keeping the key's TTL). The consumed mark lives
outside the payload, so no payload content can fake or hide it and the Lua side never parses
JSON (cjson would round floats to 14 digits). Counters (``incr``) are plain Redis integers.

Expiry is Redis's: every write carries ``PX`` (milliseconds), so Redis's clock, not the injected
one, decides when an item is gone. The injected clock only stamps ``consumed_at``, so a replay
reports the same time base as the rest of the gateway.

Commands are auto-pipelined (``authz.store.batch.Batcher``): the commands every task of the process
issues in one turn of the event loop go out as one pipeline, one round trip, and while it is in
flight the next ones gather for the following pipeline. Each round trip costs the client far
more CPU than each command in it (redis-py's pool, packing, the system calls), so under load
the FDX gate's revoked-token read and the rate limiter's counters of many requests share one
(PostgreSQL + Redis, 16 connections: see docs/performance.md). A pipeline is not a transaction:
every command stays the single-key command or script it was, so the layout above still works on
a cluster, and a command is sent only after its caller issued it.

Every failure to reach Redis in time surfaces as ``StateUnavailable`` (for every command of the
pipeline) and nothing is retried: a retried ``consume`` whose first attempt reached Redis would
report a legitimate use as a replay. Connections a restarted Redis has closed are replaced by the
pool before use, so recovery needs no retry either.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import hiredis
import orjson
import redis.asyncio as aioredis
from redis import exceptions as rexc
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.maint_notifications import MaintNotificationsConfig

from authz.store.base import Kind, Payload, StateUnavailable
from authz.store.batch import Batcher

DEFAULT_PREFIX = "fdxgw:"
DEFAULT_TIMEOUT = 1.0  # seconds to connect or to get a reply: a dead Redis fails fast
_STAMP_TTL_MS = 86_400_000

_UNCONSUMED = b"[null,"

Command = tuple[str | bytes | int, ...]  # one Redis command: its name, then its arguments

# GET, and on the first consume replace the envelope's null with the time; KEEPTTL (Redis ≥ 6)
# leaves the expiry as it was (StateStore.consume). Returns the value as it was before.
_CONSUME = """
local raw = redis.call('GET', KEYS[1])
if raw and string.sub(raw, 1, 6) == '[null,' then
  redis.call('SET', KEYS[1], '[' .. ARGV[1] .. ',' .. string.sub(raw, 7), 'KEEPTTL')
end
return raw
"""

# A stamp (authz.store.live): the one stored, or the fresh one given, set now if none was. A day's
# expiry: one that expired is replaced by a fresh value, which no cache holds.
_STAMP = """
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', 86400000)
return ARGV[1]
"""

# INCR, starting the TTL with the first increment only. A payload stored under the same name is
# replaced by a fresh count, as the in-process store does.
_INCR = """
local raw = redis.call('GET', KEYS[1])
if raw and string.sub(raw, 1, 1) == '[' then
  redis.call('DEL', KEYS[1])
end
local n = redis.call('INCR', KEYS[1])
if n == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
"""

# Redis could not be reached or could not serve now (down, timed out, a replica after failover,
# out of memory, a cluster slot moving): the gateway fails closed with 503 on any of them.
_UNAVAILABLE: tuple[type[Exception], ...] = (
    rexc.ConnectionError,
    rexc.TimeoutError,
    TimeoutError,  # the round trip's own deadline (asyncio.timeout)
    rexc.ReadOnlyError,
    rexc.OutOfMemoryError,
    rexc.ClusterDownError,
    rexc.TryAgainError,
)


class RedisStateStore:
    """``StateStore`` over one Redis connection pool, shared by every task of this process.

    ``url`` is a redis-py URL (``redis://[user:password@]host:port/db``, ``rediss://`` for TLS);
    its query may tune the pool, e.g. ``?max_connections=200&socket_timeout=0.5``. ``prefix``
    namespaces this gateway's keys (it must not contain ``{``, which would move the hash tag).
    """

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], float] = time.time,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if "{" in prefix or "}" in prefix:
            raise ValueError("prefix must not contain '{' or '}' (the hash tag is the item's)")
        self._clock = clock
        self._prefix = prefix
        self._timeout = timeout
        self._redis = aioredis.Redis.from_url(
            url,
            # No timeout of redis-py's own on each reply: one per round trip (_pipeline) costs a
            # twentieth as much on a pipeline of twenty, and bounds the whole exchange alike.
            socket_timeout=None,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            # redis-py 8's default ("auto") skips the pool's check for connections the server
            # has closed, so the first call after a Redis restart would fail on a dead socket
            # (redis/redis-py#4128, fixed after 8.1). We use no maintenance notifications.
            maint_notifications_config=MaintNotificationsConfig(enabled=False),
            redis_connect_func=self._connected,
        )
        # Moves on every failure and every new connection: whatever was read through the old
        # ones (the gate's stamps, authz.store.live) may belong to a Redis that is gone.
        self.epoch = 0
        self._consume = self._redis.register_script(_CONSUME)
        self._incr = self._redis.register_script(_INCR)
        self._stamp = self._redis.register_script(_STAMP)
        self._scripts = {s.sha: s for s in (self._consume, self._incr, self._stamp)}
        self._pipelines = Batcher[tuple[Command, ...], list[Any]](self._pipeline)

    async def _connected(self, connection: Any) -> None:
        await connection.on_connect()  # what redis-py does when no function is given
        self.epoch += 1

    @property
    def prefix(self) -> str:
        return self._prefix

    def key(self, kind: Kind, key: str) -> str:
        """The Redis key of an item (see the module docstring for the layout)."""
        return f"{self._prefix}{{{kind.value}:{key}}}"

    # -------------------------------------------------------------------- StateStore

    async def put(self, kind: Kind, key: str, payload: Payload, *, ttl: float) -> None:
        value = _UNCONSUMED + orjson.dumps(payload) + b"]"
        await self._call(("SET", self.key(kind, key), value, "PX", _ms(ttl)))

    async def get(self, kind: Kind, key: str) -> Payload | None:
        (raw,) = await self._call(("GET", self.key(kind, key)))
        return None if raw is None else _decode(raw)  # responses are never decoded: bytes

    async def consume(self, kind: Kind, key: str, *, at: float | None = None) -> Payload | None:
        now = orjson.dumps(self._clock() if at is None else at)
        (raw,) = await self._call(("EVALSHA", self._consume.sha, 1, self.key(kind, key), now))
        return None if raw is None else _decode(raw)

    async def add_once(self, kind: Kind, key: str, *, ttl: float) -> bool:
        value = _UNCONSUMED + b"{}]"  # read back as {}, as the in-process store does
        (added,) = await self._call(("SET", self.key(kind, key), value, "PX", _ms(ttl), "NX"))
        return bool(added)

    async def delete(self, kind: Kind, key: str) -> None:
        await self._call(("DEL", self.key(kind, key)))

    async def incr(self, kind: Kind, key: str, *, ttl: float) -> int:
        (count,) = await self._call(("EVALSHA", self._incr.sha, 1, self.key(kind, key), _ms(ttl)))
        return int(count)

    async def incr_many(self, kind: Kind, keys: Sequence[str], *, ttl: float) -> list[int]:
        # Each script touches one key (cluster-safe layout); all of them in one round trip.
        ms = _ms(ttl)
        counts = await self._call(
            *(("EVALSHA", self._incr.sha, 1, self.key(kind, key), ms) for key in keys)
        )
        return [int(c) for c in counts]

    async def aclose(self) -> None:
        """Close every pooled connection; the store is unusable afterwards."""
        await self._redis.aclose()

    # -------------------------------------------------------------------- pipelining

    async def _call(self, *commands: Command) -> list[Any]:
        """The replies to ``commands``, sent in the next pipeline. A command Redis refused
        raises its error (the first one) once all of them have run."""
        replies = await self._pipelines.submit(commands)
        for reply in replies:
            if isinstance(reply, Exception):
                with _translate_errors():  # READONLY, OOM, TRYAGAIN…: an outage, 503
                    raise reply
        return replies

    async def _pipeline(self, calls: list[tuple[Command, ...]]) -> list[list[Any]]:
        """One round trip for every caller's commands; each caller's replies, in its order.

        Scripts go as plain ``EVALSHA``, not redis-py's script objects: those make every call
        ask ``SCRIPT EXISTS`` first, a second round trip. A command Redis refuses with NOSCRIPT
        (after a restart, a ``SCRIPT FLUSH``) did not run, so it is sent again through its
        script, which loads it. The whole exchange, reloads included, gets the store's timeout
        once; a reply cut off by it leaves redis-py to close that connection, not reuse it."""
        commands = [command for call in calls for command in call]
        with self._counting_failures(), _translate_errors():
            async with asyncio.timeout(self._timeout):
                replies = await self._round_trip(commands)
                for i, reply in enumerate(replies):
                    if isinstance(reply, rexc.NoScriptError):
                        replies[i] = await self._evaluate(commands[i])
        answers: list[list[Any]] = []
        at = 0
        for call in calls:
            answers.append(replies[at : at + len(call)])
            at += len(call)
        return answers

    async def _round_trip(self, commands: list[Command]) -> list[Any]:
        """``commands`` written at once on a pooled connection and their replies read in order,
        raw (bytes, integers, None), a refused command's error in its place. This is a
        pipeline without redis-py's ``Pipeline`` object, whose per-command bookkeeping (its
        command stack, a reply callback each) cost as much client CPU as the round trip
        itself; none of the commands here needs a callback."""
        pool = self._redis.connection_pool
        # Connected, and checked for a closed socket if it was idle (a restarted Redis).
        connection = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            # hiredis packs in C what redis-py's packer does per argument in Python (8x less
            # client CPU on the gate's five commands); the bytes are the same.
            packed = b"".join([hiredis.pack_command(c) for c in commands])  # type: ignore[arg-type]
            await connection.send_packed_command(packed, check_health=False)
            replies: list[Any] = []
            for _ in commands:
                try:
                    replies.append(await connection.read_response())
                except rexc.ResponseError as exc:  # this command's own error, in its place
                    replies.append(exc)
            return replies
        finally:
            await pool.release(connection)

    @contextmanager
    def _counting_failures(self) -> Iterator[None]:
        try:
            yield
        except BaseException:
            self.epoch += 1
            raise

    async def _evaluate(self, command: Command) -> Any:
        _, sha, _, key, arg = command
        try:
            return await self._scripts[cast(str, sha)](keys=[cast(str, key)], args=[arg])
        except rexc.ResponseError as exc:
            return exc  # this command's own error, raised to its caller only


class RedisStamps:
    """The gate's stamps (``authz.store.live.Stamps``) in this Redis, one key each, sent in the
    store's pipelines (so the gate's stamp reads share a round trip with its other commands).
    Stamps live a day: one that expired is replaced by a fresh one, which no cache holds."""

    def __init__(self, state: RedisStateStore) -> None:
        self._state = state

    @property
    def epoch(self) -> int:
        return self._state.epoch

    async def read(self, names: Sequence[str]) -> list[str]:
        sha = self._state._stamp.sha
        replies = await self._state._call(
            *(
                ("EVALSHA", sha, 1, self._state.key(Kind.STAMP, n), secrets.token_hex(16))
                for n in names
            )
        )
        return [r.decode() for r in replies]

    async def write(self, names: Sequence[str], value: str) -> None:
        await self._state._call(
            *(("SET", self._state.key(Kind.STAMP, n), value, "PX", _STAMP_TTL_MS) for n in names)
        )


@contextmanager
def _translate_errors() -> Iterator[None]:
    try:
        yield
    except _UNAVAILABLE as exc:
        # The type only: a redis-py message may carry the host, never a secret, but keep it short.
        raise StateUnavailable(f"state store unavailable ({type(exc).__name__})") from exc


def _ms(ttl: float) -> int:
    """A TTL in whole milliseconds, Redis's ``PX`` unit; sub-millisecond TTLs cannot be kept."""
    ms = round(ttl * 1000)
    if ms < 1:
        raise ValueError(f"ttl must be at least 1 ms, got {ttl!r} s")
    return ms


def _decode(raw: bytes) -> Payload:
    if not raw.startswith(b"["):
        return {"count": int(raw)}  # a counter read through get()/consume(), as in memory.py
    consumed_at, payload = orjson.loads(raw)
    if consumed_at is not None:
        payload.setdefault("consumed_at", consumed_at)  # a caller's own field wins, as in memory
    value: Payload = payload
    return value
