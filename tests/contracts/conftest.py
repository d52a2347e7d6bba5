"""Fixtures for the storage contract suites: one fixture branch per implementation.

A new implementation (Redis, PostgreSQL) joins by adding its name to the params and a branch to
``open_state`` / ``open_records`` below; every contract test then runs over it unchanged.

Redis runs for real on 127.0.0.1:6379 (``$FDX_TEST_REDIS_URL`` overrides). Each test gets its own
key prefix and its keys are deleted afterwards. PostgreSQL runs for real on 127.0.0.1:5432
(``$FDX_TEST_POSTGRES_URL`` names its maintenance database); each test gets a database of its
own, dropped afterwards. Unreachable, either one's tests fail under CI=true and are skipped
elsewhere, saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import cache
from pathlib import Path

import psycopg
import pytest
import redis

from authz.store.base import Records, StateStore
from authz.store.memory import MemoryStateStore, memory_records
from authz.store.postgres import postgres_records
from authz.store.redis import RedisStateStore
from authz.store.sqlite import sqlite_records

STATE_BACKENDS = ["memory", "redis"]
RECORD_BACKENDS = ["memory", "sqlite", "postgres"]


class FakeClock:
    """A clock that moves only when a test says so."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now
        self.on_advance: list[Callable[[float], None]] = []  # stores whose time is elsewhere

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for hook in self.on_advance:
            hook(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def open_state(backend: str, clock: FakeClock) -> StateStore:
    if backend == "memory":
        return MemoryStateStore(clock=clock)
    if backend == "redis":
        require_redis()
        store = RedisStateStore(REDIS_URL, clock=clock, prefix=new_prefix())
        clock.on_advance.append(lambda seconds: warp_ttls(store.prefix, seconds))
        return store
    raise AssertionError(f"no fixture branch for state backend {backend!r}")


def open_records(backend: str, location: str) -> Records:
    if backend == "memory":
        return memory_records()
    if backend == "sqlite":
        return sqlite_records(location)
    if backend == "postgres":
        return postgres_records(location, max_size=4)
    raise AssertionError(f"no fixture branch for record backend {backend!r}")


@pytest.fixture(params=STATE_BACKENDS)
async def state(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[StateStore]:
    store = open_state(request.param, clock)
    yield store
    await store.aclose()
    if isinstance(store, RedisStateStore):
        purge_prefix(store.prefix)


@pytest.fixture(params=RECORD_BACKENDS)
def record_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def record_location(record_backend: str, tmp_path: Path) -> Iterator[str]:
    """Where this test's records live: a file, or a PostgreSQL database of its own."""
    if record_backend != "postgres":
        yield str(tmp_path / "var" / "records.sqlite")
        return
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture
async def fresh_records(record_backend: str, record_location: str) -> AsyncIterator[Records]:
    """A store whose schema has not been created yet."""
    store = open_records(record_backend, record_location)
    yield store
    await store.aclose()


@pytest.fixture
async def records(fresh_records: Records) -> Records:
    await fresh_records.schema.migrate()
    return fresh_records


@pytest.fixture
async def reopen(
    records: Records, record_backend: str, record_location: str
) -> AsyncIterator[Callable[[], Awaitable[Records]]]:
    """Another store object on the same data, as a second gateway process would hold.

    The in-process store has no data outside itself, so its "other process" is itself."""
    opened: list[Records] = []

    async def open_again() -> Records:
        if record_backend == "memory":
            return records
        store = open_records(record_backend, record_location)
        opened.append(store)
        return store

    yield open_again
    for store in opened:
        await store.aclose()


# ---------------------------------------------------------------------------- Redis

REDIS_URL = os.environ.get("FDX_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

# Shift the expiry of the given keys back by ARGV[1] ms; PEXPIREAT in the past deletes the key, so
# Redis itself decides what has expired. PEXPIRETIME needs Redis >= 7. Test keys only: the keys
# span slots, which a cluster would refuse.
_WARP = """
for _, k in ipairs(KEYS) do
  local at = redis.call('PEXPIRETIME', k)
  if at > 0 then redis.call('PEXPIREAT', k, at - tonumber(ARGV[1])) end
end
"""


@cache
def _sync_redis() -> redis.Redis:
    return redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=0.5)


@cache
def _redis_unreachable() -> str | None:
    """Why Redis cannot be used, or None when it answers PING."""
    try:
        _sync_redis().ping()
    except redis.RedisError as exc:
        return f"Redis at {REDIS_URL} unreachable ({type(exc).__name__}); .ci/run starts it"
    return None


def require_redis() -> None:
    """Fail under CI (the engines must be tested there), skip elsewhere, when Redis is down."""
    reason = _redis_unreachable()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def new_prefix() -> str:
    """A key prefix no other test or run shares."""
    return f"fdxgw-test:{uuid.uuid4().hex}:"


def prefixed_keys(prefix: str) -> list[bytes]:
    pattern = "".join("\\" + c if c in "*?[]\\" else c for c in prefix) + "*"
    return list(_sync_redis().scan_iter(match=pattern, count=1000))


def purge_prefix(prefix: str) -> None:
    keys = prefixed_keys(prefix)
    if keys:
        _sync_redis().delete(*keys)


def warp_ttls(prefix: str, seconds: float) -> None:
    """Let ``seconds`` pass for the keys under ``prefix``, as FakeClock.advance does in memory.

    Redis's own clock keeps running while a test runs, so only steps of whole tenths of a second
    are simulated faithfully (a key left 1 ms from its expiry may or may not outlive the next
    command); a finer step skips the rest of the test, whose real-time twin is in
    tests/authz/store/test_redis.py."""
    ms = round(seconds * 1000)
    if ms % 100:
        pytest.skip(
            f"a {ms} ms step cannot be simulated against Redis's running clock; "
            "test_redis.py covers real expiry"
        )
    keys = prefixed_keys(prefix)
    if keys:
        _sync_redis().eval(_WARP, len(keys), *keys, ms)


# ---------------------------------------------------------------------------- PostgreSQL

POSTGRES_URL = os.environ.get(
    "FDX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@cache
def _postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=2).close()
    except psycopg.Error as exc:
        return f"PostgreSQL at {POSTGRES_URL} unreachable ({type(exc).__name__}); .ci/run starts it"
    return None


def require_postgres() -> None:
    """Fail under CI (the engines must be tested there), skip elsewhere, when PostgreSQL is down."""
    reason = _postgres_unreachable()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def create_database() -> str:
    """A new, empty database no other test or run shares; its URL."""
    require_postgres()
    name = f"fdxgw_test_{uuid.uuid4().hex}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")  # a generated identifier, not input
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
