"""``SandboxBank``: the BankAdapter the gateway ships with, for ``make run``, demos and benchmarks.

Three customers (logins in config/demo/consumers.json) with 24+ months of deterministic history.
Objects are returned as the bank's own dicts, without copying: callers treat them as read-only
(the gateway projects every FDX object into a new dict, adapters/base.py).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from adapters.base import (
    Account,
    AccountContact,
    AssetTransferNetwork,
    Customer,
    CustomerInfo,
    Document,
    Page,
    PageRequest,
    Payment,
    PaymentNetwork,
    RecurringPayment,
    RewardCategory,
    RewardProgram,
    Statement,
    TaxStatement,
    Transaction,
    TransactionImage,
    Window,
)
from adapters.errors import (
    AccountNotFound,
    CustomerNotFound,
    ImageNotFound,
    RecurringPaymentNotFound,
    RewardProgramNotFound,
    StatementNotFound,
    TaxFormNotFound,
)
from adapters.sandbox import rewards
from adapters.sandbox.data import AccountRecord, BankData, CustomerRecord, build
from adapters.sandbox.images import render_check
from adapters.sandbox.ledger import Ledger
from adapters.sandbox.pdf import render_statement
from adapters.sandbox.tax import render_tax_pdf

# Compared against when the username is unknown, so both failures cost the same.
_NO_PASSWORD = "sandbox-no-such-user-" + "x" * 16


class SandboxBank:
    """A synthetic bank with realistic, deterministic data generated relative to ``today``."""

    name = "sandbox"

    def __init__(self, *, seed: int = 2026, today: date | None = None) -> None:
        self.seed = seed
        self.today = today or datetime.now(UTC).date()
        self._data: BankData = build(seed, self.today)

    @property
    def data(self) -> BankData:
        """The whole synthetic bank, read-only (fault plans resolve names against it)."""
        return self._data

    async def authenticate(self, username: str, password: str) -> Customer | None:
        record = self._data.logins.get(username)
        expected = record.person.password if record is not None else _NO_PASSWORD
        # Constant-time comparison; the answer never says which of the two was wrong.
        matches = hmac.compare_digest(password.encode(), expected.encode())
        return record.customer if record is not None and matches else None

    async def get_customer(self, customer_id: str) -> Customer:
        return self._customer(customer_id).customer

    async def list_accounts(self, customer_id: str) -> Sequence[Account]:
        record = self._customer(customer_id)
        return [self._data.accounts[a].account for a in record.account_ids]

    async def get_account(self, customer_id: str, account_id: str) -> Account:
        return self._account(customer_id, account_id).account

    async def list_transactions(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Transaction]:
        return self._account(customer_id, account_id).transactions.page(window, page)

    async def get_contact(self, customer_id: str, account_id: str) -> AccountContact:
        return self._account(customer_id, account_id).contact

    async def list_payment_networks(
        self, customer_id: str, account_id: str, page: PageRequest
    ) -> Page[PaymentNetwork]:
        networks = self._account(customer_id, account_id).networks
        everything = Window(date.min, date.max)
        dated = [(self.today, n) for n in networks]
        return Ledger.newest_first(dated).page(everything, page)

    async def list_statements(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Statement]:
        return self._account(customer_id, account_id).statements.page(window, page)

    async def get_statement(self, customer_id: str, account_id: str, statement_id: str) -> Document:
        record = self._account(customer_id, account_id)
        if statement_id not in record.periods:
            raise StatementNotFound("sandbox: no such statement for this account")
        content = _statement_pdf(self.seed, self.today, account_id, statement_id)
        return Document(content=content, media_type="application/pdf")

    async def get_customer_info(self, customer_id: str) -> CustomerInfo:
        return self._customer(customer_id).info

    async def list_payments(
        self, customer_id: str, account_ids: Sequence[str], window: Window, page: PageRequest
    ) -> Page[Payment]:
        payments = self._customer(customer_id).bills.payments
        return _dated(payments, "dueDate", window, page, set(account_ids))

    async def list_recurring_payments(
        self, customer_id: str, account_ids: Sequence[str], page: PageRequest
    ) -> Page[RecurringPayment]:
        recurring = self._customer(customer_id).bills.recurring
        return _dated(recurring, "dueDate", _EVERYTHING, page, set(account_ids))

    async def list_recurring_payment_payments(
        self,
        customer_id: str,
        recurring_payment_id: str,
        account_ids: Sequence[str],
        window: Window,
        page: PageRequest,
    ) -> Page[Payment]:
        bills = self._customer(customer_id).bills
        if not any(
            r["recurringPaymentId"] == recurring_payment_id and r["fromAccountId"] in account_ids
            for r in bills.recurring
        ):
            raise RecurringPaymentNotFound("sandbox: no such recurring payment")
        spawned = [p for p in bills.payments if p.get("recurringPaymentId") == recurring_payment_id]
        return _dated(spawned, "dueDate", window, page, set(account_ids))

    async def list_reward_programs(
        self, customer_id: str, page: PageRequest
    ) -> Page[RewardProgram]:
        program = self._customer(customer_id).reward_program
        return _dated([] if program is None else [program], None, _EVERYTHING, page)

    async def get_reward_program(self, customer_id: str, program_id: str) -> RewardProgram:
        program = self._customer(customer_id).reward_program
        if program is None or program["rewardProgramId"] != program_id:
            raise RewardProgramNotFound("sandbox: no such reward program")
        return program

    async def list_reward_categories(
        self, customer_id: str, program_id: str, page: PageRequest
    ) -> Page[RewardCategory]:
        await self.get_reward_program(customer_id, program_id)
        return _dated(rewards.categories(self.seed), None, _EVERYTHING, page)

    async def get_transaction_image(
        self, customer_id: str, account_id: str, image_id: str
    ) -> TransactionImage:
        record = self._account(customer_id, account_id)
        found = record.images.get(image_id)
        if found is None:
            raise ImageNotFound("sandbox: no such image for this account")
        txn, _ = found
        return TransactionImage(
            content=_check_png(self.seed, self.today, account_id, image_id),
            media_type="image/png",
            # The date the transaction is listed under (posted, else the transaction date), so
            # the image is inside a look-back window exactly when its transaction is.
            transaction_date=date.fromisoformat(
                str(txn.get("postedTimestamp") or txn["transactionTimestamp"])[:10]
            ),
        )

    async def list_tax_forms(
        self,
        customer_id: str,
        account_ids: Sequence[str],
        tax_year: int | None,
        page: PageRequest,
    ) -> Page[TaxStatement]:
        statements = [
            s
            for s in self._tax_statements(customer_id, account_ids)
            if tax_year is None or s["taxYear"] == tax_year
        ]
        return _dated(statements, None, _EVERYTHING, page)

    async def get_tax_form(
        self, customer_id: str, account_ids: Sequence[str], tax_form_id: str
    ) -> TaxStatement:
        for statement in self._tax_statements(customer_id, account_ids):
            if statement["taxStatementId"] == tax_form_id:
                return statement
        raise TaxFormNotFound("sandbox: no such tax form")

    async def get_tax_form_pdf(
        self, customer_id: str, account_ids: Sequence[str], tax_form_id: str
    ) -> Document:
        await self.get_tax_form(customer_id, account_ids, tax_form_id)
        return Document(_tax_pdf(self.seed, self.today, customer_id, tax_form_id))

    async def list_asset_transfer_networks(
        self, customer_id: str, account_id: str
    ) -> Sequence[AssetTransferNetwork]:
        return self._account(customer_id, account_id).transfer_networks

    async def aclose(self) -> None:
        return None

    def _tax_statements(self, customer_id: str, account_ids: Sequence[str]) -> list[TaxStatement]:
        """The customer's statements whose every form belongs to one of ``account_ids``."""
        allowed = set(account_ids)
        return [
            s
            for s in self._customer(customer_id).tax_statements
            if all(body.get("accountId") in allowed for f in s["forms"] for body in f.values())
        ]

    def _customer(self, customer_id: str) -> CustomerRecord:
        record = self._data.customers.get(customer_id)
        if record is None:
            raise CustomerNotFound("sandbox: unknown customer")
        return record

    def _account(self, customer_id: str, account_id: str) -> AccountRecord:
        self._customer(customer_id)
        record = self._data.accounts.get(account_id)
        # Another customer's account is indistinguishable from one that does not exist.
        if record is None or record.owner != customer_id:
            raise AccountNotFound("sandbox: unknown account")
        return record


_EVERYTHING = Window(date.min, date.max)


def _dated(
    records: Sequence[dict[str, Any]],
    key: str | None,
    window: Window,
    page: PageRequest,
    accounts: set[str] | None = None,
) -> Page[dict[str, Any]]:
    """``records`` (newest ``key`` date first) from ``accounts``' ``fromAccountId`` only, within
    ``window``, one page of them; undated records (``key`` None) are all inside."""
    kept = [
        (date.fromisoformat(r[key]) if key else date.min, r)
        for r in records
        if accounts is None or r.get("fromAccountId") in accounts
    ]
    return Ledger.newest_first(kept).page(window, page)


@lru_cache(maxsize=256)
def _check_png(seed: int, today: date, account_id: str, image_id: str) -> bytes:
    data = build(seed, today)
    record = data.accounts[account_id]
    txn, side = record.images[image_id]
    drawer = data.customers[record.owner].customer.display_name
    masked = str(record.account.get("accountNumberDisplay", ""))
    return render_check(txn, side, drawer=drawer, masked_account=masked)


@lru_cache(maxsize=32)
def _tax_pdf(seed: int, today: date, customer_id: str, tax_form_id: str) -> bytes:
    statements = build(seed, today).customers[customer_id].tax_statements
    return render_tax_pdf(next(s for s in statements if s["taxStatementId"] == tax_form_id))


@lru_cache(maxsize=64)
def _statement_pdf(seed: int, today: date, account_id: str, statement_id: str) -> bytes:
    data = build(seed, today)
    record = data.accounts[account_id]
    period = record.periods[statement_id]
    listed = record.transactions.page(
        Window(period.start, period.end), PageRequest(limit=len(record.transactions.records))
    )
    return render_statement(
        customer=data.customers[record.owner].customer.display_name,
        account=record.account,
        start=period.start,
        end=period.end,
        opening=period.opening,
        closing=period.closing,
        transactions=[t for t in listed.items if t["status"] == "POSTED"],
    )
