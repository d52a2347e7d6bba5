"""The gate's cache over shared stamps (authz/store/live.py, authz/store/stamped.py): served
without a database read while the stamps stand, and never once a change was acknowledged.

Two instances are two record stores on one database (SQLite file or PostgreSQL), each with its
own connection to one Redis key prefix, as two gateway processes have."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import pytest

from authz.records import ConsentStatus
from authz.store import open_records
from authz.store.base import Kind, Records, StateUnavailable, Stored
from authz.store.live import Stamps
from authz.store.redis import RedisStamps, RedisStateStore
from authz.store.stamped import with_stamps
from tests.contracts.conftest import (
    REDIS_URL,
    _sync_redis,
    create_database,
    drop_database,
    new_prefix,
    purge_prefix,
    require_redis,
)
from tests.contracts.test_record_store import T0, client, consent, event

pytestmark = pytest.mark.anyio


class CountingVersions:
    """A backend's consents whose ``versions`` (the database read under ``live``) are counted."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.reads = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def versions(self, held: Mapping[str, int]) -> dict[str, Stored]:
        self.reads += 1
        return await self.inner.versions(held)  # type: ignore[attr-defined, no-any-return]


@dataclass
class Instance:
    records: Records
    state: RedisStateStore
    counted: CountingVersions

    @property
    def reads(self) -> int:
        return self.counted.reads


Opener = Callable[..., Awaitable[Instance]]


@pytest.fixture(params=["sqlite", "postgres"])
async def instance(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[Opener]:
    require_redis()
    prefix = new_prefix()
    if request.param == "postgres":
        url = create_database()
    else:
        url = f"sqlite:///{tmp_path}/records.sqlite"
    opened: list[Instance] = []

    async def open_one(stamps: Callable[[RedisStateStore], Stamps] = RedisStamps) -> Instance:
        state = RedisStateStore(REDIS_URL, prefix=prefix)
        plain = open_records(url)
        counted = CountingVersions(plain.consents)
        records = with_stamps(replace(plain, consents=counted), stamps(state))  # type: ignore[arg-type]
        if not opened:
            await records.schema.migrate()
        found = Instance(records, state, counted)
        opened.append(found)
        return found

    yield open_one
    for one in opened:
        await one.records.aclose()
        await one.state.aclose()
    purge_prefix(prefix)
    if request.param == "postgres":
        drop_database(url)


async def _granted(a: Instance) -> None:
    await a.records.clients.put(client())
    await a.records.consents.create(consent(), event())


async def _status(a: Instance) -> tuple[str | None, str | None]:
    live = await a.records.consents.live("consent-1")
    return (None, None) if live is None else (live.consent.status.value, live.recipient_status)


async def _revoke(writer: Instance) -> None:
    current = await writer.records.consents.get("consent-1")
    assert current is not None
    revoked = current.with_status(ConsentStatus.REVOKED, T0 + 10)
    assert await writer.records.consents.update(
        revoked, event(name="revoked"), expected_version=current.version
    )


async def test_while_the_stamps_stand_no_question_reads_the_database(instance: Opener) -> None:
    """The first questions fill the cache (under stamps read on a connection that stays);
    then none reads the database."""
    a = await instance()
    await _granted(a)
    for _ in range(3):
        await _status(a)
    before = a.reads

    answers = [await _status(a) for _ in range(5)]

    assert [("ACTIVE", "approved")] * 5 == answers
    assert before == a.reads, "served on the stamps alone"


async def test_a_revocation_by_another_instance_stops_the_next_request(instance: Opener) -> None:
    a, b = await instance(), await instance()
    await _granted(a)
    for _ in range(3):
        await _status(a)

    await _revoke(b)

    assert ("REVOKED", "approved") == await _status(a)


async def test_a_suspension_by_another_instance_stops_the_next_request(instance: Opener) -> None:
    a, b = await instance(), await instance()
    await _granted(a)
    for _ in range(3):
        await _status(a)

    await b.records.clients.put(client(status="suspended"))

    assert ("ACTIVE", "suspended") == await _status(a)


class DiesAfterCommit:
    """Stamps whose writer dies between its commit and its fresh stamp: the pending one stays."""

    def __init__(self, inner: Stamps) -> None:
        self.inner = inner
        self.writes = 0
        self.between: Callable[[], Awaitable[object]] | None = None  # runs before the commit

    @property
    def epoch(self) -> int:
        return self.inner.epoch

    async def read(self, names: Sequence[str]) -> list[str]:
        return await self.inner.read(names)

    async def write(self, names: Sequence[str], value: str) -> None:
        self.writes += 1
        if self.writes % 2 == 0:
            raise StateUnavailable("the process died before its second stamp (test)")
        await self.inner.write(names, value)
        if self.between is not None:
            await self.between()


async def test_a_writer_dead_between_its_commit_and_its_stamp_is_seen(instance: Opener) -> None:
    """The pending stamp stays, and a pending stamp is never trusted, even by a reader that read
    it (and the consent as it was) just before the commit: the next question reads the
    database, which holds the revocation."""
    a = await instance()
    made: list[DiesAfterCommit] = []

    def dying(state: RedisStateStore) -> Stamps:
        made.append(DiesAfterCommit(RedisStamps(state)))
        return made[0]

    b = await instance(stamps=dying)
    await _granted(a)
    for _ in range(3):
        await _status(a)

    async def questions_before_the_commit() -> None:
        for _ in range(3):
            assert ("ACTIVE", "approved") == await _status(a)

    made[0].between = questions_before_the_commit
    await _revoke(b)

    assert ("REVOKED", "approved") == await _status(a)
    assert ("REVOKED", "approved") == await _status(a)


class Unreachable:
    """Stamps in a Redis that is away."""

    epoch = 0

    async def read(self, names: Sequence[str]) -> list[str]:
        raise StateUnavailable("connection refused (test)")

    async def write(self, names: Sequence[str], value: str) -> None:
        raise StateUnavailable("connection refused (test)")


async def test_a_write_that_cannot_mark_its_stamp_pending_stores_nothing(
    instance: Opener,
) -> None:
    """Redis away before the commit: the write fails (503), nothing changed, nothing told."""
    a = await instance()
    b = await instance(stamps=lambda state: Unreachable())
    await _granted(a)

    with pytest.raises(StateUnavailable):
        await _revoke(b)

    assert ("ACTIVE", "approved") == await _status(a)


async def test_unreadable_stamps_send_every_question_to_the_database(instance: Opener) -> None:
    """Redis away for the reader: the database answers each question, fresh."""
    a = await instance(stamps=lambda state: Unreachable())
    b = await instance()
    await _granted(b)
    for _ in range(3):
        await _status(a)

    await _revoke(b)

    assert ("REVOKED", "approved") == await _status(a)


async def test_after_a_reconnection_nothing_cached_is_trusted(instance: Opener) -> None:
    """A failover may bring back an older stamp (the replica had not seen the last write): the
    reader's connection is new, so its cache is dropped and the database read."""
    a, b = await instance(), await instance()
    await _granted(a)
    for _ in range(3):
        await _status(a)
    key = a.state.key(Kind.STAMP, "consent:consent-1")
    old = _sync_redis().get(key)
    assert old is not None

    await _revoke(b)
    _sync_redis().set(key, old)  # the promoted replica's stale stamp
    await a.state._redis.connection_pool.disconnect()  # as the failover did

    assert ("REVOKED", "approved") == await _status(a)
