"""Date-sorted records with window + offset paging in O(log n + page).

Records are kept newest first next to a parallel ascending list of *negated* date ordinals, so a
window is two ``bisect`` calls and a page is one slice. The records are the sandbox bank's own
dicts, returned without copying: callers treat them as read-only (the gateway projects every FDX
object into a new dict before it leaves, adapters/base.py).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from adapters.base import Page, PageRequest, Window

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Ledger(Generic[T]):
    """``records[i]`` is dated ``date.fromordinal(-keys[i])``; keys ascend, so dates descend."""

    records: tuple[T, ...]
    keys: tuple[int, ...]

    @classmethod
    def newest_first(cls, dated: Sequence[tuple[date, T]]) -> Ledger[T]:
        """Build from (date, record) pairs already sorted newest first."""
        return cls(tuple(r for _, r in dated), tuple(-d.toordinal() for d, _ in dated))

    def page(self, window: Window, page: PageRequest) -> Page[T]:
        """Records dated within the inclusive window, newest first, from ``page.offset``.

        The offset is the decimal position this method issued as ``next_offset``. The gateway
        checks offset syntax before calling, so a malformed or out-of-range one is not an error
        here: it simply selects nothing (an empty page without ``next_offset``).
        """
        lo = bisect_left(self.keys, -window.end.toordinal())
        hi = bisect_right(self.keys, -window.start.toordinal())
        total = max(hi - lo, 0)
        skip = _offset(page.offset)
        if skip is None or skip > total or page.limit <= 0:
            return Page(items=(), next_offset=None, total=total)
        start = lo + skip
        stop = min(start + page.limit, hi)
        more = stop < hi
        return Page(
            items=self.records[start:stop],
            next_offset=str(stop - lo) if more else None,
            total=total,
        )


def _offset(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return 0
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return None
    return int(raw)
