"""Fixtures for the storage contract suites: one fixture branch per implementation.

A new implementation (Redis, PostgreSQL) joins by adding its name to the params and a branch to
``open_state`` / ``open_records`` below; every contract test then runs over it unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from authz.store.base import RecordStore, StateStore
from authz.store.memory import MemoryRecordStore, MemoryStateStore
from authz.store.sqlite import SqliteRecordStore

STATE_BACKENDS = ["memory"]
RECORD_BACKENDS = ["memory", "sqlite"]


class FakeClock:
    """A clock that moves only when a test says so."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def open_state(backend: str, clock: FakeClock) -> StateStore:
    if backend == "memory":
        return MemoryStateStore(clock=clock)
    raise AssertionError(f"no fixture branch for state backend {backend!r}")


def open_records(backend: str, tmp_path: Path) -> RecordStore:
    if backend == "memory":
        return MemoryRecordStore()
    if backend == "sqlite":
        return SqliteRecordStore(str(tmp_path / "var" / "records.sqlite"))
    raise AssertionError(f"no fixture branch for record backend {backend!r}")


@pytest.fixture(params=STATE_BACKENDS)
async def state(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[StateStore]:
    store = open_state(request.param, clock)
    yield store
    await store.aclose()


@pytest.fixture(params=RECORD_BACKENDS)
def record_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def fresh_records(record_backend: str, tmp_path: Path) -> AsyncIterator[RecordStore]:
    """A store whose schema has not been created yet."""
    store = open_records(record_backend, tmp_path)
    yield store
    await store.aclose()


@pytest.fixture
async def records(fresh_records: RecordStore) -> RecordStore:
    await fresh_records.migrate()
    return fresh_records


@pytest.fixture
async def reopen(
    records: RecordStore, record_backend: str, tmp_path: Path
) -> AsyncIterator[Callable[[], Awaitable[RecordStore]]]:
    """Another store object on the same data, as a second gateway process would hold.

    The in-process store has no data outside itself, so its "other process" is itself."""
    opened: list[RecordStore] = []

    async def open_again() -> RecordStore:
        if record_backend == "memory":
            return records
        store = open_records(record_backend, tmp_path)
        opened.append(store)
        return store

    yield open_again
    for store in opened:
        await store.aclose()
