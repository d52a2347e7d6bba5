"""``EtagCache``: the mapped answers of one core, each kept with the entity-tag it came with.

Conditional requests (RFC 9110 §13.1.2): when the adapter holds an answer for a URL it sends the
answer's ETag in ``If-None-Match``; a core whose data did not change answers 304 Not Modified
(§15.4.5) without a body, and the adapter reuses the FDX objects it mapped last time instead of
parsing and mapping the same JSON again. Nothing is ever served from here without the core
confirming it on that very call: this is a cache of *work*, not of freshness.

Bounds, all three enforced on every ``put`` and ``get``:

- ``entries``: answers kept; the oldest goes first.
- ``max_bytes``: the summed size of the JSON bodies the answers were mapped from (the objects
  themselves take a few times that in memory).
- ``max_age``: seconds an answer is kept after the full body that filled it. A 304 does not
  extend it, so consumer data stays in the gateway's memory at most ``max_age`` seconds; an
  idle cache is swept by one timer.

Entries leave in the order they came (a dict keeps insertion order), so the oldest is always at
the front and expiry and eviction are both a pop from the front.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

MIN_SWEEP = 0.05  # seconds: the idle sweeper never spins faster than this


@dataclass(frozen=True, slots=True)
class Entry:
    etag: str  # a strong entity-tag, quotes included, as the core sent it
    value: Any  # what the dialect mapped the body to; shared, never mutated by callers
    size: int  # bytes of the JSON body it was mapped from
    stored: float  # clock reading when the full body arrived


class EtagCache:
    def __init__(
        self,
        entries: int,
        max_bytes: int,
        max_age: float,
        *,
        clock: Callable[[], float],
    ) -> None:
        if entries < 1 or max_bytes < 1 or max_age <= 0:
            raise ValueError("etag cache: entries ≥ 1, max_bytes ≥ 1 and max_age > 0")
        self.entries = entries
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._clock = clock
        self._items: dict[Hashable, Entry] = {}
        self._bytes = 0
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        return self._bytes

    def get(self, key: Hashable) -> Entry | None:
        """The live entry for ``key``, after dropping every expired one."""
        self._expire()
        return self._items.get(key)

    def put(self, key: Hashable, etag: str, value: Any, size: int) -> None:
        self.drop(key)  # a replaced answer moves to the back with its new time
        if size > self.max_bytes:
            return
        self._items[key] = Entry(etag, value, size, self._clock())
        self._bytes += size
        while len(self._items) > self.entries or self._bytes > self.max_bytes:
            self._pop_oldest()
        self._expire()
        self._arm()

    def drop(self, key: Hashable) -> None:
        entry = self._items.pop(key, None)
        if entry is not None:
            self._bytes -= entry.size

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _pop_oldest(self) -> Entry:
        entry = self._items.pop(next(iter(self._items)))
        self._bytes -= entry.size
        return entry

    def _expire(self) -> None:
        items = self._items
        if items:
            oldest = self._clock() - self.max_age
            while items and next(iter(items.values())).stored <= oldest:
                self._pop_oldest()

    def _arm(self) -> None:
        """One timer at a time, due when the oldest entry expires, so that answers leave memory
        on time even when no further call comes."""
        if self._timer is not None or not self._items:
            return
        first = next(iter(self._items.values()))
        delay = max(MIN_SWEEP, first.stored + self.max_age - self._clock())
        self._timer = asyncio.get_running_loop().call_later(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        self._expire()
        self._arm()
