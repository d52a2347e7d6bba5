"""A circuit breaker per upstream: after enough consecutive failures, stop calling for a while.

closed ──N failures──▶ open ──reset_after elapsed──▶ half-open (one probe at a time)
  ▲                                                     │ success → closed
  └─────────────────────────────────────────────────────┘ failure → open again

While open, calls fail at once with ``BankUnavailable`` instead of tying up a connection and a
request for a whole timeout, so one failing core never stalls requests for the others.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable


class State(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    def __init__(
        self,
        failures: int,
        reset_after: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures < 1 or reset_after <= 0:
            raise ValueError("breaker: failures ≥ 1 and reset_after > 0")
        self.threshold = failures
        self.reset_after = reset_after
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return State.CLOSED
        if self._probing or self._clock() - self._opened_at >= self.reset_after:
            return State.HALF_OPEN
        return State.OPEN

    def allow(self) -> bool:
        """May a call go out now? In half-open, only one probe is let through at a time."""
        state = self.state
        if state is State.CLOSED:
            return True
        if state is State.OPEN or self._probing:
            return False
        self._probing = True
        return True

    def succeeded(self) -> None:
        self._failures, self._opened_at, self._probing = 0, None, False

    def failed(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self.threshold:
            self._opened_at, self._probing = self._clock(), False

    def abandoned(self) -> None:
        """The call ended without an answer either way (cancelled): free the probe slot."""
        self._probing = False
