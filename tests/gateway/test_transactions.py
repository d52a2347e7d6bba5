"""GET /accounts/{accountId}/transactions: windows, look-back clamping, paging, parameters."""

from __future__ import annotations

from datetime import date

import pytest

from adapters.base import PageRequest, Window
from tests.gateway.conftest import assert_fdx_error
from tests.gateway.fakes import TODAY

TXNS = "/fdx/v6/accounts/acc-chk/transactions"


def _window_asked(h) -> Window:
    asked: Window = [args for name, args in h.bank.calls if name == "list_transactions"][-1][2]
    return asked


def test_transactions_default_to_the_last_seven_days(h, fdx_validate):
    """Neither date: today-6 .. today inclusive, seven transactions in the fake bank."""
    _, token = h.grant()

    response = h.get(TXNS, token)

    fdx_validate(response.json(), "Transactionsentity")
    assert Window(date(2026, 3, 9), TODAY) == _window_asked(h)
    assert 7 == len(response.json()["transactions"])


def test_transactions_carry_only_released_fields(h):
    """A field no cluster releases (internalRiskScore) never leaves the gateway."""
    _, token = h.grant()

    transactions = h.get(TXNS, token).json()["transactions"]

    assert all("internalRiskScore" not in t for t in transactions)
    assert all("transactionId" in t and "amount" in t for t in transactions)


def test_dates_before_the_lookback_are_clamped(h, fdx_validate):
    """A 30-day look-back: a year's request reaches back 30 days from today, no further."""
    _, token = h.grant(lookback=30)

    response = h.get(f"{TXNS}?startTime=2025-01-01&endTime=2026-12-31&limit=500", token)

    assert 200 == response.status_code
    fdx_validate(response.json(), "Transactionsentity")
    assert Window(date(2026, 2, 13), TODAY) == _window_asked(h)
    assert 31 == len(response.json()["transactions"])


def test_a_window_wholly_before_the_lookback_is_an_empty_page(h, fdx_validate):
    """Valid dates the consent does not reach: 200 with no transactions, no adapter call."""
    _, token = h.grant(lookback=30)

    response = h.get(f"{TXNS}?startTime=2025-01-01&endTime=2025-01-31", token)

    assert 200 == response.status_code
    fdx_validate(response.json(), "Transactionsentity")
    assert [] == response.json()["transactions"]
    assert [] == [c for c in h.bank.calls if c[0] == "list_transactions"]


def test_start_date_and_end_date_are_aliases(h):
    """FDX 6.4 startDate/endDate mean startTime/endTime."""
    _, token = h.grant()

    h.get(f"{TXNS}?startDate=2026-03-01&endDate=2026-03-02", token)

    assert Window(date(2026, 3, 1), date(2026, 3, 2)) == _window_asked(h)


def test_a_timestamp_counts_by_its_date(h):
    """A full ISO 8601 timestamp is taken as its date."""
    _, token = h.grant()

    h.get(f"{TXNS}?startTime=2026-03-01T10:00:00Z&endTime=2026-03-02T23:59:59%2B09:00", token)

    assert Window(date(2026, 3, 1), date(2026, 3, 2)) == _window_asked(h)


@pytest.mark.parametrize(
    "query",
    [
        "startTime=2026-13-01&endTime=2026-03-01",
        "startTime=yesterday&endTime=2026-03-01",
        "startTime=2026-03-01&endTime=20260302",
    ],
    ids=["month-13", "word", "no-dashes"],
)
def test_a_malformed_date_is_702(h, fdx_validate, query):
    """702: invalid start or end date."""
    _, token = h.grant()

    assert_fdx_error(h.get(f"{TXNS}?{query}", token), 400, "702", fdx_validate)


SAME_DAY = date(2026, 3, 10)


def test_a_reversed_range_is_703(h, fdx_validate):
    """703: start after end."""
    _, token = h.grant()
    response = h.get(f"{TXNS}?startTime=2026-03-05&endTime=2026-03-01", token)

    assert_fdx_error(response, 400, "703", fdx_validate)


@pytest.mark.parametrize(
    ("query", "asked", "count"),
    [
        ("startTime=2026-03-01", Window(date(2026, 3, 1), TODAY), 15),
        ("endTime=2026-03-10", Window(date(2026, 3, 4), date(2026, 3, 10)), 7),
        ("startTime=2026-03-10&endTime=2026-03-10", Window(SAME_DAY, SAME_DAY), 1),
    ],
    ids=["start-only", "end-only", "same-day"],
)
def test_one_date_alone_and_a_same_day_range_are_served(h, fdx_validate, query, asked, count):
    """FDX treats startTime and endTime independently; start == end is that one day."""
    _, token = h.grant()

    response = h.get(f"{TXNS}?{query}&limit=100", token)

    assert 200 == response.status_code, response.text
    fdx_validate(response.json(), "Transactionsentity")
    assert asked == _window_asked(h)
    assert count == len(response.json()["transactions"])


def test_paging_returns_every_transaction_exactly_once(h, fdx_validate):
    """Following links.next across pages yields each transaction once, in order."""
    _, token = h.grant()
    seen, url = [], f"{TXNS}?startTime=2026-02-01&endTime=2026-03-15&limit=10"

    while url:
        body = h.get(url, token).json()
        fdx_validate(body, "Transactionsentity")
        seen += [t["transactionId"] for t in body["transactions"]]
        url = body.get("links", {}).get("next", {}).get("href")

    assert 43 == len(seen) == len(set(seen))


def test_the_next_link_repeats_the_query_with_the_cursor_replaced(h):
    """links.next.href keeps the dates and limit; page carries nextOffset and nextPageKey."""
    _, token = h.grant()

    body = h.get(f"{TXNS}?startTime=2026-03-01&endTime=2026-03-15&limit=5&offset=5", token).json()

    assert {"nextOffset": "10", "nextPageKey": "10", "totalElements": 15} == body["page"]
    assert (
        "/fdx/v6/accounts/acc-chk/transactions?startTime=2026-03-01&endTime=2026-03-15&limit=5&offset=10"
        == body["links"]["next"]["href"]
    )
    assert PageRequest("5", 5) == [a for n, a in h.bank.calls if n == "list_transactions"][-1][3]


def test_page_key_is_an_alias_of_offset(h):
    """FDX 6.4 pageKey: accepted, and the next link keeps using it."""
    _, token = h.grant()

    body = h.get(f"{TXNS}?limit=2&pageKey=2", token).json()

    assert PageRequest("2", 2) == [a for n, a in h.bank.calls if n == "list_transactions"][-1][3]
    assert body["links"]["next"]["href"].endswith("limit=2&pageKey=4")


def test_the_last_page_has_no_next_link(h):
    """No nextOffset, no links, when the adapter has nothing more."""
    _, token = h.grant()

    body = h.get(f"{TXNS}?limit=7", token).json()

    assert "links" not in body
    assert "nextOffset" not in body["page"]


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=501",
        "limit=-1",
        "limit=1.5",
        "limit=",
        "offset=" + "a" * 65,
        "offset=a/b",
        "offset=1&pageKey=2",
    ],
    ids=[
        "zero",
        "over-max",
        "negative",
        "decimal",
        "empty",
        "long-offset",
        "slash",
        "offset-vs-pagekey",
    ],
)
def test_bad_paging_parameters_are_invalid_input(h, fdx_validate, query):
    """400/401 for limits out of 1..page_limit_max and cursors we never issued."""
    _, token = h.grant()

    assert_fdx_error(h.get(f"{TXNS}?{query}", token), 400, "401", fdx_validate)


def test_a_repeated_parameter_is_invalid_input(h, fdx_validate):
    """?limit=1&limit=2 is ambiguous: refused, not guessed."""
    _, token = h.grant()

    assert_fdx_error(h.get(f"{TXNS}?limit=1&limit=2", token), 400, "401", fdx_validate)


def test_an_oversized_parameter_is_invalid_input(h, fdx_validate):
    """Any value over 1024 characters is refused before it is parsed."""
    _, token = h.grant()

    response = h.get(f"{TXNS}?whatever={'x' * 1025}", token)

    assert_fdx_error(response, 400, "401", fdx_validate)


def test_unknown_parameters_are_ignored(h):
    """A newer client's parameters do no harm."""
    _, token = h.grant()

    assert 200 == h.get(f"{TXNS}?futureThing=1", token).status_code
