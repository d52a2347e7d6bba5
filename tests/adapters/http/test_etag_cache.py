"""EtagCache: bounded by entries, bytes and age; the oldest leaves first."""

from __future__ import annotations

import asyncio
import time

import pytest

from adapters.http.etag_cache import EtagCache

pytestmark = pytest.mark.anyio


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_an_entry_is_found_with_its_etag_and_value() -> None:
    """What was put is what is got, under its key only."""
    cache = EtagCache(10, 1000, 60, clock=FakeClock())

    cache.put("a", '"1"', ["page"], 10)

    entry = cache.get("a")
    assert entry is not None
    assert (entry.etag, entry.value, cache.get("b")) == ('"1"', ["page"], None)


async def test_the_oldest_entry_leaves_when_there_are_too_many() -> None:
    """Past ``entries``, the first one put goes."""
    cache = EtagCache(2, 1000, 60, clock=FakeClock())

    for key in ("a", "b", "c"):
        cache.put(key, '"x"', key, 1)

    assert [cache.get(k) is not None for k in ("a", "b", "c")] == [False, True, True]


async def test_the_oldest_entries_leave_when_the_bytes_run_over() -> None:
    """The sizes are summed; past ``max_bytes`` the oldest go until it fits."""
    cache = EtagCache(100, 100, 60, clock=FakeClock())
    cache.put("a", '"x"', "a", 40)
    cache.put("b", '"x"', "b", 40)

    cache.put("c", '"x"', "c", 50)

    assert (cache.get("a"), len(cache), cache.bytes) == (None, 2, 90)


async def test_an_answer_larger_than_the_whole_cache_is_not_kept() -> None:
    """One body over ``max_bytes`` is not kept, and evicts nothing."""
    cache = EtagCache(100, 100, 60, clock=FakeClock())
    cache.put("a", '"x"', "a", 40)

    cache.put("big", '"x"', "big", 101)

    assert (cache.get("big"), cache.get("a") is not None, cache.bytes) == (None, True, 40)


async def test_a_replaced_answer_moves_to_the_back() -> None:
    """Putting a key again renews it: it is then the youngest, and its old size is gone."""
    cache = EtagCache(2, 1000, 60, clock=FakeClock())
    cache.put("a", '"1"', "old", 10)
    cache.put("b", '"1"', "b", 10)

    cache.put("a", '"2"', "new", 20)
    cache.put("c", '"1"', "c", 10)

    entry = cache.get("a")
    assert entry is not None
    assert (entry.value, cache.get("b"), cache.bytes) == ("new", None, 30)


async def test_entries_expire_after_max_age() -> None:
    """An entry older than ``max_age`` is gone, whether asked for or not."""
    clock = FakeClock()
    cache = EtagCache(10, 1000, 30, clock=clock)
    cache.put("a", '"x"', "a", 10)
    clock.now += 20
    cache.put("b", '"x"', "b", 10)

    clock.now += 10

    assert (cache.get("a"), cache.get("b") is not None, len(cache), cache.bytes) == (
        None,
        True,
        1,
        10,
    )


async def test_an_idle_cache_is_emptied_by_its_timer() -> None:
    """No further call is needed for kept answers to leave memory on time."""
    cache = EtagCache(10, 1000, 0.05, clock=time.monotonic)
    cache.put("a", '"x"', "a", 10)

    await asyncio.sleep(0.2)

    assert (len(cache), cache.bytes) == (0, 0)


@pytest.mark.parametrize(("entries", "max_bytes", "max_age"), [(0, 1, 1), (1, 0, 1), (1, 1, 0)])
async def test_a_cache_needs_room_and_time(entries: int, max_bytes: int, max_age: float) -> None:
    """Zero bounds mean "off", which is the adapter's decision, not an empty cache."""
    with pytest.raises(ValueError, match="etag cache"):
        EtagCache(entries, max_bytes, max_age, clock=FakeClock())
