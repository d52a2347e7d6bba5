"""The in-process ``StateStore``: the default of a single node.

Every method is ``async`` to match the seams but never awaits, so within one event loop each call
runs to completion without interleaving: that is what makes ``consume`` and ``add_once`` atomic
here. Payloads are kept as orjson bytes, as Redis would keep them, so a
caller can never mutate stored state through a returned dict and a non-JSON payload fails at once.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from authz.store.base import Kind, Payload

_PURGE_PER_WRITE = 16  # expired entries dropped per write: amortised, so memory stays bounded


class MemoryStateStore:
    """Short-lived state in a dict keyed by (kind, key); expiry is checked on every read.

    Each entry is ``(value, expires_at)`` where value is a JSON payload (bytes) or, for ``incr``,
    an int. Expired entries are dropped lazily on read and a few at a time on every write, from a
    heap of expiry times, so a flood of never-read keys (e.g. assertion jtis) cannot grow memory
    beyond what is live within the longest TTL.

    Keys, entries and heap rows are tuples of strings and numbers only (the kind as its plain
    string value), which the garbage collector stops tracking: a DPoP replay cache of ~200,000
    live jtis (one per request over its TTL) otherwise made every full collection walk them all,
    a 40–60 ms stall every few seconds (the DPoP benchmark's p99, docs/performance.md).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._items: dict[tuple[str, str], tuple[Any, float]] = {}
        self._expiries: list[tuple[float, int, str, str]] = []
        self._seq = itertools.count()  # heap tie-break, so Kind/str are never compared

    # -------------------------------------------------------------------- StateStore

    async def put(self, kind: Kind, key: str, payload: Payload, *, ttl: float) -> None:
        self._set(kind, key, orjson.dumps(payload), ttl)

    async def get(self, kind: Kind, key: str) -> Payload | None:
        entry = self._live(kind, key)
        if entry is None:
            return None
        return _load(entry[0])

    async def consume(self, kind: Kind, key: str, *, at: float | None = None) -> Payload | None:
        entry = self._live(kind, key)
        if entry is None:
            return None
        before = _load(entry[0])
        after = dict(before)
        after.setdefault("consumed_at", self._clock() if at is None else at)
        # The entry keeps its expiry (StateStore.consume).
        self._items[(kind.value, key)] = (orjson.dumps(after), entry[1])
        return before

    async def add_once(self, kind: Kind, key: str, *, ttl: float) -> bool:
        if self._live(kind, key) is not None:
            return False
        self._set(kind, key, b"{}", ttl)
        return True

    async def delete(self, kind: Kind, key: str) -> None:
        self._items.pop((kind.value, key), None)

    async def incr(self, kind: Kind, key: str, *, ttl: float) -> int:
        entry = self._live(kind, key)
        if entry is None or not isinstance(entry[0], int):
            self._set(kind, key, 1, ttl)
            return 1
        count = entry[0] + 1
        self._items[(kind.value, key)] = (count, entry[1])
        return int(count)

    async def incr_many(self, kind: Kind, keys: Sequence[str], *, ttl: float) -> list[int]:
        return [await self.incr(kind, key, ttl=ttl) for key in keys]

    async def aclose(self) -> None:
        self._items.clear()
        self._expiries.clear()

    # -------------------------------------------------------------------- internals

    def __len__(self) -> int:
        """Entries held, live or not yet purged (for tests of the bound)."""
        return len(self._items)

    def _live(self, kind: Kind, key: str) -> tuple[Any, float] | None:
        entry = self._items.get((kind.value, key))
        if entry is None:
            return None
        if self._clock() >= entry[1]:
            del self._items[(kind.value, key)]
            return None
        return entry

    def _set(self, kind: Kind, key: str, value: bytes | int, ttl: float) -> None:
        now = self._clock()
        self._purge(now)
        expires_at = now + ttl
        self._items[(kind.value, key)] = (value, expires_at)
        heapq.heappush(self._expiries, (expires_at, next(self._seq), kind.value, key))

    def _purge(self, now: float) -> None:
        heap = self._expiries
        for _ in range(_PURGE_PER_WRITE):
            if not heap or heap[0][0] > now:
                return
            expires_at, _seq, kind, key = heapq.heappop(heap)
            entry = self._items.get((kind, key))
            # Only drop it if it was not rewritten with a later expiry since this heap row.
            if entry is not None and entry[1] <= expires_at:
                del self._items[(kind, key)]


def _load(raw: bytes | int) -> Payload:
    if isinstance(raw, int):
        return {"count": raw}  # a counter read through get()/consume()
    value: Payload = orjson.loads(raw)
    return value
