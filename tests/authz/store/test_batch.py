"""The coalescing of concurrent store calls (authz/store/batch.py): one round trip per batch, one
batch in flight, every caller answered with its own result or its batch's failure."""

from __future__ import annotations

import asyncio
import contextvars

import anyio
import pytest

from authz.store.batch import Batcher

pytestmark = pytest.mark.anyio


class Recorder:
    """A ``run`` that records each batch and answers each item doubled; ``hold`` keeps the
    batches in flight until released."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.sent = asyncio.Event()  # a batch reached the store
        self.hold: asyncio.Event | None = None
        self.fail: BaseException | None = None

    async def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        self.sent.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.fail is not None:
            raise self.fail
        return [2 * i for i in items]


async def test_calls_of_one_turn_share_one_batch_and_each_gets_its_own_result() -> None:
    run = Recorder()
    batcher = Batcher(run)

    results = await asyncio.gather(*(batcher.submit(i) for i in range(10)))

    assert results == [2 * i for i in range(10)]
    assert run.batches == [list(range(10))]


async def test_a_bounded_batcher_sends_the_surplus_in_the_next_batches_in_order() -> None:
    """After a stall thousands may be waiting; a bounded batch takes the oldest ``max_items``
    and the others follow, each caller still answered with its own result."""
    run = Recorder()
    batcher = Batcher(run, max_items=4)

    results = await asyncio.gather(*(batcher.submit(i) for i in range(10)))

    assert [2 * i for i in range(10)] == results
    assert [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] == run.batches
    with pytest.raises(ValueError, match="max_items"):
        Batcher(run, max_items=0)


async def test_a_lone_call_is_sent_on_its_own_without_waiting_for_company() -> None:
    run = Recorder()
    batcher = Batcher(run)

    for i in range(3):
        with anyio.fail_after(5):  # a hang guard, not a timing
            assert await batcher.submit(i) == 2 * i

    assert run.batches == [[0], [1], [2]]


async def test_calls_made_while_a_batch_is_in_flight_wait_and_go_out_together() -> None:
    """One batch in flight at a time, and nothing joins a batch already sent: a call made after
    a round trip began gets a round trip of its own that begins after the call."""
    run = Recorder()
    run.hold = asyncio.Event()
    batcher = Batcher(run)
    first = asyncio.ensure_future(batcher.submit(1))
    await run.sent.wait()
    late = [asyncio.ensure_future(batcher.submit(i)) for i in (2, 3, 4)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert run.batches == [[1]], "nothing else is sent while the first batch is in flight"

    run.hold.set()

    assert await first == 2
    assert [await f for f in late] == [4, 6, 8]
    assert run.batches == [[1], [2, 3, 4]]


async def test_a_cancelled_caller_does_not_cancel_its_neighbours_batch() -> None:
    run = Recorder()
    run.hold = asyncio.Event()
    batcher = Batcher(run)
    calls = [asyncio.ensure_future(batcher.submit(i)) for i in range(3)]
    await run.sent.wait()

    calls[1].cancel()
    run.hold.set()

    assert await calls[0] == 0
    assert await calls[2] == 4
    with pytest.raises(asyncio.CancelledError):
        await calls[1]
    assert run.batches == [[0, 1, 2]]
    assert await batcher.submit(5) == 10, "the batcher goes on"


async def test_a_failed_batch_fails_every_caller_in_it_and_the_next_batch_is_sent() -> None:
    run = Recorder()
    run.fail = OSError("connection lost")
    batcher = Batcher(run)

    outcomes = await asyncio.gather(*(batcher.submit(i) for i in range(4)), return_exceptions=True)

    assert all(isinstance(o, OSError) for o in outcomes)
    run.fail = None
    assert await batcher.submit(7) == 14


async def test_a_wrong_number_of_results_fails_every_caller() -> None:
    async def short(items: list[int]) -> list[int]:
        return items[:-1]

    batcher = Batcher(short)

    outcomes = await asyncio.gather(*(batcher.submit(i) for i in range(3)), return_exceptions=True)

    assert all(isinstance(o, RuntimeError) for o in outcomes)


async def test_callers_are_not_left_waiting_when_the_sending_task_is_cancelled() -> None:
    """An event loop shutting down cancels the sending task: its callers, and those waiting for
    the next batch, are cancelled too instead of hanging."""
    run = Recorder()
    run.hold = asyncio.Event()
    batcher = Batcher(run)
    sent = asyncio.ensure_future(batcher.submit(1))
    await run.sent.wait()
    waiting = asyncio.ensure_future(batcher.submit(2))
    await asyncio.sleep(0)

    sender = next(t for t in asyncio.all_tasks() if "_send_all" in repr(t.get_coro()))
    sender.cancel()

    with anyio.fail_after(5):  # a hang guard
        for call in (sent, waiting):
            with pytest.raises(asyncio.CancelledError):
                await call
    run.hold = None
    assert await batcher.submit(3) == 6


def test_one_batcher_serves_successive_event_loops() -> None:
    """Stores outlive an event loop in tests and scripts; the next loop is served as well."""

    async def double(items: list[int]) -> list[int]:
        return [2 * i for i in items]

    batcher = Batcher(double)

    async def use() -> list[int]:
        return list(await asyncio.gather(batcher.submit(1), batcher.submit(2)))

    assert asyncio.run(use()) == [2, 4]
    assert asyncio.run(use()) == [2, 4]


async def test_the_sending_task_does_not_carry_the_first_callers_context() -> None:
    """Log lines written while a batch is sent must not carry one request's interaction id."""
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
    seen: list[str] = []

    async def run(items: list[int]) -> list[int]:
        seen.append(request_id.get())
        return items

    batcher = Batcher(run)
    request_id.set("request-1")
    await batcher.submit(1)

    assert ["-"] == seen
