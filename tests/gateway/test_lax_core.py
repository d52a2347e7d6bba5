"""Defence in depth: the gateway holds BILLS and TAX answers to the consent even when the bank's
core ignores the accounts and the look-back it is given (an HTTP core answers what it answers)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pytest

from adapters.base import Document, Page, PageRequest, Payment, TaxStatement, Window
from adapters.sandbox import SandboxBank
from tests.gateway.conftest import Alice, Harness, assert_fdx_error
from tests.gateway.fakes import TODAY

EVERYTHING = Window(date.min, date.max)


class LaxCore(SandboxBank):
    """A core that answers for every account of the customer and every date, whatever it is
    asked: the consent's accounts and window are the gateway's to enforce."""

    async def _every_account(self, customer_id: str) -> list[str]:
        return [a["accountId"] for a in await self.list_accounts(customer_id)]

    async def list_payments(
        self, customer_id: str, account_ids: Sequence[str], window: Window, page: PageRequest
    ) -> Page[Payment]:
        every = await self._every_account(customer_id)
        return await super().list_payments(customer_id, every, EVERYTHING, page)

    async def list_recurring_payments(
        self, customer_id: str, account_ids: Sequence[str], page: PageRequest
    ) -> Page[Any]:
        every = await self._every_account(customer_id)
        return await super().list_recurring_payments(customer_id, every, page)

    async def list_recurring_payment_payments(
        self,
        customer_id: str,
        recurring_payment_id: str,
        account_ids: Sequence[str],
        window: Window,
        page: PageRequest,
    ) -> Page[Payment]:
        every = await self._every_account(customer_id)
        return await super().list_recurring_payment_payments(
            customer_id, recurring_payment_id, every, EVERYTHING, page
        )

    async def list_tax_forms(
        self, customer_id: str, account_ids: Sequence[str], tax_year: int | None, page: PageRequest
    ) -> Page[TaxStatement]:
        every = await self._every_account(customer_id)
        return await super().list_tax_forms(customer_id, every, tax_year, page)

    async def get_tax_form(
        self, customer_id: str, account_ids: Sequence[str], tax_form_id: str
    ) -> TaxStatement:
        every = await self._every_account(customer_id)
        return await super().get_tax_form(customer_id, every, tax_form_id)

    async def get_tax_form_pdf(
        self, customer_id: str, account_ids: Sequence[str], tax_form_id: str
    ) -> Document:
        every = await self._every_account(customer_id)
        return await super().get_tax_form_pdf(customer_id, every, tax_form_id)


@pytest.fixture
def lax() -> Iterator[Alice]:
    bank = LaxCore(today=TODAY)
    harness = Harness(bank=bank)
    with harness.client:
        yield Alice(harness, bank)


def _accounts_of(statement: dict[str, Any]) -> set[str]:
    return {b.get("accountId") for f in statement["forms"] for b in f.values()}


def test_payments_from_accounts_outside_the_consent_are_dropped(lax, fdx_validate):
    """BILLS on savings only, the core answering with checking's bills: none is shown."""
    token = lax.grant({"SAVINGS": ["BILLS"], "CHECKING": ["ACCOUNT_BASIC"]})
    recurring = lax.record.bills.recurring[0]["recurringPaymentId"]

    payments = lax.h.get("/fdx/v6/payments?limit=50", token)
    plans = lax.h.get("/fdx/v6/recurring-payments?limit=50", token)
    spawned = lax.h.get(f"/fdx/v6/recurring-payments/{recurring}/payments?limit=50", token)

    fdx_validate(payments.json(), "Paymentsentity")
    assert [] == payments.json()["payments"]
    assert "totalElements" not in payments.json()["page"]
    assert [] == plans.json()["recurringPayments"]
    assert [] == spawned.json()["payments"]


def test_payments_due_before_the_lookback_are_dropped(lax):
    """A 30-day look-back, the core answering with every date: nothing due before it."""
    token = lax.grant({"CHECKING": ["BILLS"]}, lookback=30)
    recurring = lax.record.bills.recurring[0]["recurringPaymentId"]

    payments = lax.h.get("/fdx/v6/payments?limit=50", token).json()["payments"]
    spawned = lax.h.get(f"/fdx/v6/recurring-payments/{recurring}/payments?limit=50", token)

    earliest = date(2026, 2, 13)
    assert payments
    assert all(date.fromisoformat(p["dueDate"]) >= earliest for p in payments)
    assert all(date.fromisoformat(p["dueDate"]) >= earliest for p in spawned.json()["payments"])
    assert {lax.accounts["CHECKING"]} == {p["fromAccountId"] for p in payments}


def test_a_tax_document_with_a_form_outside_the_consent_is_unknown(lax, fdx_validate):
    """TAX on savings only, the core serving every document: another account's document is
    404/1200 as JSON, as BASE64_PDF and as the PDF itself, and is not listed."""
    token = lax.grant({"SAVINGS": ["TAX"]})
    savings = lax.accounts["SAVINGS"]
    statements = lax.record.tax_statements
    other = next(s for s in statements if savings not in _accounts_of(s))["taxStatementId"]
    path = f"/fdx/v6/tax-forms/{other}"

    as_json = lax.h.get(path, token)
    as_base64 = lax.h.get(path + "?taxDataType=BASE64_PDF", token)
    as_pdf = lax.h.get(path, token, headers={"Accept": "application/pdf"})
    listed = lax.h.get("/fdx/v6/tax-forms?limit=50", token).json()["statements"]

    assert_fdx_error(as_json, 404, "1200", fdx_validate)
    assert_fdx_error(as_base64, 404, "1200", fdx_validate)
    assert_fdx_error(as_pdf, 404, "1200", fdx_validate)
    assert other not in {s["taxStatementId"] for s in listed}
    assert listed
    assert all(_accounts_of(s) == {savings} for s in listed)
