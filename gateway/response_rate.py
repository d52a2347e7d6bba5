"""The CFPB §1033.311(c)(1)(i) proper response rate per UTC month, counted from the audit trail.

Every data access the FDX API answers with a valid token is an audit event carrying its HTTP
status, written before the answer leaves (``gateway.audit``). So the durable records already
hold the rate's two figures, the same for every instance sharing the database and unchanged
by a restart:

- queries for covered data: the month's audit events, minus the 503s answered inside a planned
  window of ``maintenance_file`` (scheduled downtime, which the rule leaves out of both figures
  when it was announced, as ``/fdx/v6/availability`` announces it);
- proper responses: those among them answered 2xx, or 4xx (a refusal that says why, always in
  the FDX error shape). Any other 5xx counts against the rate.

A request refused before a token is recognised is not attributable to a consent and is not
recorded, and an answer whose audit record could not be written is not counted either: the
gateway does not serve data it cannot audit, and that outage shows in the 5xx of
``fdxgw_http_requests_total`` instead.

``/metrics`` (``fdxgw_cfpb_1033_*``) and ``GET /fdx/v6/certification-metrics`` read the same
``ResponseRates``. A month that ended is counted once and kept; the current one is counted
again at most every ``ttl`` seconds (one indexed range count, migration 4).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

MONTHS_PUBLISHED = 13  # §1033.341(d): the rate for each of the previous 13 months
SETTLE = 60.0  # seconds after a month ends before its figures are final (batches in flight)


@runtime_checkable
class AuditStatusCounts(Protocol):
    """The one question asked of the record store (each implementation answers it)."""

    async def count_audit_statuses(
        self, start: float, end: float, endpoint: str | None = None
    ) -> dict[int, int]:
        """Data accesses recorded in [start, end), of ``endpoint`` (``GET /accounts``, as the
        audit records it) if given, by HTTP status."""
        ...


@dataclass(frozen=True, slots=True)
class MonthFigures:
    month: str  # YYYY-MM, UTC
    start: float
    end: float
    requests: int
    proper: int

    @property
    def rate(self) -> float:
        return self.proper / self.requests if self.requests else 1.0


class ResponseRates:
    def __init__(
        self,
        records: AuditStatusCounts,
        downtime: Sequence[tuple[float, float]] = (),
        *,
        clock: Callable[[], float] = time.time,
        ttl: float = 5.0,
    ) -> None:
        self.records = records
        self.downtime = _merged(downtime)  # planned windows, overlaps joined: (start, end)
        self.clock = clock
        self.ttl = ttl
        # (month, endpoint or None for all): figures of a month that ended, kept
        self._final: dict[tuple[str, str | None], MonthFigures] = {}
        # endpoint or None: (until when it is fresh, the current month's figures)
        self._current: dict[str | None, tuple[float, MonthFigures]] = {}

    async def months(
        self, count: int = MONTHS_PUBLISHED, *, endpoint: str | None = None
    ) -> list[MonthFigures]:
        """The last ``count`` months, the current one last, each with its figures: of every
        data endpoint together, or of ``endpoint`` alone."""
        now = self.clock()
        out = []
        for start, end in reversed(list(_month_bounds(now, count))):
            out.append(await self._month(start, end, now, endpoint))
        return out

    async def _month(
        self, start: float, end: float, now: float, endpoint: str | None
    ) -> MonthFigures:
        name = _month_name(start)
        final = self._final.get((name, endpoint))
        if final is not None:
            return final
        settled = now >= end + SETTLE
        cached = self._current.get(endpoint)
        if not settled and cached is not None and cached[1].month == name and now < cached[0]:
            return cached[1]
        figures = await self._count(name, start, end, endpoint)
        if settled:
            self._final[(name, endpoint)] = figures
        else:
            self._current[endpoint] = (now + self.ttl, figures)
        return figures

    async def _count(
        self, name: str, start: float, end: float, endpoint: str | None
    ) -> MonthFigures:
        statuses = await self.records.count_audit_statuses(start, end, endpoint)
        requests = sum(statuses.values())
        proper = sum(n for status, n in statuses.items() if status < 500)
        for w_start, w_end in self.downtime:
            low, high = max(start, w_start), min(end, w_end)
            if low < high:
                inside = await self.records.count_audit_statuses(low, high, endpoint)
                requests -= inside.get(503, 0)
        return MonthFigures(name, start, end, requests, proper)


def _merged(windows: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    out: list[tuple[float, float]] = []
    for start, end in sorted(windows):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


def _month_bounds(now: float, count: int) -> list[tuple[float, float]]:
    """[start, end) of the month holding ``now`` and the ``count - 1`` before it, newest first."""
    day = datetime.fromtimestamp(now, UTC)
    year, month = day.year, day.month
    out = []
    for _ in range(count):
        start = datetime(year, month, 1, tzinfo=UTC)
        after = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        out.append((start.timestamp(), after.timestamp()))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out


def _month_name(start: float) -> str:
    day = datetime.fromtimestamp(start, UTC)
    return f"{day.year:04d}-{day.month:02d}"


def audit_counts(records: object) -> AuditStatusCounts:
    """``records`` as the narrow interface; every record store in authz.store implements it."""
    if not isinstance(records, AuditStatusCounts):
        raise TypeError(f"{type(records).__name__} cannot count audit events by status")
    return records


__all__ = ["MONTHS_PUBLISHED", "AuditStatusCounts", "MonthFigures", "ResponseRates", "audit_counts"]
