"""Audit records are group-committed, and every request still waits for its own record."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from authz.store.base import AuditEvent
from authz.store.memory import MemoryAudit
from gateway.audit import MAX_BATCH, AuditLog

pytestmark = pytest.mark.anyio


class CountingStore(MemoryAudit):
    """An in-memory audit family that counts the batches written to it."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.batches: list[int] = []
        self.fail = fail

    async def append(self, events: Sequence[AuditEvent]) -> None:
        if self.fail:
            raise OSError("disk full")
        self.batches.append(len(events))
        await super().append(events)


def _ctx(n: int) -> Any:
    consent = SimpleNamespace(id="consent-1")
    claims = SimpleNamespace(client_id="client-1")
    return SimpleNamespace(consent=consent, claims=claims, customer_id="c", interaction_id=str(n))


async def test_concurrent_records_share_one_transaction() -> None:
    """Ten requests in one loop turn make one write, and all ten are stored when they return."""
    store = CountingStore()
    log = AuditLog(store, clock=lambda: 1.0)
    done: list[str] = []

    async def one(n: int) -> None:
        event = await log.record(_ctx(n), "GET /accounts", ("a",), ("ACCOUNT_BASIC",), 1, 200)
        stored = await store.of_consent("consent-1")
        assert event in stored, "a request returns only once its own record is stored"
        done.append(event.interaction_id)

    async with anyio.create_task_group() as tg:
        for n in range(10):
            tg.start_soon(one, n)

    assert [10] == store.batches
    assert 10 == len(done)


async def test_records_in_sequence_are_each_written() -> None:
    """Without concurrency every record is its own batch; none is held back."""
    store = CountingStore()
    log = AuditLog(store, clock=lambda: 1.0)

    for n in range(3):
        await log.record(_ctx(n), "GET /accounts", (), (), 0, 200)

    assert [1, 1, 1] == store.batches


class SlowStore(CountingStore):
    """A write that takes a while (a PostgreSQL commit), so others arrive meanwhile."""

    async def append(self, events: Sequence[AuditEvent]) -> None:
        await anyio.sleep(0.05)
        await super().append(events)


async def test_requests_arriving_during_a_write_join_the_next_batch() -> None:
    """One batch in flight at a time: three late requests make one more write, not three."""
    store = SlowStore()
    log = AuditLog(store, clock=lambda: 1.0)

    async def late(n: int) -> None:
        await anyio.sleep(0.005 * n)  # one by one, while the first write is under way
        await log.record(_ctx(n), "GET /accounts", (), (), 0, 200)

    async with anyio.create_task_group() as tg:
        tg.start_soon(log.record, _ctx(0), "GET /accounts", (), (), 0, 200)
        for n in range(1, 4):
            tg.start_soon(late, n)

    assert [1, 3] == store.batches
    assert 4 == len(await store.of_consent("consent-1"))


async def test_a_failed_write_fails_every_waiting_request() -> None:
    """If the batch cannot be stored, every request in it fails closed (no data without audit)."""
    log = AuditLog(CountingStore(fail=True), clock=lambda: 1.0)
    failures: list[BaseException] = []

    async def one(n: int) -> None:
        try:
            await log.record(_ctx(n), "GET /accounts", (), (), 0, 200)
        except OSError as exc:
            failures.append(exc)

    async with anyio.create_task_group() as tg:
        for n in range(4):
            tg.start_soon(one, n)

    assert 4 == len(failures)


async def test_a_cancelled_request_does_not_cancel_its_neighbours_batch() -> None:
    """A client that disconnects while the batch is written stops waiting; the others' records
    (and its own, already in the batch) are still stored, and the others return."""
    store = SlowStore()
    log = AuditLog(store, clock=lambda: 1.0)
    returned: list[int] = []

    async def one(n: int) -> None:
        await log.record(_ctx(n), "GET /accounts", (), (), 0, 200)
        returned.append(n)

    async with anyio.create_task_group() as tg:
        for n in range(3):
            tg.start_soon(one, n)
        async with anyio.create_task_group() as doomed:
            doomed.start_soon(one, 3)
            await anyio.sleep(0.01)  # the batch of four is being written
            doomed.cancel_scope.cancel()

    assert sorted(returned) == [0, 1, 2]
    assert [4] == store.batches
    assert 4 == len(await store.of_consent("consent-1"))


async def test_a_backlog_is_written_in_bounded_batches() -> None:
    """300 requests at once (a backlog after a stall): no batch beyond MAX_BATCH events, so no
    transaction holds the trail's lock for the whole backlog; every record is still stored."""
    store = CountingStore()
    log = AuditLog(store, clock=lambda: 1.0)

    async with anyio.create_task_group() as tg:
        for n in range(300):
            tg.start_soon(log.record, _ctx(n), "GET /accounts", ("a",), ("ACCOUNT_BASIC",), 1, 200)

    assert [MAX_BATCH, MAX_BATCH, 300 - 2 * MAX_BATCH] == store.batches
    assert 300 == len(await store.of_consent("consent-1"))
