"""window: both dates or neither, a 7-day default, clamped to the look-back."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from adapters.base import Window
from authz.consent.model import Consent, ConsentStatus, DurationType
from config.settings import Settings
from gateway.dates import window
from gateway.errors import InvalidDate, InvalidDateRange

TODAY = date(2026, 3, 15)
CONSENT = Consent(
    id="c",
    status=ConsentStatus.ACTIVE,
    client_id="x",
    customer_id="y",
    created_at=0,
    updated_at=0,
    expires_at=None,
    duration_type=DurationType.PERSISTENT,
    duration_period=None,
    lookback_period=None,
    resources=(),
    purpose="p",
)


def test_no_dates_is_the_last_seven_days_inclusive():
    """today-6 .. today."""
    assert Window(date(2026, 3, 9), TODAY) == window({}, CONSENT, TODAY, Settings())


def test_the_end_is_never_after_today():
    """Future dates are clamped to today."""
    got = window({"startTime": "2026-03-10", "endTime": "2027-01-01"}, CONSENT, TODAY, Settings())

    assert Window(date(2026, 3, 10), TODAY) == got


def test_the_lookback_is_measured_from_today():
    """FDX: look-back is counted from request time, not grant time."""
    consent = replace(CONSENT, lookback_period=10)

    got = window({"startTime": "2020-01-01", "endTime": "2026-03-14"}, consent, TODAY, Settings())

    assert Window(date(2026, 3, 5), date(2026, 3, 14)) == got


def test_a_window_outside_the_lookback_is_none():
    """Nothing to ask the adapter for."""
    consent = replace(CONSENT, lookback_period=10)

    got = window({"startTime": "2020-01-01", "endTime": "2020-02-01"}, consent, TODAY, Settings())

    assert got is None


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"startTime": "2026-02-30", "endTime": "2026-03-01"}, InvalidDate),
        ({"startTime": "2026-03-01", "endTime": "2026-03-01T25:00:00"}, InvalidDate),
        ({"startTime": "2026-03-02", "endTime": "2026-03-01"}, InvalidDateRange),
        ({"endDate": "2026-03-01"}, InvalidDateRange),
    ],
    ids=["feb-30", "hour-25", "reversed", "end-only"],
)
def test_bad_dates_raise_the_fdx_error(query, error):
    """702 for malformed dates, 703 for bad ranges."""
    with pytest.raises(error):
        window(query, CONSENT, TODAY, Settings())
