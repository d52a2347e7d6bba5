"""The Records contract for signing keys and the session secret (``Records.secrets``), over
every backend: what one instance stores, another instance reads, and a first key is kept once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import anyio
import pytest

from authz.records import SealedSecret
from authz.store.base import Records

pytestmark = pytest.mark.anyio

T0 = 1_780_000_000.0
SEALED = bytes(range(256))  # every byte value survives the round trip


def key(kid: str, at: float = T0, *, use: str = "sig") -> SealedSecret:
    return SealedSecret(kid, use, at, at, None, "aes256gcm:0123456789abcdef", SEALED + b"x")


async def test_a_stored_secret_reads_back_whole_oldest_first(records: Records) -> None:
    """Every field, and the sealed bytes exactly, in (created, id) order."""
    newer, older = key("k2", T0 + 1), replace(key("k1"), retire_after=T0 + 9, kek="none")
    assert await records.secrets.add(newer)
    assert await records.secrets.add(older)

    assert [older, newer] == await records.secrets.all()


async def test_an_id_is_stored_once(records: Records) -> None:
    """A second add of the same id changes nothing and says so."""
    assert await records.secrets.add(key("k1"))

    again = await records.secrets.add(replace(key("k1"), sealed=b"other"))

    assert (False, [key("k1")]) == (again, await records.secrets.all())


async def test_first_keeps_one_record_per_use_even_when_instances_race(
    records: Records, reopen: Callable[[], Awaitable[Records]]
) -> None:
    """Two instances creating a first signing key at once: exactly one is kept; a first
    session secret is still accepted beside it."""
    other = await reopen()
    won: list[bool] = []

    async def add(store: Records, kid: str) -> None:
        won.append(await store.secrets.add(key(kid), first=True))

    async with anyio.create_task_group() as tg:
        tg.start_soon(add, records, "a")
        tg.start_soon(add, other, "b")
    session = await records.secrets.add(key("session", use="session"), first=True)

    assert sorted(won) == [False, True]
    assert session
    assert 1 == len([s for s in await other.secrets.all() if s.use == "sig"])


async def test_rotate_schedules_every_unscheduled_key_and_adds_the_new_one(
    records: Records, reopen: Callable[[], Awaitable[Records]]
) -> None:
    """One transaction: keys already scheduled and the session secret keep their own dates."""
    await records.secrets.add(replace(key("old"), retire_after=T0 + 5))
    await records.secrets.add(key("current", T0 + 1))
    await records.secrets.add(key("session", use="session"))

    await records.secrets.rotate(key("next", T0 + 2), retire_after=T0 + 100)
    seen = {s.id: s.retire_after for s in await (await reopen()).secrets.all()}

    assert {"old": T0 + 5, "current": T0 + 100, "session": None, "next": None} == seen


async def test_rotate_to_an_id_taken_changes_nothing(records: Records) -> None:
    """ValueError, and no key is scheduled for retirement by the failed rotation."""
    await records.secrets.add(key("k1"))

    with pytest.raises(ValueError, match="exists"):
        await records.secrets.rotate(key("k1", T0 + 1), retire_after=T0 + 100)

    assert [key("k1")] == await records.secrets.all()


async def test_reseal_replaces_the_sealed_value_and_keeps_the_schedule(
    records: Records, reopen: Callable[[], Awaitable[Records]]
) -> None:
    """Only kek and sealed change, and only on the record named; an unknown id changes nothing."""
    await records.secrets.add(replace(key("k1"), kek="none", sealed=b"clear"))
    await records.secrets.add(key("k2"))
    await records.secrets.rotate(key("k3", T0 + 1), retire_after=T0 + 50)

    await records.secrets.reseal(replace(key("k1"), retire_after=None, sealed=b"sealed"))
    await records.secrets.reseal(key("nope"))
    k1, k2, _ = await (await reopen()).secrets.all()

    assert (key("k1").kek, b"sealed", T0 + 50) == (k1.kek, k1.sealed, k1.retire_after)
    assert replace(key("k2"), retire_after=T0 + 50) == k2


async def test_remove_deletes_the_named_records_only(records: Records) -> None:
    """Unknown ids are ignored."""
    for kid in ("k1", "k2", "k3"):
        await records.secrets.add(key(kid))

    await records.secrets.remove(["k1", "k3", "nope"])

    assert ["k2"] == [s.id for s in await records.secrets.all()]
