"""The FDX API over the sandbox bank: every endpoint answers schema-valid FDX bodies."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from tests.gateway.conftest import Harness
from tests.gateway.fakes import TODAY

sandbox = pytest.importorskip("adapters.sandbox")

ALL = (
    "ACCOUNT_BASIC",
    "ACCOUNT_DETAILED",
    "TRANSACTIONS",
    "STATEMENTS",
    "CUSTOMER_CONTACT",
    "CUSTOMER_PERSONAL",
    "PAYMENT_SUPPORT",
)


@pytest.fixture
def sh() -> Iterator[Harness]:
    harness = Harness(bank=sandbox.SandboxBank(today=TODAY))
    with harness.client:
        yield harness


def _alice(sh: Harness) -> tuple[str, list[str]]:
    customer = anyio.run(sh.bank.authenticate, "alice", "sandbox-alice")
    assert customer is not None
    accounts = anyio.run(sh.bank.list_accounts, customer.customer_id)
    return customer.customer_id, [a["accountId"] for a in accounts]


def test_every_endpoint_over_the_sandbox_is_schema_valid(sh, fdx_validate):
    """Accounts, details, transactions, statements, contact, networks and the customer."""
    customer_id, account_ids = _alice(sh)
    _, token = sh.grant({a: ALL for a in account_ids}, customer_id=customer_id, lookback=365)
    first = account_ids[0]

    listed = sh.get("/fdx/v6/accounts?resultType=details", token)
    one = sh.get(f"/fdx/v6/accounts/{first}", token)
    txns = sh.get(f"/fdx/v6/accounts/{first}/transactions?limit=50", token)
    stmts = sh.get(
        f"/fdx/v6/accounts/{first}/statements?startTime=2025-06-01&endTime=2026-03-15", token
    )
    contact = sh.get(f"/fdx/v6/accounts/{first}/contact", token)
    networks = sh.get(f"/fdx/v6/accounts/{first}/payment-networks", token)
    customer = sh.get("/fdx/v6/customers/current", token)

    for response, schema in [
        (listed, "Accountsentity"),
        (one, "AccountWithDetailsentity"),
        (txns, "Transactionsentity"),
        (stmts, "Anarrayofstatements"),
        (contact, "AccountContactentity"),
        (networks, "Arrayofaccountpaymentnetworks"),
        (customer, "Customerentity"),
    ]:
        assert 200 == response.status_code, (schema, response.text)
        fdx_validate(response.json(), schema)
    assert sorted(account_ids) == sorted(a["accountId"] for a in listed.json()["accounts"])
    assert all("accountNumber" not in a for a in listed.json()["accounts"])


def test_a_sandbox_statement_is_a_real_pdf(sh):
    """The link in the statement list fetches an application/pdf document."""
    customer_id, account_ids = _alice(sh)
    _, token = sh.grant({a: ALL for a in account_ids}, customer_id=customer_id)
    statements = []
    for account_id in account_ids:
        url = f"/fdx/v6/accounts/{account_id}/statements?startTime=2025-01-01&endTime=2026-03-15"
        statements += sh.get(url, token).json()["statements"]
    assert statements, "the sandbox issues monthly statements"

    response = sh.get(statements[0]["links"][0]["href"], token)

    assert 200 == response.status_code
    assert "application/pdf" == response.headers["content-type"]
    assert response.content.startswith(b"%PDF-")


def test_paging_sandbox_transactions_yields_each_once(sh, fdx_validate):
    """Following links.next over three months returns each transaction exactly once."""
    customer_id, account_ids = _alice(sh)
    _, token = sh.grant({a: ALL for a in account_ids}, customer_id=customer_id)
    url = (
        f"/fdx/v6/accounts/{account_ids[0]}/transactions"
        "?startTime=2025-12-15&endTime=2026-03-15&limit=25"
    )
    seen: list[str] = []

    while url:
        body = sh.get(url, token).json()
        fdx_validate(body, "Transactionsentity")
        seen += [t["transactionId"] for t in body["transactions"]]
        url = body.get("links", {}).get("next", {}).get("href")

    assert seen
    assert len(seen) == len(set(seen))
