"""The date window of a transactions or statements request (docs/fdx.md §1, FDX 6.4
StartDateQuery/EndDateQuery), clamped to the consent's look-back period, which FDX measures from
request time, not grant time (docs/fdx.md §4).

FDX defines ``startTime`` and ``endTime`` as two independent, optional filters, so each may come
alone: neither is the last 7 days (today inclusive); a start alone runs to today (a start in the
future is an empty page); an end alone is the 7 days that end on it. A same-day range
(start == end) is that one day."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from adapters.base import Window
from authz.consent.model import Consent
from config.settings import Settings
from gateway.errors import InvalidDate, InvalidDateRange
from gateway.query import Query, one_of

DEFAULT_DAYS = 7
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def window(query: Query, consent: Consent, today: date, settings: Settings) -> Window | None:
    """The window to ask the adapter for, or None when clamping leaves nothing (an empty page,
    not an error: the recipient asked for a valid range the consent does not reach)."""
    start_raw = one_of(query, "startTime", "startDate")
    end_raw = one_of(query, "endTime", "endDate")
    start = None if start_raw is None else parse_date(start_raw, "startTime")
    end = today if end_raw is None else parse_date(end_raw, "endTime")
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    elif end_raw is not None and start > end:
        raise InvalidDateRange("startTime is after endTime")
    if consent.lookback_period is not None:
        start = max(start, today - timedelta(days=consent.lookback_period))
    end = min(end, today)
    if start > end:
        return None
    return Window(start, end)


def parse_date(value: str, name: str) -> date:
    """FDX DateString (YYYY-MM-DD); of a full ISO 8601 timestamp only its date is used."""
    try:
        if _DATE.fullmatch(value):
            return date.fromisoformat(value)
        if len(value) > 10 and _DATE.match(value) and value[10] in "Tt":
            return datetime.fromisoformat(value).date()
    except ValueError:
        pass
    raise InvalidDate(f"{name} must be a date, YYYY-MM-DD")
