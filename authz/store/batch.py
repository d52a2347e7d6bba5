"""Concurrent calls coalesced into one round trip: group commit, for any store call.

Under load, many requests of one process want the same kind of round trip at about the same
time (the consent check, a Redis command, the audit write). Each round trip costs far more
client CPU (the driver's protocol work, the system calls, the pool) than the items it carries,
so a ``Batcher`` sends them together:

- items submitted while no batch is in flight go out in the next turn of the event loop, all of
  that turn's items together (a lone call waits one turn, not a timer);
- while a batch is in flight, new items wait and go out together as soon as it is answered. One
  batch in flight at a time, so batches grow with the load instead of queueing side by side.

An item never joins a batch that was already sent: its round trip starts after it was
submitted, so whatever was committed before the call is what it reads (the live consent check
relies on this). Each caller waits on its own future, which the batch answers: a cancelled
caller stops waiting, and its neighbours' batch goes on. A batch that fails (an exception from
``run``, or the sending task cancelled) fails every caller in it, so nobody is told that an
unsent write was stored.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """``await submit(item)`` → that item's result from ``run(items)``, one call per batch.

    ``run`` answers one result per item, in order. A result that is an exception is not special
    here: callers that need per-item errors return them and raise in their own code."""

    def __init__(
        self, run: Callable[[list[T]], Awaitable[Sequence[R]]], *, max_items: int | None = None
    ) -> None:
        if max_items is not None and max_items < 1:
            raise ValueError("max_items must be at least 1")
        self._run = run
        self._max = max_items  # a bound on one batch's size; the rest wait for the next
        self._items: list[T] = []
        self._waiters: list[asyncio.Future[R]] = []
        self._sender: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        sender = self._sender
        if sender is not None and sender.get_loop() is not loop:
            # A store kept across event loops (tests): the old loop is gone with its waiters.
            self._items, self._waiters, sender = [], [], None
        waiter: asyncio.Future[R] = loop.create_future()
        self._items.append(item)
        self._waiters.append(waiter)
        if sender is None:
            # Held so the task cannot be collected before it runs (asyncio keeps weak refs).
            # In a context of its own: a copy of this caller's would tag everything logged while
            # sending later callers' batches with this request's interaction id.
            self._sender = loop.create_task(self._send_all(), context=contextvars.Context())
        return await waiter

    async def _send_all(self) -> None:
        """Send batches one after another until nothing is waiting."""
        try:
            while self._items:
                await asyncio.sleep(0)  # one turn of the loop: this turn's callers join
                items, waiters = self._items, self._waiters
                if self._max is not None and len(items) > self._max:
                    items, self._items = items[: self._max], items[self._max :]
                    waiters, self._waiters = waiters[: self._max], waiters[self._max :]
                else:
                    self._items, self._waiters = [], []
                await self._send(items, waiters)
        finally:
            self._sender = None
            _fail(self._waiters, asyncio.CancelledError())  # only if cancelled before sending
            self._items, self._waiters = [], []

    async def _send(self, items: list[T], waiters: list[asyncio.Future[R]]) -> None:
        try:
            results = await self._run(items)
            if len(results) != len(items):
                raise RuntimeError(f"batch of {len(items)} answered {len(results)} results")
        except BaseException as exc:
            _fail(waiters, exc)
            if not isinstance(exc, Exception):
                raise  # the sending task itself is being cancelled
            return
        for waiter, result in zip(waiters, results, strict=True):
            if not waiter.done():  # done: its caller was cancelled and no longer waits
                waiter.set_result(result)


def _fail(waiters: list[asyncio.Future[R]], exc: BaseException) -> None:
    for waiter in waiters:
        if waiter.done():
            continue
        if isinstance(exc, asyncio.CancelledError):
            waiter.cancel()
        else:
            waiter.set_exception(exc)


__all__ = ["Batcher"]
