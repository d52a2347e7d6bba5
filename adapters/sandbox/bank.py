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

from adapters.base import (
    Account,
    AccountContact,
    Customer,
    CustomerInfo,
    Document,
    Page,
    PageRequest,
    PaymentNetwork,
    Statement,
    Transaction,
    Window,
)
from adapters.errors import AccountNotFound, CustomerNotFound, StatementNotFound
from adapters.sandbox.data import AccountRecord, BankData, CustomerRecord, build
from adapters.sandbox.ledger import Ledger
from adapters.sandbox.pdf import render_statement

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

    async def aclose(self) -> None:
        return None

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
