"""window: each date optional, a 7-day default, clamped to the look-back."""

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
        ({"startTime": "2026-03-01T25:00:00"}, InvalidDate),
        ({"endTime": "2026-02-30"}, InvalidDate),
    ],
    ids=["feb-30", "hour-25", "reversed", "start-only-bad", "end-only-bad"],
)
def test_bad_dates_raise_the_fdx_error(query, error):
    """702 for malformed dates, 703 for bad ranges."""
    with pytest.raises(error):
        window(query, CONSENT, TODAY, Settings())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"startTime": "2026-03-01"}, Window(date(2026, 3, 1), TODAY)),
        ({"startDate": "2026-03-01"}, Window(date(2026, 3, 1), TODAY)),
        ({"endTime": "2026-03-10"}, Window(date(2026, 3, 4), date(2026, 3, 10))),
        ({"endDate": "2026-03-10"}, Window(date(2026, 3, 4), date(2026, 3, 10))),
        ({"startTime": "2026-03-20"}, None),
    ],
    ids=["start-only", "start-date-only", "end-only", "end-date-only", "start-in-the-future"],
)
def test_each_date_may_come_alone(query, expected):
    """FDX treats startTime and endTime independently: a start alone runs to today, an end
    alone is the seven days ending on it."""
    assert expected == window(query, CONSENT, TODAY, Settings())


def test_a_same_day_range_is_that_day():
    """start == end is one day, neither refused nor emptied."""
    got = window({"startTime": "2026-03-10", "endTime": "2026-03-10"}, CONSENT, TODAY, Settings())

    assert Window(date(2026, 3, 10), date(2026, 3, 10)) == got


def test_a_same_day_range_on_the_lookbacks_first_day_is_served():
    """The look-back's first day is inside it: a range of that one day is served."""
    consent = replace(CONSENT, lookback_period=10)

    got = window({"startTime": "2026-03-05", "endTime": "2026-03-05"}, consent, TODAY, Settings())

    assert Window(date(2026, 3, 5), date(2026, 3, 5)) == got


@pytest.mark.parametrize(
    "value", ["2026-03-01t10:00:00Z", "2026-03-01T10:00:00+09:00"], ids=["lower-t", "offset"]
)
def test_a_timestamp_with_either_separator_counts_by_its_date(value):
    """ISO 8601 allows a lower-case t; the date part is what filters."""
    got = window({"startTime": value, "endTime": "2026-03-02"}, CONSENT, TODAY, Settings())

    assert Window(date(2026, 3, 1), date(2026, 3, 2)) == got


@pytest.mark.parametrize(
    "value", ["2026-03-01 10:00:00", "20260301T100000", "2026-03-01X10:00"], ids=str
)
def test_other_date_time_forms_are_refused(value):
    """Only YYYY-MM-DD, optionally followed by T and a time: no space separator, no basic
    format (which Python's fromisoformat would take)."""
    with pytest.raises(InvalidDate):
        window({"startTime": value}, CONSENT, TODAY, Settings())


@pytest.mark.parametrize(("name", "other"), [("startTime", "endTime"), ("endTime", "startTime")])
def test_the_error_names_the_parameter_at_fault(name, other):
    """debugMessage says which date is malformed, and a reversed range says so."""
    with pytest.raises(InvalidDate) as malformed:
        window({name: "soon", other: "2026-03-01"}, CONSENT, TODAY, Settings())
    with pytest.raises(InvalidDateRange) as reversed_range:
        window({"startTime": "2026-03-02", "endTime": "2026-03-01"}, CONSENT, TODAY, Settings())

    assert f"{name} must be a date, YYYY-MM-DD" == malformed.value.debug
    assert "startTime is after endTime" == reversed_range.value.debug
