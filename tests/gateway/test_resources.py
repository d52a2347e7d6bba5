"""Statements, contact, payment networks and the current customer."""

from __future__ import annotations

from datetime import date

from adapters.base import Window
from tests.gateway.conftest import assert_fdx_error
from tests.gateway.fakes import CUSTOMER, TODAY

STATEMENTS = "/fdx/v6/accounts/acc-chk/statements"


def test_statements_list_with_links_to_their_documents(h, fdx_validate):
    """Each statement links to its PDF (HATEOASLink: href, action GET, types)."""
    _, token = h.grant()

    response = h.get(f"{STATEMENTS}?startTime=2026-01-01&endTime=2026-03-15", token)

    assert 200 == response.status_code
    fdx_validate(response.json(), "Anarrayofstatements")
    statement = response.json()["statements"][0]
    assert {
        "href": f"/fdx/v6/accounts/acc-chk/statements/{statement['statementId']}",
        "action": "GET",
        "types": ["application/pdf"],
    } == statement["links"][0]


def test_statements_are_clamped_to_the_lookback(h):
    """A 60-day look-back: the adapter is asked for 60 days at most."""
    _, token = h.grant(lookback=60)

    h.get(f"{STATEMENTS}?startTime=2024-01-01&endTime=2026-03-15", token)

    asked = [a for n, a in h.bank.calls if n == "list_statements"][-1][2]
    assert Window(date(2026, 1, 14), TODAY) == asked


def test_a_statement_document_is_served_as_pdf(h):
    """application/pdf, inline, never cached."""
    _, token = h.grant()

    response = h.get(f"{STATEMENTS}/st-1", token)

    assert 200 == response.status_code
    assert "application/pdf" == response.headers["content-type"]
    assert 'inline; filename="statement-st-1.pdf"' == response.headers["content-disposition"]
    assert "no-store" == response.headers["cache-control"]
    assert "nosniff" == response.headers["x-content-type-options"]  # bytes from the core
    assert response.content.startswith(b"%PDF-")


def test_a_statement_before_the_lookback_is_not_found(h, fdx_validate):
    """st-5 is dated ~5 months back; a 60-day look-back hides it: 404/1104."""
    _, token = h.grant(lookback=60)

    response = h.get(f"{STATEMENTS}/st-5", token)

    assert_fdx_error(response, 404, "1104", fdx_validate)
    assert [] == [c for c in h.bank.calls if c[0] == "get_statement"]


def test_a_statement_whose_period_starts_before_the_lookback_is_withheld(h, fdx_validate):
    """The PDF shows its whole period: st-1 (dated 2026-01-30, so covering January) starts before
    a 60-day look-back (2026-01-14) though its date is inside; it is neither listed nor served."""
    _, token = h.grant(lookback=60)

    listed = h.get(f"{STATEMENTS}?startTime=2026-01-14&endTime=2026-03-15", token)
    fetched = h.get(f"{STATEMENTS}/st-1", token)

    assert ["st-0"] == [s["statementId"] for s in listed.json()["statements"]]
    assert_fdx_error(fetched, 404, "1104", fdx_validate)
    assert 200 == h.get(f"{STATEMENTS}/st-0", token).status_code


def test_an_adapter_given_period_start_decides(h):
    """With periodStartDate the adapter says where the period begins; it never leaves the bank."""
    _, token = h.grant(lookback=60)
    h.bank.statements[1]["periodStartDate"] = "2026-01-20"

    listed = h.get(f"{STATEMENTS}?startTime=2026-01-14&endTime=2026-03-15", token).json()

    assert ["st-0", "st-1"] == [s["statementId"] for s in listed["statements"]]
    assert all("periodStartDate" not in s for s in listed["statements"])


def test_an_unknown_statement_is_not_found(h, fdx_validate):
    """The adapter's StatementNotFound renders as 404/1104."""
    _, token = h.grant()

    assert_fdx_error(h.get(f"{STATEMENTS}/st-99", token), 404, "1104", fdx_validate)


def test_contact_is_served_with_holders_projected(h, fdx_validate):
    """CUSTOMER_CONTACT: names and contact points; holders lose dateOfBirth and taxId."""
    _, token = h.grant()

    response = h.get("/fdx/v6/accounts/acc-chk/contact", token)

    assert 200 == response.status_code
    fdx_validate(response.json(), "AccountContactentity")
    holder = response.json()["holders"][0]
    assert {"first": "Alice", "last": "Doe"} == holder["name"]
    assert "dateOfBirth" not in holder
    assert "taxId" not in holder


def test_contact_without_customer_contact_is_insufficient_scope(h, fdx_validate):
    """The account is consented, the cluster is not."""
    _, token = h.grant({"acc-chk": ("ACCOUNT_BASIC",)})

    response = h.get("/fdx/v6/accounts/acc-chk/contact", token)

    assert_fdx_error(response, 403, "602", fdx_validate)


def test_payment_networks_are_served_under_payment_support(h, fdx_validate):
    """PAYMENT_SUPPORT releases the account and routing numbers, nothing more."""
    _, token = h.grant()

    response = h.get("/fdx/v6/accounts/acc-chk/payment-networks?limit=2", token)

    assert 200 == response.status_code
    body = response.json()
    fdx_validate(body, "Arrayofaccountpaymentnetworks")
    assert ["US_ACH", "US_FEDWIRE"] == [n["type"] for n in body["paymentNetworks"]]
    assert "1234567890" == body["paymentNetworks"][0]["identifier"]
    assert all("internalNote" not in n for n in body["paymentNetworks"])
    assert body["links"]["next"]["href"].endswith("limit=2&offset=2")


def test_payment_networks_without_payment_support_are_insufficient_scope(h, fdx_validate):
    """No PAYMENT_SUPPORT, no account numbers: 403/602."""
    _, token = h.grant({"acc-chk": ("ACCOUNT_BASIC", "ACCOUNT_DETAILED", "TRANSACTIONS")})

    response = h.get("/fdx/v6/accounts/acc-chk/payment-networks", token)

    assert_fdx_error(response, 403, "602", fdx_validate)
    assert [] == [c for c in h.bank.calls if c[0] == "list_payment_networks"]


def test_current_customer_under_contact_only(h, fdx_validate):
    """CUSTOMER_CONTACT: name and contacts, no date of birth, tax or government id; only the
    consented accounts are listed."""
    _, token = h.grant({"acc-chk": ("CUSTOMER_CONTACT",), "acc-card": ("ACCOUNT_BASIC",)})

    response = h.get("/fdx/v6/customers/current", token)

    assert 200 == response.status_code
    body = response.json()
    fdx_validate(body, "Customerentity")
    assert {"first": "Alice", "last": "Doe"} == body["name"]
    assert not {"dateOfBirth", "taxId", "governmentId"} & body.keys()
    assert h.services.tokens.verify(token).sub == body["customerId"], "pairwise, not the bank's id"
    assert CUSTOMER not in response.text
    assert ["acc-chk", "acc-card"] == [a["accountId"] for a in body["accounts"]]


def test_current_customer_under_personal_adds_date_of_birth(h, fdx_validate):
    """CUSTOMER_PERSONAL releases dateOfBirth and taxId; governmentId is never released."""
    _, token = h.grant({"acc-chk": ("CUSTOMER_CONTACT", "CUSTOMER_PERSONAL")})

    body = h.get("/fdx/v6/customers/current", token).json()

    fdx_validate(body, "Customerentity")
    assert "1980-01-02" == body["dateOfBirth"]
    assert "governmentId" not in body


def test_current_customer_without_customer_clusters_is_insufficient_scope(h, fdx_validate):
    """Account clusters alone open no customer information."""
    _, token = h.grant({"acc-chk": ("ACCOUNT_BASIC", "TRANSACTIONS")})

    assert_fdx_error(h.get("/fdx/v6/customers/current", token), 403, "602", fdx_validate)
