"""lookbackPeriod bounds every date range served, measured from the request's day (FDX: "from
request time, not grant time"), on the gateway's injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import anyio
import pytest

from adapters.base import Window
from authz.store.base import ClientRecord
from tests.gateway.conftest import CLIENT, Harness
from tests.gateway.fakes import NOW

TXNS = "/fdx/v6/accounts/acc-chk/transactions"
LOOKBACK = 30  # days
MIDNIGHT = NOW + 12 * 3600  # 2026-03-16T00:00:00Z; NOW is noon on 2026-03-15


@pytest.fixture
def h() -> Iterator[Harness]:
    harness = Harness()
    # The recipient is registered and approved, as any caller of the FDX API is.
    recipient = ClientRecord(CLIENT, "Budget app", (), {"keys": []})
    anyio.run(harness.records.clients.put, recipient)
    with harness.client:
        yield harness


def _asked(h: Harness, start: str, end: str, token: str) -> Window | None:
    before = len(h.bank.calls)
    response = h.get(TXNS, token, params={"startTime": start, "endTime": end})
    assert response.status_code == 200, response.text
    calls = [args for name, args in h.bank.calls[before:] if name == "list_transactions"]
    return calls[-1][2] if calls else None


def test_the_first_day_inside_the_lookback_is_served(h: Harness) -> None:
    """today - lookbackPeriod is the earliest day asked of the bank, kept as is."""
    _, token = h.grant(lookback=LOOKBACK, expires_in=10 * 86400)

    asked = _asked(h, "2026-02-13", "2026-03-15", token)

    assert asked == Window(date(2026, 2, 13), date(2026, 3, 15))


def test_one_day_beyond_the_lookback_is_clamped_away(h: Harness) -> None:
    """A start one day earlier is moved up to the edge, not refused."""
    _, token = h.grant(lookback=LOOKBACK, expires_in=10 * 86400)

    asked = _asked(h, "2026-02-12", "2026-03-15", token)

    assert asked == Window(date(2026, 2, 13), date(2026, 3, 15))


def test_a_range_wholly_before_the_lookback_asks_the_bank_nothing(h: Harness) -> None:
    """Ending the day before the edge: an empty page, no adapter call."""
    _, token = h.grant(lookback=LOOKBACK, expires_in=10 * 86400)

    assert _asked(h, "2026-01-01", "2026-02-12", token) is None


def test_the_edge_moves_with_the_clock_at_midnight_utc(h: Harness) -> None:
    """At 23:59:59 the edge is still 02-13; one second later, on 03-16, it is 02-14."""
    h.clock.now = MIDNIGHT - 1
    _, token = h.grant(lookback=LOOKBACK, expires_in=10 * 86400)
    before_midnight = _asked(h, "2026-02-01", "2026-03-20", token)

    h.clock.now = MIDNIGHT
    after_midnight = _asked(h, "2026-02-01", "2026-03-20", token)

    assert before_midnight == Window(date(2026, 2, 13), date(2026, 3, 15))
    assert after_midnight == Window(date(2026, 2, 14), date(2026, 3, 16))


def test_without_a_lookback_the_asked_range_stands(h: Harness) -> None:
    """No lookbackPeriod in the consent: only the future is cut (end ≤ today)."""
    _, token = h.grant(lookback=None, expires_in=10 * 86400)

    asked = _asked(h, "2025-01-01", "2026-03-20", token)

    assert asked == Window(date(2025, 1, 1), date(2026, 3, 15))
