"""BILLS: payments and recurring payments scheduled through the bank (upcoming bill information)."""

from __future__ import annotations

from datetime import date

from tests.gateway.conftest import assert_fdx_error
from tests.gateway.fakes import TODAY


def test_upcoming_payments_are_scheduled_in_the_coming_weeks(alice, fdx_validate):
    """Every utility bill has its next payment SCHEDULED within five weeks, schema-valid."""
    token = alice.grant({"CHECKING": ["BILLS"]})

    response = alice.h.get("/fdx/v6/payments?limit=50", token)

    assert 200 == response.status_code
    fdx_validate(response.json(), "Paymentsentity")
    upcoming = [p for p in response.json()["payments"] if p["status"] == "SCHEDULED"]
    assert len(upcoming) == 4
    assert all(0 < (date.fromisoformat(p["dueDate"]) - TODAY).days <= 35 for p in upcoming)
    assert {alice.accounts["CHECKING"]} == {p["fromAccountId"] for p in response.json()["payments"]}


def test_payments_from_an_account_outside_the_consent_are_not_listed(alice):
    """BILLS on savings only: the bills paid from checking stay hidden (an empty list)."""
    token = alice.grant({"SAVINGS": ["BILLS"], "CHECKING": ["ACCOUNT_BASIC"]})

    response = alice.h.get("/fdx/v6/payments", token)

    assert 200 == response.status_code
    assert [] == response.json()["payments"]


def test_payments_need_the_bills_cluster(alice, fdx_validate):
    """A consent without BILLS on any account: 403/602 on every BILLS operation."""
    token = alice.grant({"CHECKING": ["ACCOUNT_BASIC", "TRANSACTIONS"]})
    recurring = alice.record.bills.recurring[0]["recurringPaymentId"]

    for path in ("/payments", "/recurring-payments", f"/recurring-payments/{recurring}/payments"):
        assert_fdx_error(alice.h.get(f"/fdx/v6{path}", token), 403, "602", fdx_validate)


def test_the_lookback_hides_older_processed_payments(alice):
    """A 30-day look-back: no payment due before it, the scheduled ones all there."""
    token = alice.grant({"CHECKING": ["BILLS"]}, lookback=30)

    payments = alice.h.get("/fdx/v6/payments?limit=50", token).json()["payments"]

    earliest = date(2026, 2, 13)
    assert all(date.fromisoformat(p["dueDate"]) >= earliest for p in payments)
    assert 4 == sum(p["status"] == "SCHEDULED" for p in payments)
    everything = alice.grant({"CHECKING": ["BILLS"]})
    assert len(alice.h.get("/fdx/v6/payments?limit=50", everything).json()["payments"]) > len(
        payments
    )


def test_payments_are_paged_with_a_next_link(alice, fdx_validate):
    """limit=3: three payments, then the next page from the link, without overlap."""
    token = alice.grant({"CHECKING": ["BILLS"]})

    first = alice.h.get("/fdx/v6/payments?limit=3", token).json()
    second = alice.h.get(first["links"]["next"]["href"], token).json()

    fdx_validate(second, "Paymentsentity")
    assert 3 == len(first["payments"])
    ids = [p["paymentId"] for p in first["payments"] + second["payments"]]
    assert len(ids) == len(set(ids))


def test_the_recurring_payment_and_the_payments_it_spawned(alice, fdx_validate):
    """The monthly internet bill: its recurring payment, and its payments, one SCHEDULED."""
    token = alice.grant({"CHECKING": ["BILLS"]})

    recurring = alice.h.get("/fdx/v6/recurring-payments", token)
    fdx_validate(recurring.json(), "RecurringPaymentsentity")
    [standing] = recurring.json()["recurringPayments"]
    spawned = alice.h.get(
        f"/fdx/v6/recurring-payments/{standing['recurringPaymentId']}/payments", token
    )

    assert ("MONTHLY", "SCHEDULED") == (standing["frequency"], standing["status"])
    fdx_validate(spawned.json(), "Paymentsentity")
    payments = spawned.json()["payments"]
    assert {standing["recurringPaymentId"]} == {p["recurringPaymentId"] for p in payments}
    assert ["SCHEDULED"] == [p["status"] for p in payments if p["status"] != "PROCESSED"]


def test_a_recurring_payment_from_an_unconsented_account_is_not_found(alice, fdx_validate):
    """BILLS on savings only: checking's recurring payment answers 404/806, like an unknown id."""
    token = alice.grant({"SAVINGS": ["BILLS"]})
    recurring = alice.record.bills.recurring[0]["recurringPaymentId"]

    hidden = alice.h.get(f"/fdx/v6/recurring-payments/{recurring}/payments", token)
    unknown = alice.h.get("/fdx/v6/recurring-payments/rcp_nope/payments", token)

    assert_fdx_error(hidden, 404, "806", fdx_validate)
    assert_fdx_error(unknown, 404, "806", fdx_validate)


def test_a_bills_read_is_audited_against_the_paying_accounts(alice):
    """The access log names the consented accounts the payments came from."""
    consent, token = alice.h.grant(
        {alice.accounts["CHECKING"]: ("BILLS",)}, customer_id=alice.customer_id
    )

    alice.h.get("/fdx/v6/payments", token)

    [entry] = alice.h.audit(consent)
    assert (alice.accounts["CHECKING"],) == tuple(entry.account_ids)


def test_updated_since_is_refused_naming_the_parameter(alice, fdx_validate):
    """FDX 6.2 updatedSince takes a nextUpdateId this server never issues: 400/401 that says
    so, never the whole list passed off as the changes."""
    token = alice.grant({"CHECKING": ["BILLS"]})
    recurring = alice.record.bills.recurring[0]["recurringPaymentId"]

    for path in ("/payments", "/recurring-payments", f"/recurring-payments/{recurring}/payments"):
        response = alice.h.get(f"/fdx/v6{path}?updatedSince=2026-01-01T00:00:00Z", token)

        body = assert_fdx_error(response, 400, "401", fdx_validate)
        assert "updatedSince" in body["debugMessage"]
