"""The sandbox bank's whole state for one (seed, today), built once and cached.

Everything is generated from ``random.Random`` instances seeded from ``seed`` (never the global
RNG), so the same seed and day always give the same bank. Building all three customers takes a
few hundred milliseconds; ``build`` keeps the last few results so tests may create many banks.
"""

from __future__ import annotations

import calendar
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from adapters.base import Customer
from adapters.sandbox import rewards, tax
from adapters.sandbox.accounts import build_accounts, mask
from adapters.sandbox.bills import Bills, build_bills
from adapters.sandbox.book import CHECK_SIDES, Book, opaque_id
from adapters.sandbox.catalog import BANK_NAME, PEOPLE, Person
from adapters.sandbox.ledger import Ledger
from adapters.sandbox.setup import ROUTING_NUMBER, Opened, customer_id, history_start, open_books
from adapters.sandbox.simulate import run

STATEMENT_MONTHS = 24
STATEMENT_SLOTS = ("checking", "savings", "card", "closed_savings")


@dataclass(frozen=True, slots=True)
class Period:
    """What a statement PDF shows beyond its FDX record."""

    start: date
    end: date
    opening: int  # cents
    closing: int


@dataclass(frozen=True, slots=True)
class AccountRecord:
    owner: str  # customer_id
    account: dict[str, Any]
    transactions: Ledger[dict[str, Any]]
    statements: Ledger[dict[str, Any]]
    periods: Mapping[str, Period]  # statementId → period
    contact: dict[str, Any]
    networks: tuple[dict[str, Any], ...]
    images: Mapping[str, tuple[dict[str, Any], str]] = field(default_factory=dict)  # → txn, side
    transfer_networks: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    customer: Customer
    person: Person
    info: dict[str, Any]
    account_ids: tuple[str, ...]
    bills: Bills = field(default_factory=lambda: Bills((), ()))
    reward_program: dict[str, Any] | None = None
    tax_statements: tuple[dict[str, Any], ...] = ()  # last tax year's, one form each


@dataclass(frozen=True, slots=True)
class BankData:
    customers: Mapping[str, CustomerRecord]  # customer_id →
    logins: Mapping[str, CustomerRecord]  # username →
    accounts: Mapping[str, AccountRecord]  # accountId →


@lru_cache(maxsize=8)
def build(seed: int, today: date) -> BankData:
    customers: dict[str, CustomerRecord] = {}
    accounts: dict[str, AccountRecord] = {}
    start = history_start(today)
    for person in PEOPLE:
        opened = open_books(seed, person, today)
        run(opened.books, seed, start, today)
        owner = customer_id(seed, person)
        records = _account_records(opened, owner, today)
        accounts.update(records)
        info = _customer_info(person, owner, tuple(records))
        name = f"{person.first} {person.last}"
        customer = Customer(owner, name, person.totp_secret)
        customers[owner] = CustomerRecord(
            customer,
            person,
            info,
            tuple(records),
            **_services(seed, person, owner, opened, records, today),
        )
    logins = {c.person.username: c for c in customers.values()}
    return BankData(customers, logins, accounts)


def _account_records(opened: Opened, owner: str, today: date) -> dict[str, AccountRecord]:
    books = opened.books
    by_slot: dict[str, Book | None] = {
        "checking": books.checking,
        "savings": books.savings,
        "card": books.card,
        "loan": books.loan,
        "investment": books.investment,
        "closed_savings": books.closed_savings,
    }
    records: dict[str, AccountRecord] = {}
    for slot, account in build_accounts(opened, today).items():
        book = by_slot[slot]
        assert book is not None  # build_accounts only returns accounts that have a book
        statements, periods = _statements(book, account, today, slot in STATEMENT_SLOTS)
        records[account["accountId"]] = AccountRecord(
            owner=owner,
            account=account,
            transactions=Ledger.newest_first([(e.on, e.txn) for e in book.newest_first()]),
            statements=statements,
            periods=periods,
            contact=_contact(books.person, joint=slot == "savings"),
            networks=_networks(account, opened.numbers[slot]),
            images={
                image_id: (e.txn, side)
                for e in book.entries
                if "imageIds" in e.txn
                for image_id, side in zip(e.txn["imageIds"], CHECK_SIDES, strict=True)
            },
            transfer_networks=_transfer_networks(account, opened.numbers[slot]),
        )
    return records


def _services(
    seed: int,
    person: Person,
    owner: str,
    opened: Opened,
    records: Mapping[str, AccountRecord],
    today: date,
) -> dict[str, Any]:
    """Bill pay, the rewards program and tax forms: what the customer's accounts imply."""
    ids, year = opened.ids, tax.tax_year(today)
    checking = records[ids["checking"]]
    bills = build_bills(seed, owner, ids["checking"], checking.transactions.records, today)
    card = records[ids["card"]]
    program = rewards.program(seed, owner, ids["card"], card.transactions.records, today)
    card.account["rewardProgramId"] = program["rewardProgramId"]
    forms: list[dict[str, Any] | None] = []
    for account_id, record in records.items():
        if record.account["accountCategory"] == "DEPOSIT_ACCOUNT":
            txns = record.transactions.records
            forms.append(tax.interest_form(seed, person, account_id, txns, year))
        elif record.account.get("accountType") == "TAXABLE":
            txns = record.transactions.records
            forms.append(tax.broker_form(seed, person, account_id, txns, year))
    return {
        "bills": bills,
        "reward_program": program,
        "tax_statements": tuple(f for f in forms if f is not None),
    }


# DTC participant number of the sandbox bank's broker-dealer (fictional).
DTC_NUMBER = "0999"


def _transfer_networks(account: dict[str, Any], number: str) -> tuple[dict[str, Any], ...]:
    """ACATS (and DTC for a brokerage) coordinates of open investment accounts."""
    if account["accountCategory"] != "INVESTMENT_ACCOUNT" or account["status"] != "OPEN":
        return ()
    kinds = ("US_ACATS",) if account["accountType"] == "401K" else ("US_ACATS", "US_DTC")
    return tuple(
        {
            "identifier": number,
            "identifierType": "ACCOUNT_NUMBER",
            "institutionName": BANK_NAME,
            "institutionId": DTC_NUMBER,
            "type": kind,
            "jointAccount": False,
        }
        for kind in kinds
    )


def _statements(
    book: Book, account: dict[str, Any], today: date, monthly: bool
) -> tuple[Ledger[dict[str, Any]], dict[str, Period]]:
    """One statement per calendar month for the last 24 complete months the account was open."""
    if not monthly:
        return Ledger.newest_first([]), {}
    posted = sorted((e for e in book.entries if e.delta), key=lambda e: (e.on, e.stamp))
    days = [e.on.toordinal() for e in posted]
    running, balances = book.opening, []
    for e in posted:
        running += e.delta
        balances.append(running)

    def balance_at(day: date) -> int:
        i = bisect_right(days, day.toordinal())
        return balances[i - 1] if i else book.opening

    closed = account.get("accountCloseDate")
    dated: list[tuple[date, dict[str, Any]]] = []
    periods: dict[str, Period] = {}
    for back in range(1, STATEMENT_MONTHS + 1):
        year, month = divmod(today.year * 12 + today.month - 1 - back, 12)
        start = date(year, month + 1, 1)
        end = start.replace(day=calendar.monthrange(year, month + 1)[1])
        if closed is not None and start > date.fromisoformat(closed):
            continue
        statement_id = opaque_id("stm", account["accountId"], start.isoformat()[:7])
        dated.append((end, _statement(account["accountId"], statement_id, start, end)))
        periods[statement_id] = Period(
            start, end, balance_at(start - timedelta(1)), balance_at(end)
        )
    return Ledger.newest_first(dated), periods


def _statement(account_id: str, statement_id: str, start: date, end: date) -> dict[str, Any]:
    return {
        "accountId": account_id,
        "statementId": statement_id,
        "statementDate": end.isoformat(),
        "description": f"Statement for {start:%B %Y}",
        "status": "AVAILABLE",
    }


def _contact_points(person: Person) -> dict[str, Any]:
    return {
        "emails": [person.email],
        "addresses": [
            {
                "line1": person.line1,
                "city": person.city,
                "region": person.region,
                "postalCode": person.postal_code,
                "country": "US",
                "type": "HOME",
            }
        ],
        "telephones": [{"type": "CELL", "country": "1", "number": person.phone}],
    }


def _contact(person: Person, *, joint: bool) -> dict[str, Any]:
    """FDX AccountContact; one savings account has a joint owner (docs/fdx.md §2)."""
    holders = [{"name": {"first": person.first, "last": person.last}, "relationship": "PRIMARY"}]
    if joint and person.joint_holder is not None:
        first, last = person.joint_holder
        holders.append({"name": {"first": first, "last": last}, "relationship": "PRIMARY_JOINT"})
    return {"holders": holders, **_contact_points(person)}


def _networks(account: dict[str, Any], number: str) -> tuple[dict[str, Any], ...]:
    """ACH and RTP coordinates of open deposit accounts; nothing for other categories."""
    if account["accountCategory"] != "DEPOSIT_ACCOUNT" or account["status"] != "OPEN":
        return ()
    assert account["accountNumberDisplay"] == mask(number)
    return tuple(
        {
            "bankId": ROUTING_NUMBER,
            "identifier": number,
            "identifierType": "ACCOUNT_NUMBER",
            "type": kind,
            "transferIn": True,
            "transferOut": True,
            "supportsRequestForPayment": kind == "US_RTP",
        }
        for kind in ("US_ACH", "US_RTP")
    )


def _customer_info(person: Person, owner: str, account_ids: tuple[str, ...]) -> dict[str, Any]:
    """FDX Customer; ``taxId`` is masked to its last 4 digits (docs/fdx.md §2)."""
    return {
        "customerId": owner,
        "type": "CONSUMER",
        "name": {"first": person.first, "last": person.last},
        "dateOfBirth": person.birth_date,
        "taxId": "*****" + person.tax_id_last4,
        "taxIdCountry": "US",
        "customerStartDate": person.customer_since,
        **_contact_points(person),
        "accounts": [{"accountId": a, "relationship": "PRIMARY"} for a in account_ids],
    }


def demo_consumers(seed: int, today: date) -> dict[str, Any]:
    """The published demo logins (config/demo/consumers.json), derived from the data itself."""
    data = build(seed, today)
    consumers = []
    for record in data.customers.values():
        described = []
        for account_id in record.account_ids:
            account = data.accounts[account_id].account
            closed = " (closed)" if account["status"] == "CLOSED" else ""
            described.append(f"{account['productName']} {account['accountNumberDisplay']}{closed}")
        consumer: dict[str, Any] = {
            "username": record.person.username,
            "password": record.person.password,
        }
        if record.person.totp_secret:
            consumer["totp_secret"] = record.person.totp_secret
        consumer |= {
            "name": record.customer.display_name,
            "customer_id": record.customer.customer_id,
            "accounts": described,
        }
        consumers.append(consumer)
    return {"consumers": consumers, "note": "sandbox only"}
