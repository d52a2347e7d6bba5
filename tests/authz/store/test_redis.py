"""What only the Redis state store has: its key layout, real TTLs, several instances, outages.

The StateStore contract itself runs over Redis in tests/contracts/test_state_store.py. These tests
use the real Redis on 127.0.0.1:6379, each with its own key prefix, deleted afterwards.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import anyio
import pytest
import redis
from redis.crc import key_slot

from authz.store import open_state
from authz.store.base import Kind, StateStore, StateUnavailable
from authz.store.redis import Command, RedisStateStore
from tests.contracts.conftest import (
    REDIS_URL,
    FakeClock,
    new_prefix,
    prefixed_keys,
    purge_prefix,
    require_redis,
)
from tests.faults.servers import RedisServer

pytestmark = pytest.mark.anyio

Opener = Callable[..., RedisStateStore]


@pytest.fixture
def prefix() -> Iterator[str]:
    require_redis()
    value = new_prefix()
    yield value
    purge_prefix(value)


@pytest.fixture
async def open_store(prefix: str, clock: FakeClock) -> AsyncIterator[Opener]:
    """Opens store objects on the test's prefix, each with its own pool: one per "instance"."""
    opened: list[RedisStateStore] = []

    def open_one(url: str = REDIS_URL, **kwargs: object) -> RedisStateStore:
        store = RedisStateStore(url, clock=clock, prefix=prefix, **kwargs)  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.aclose()


@pytest.fixture
def sync_redis() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    yield client
    client.close()


# ---------------------------------------------------------------------------- layout


async def test_keys_carry_the_prefix_and_the_items_hash_tag(
    open_store: Opener, prefix: str
) -> None:
    """An item is one key, <prefix>{<kind>:<key>}, whose cluster slot ignores the prefix."""
    store = open_store()
    await store.put(Kind.PAR, "urn:ietf:params:oauth:request_uri:abc", {"v": 1}, ttl=60)

    keys = prefixed_keys(prefix)

    assert keys == [f"{prefix}{{par:urn:ietf:params:oauth:request_uri:abc}}".encode()]
    assert key_slot(keys[0]) == key_slot(b"par:urn:ietf:params:oauth:request_uri:abc")


async def test_a_prefix_with_a_brace_is_refused() -> None:
    """A brace in the prefix would become the hash tag and pile every key into one slot."""
    with pytest.raises(ValueError, match="prefix"):
        RedisStateStore(REDIS_URL, prefix="gw{1}:")


async def test_redis_urls_open_the_redis_store() -> None:
    """state_url redis:// and rediss:// select this store; opening it does not connect yet."""
    for url in ("redis://127.0.0.1:1/0", "rediss://cache.bank.example:6380/2"):
        store = open_state(url, clock=FakeClock())

        assert isinstance(store, RedisStateStore)
        await store.aclose()


async def test_a_ttl_below_one_millisecond_is_refused(open_store: Opener) -> None:
    """Redis keeps TTLs in whole milliseconds; a shorter one is a caller's bug, not an expiry."""
    store = open_store()

    with pytest.raises(ValueError, match="ttl"):
        await store.put(Kind.CODE, "c", {"v": 1}, ttl=0.0001)


# ---------------------------------------------------------------------------- real expiry


async def test_an_item_really_expires_after_its_ttl(
    open_store: Opener, prefix: str, sync_redis: redis.Redis
) -> None:
    """Redis's clock removes an item 200 ms after it was put, without anyone reading it."""
    store = open_store()
    await store.put(Kind.CODE, "c", {"v": 1}, ttl=0.2)
    assert await store.add_once(Kind.ASSERTION_JTI, "j", ttl=0.2) is True
    assert 0 < sync_redis.pttl(store.key(Kind.CODE, "c")) <= 200

    await anyio.sleep(0.4)

    assert prefixed_keys(prefix) == []
    assert await store.get(Kind.CODE, "c") is None
    assert await store.add_once(Kind.ASSERTION_JTI, "j", ttl=0.2) is True


async def test_consume_keeps_the_redis_ttl(open_store: Opener, sync_redis: redis.Redis) -> None:
    """The consumed mark is written with KEEPTTL: the key still expires when it would have."""
    store = open_store()
    await store.put(Kind.CODE, "c", {"v": 1}, ttl=60)
    await store.consume(Kind.CODE, "c")

    assert 0 < sync_redis.pttl(store.key(Kind.CODE, "c")) <= 60_000


async def test_later_increments_do_not_extend_the_window(
    open_store: Opener, sync_redis: redis.Redis
) -> None:
    """Only the first increment sets the TTL, whatever later callers ask for."""
    store = open_store()
    await store.incr(Kind.LOGIN_FAILURES, "u", ttl=60)
    await store.incr(Kind.LOGIN_FAILURES, "u", ttl=3600)

    assert 0 < sync_redis.pttl(store.key(Kind.LOGIN_FAILURES, "u")) <= 60_000


async def test_incr_many_counts_on_after_redis_forgets_its_scripts(
    open_store: Opener, sync_redis: redis.Redis
) -> None:
    """A Redis restarted (or SCRIPT FLUSHed) knows no script: each counter still counts once."""
    store = open_store()
    assert await store.incr_many(Kind.RATE, ["a", "b"], ttl=60) == [1, 1]
    sync_redis.script_flush()

    assert await store.incr_many(Kind.RATE, ["a", "b"], ttl=60) == [2, 2]
    assert 0 < sync_redis.pttl(store.key(Kind.RATE, "b")) <= 60_000


# ---------------------------------------------------------------------------- payload envelope


async def test_a_payloads_own_consumed_at_field_cannot_fake_a_replay(open_store: Opener) -> None:
    """The mark lives outside the payload: nested text that looks like it changes nothing."""
    store = open_store()
    payload = {"note": {"consumed_at": 1}, "text": '[null,"consumed_at":2]'}
    await store.put(Kind.CODE, "c", payload, ttl=60)

    assert await store.consume(Kind.CODE, "c") == payload


async def test_counters_read_as_counts_and_payloads_restart_as_counters(
    open_store: Opener,
) -> None:
    """As in memory: get() of a counter gives its count; incr() over a payload starts at one."""
    store = open_store()
    await store.incr(Kind.LOGIN_FAILURES, "u", ttl=60)
    await store.incr(Kind.LOGIN_FAILURES, "u", ttl=60)
    await store.put(Kind.LOGIN_FAILURES, "p", {"v": 1}, ttl=60)

    assert await store.get(Kind.LOGIN_FAILURES, "u") == {"count": 2}
    assert await store.incr(Kind.LOGIN_FAILURES, "p", ttl=60) == 1


# ---------------------------------------------------------------------------- many instances


async def test_concurrent_consumes_from_two_instances_have_one_winner(open_store: Opener) -> None:
    """Two store objects with their own pools, 25 tasks each: exactly one sees the code unused."""
    first, second = open_store(), open_store()
    await first.put(Kind.CODE, "c", {"v": 1}, ttl=60)
    seen: list[dict[str, object] | None] = []

    async def consume(store: StateStore) -> None:
        seen.append(await store.consume(Kind.CODE, "c"))

    async with anyio.create_task_group() as tg:
        for _ in range(25):
            tg.start_soon(consume, first)
            tg.start_soon(consume, second)

    winners = [p for p in seen if p is not None and "consumed_at" not in p]
    replays = [p for p in seen if p is not None and "consumed_at" in p]
    assert (len(winners), len(replays)) == (1, 49)


async def test_a_consume_on_one_instance_is_a_replay_on_another(
    open_store: Opener, clock: FakeClock
) -> None:
    """The second instance sees the first one's consumed_at, stamped by the injected clock."""
    first, second = open_store(), open_store()
    await first.put(Kind.PAR, "p", {"v": 1}, ttl=60)
    await first.consume(Kind.PAR, "p")

    assert await second.consume(Kind.PAR, "p") == {"v": 1, "consumed_at": clock.now}


async def test_the_store_recovers_when_redis_drops_its_connections(
    open_store: Opener, sync_redis: redis.Redis
) -> None:
    """Connections closed by Redis (a restart) are replaced before use, with no failed call."""
    name = f"fdxgw-test-{uuid.uuid4().hex}"
    store = open_store(f"{REDIS_URL}?client_name={name}")
    await store.put(Kind.SESSION, "s", {"v": 1}, ttl=60)
    ours = [c["id"] for c in sync_redis.client_list() if c["name"] == name]
    assert ours
    for client_id in ours:
        sync_redis.client_kill_filter(_id=client_id)
    await anyio.sleep(0.05)  # let the event loop see the closed sockets, as after any restart

    assert await store.get(Kind.SESSION, "s") == {"v": 1}


# ---------------------------------------------------------------------------- auto-pipelining


class CountingStore(RedisStateStore):
    """Counts the round trips: the commands in each pipeline the store sends."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.round_trips: list[int] = []
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    async def _pipeline(self, calls: list[tuple[Command, ...]]) -> list[list[object]]:
        self.round_trips.append(sum(len(call) for call in calls))
        return await super()._pipeline(calls)


@pytest.fixture
async def counting(prefix: str, clock: FakeClock) -> AsyncIterator[CountingStore]:
    store = CountingStore(REDIS_URL, clock=clock, prefix=prefix)
    yield store
    await store.aclose()


async def test_commands_issued_in_one_turn_share_one_round_trip(counting: CountingStore) -> None:
    """Many tasks' commands in one pipeline, run in the order issued, each caller answered."""
    store = counting
    await store.put(Kind.CODE, "c", {"v": 1}, ttl=60)
    await store.put(Kind.SESSION, "gone", {"v": 2}, ttl=60)

    results = await asyncio.gather(
        store.get(Kind.CODE, "c"),
        store.get(Kind.REVOKED_ACCESS, "jti-1"),
        store.incr_many(Kind.RATE, ["client", "consent"], ttl=60),
        store.consume(Kind.CODE, "c"),
        store.consume(Kind.CODE, "c"),
        store.add_once(Kind.DPOP_JTI, "p", ttl=60),
        store.add_once(Kind.DPOP_JTI, "p", ttl=60),
        store.delete(Kind.SESSION, "gone"),
        store.incr(Kind.LOGIN_FAILURES, "u", ttl=60),
    )

    assert results == [
        {"v": 1},
        None,
        [1, 1],
        {"v": 1},
        {"v": 1, "consumed_at": store._clock()},
        True,
        False,
        None,
        1,
    ]
    assert store.round_trips == [1, 1, 10]
    assert await store.get(Kind.SESSION, "gone") is None


async def test_a_command_redis_refuses_fails_its_caller_only(
    counting: CountingStore, sync_redis: redis.Redis
) -> None:
    store = counting
    await store.put(Kind.CODE, "c", {"v": 1}, ttl=60)
    sync_redis.hset(store.key(Kind.CODE, "h"), "f", "v")  # not ours: GET on it is WRONGTYPE

    refused, served = await asyncio.gather(
        store.get(Kind.CODE, "h"), store.get(Kind.CODE, "c"), return_exceptions=True
    )

    assert isinstance(refused, redis.ResponseError)
    assert served == {"v": 1}
    assert store.round_trips == [1, 2]


async def test_scripts_redis_forgot_run_once_each_in_a_shared_pipeline(
    counting: CountingStore, sync_redis: redis.Redis
) -> None:
    """After a SCRIPT FLUSH the pipeline's EVALSHAs are refused unrun; each is run again once."""
    store = counting
    await store.put(Kind.CODE, "c", {"v": 1}, ttl=60)
    assert await store.incr_many(Kind.RATE, ["a", "b"], ttl=60) == [1, 1]
    sync_redis.script_flush()

    consumed, counts, alone = await asyncio.gather(
        store.consume(Kind.CODE, "c"),
        store.incr_many(Kind.RATE, ["a", "b"], ttl=60),
        store.incr(Kind.RATE, "a", ttl=60),
    )

    assert (consumed, counts, alone) == ({"v": 1}, [2, 2], 3)
    assert await store.consume(Kind.CODE, "c") == {"v": 1, "consumed_at": store._clock()}


async def test_a_reply_that_comes_too_late_never_answers_a_later_command(
    open_store: Opener,
) -> None:
    """A pipeline that timed out leaves its connection with a reply still to come: the
    connection is dropped, so the next pipeline's commands read their own replies."""
    store = open_store(timeout=0.1)
    await store.put(Kind.CODE, "c", {"v": 1}, ttl=60)

    with pytest.raises(StateUnavailable):  # BLPOP answers (nil) after 0.3 s, too late
        await store._call(("BLPOP", store.key(Kind.CODE, "empty"), "0.3"))
    await anyio.sleep(0.3)

    assert await store.get(Kind.CODE, "c") == {"v": 1}


async def test_every_caller_of_a_pipeline_to_a_stopped_redis_fails_closed() -> None:
    store = RedisStateStore("redis://127.0.0.1:1/0", prefix=new_prefix())
    try:
        with anyio.fail_after(5):  # a hang guard, not a timing
            outcomes = await asyncio.gather(
                store.get(Kind.REVOKED_ACCESS, "j"),
                store.incr_many(Kind.RATE, ["a", "b"], ttl=60),
                store.consume(Kind.CODE, "c"),
                return_exceptions=True,
            )
    finally:
        await store.aclose()

    assert all(isinstance(o, StateUnavailable) for o in outcomes), outcomes


async def test_a_redis_that_stops_answering_fails_the_round_trip_within_the_timeout(
    prefix: str, sync_redis: redis.Redis
) -> None:
    """Redis accepts the commands but answers nothing (paused): the round trip fails closed
    after the store's timeout, not never, and the connection it left is not reused: once
    Redis answers again, the next call is served."""
    store = RedisStateStore(REDIS_URL, prefix=prefix, timeout=0.2)
    try:
        await store.put(Kind.CODE, "c", {"v": 1}, ttl=60)  # connected before the pause
        sync_redis.client_pause(1500, all=True)
        with anyio.fail_after(1.2):  # a hang guard, well inside the pause
            with pytest.raises(StateUnavailable):
                await store.get(Kind.CODE, "c")
        await anyio.sleep(1.5)  # the pause is over
        served = await store.get(Kind.CODE, "c")
    finally:
        sync_redis.client_unpause()
        await store.aclose()

    assert {"v": 1} == served


# ---------------------------------------------------------------------------- outages

OPERATIONS: dict[str, Callable[[StateStore], Awaitable[object]]] = {
    "put": lambda s: s.put(Kind.CODE, "c", {"v": 1}, ttl=60),
    "get": lambda s: s.get(Kind.CODE, "c"),
    "consume": lambda s: s.consume(Kind.CODE, "c"),
    "add_once": lambda s: s.add_once(Kind.ASSERTION_JTI, "j", ttl=60),
    "delete": lambda s: s.delete(Kind.CODE, "c"),
    "incr": lambda s: s.incr(Kind.LOGIN_FAILURES, "u", ttl=60),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
async def test_a_stopped_redis_raises_state_unavailable(operation: str) -> None:
    """Nothing listening: every operation raises StateUnavailable at once, with no retry loop."""
    store = RedisStateStore("redis://127.0.0.1:1/0", prefix=new_prefix())
    try:
        with anyio.fail_after(5), pytest.raises(StateUnavailable):  # a hang guard, not a timing
            await OPERATIONS[operation](store)
    finally:
        await store.aclose()


async def test_a_redis_that_never_answers_raises_state_unavailable() -> None:
    """A socket that accepts but never replies fails after the store's timeout, not never."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        store = RedisStateStore(f"redis://127.0.0.1:{port}/0", prefix=new_prefix(), timeout=0.2)
        try:
            with anyio.fail_after(5), pytest.raises(StateUnavailable):  # a hang guard
                await store.get(Kind.CODE, "c")
        finally:
            await store.aclose()


async def test_a_redis_that_refuses_writes_is_an_outage_not_an_error(tmp_path: Path) -> None:
    """Out of memory under noeviction (or a replica after a failover: READONLY) arrives as a
    reply inside the shared pipeline: it is StateUnavailable (FDX/OAuth 503), like a Redis that
    is down, never a raw redis-py error (a 500)."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    store = RedisStateStore(server.url, prefix=new_prefix())
    admin = redis.Redis(port=server.port)
    try:
        await store.put(Kind.PAR, "before", {"v": 1}, ttl=60)
        admin.config_set("maxmemory-policy", "noeviction")
        admin.config_set("maxmemory", 1)

        with pytest.raises(StateUnavailable):
            await store.put(Kind.PAR, "p", {"v": 1}, ttl=60)
        with pytest.raises(StateUnavailable):
            await store.add_once(Kind.DPOP_JTI, "jti", ttl=60)
        with pytest.raises(StateUnavailable):
            await store.incr_many(Kind.RATE, ["c:1", "k:1"], ttl=60)
        assert {"v": 1} == await store.get(Kind.PAR, "before"), "reads still answer"

        admin.config_set("maxmemory", 0)
        await store.put(Kind.PAR, "p", {"v": 1}, ttl=60)
    finally:
        admin.close()
        await store.aclose()
        server.stop()
