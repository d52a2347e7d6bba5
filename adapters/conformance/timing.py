"""``Timed``: a BankAdapter wrapper that records how long each call took, for the report."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import TypeVar

from adapters.base import BankAdapter
from adapters.conformance.report import Latency
from adapters.proxy import BankProxy

T = TypeVar("T")


class Timed(BankProxy):
    def __init__(self, bank: BankAdapter, *, clock: Callable[[], float] = time.perf_counter):
        super().__init__(bank)
        self.bank = bank
        self.seconds: defaultdict[str, list[float]] = defaultdict(list)
        self._clock = clock

    def latencies(self) -> tuple[Latency, ...]:
        return tuple(Latency.of(m, s) for m, s in sorted(self.seconds.items()) if s)

    async def _through(self, method: str, call: Awaitable[T]) -> T:
        start = self._clock()
        try:
            return await call
        finally:
            self.seconds[method].append(self._clock() - start)
