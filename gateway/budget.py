"""The gateway's time budget for every bank adapter call (``adapter_timeout``).

An adapter may have timeouts of its own, or none (a sandbox with injected latency, a core
behind a hung connection). The gateway does not rely on them: ``BudgetedBank`` cancels any call
still running after ``adapter_timeout`` seconds and raises ``BankTimeout``, which the FDX API
answers 503 with FDX code 501 (adapters/errors.py) and the screens with their "cannot be reached"
page. A slow core so costs its own requests the budget at most; the event loop, and every other
request on it, never waits for it.

``create_app`` wraps the configured adapter once, inside ``gateway.metrics``' measuring proxy,
so a call cut short is counted as a ``BankTimeout`` of the adapter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from adapters.base import BankAdapter
from adapters.errors import BankTimeout
from adapters.proxy import BankProxy

T = TypeVar("T")


class BudgetedBank(BankProxy):
    """A ``BankAdapter`` that gives each call of the one it wraps at most ``seconds``.

    Attributes other than the Protocol's (``members`` of a composite, a ``health`` probe) pass
    through to the wrapped adapter.

    Why not ``asyncio.timeout`` around each call: it arms and disarms a timer per call, ~6 µs
    a call on the FDX hot path (measured side by side: ~1.5 µs this way). Here a call only
    records its task's deadline in a dict (insertion order is deadline order, since every call
    gets the same budget), and one timer, armed while calls are in flight, cancels the tasks
    past their deadline every ``seconds / 10`` (at most 0.1 s), so a call may overrun its
    budget by that much. The cancellation is taken back (``Task.uncancel``) and turned into
    ``BankTimeout`` as ``asyncio.timeout`` does; a cancellation from elsewhere (a client gone)
    stays a cancellation.
    """

    def __init__(self, bank: BankAdapter, seconds: float) -> None:
        super().__init__(bank)
        self.seconds = seconds
        self._tick = min(0.1, seconds / 10)
        self._deadlines: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        self._sweeping_on: asyncio.AbstractEventLoop | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)

    async def _through(self, operation: str, call: Awaitable[T]) -> T:
        task = asyncio.current_task()
        if task is None or task in self._deadlines:
            return await call  # no task to cancel, or already within this budget
        loop = asyncio.get_running_loop()
        cancelling = task.cancelling()
        self._deadlines[task] = loop.time() + self.seconds
        if self._sweeper is None or self._sweeping_on is not loop:
            self._sweeping_on = loop
            self._sweeper = loop.call_later(self._tick, self._sweep)
        try:
            return await call
        except asyncio.CancelledError:
            if task in self._expired and task.uncancel() <= cancelling:
                # The operation only: the call's arguments name a customer.
                raise BankTimeout(f"no answer within {self.seconds:g} s") from None
            raise
        finally:
            del self._deadlines[task]
            self._expired.discard(task)

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        late = []
        for task, deadline in self._deadlines.items():
            if deadline > now:
                break
            if task not in self._expired:
                late.append(task)
        for task in late:
            self._expired.add(task)
            task.cancel()
        self._sweeper = loop.call_later(self._tick, self._sweep) if self._deadlines else None


def within_budget(bank: BankAdapter, seconds: float) -> BankAdapter:
    return BudgetedBank(bank, seconds)


__all__ = ["BudgetedBank", "within_budget"]
