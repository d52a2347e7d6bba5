"""What only the in-process stores have: bounded memory, and the memory:// URLs."""

from __future__ import annotations

import gc

import pytest

from authz.store import open_records, open_state
from authz.store.base import Kind, Records
from authz.store.memory import MemoryStateStore
from tests.contracts.conftest import FakeClock

pytestmark = pytest.mark.anyio


async def test_expired_entries_are_purged_by_later_writes(clock: FakeClock) -> None:
    """A flood of never-read jtis does not outlive its TTL: memory tracks the live window."""
    store = MemoryStateStore(clock=clock)
    for i in range(1000):
        await store.add_once(Kind.ASSERTION_JTI, f"old-{i}", ttl=60)
    clock.advance(60)
    for i in range(1000):
        await store.add_once(Kind.ASSERTION_JTI, f"new-{i}", ttl=60)
    assert len(store) == 1000


async def test_a_rewritten_key_is_not_purged_by_its_old_expiry(clock: FakeClock) -> None:
    """The purge drops an entry only if it was not put again with a later expiry."""
    store = MemoryStateStore(clock=clock)
    await store.put(Kind.SESSION, "s", {"v": 1}, ttl=10)
    clock.advance(5)
    await store.put(Kind.SESSION, "s", {"v": 2}, ttl=60)
    clock.advance(10)
    await store.put(Kind.SESSION, "other", {}, ttl=60)  # a write runs the purge
    assert await store.get(Kind.SESSION, "s") == {"v": 2}


async def test_a_payload_that_is_not_json_is_refused_at_put(clock: FakeClock) -> None:
    """As with Redis, only JSON can be stored; the error is immediate, not at read."""
    store = MemoryStateStore(clock=clock)
    with pytest.raises(TypeError):
        await store.put(Kind.SESSION, "s", {"v": object()}, ttl=10)


async def test_memory_urls_open_the_in_process_stores(clock: FakeClock) -> None:
    """memory:// selects the in-process implementation of each seam."""
    assert isinstance(open_state("memory://", clock=clock), MemoryStateStore)
    assert isinstance(open_records("memory://", clock=clock), Records)


async def test_state_entries_are_left_out_of_the_collectors_walks() -> None:
    """Keys, entries and expiry rows hold only strings and numbers, so once collected the
    collector stops tracking them: a large replay cache (a DPoP jti per request over its TTL)
    must not make every full collection walk it (a 40-60 ms p99 stall under load)."""
    store = MemoryStateStore(clock=lambda: 1000.0)
    await store.add_once(Kind.DPOP_JTI, "jti-1", ttl=60)
    await store.put(Kind.CODE, "code-1", {"v": 1}, ttl=60)
    await store.consume(Kind.CODE, "code-1")
    await store.incr(Kind.RATE, "c:1", ttl=60)
    await store.incr(Kind.RATE, "c:1", ttl=60)
    gc.collect()

    tracked = [
        *(k for k in store._items if gc.is_tracked(k)),
        *(v for v in store._items.values() if gc.is_tracked(v)),
        *(row for row in store._expiries if gc.is_tracked(row)),
    ]
    assert [] == tracked
    assert {"v": 1, "consumed_at": 1000.0} == await store.get(Kind.CODE, "code-1")
    assert 3 == await store.incr(Kind.RATE, "c:1", ttl=60)
