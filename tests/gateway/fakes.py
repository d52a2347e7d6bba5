"""A small in-memory bank for the gateway's tests: fixed data, every call recorded, and a switch
to make the next call fail with any adapter error."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from adapters.base import Customer, Document, Page, PageRequest, Window
from adapters.errors import AccountNotFound, AdapterError, StatementNotFound

CUSTOMER = "cust-1"
TODAY = date(2026, 3, 15)
NOW = 1773576000.0  # 2026-03-15T12:00:00Z

CHECKING: dict[str, Any] = {
    "accountCategory": "DEPOSIT_ACCOUNT",
    "accountId": "acc-chk",
    "accountType": "CHECKING",
    "accountNumber": "1234567890",
    "accountNumberDisplay": "...7890",
    "productName": "Everyday Checking",
    "nickname": "Bills",
    "status": "OPEN",
    "currency": {"currencyCode": "USD"},
    "balanceAsOf": "2026-03-15T00:00:00Z",
    "currentBalance": 1520.25,
    "availableBalance": 1500.0,
    "routingTransitNumber": "021000021",
}
CARD: dict[str, Any] = {
    "accountCategory": "LOC_ACCOUNT",
    "accountId": "acc-card",
    "accountType": "CREDITCARD",
    "accountNumberDisplay": "...4444",
    "productName": "Cash Back Card",
    "status": "OPEN",
    "currency": {"currencyCode": "USD"},
    "creditLine": 5000.0,
    "availableCredit": 4200.0,
    "currentBalance": 800.0,
}
SAVINGS: dict[str, Any] = {
    "accountCategory": "DEPOSIT_ACCOUNT",
    "accountId": "acc-sav",
    "accountType": "SAVINGS",
    "accountNumberDisplay": "...1111",
    "productName": "Savings",
    "status": "OPEN",
    "currency": {"currencyCode": "USD"},
    "currentBalance": 9000.0,
}


def transaction(account_id: str, n: int, day: date) -> dict[str, Any]:
    return {
        "accountCategory": "DEPOSIT_ACCOUNT",
        "accountId": account_id,
        "transactionId": f"{account_id}-t{n}",
        "postedTimestamp": f"{day.isoformat()}T10:00:00Z",
        "transactionTimestamp": f"{day.isoformat()}T09:00:00Z",
        "description": f"Purchase {n}",
        "debitCreditMemo": "DEBIT",
        "status": "POSTED",
        "amount": 10.0 + n,
        "transactionType": "POSDEBIT",
        "internalRiskScore": 0.7,  # a field no cluster releases
    }


class FakeBank:
    name = "fake"

    def __init__(self) -> None:
        self.accounts = {a["accountId"]: a for a in (CHECKING, CARD, SAVINGS)}
        # one transaction a day on checking, newest first, going back 400 days
        self.transactions = [
            transaction("acc-chk", n, TODAY - timedelta(days=n)) for n in range(400)
        ]
        self.statements = [
            {
                "accountId": "acc-chk",
                "statementId": f"st-{m}",
                "statementDate": (TODAY.replace(day=1) - timedelta(days=30 * m)).isoformat(),
                "description": "Monthly statement",
                "status": "AVAILABLE",
            }
            for m in range(14)
        ]
        self.calls: list[tuple[str, Any]] = []
        self.fail: AdapterError | Exception | None = None

    def _enter(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if self.fail is not None:
            raise self.fail

    def _account(self, customer_id: str, account_id: str) -> dict[str, Any]:
        if customer_id != CUSTOMER or account_id not in self.accounts:
            raise AccountNotFound(account_id)
        return self.accounts[account_id]

    async def authenticate(self, username: str, password: str) -> Customer | None:
        return None

    async def get_customer(self, customer_id: str) -> Customer:
        return Customer(customer_id, "Alice")

    async def list_accounts(self, customer_id: str) -> Sequence[dict[str, Any]]:
        self._enter("list_accounts", customer_id)
        return list(self.accounts.values()) if customer_id == CUSTOMER else []

    async def get_account(self, customer_id: str, account_id: str) -> dict[str, Any]:
        self._enter("get_account", customer_id, account_id)
        return self._account(customer_id, account_id)

    async def list_transactions(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[dict[str, Any]]:
        self._enter("list_transactions", customer_id, account_id, window, page)
        self._account(customer_id, account_id)
        rows = [
            t
            for t in self.transactions
            if t["accountId"] == account_id
            and window.start <= date.fromisoformat(t["postedTimestamp"][:10]) <= window.end
        ]
        return _page(rows, page)

    async def get_contact(self, customer_id: str, account_id: str) -> dict[str, Any]:
        self._enter("get_contact", customer_id, account_id)
        self._account(customer_id, account_id)
        return {
            "holders": [
                {
                    "customerId": CUSTOMER,
                    "type": "CONSUMER",
                    "name": {"first": "Alice", "last": "Doe"},
                    "relationship": "PRIMARY",
                    "dateOfBirth": "1980-01-02",
                    "taxId": "123-45-6789",
                    "emails": ["alice@example.com"],
                }
            ],
            "emails": ["alice@example.com"],
            "addresses": [{"line1": "1 Main St", "city": "Springfield", "country": "US"}],
            "telephones": [{"type": "CELL", "country": "1", "number": "5551234567"}],
        }

    async def list_payment_networks(
        self, customer_id: str, account_id: str, page: PageRequest
    ) -> Page[dict[str, Any]]:
        self._enter("list_payment_networks", customer_id, account_id, page)
        self._account(customer_id, account_id)
        rows = [
            {
                "bankId": "021000021",
                "identifier": "1234567890",
                "identifierType": "ACCOUNT_NUMBER",
                "type": kind,
                "transferIn": True,
                "transferOut": True,
                "internalNote": "not for recipients",
            }
            for kind in ("US_ACH", "US_FEDWIRE", "US_RTP")
        ]
        return _page(rows, page)

    async def list_statements(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[dict[str, Any]]:
        self._enter("list_statements", customer_id, account_id, window, page)
        self._account(customer_id, account_id)
        rows = [
            s
            for s in self.statements
            if s["accountId"] == account_id
            and window.start <= date.fromisoformat(s["statementDate"]) <= window.end
        ]
        return _page(rows, page)

    async def get_statement(self, customer_id: str, account_id: str, statement_id: str) -> Document:
        self._enter("get_statement", customer_id, account_id, statement_id)
        self._account(customer_id, account_id)
        if not any(s["statementId"] == statement_id for s in self.statements):
            raise StatementNotFound(statement_id)
        return Document(b"%PDF-1.4\n% fake statement " + statement_id.encode() + b"\n%%EOF\n")

    async def get_customer_info(self, customer_id: str) -> dict[str, Any]:
        self._enter("get_customer_info", customer_id)
        return {
            "customerId": CUSTOMER,
            "type": "CONSUMER",
            "name": {"first": "Alice", "last": "Doe"},
            "emails": ["alice@example.com"],
            "dateOfBirth": "1980-01-02",
            "taxId": "6789",
            "governmentId": "D1234567",
            "accounts": [
                {"accountId": a, "relationship": "PRIMARY"}
                for a in ("acc-chk", "acc-card", "acc-sav")
            ],
        }

    async def aclose(self) -> None:
        return None


def _page(rows: list[dict[str, Any]], page: PageRequest) -> Page[dict[str, Any]]:
    start = int(page.offset or 0)
    items = rows[start : start + page.limit]
    more = start + page.limit < len(rows)
    return Page(items, next_offset=str(start + page.limit) if more else None, total=len(rows))
