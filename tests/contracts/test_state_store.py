"""The StateStore contract (authz/store/base.py), run over every implementation."""

from __future__ import annotations

import anyio
import pytest

from authz.store.base import Kind, StateStore
from tests.contracts.conftest import FakeClock

pytestmark = pytest.mark.anyio


async def test_put_then_get_returns_the_payload(state: StateStore) -> None:
    """A stored payload comes back equal."""
    await state.put(Kind.PAR, "urn:a", {"client_id": "c1", "nested": {"n": [1, 2]}}, ttl=60)
    assert await state.get(Kind.PAR, "urn:a") == {"client_id": "c1", "nested": {"n": [1, 2]}}


async def test_get_of_an_absent_key_is_none(state: StateStore) -> None:
    """Nothing stored, nothing returned."""
    assert await state.get(Kind.CODE, "missing") is None


async def test_kinds_are_separate_namespaces(state: StateStore) -> None:
    """The same key under two kinds names two items."""
    await state.put(Kind.PAR, "k", {"v": "par"}, ttl=60)
    await state.put(Kind.CODE, "k", {"v": "code"}, ttl=60)
    assert await state.get(Kind.PAR, "k") == {"v": "par"}
    assert await state.get(Kind.CODE, "k") == {"v": "code"}


async def test_put_replaces_payload_and_ttl(state: StateStore, clock: FakeClock) -> None:
    """A second put overwrites the payload and restarts the TTL."""
    await state.put(Kind.SESSION, "s", {"v": 1}, ttl=10)
    clock.advance(8)
    await state.put(Kind.SESSION, "s", {"v": 2}, ttl=10)
    clock.advance(8)
    assert await state.get(Kind.SESSION, "s") == {"v": 2}


async def test_delete_removes_the_item(state: StateStore) -> None:
    """After delete the key is gone; deleting an absent key is not an error."""
    await state.put(Kind.SESSION, "s", {"v": 1}, ttl=60)
    await state.delete(Kind.SESSION, "s")
    await state.delete(Kind.SESSION, "never-there")
    assert await state.get(Kind.SESSION, "s") is None


async def test_an_item_expires_exactly_at_its_ttl(state: StateStore, clock: FakeClock) -> None:
    """Live just before put-time + ttl, gone at it."""
    await state.put(Kind.CODE, "c", {"v": 1}, ttl=60)
    clock.advance(59.999)
    assert await state.get(Kind.CODE, "c") == {"v": 1}
    clock.advance(0.001)
    assert await state.get(Kind.CODE, "c") is None


async def test_first_consume_returns_the_payload_unmarked(state: StateStore) -> None:
    """The first consumer gets the payload as stored, without consumed_at."""
    await state.put(Kind.CODE, "c", {"v": 1}, ttl=60)
    assert await state.consume(Kind.CODE, "c") == {"v": 1}


async def test_a_replayed_consume_sees_consumed_at(state: StateStore, clock: FakeClock) -> None:
    """A second consume gets the payload marked with the time of the first (RFC 6749 §4.1.2)."""
    await state.put(Kind.CODE, "c", {"v": 1}, ttl=60)
    first_at = clock.now
    await state.consume(Kind.CODE, "c")
    clock.advance(5)
    assert await state.consume(Kind.CODE, "c") == {"v": 1, "consumed_at": first_at}
    assert await state.get(Kind.CODE, "c") == {"v": 1, "consumed_at": first_at}


async def test_consume_keeps_the_items_ttl(state: StateStore, clock: FakeClock) -> None:
    """Consuming does not extend or drop the item: it expires when it would have."""
    await state.put(Kind.CODE, "c", {"v": 1}, ttl=60)
    clock.advance(30)
    await state.consume(Kind.CODE, "c")
    clock.advance(29)
    assert await state.get(Kind.CODE, "c") is not None
    clock.advance(1)
    assert await state.consume(Kind.CODE, "c") is None


async def test_consume_of_absent_or_expired_is_none(state: StateStore, clock: FakeClock) -> None:
    """Unknown and expired items cannot be consumed."""
    await state.put(Kind.PAR, "p", {"v": 1}, ttl=60)
    clock.advance(60)
    assert await state.consume(Kind.PAR, "p") is None
    assert await state.consume(Kind.PAR, "never-there") is None


async def test_concurrent_consumes_have_exactly_one_winner(state: StateStore) -> None:
    """Of 50 tasks consuming one code at once, exactly one sees it unconsumed."""
    await state.put(Kind.CODE, "c", {"v": 1}, ttl=60)
    seen: list[dict[str, object] | None] = []

    async def consume() -> None:
        seen.append(await state.consume(Kind.CODE, "c"))

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(consume)
    winners = [p for p in seen if p is not None and "consumed_at" not in p]
    replays = [p for p in seen if p is not None and "consumed_at" in p]
    assert (len(winners), len(replays)) == (1, 49)


async def test_consume_stamps_the_callers_instant_and_the_first_stamp_stays(
    state: StateStore,
) -> None:
    """``at`` is what a later read sees as ``consumed_at`` (the token endpoint tells its own
    use from another's by it); a second consume does not move it."""
    await state.put(Kind.CODE, "c", {"v": 1}, ttl=60)

    assert {"v": 1} == await state.consume(Kind.CODE, "c", at=1234.5678901)
    assert {"v": 1, "consumed_at": 1234.5678901} == await state.get(Kind.CODE, "c")
    assert {"v": 1, "consumed_at": 1234.5678901} == await state.consume(Kind.CODE, "c", at=9.0)
    assert 1234.5678901 == (await state.get(Kind.CODE, "c") or {})["consumed_at"]


async def test_add_once_is_true_for_the_first_caller_only(state: StateStore) -> None:
    """A jti seen once is refused the second time (RFC 7523 §3)."""
    assert await state.add_once(Kind.ASSERTION_JTI, "jti-1", ttl=60) is True
    assert await state.add_once(Kind.ASSERTION_JTI, "jti-1", ttl=60) is False
    assert await state.add_once(Kind.ASSERTION_JTI, "jti-2", ttl=60) is True


async def test_add_once_succeeds_again_after_expiry(state: StateStore, clock: FakeClock) -> None:
    """Once its TTL has passed the key is free again."""
    assert await state.add_once(Kind.REVOKED_ACCESS, "j", ttl=10) is True
    clock.advance(10)
    assert await state.add_once(Kind.REVOKED_ACCESS, "j", ttl=10) is True


async def test_concurrent_add_once_has_exactly_one_winner(state: StateStore) -> None:
    """Of 50 tasks adding one jti at once, exactly one is first."""
    results: list[bool] = []

    async def add() -> None:
        results.append(await state.add_once(Kind.ASSERTION_JTI, "j", ttl=60))

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(add)
    assert results.count(True) == 1
    assert len(results) == 50


async def test_incr_counts_from_one(state: StateStore) -> None:
    """Each increment returns the new count; keys count separately."""
    assert [await state.incr(Kind.LOGIN_FAILURES, "u1", ttl=60) for _ in range(3)] == [1, 2, 3]
    assert await state.incr(Kind.LOGIN_FAILURES, "u2", ttl=60) == 1


async def test_incr_ttl_starts_with_the_first_increment(
    state: StateStore, clock: FakeClock
) -> None:
    """Later increments do not extend the window; after it the count restarts at one."""
    await state.incr(Kind.LOGIN_FAILURES, "u", ttl=60)
    clock.advance(50)
    assert await state.incr(Kind.LOGIN_FAILURES, "u", ttl=60) == 2
    clock.advance(10)
    assert await state.incr(Kind.LOGIN_FAILURES, "u", ttl=60) == 1


async def test_incr_many_counts_each_key_in_order(state: StateStore) -> None:
    """One call increments every key and returns the counts in the order asked."""
    await state.incr(Kind.RATE, "b", ttl=60)

    assert await state.incr_many(Kind.RATE, ["a", "b"], ttl=60) == [1, 2]
    assert await state.incr_many(Kind.RATE, ["b", "a", "c"], ttl=60) == [3, 2, 1]
    assert await state.incr(Kind.RATE, "a", ttl=60) == 3


async def test_incr_many_ttl_starts_with_each_first_increment(
    state: StateStore, clock: FakeClock
) -> None:
    """Each key's window is its own: an older key expires while a newer one keeps counting."""
    await state.incr_many(Kind.RATE, ["old"], ttl=60)
    clock.advance(30)
    await state.incr_many(Kind.RATE, ["old", "new"], ttl=60)
    clock.advance(31)

    assert await state.incr_many(Kind.RATE, ["old", "new"], ttl=60) == [1, 2]


async def test_returned_payloads_are_copies(state: StateStore, clock: FakeClock) -> None:
    """Mutating what get or consume returned does not change what is stored."""
    await state.put(Kind.INTERACTION, "i", {"v": 1, "nested": {"n": [1]}}, ttl=60)
    got = await state.get(Kind.INTERACTION, "i")
    assert got is not None
    got["v"] = 2
    got["nested"]["n"].append(2)
    consumed = await state.consume(Kind.INTERACTION, "i")
    assert consumed is not None
    consumed["nested"]["n"].append(3)
    assert await state.get(Kind.INTERACTION, "i") == {
        "v": 1,
        "nested": {"n": [1]},
        "consumed_at": clock.now,
    }


async def test_stored_payloads_do_not_alias_the_callers_dict(state: StateStore) -> None:
    """Mutating the dict after put does not change what is stored."""
    payload = {"v": 1, "nested": {"n": [1]}}
    await state.put(Kind.INTERACTION, "i", payload, ttl=60)
    payload["v"] = 2
    payload["nested"]["n"].append(2)  # type: ignore[index]
    assert await state.get(Kind.INTERACTION, "i") == {"v": 1, "nested": {"n": [1]}}
