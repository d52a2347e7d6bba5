"""A customer's everyday banking life, day by day, into their books.

Each calendar day draws from its own ``random.Random`` seeded with (seed, customer, date), so the
transactions of a given day, and their ids, are the same whatever ``today`` is; only balances and
pending states depend on where the simulation starts and ends.
"""

from __future__ import annotations

import calendar
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from adapters.sandbox.book import Book
from adapters.sandbox.catalog import (
    FUEL,
    GROCERIES,
    RESTAURANTS,
    SECURITIES,
    SHOPPING,
    SUBSCRIPTIONS,
    TRAVEL,
    UTILITIES,
    Merchant,
    Person,
    Security,
)


@dataclass(frozen=True, slots=True)
class Loan:
    original: int  # cents
    rate: float  # yearly
    months: int
    originated: date
    due_day: int
    escrow: int  # cents per payment (mortgages)

    @property
    def installment(self) -> int:
        r = self.rate / 12
        return round(self.original * r / (1 - (1 + r) ** -self.months))


@dataclass(slots=True)
class Books:
    person: Person
    checking: Book
    savings: Book
    card: Book
    loan: Book
    investment: Book
    closed_savings: Book | None
    loan_terms: Loan
    closed_on: date | None


def days(start: date, end: date) -> Iterator[date]:
    for n in range((end - start).days + 1):
        yield start + timedelta(days=n)


def price(security: Security, on: date) -> float:
    """A smooth, day-stable price path: drift plus two slow waves."""
    t = on.toordinal()
    years = (t - date(2024, 1, 1).toordinal()) / 365.25
    wave = 0.05 * math.sin(t / 41 + len(security.symbol)) + 0.015 * math.sin(t / 6.7)
    return round(security.base_price * math.exp(security.drift * years) * (1 + wave), 2)


def loan_balance_at(loan: Loan, on: date) -> int:
    """Principal left after every installment due before ``on``."""
    balance, r = loan.original, loan.rate / 12
    months = (on.year - loan.originated.year) * 12 + on.month - loan.originated.month
    if on.day <= loan.due_day:
        months -= 1
    for _ in range(max(months, 0)):
        balance -= loan.installment - round(balance * r)
    return max(balance, 0)


def payday(d: date) -> bool:
    """The 15th and the last day of the month, moved back to Friday when on a weekend."""
    last = calendar.monthrange(d.year, d.month)[1]
    return d in (
        _weekday_on_or_before(d.replace(day=15)),
        _weekday_on_or_before(d.replace(day=last)),
    )


def _weekday_on_or_before(d: date) -> date:
    return d - timedelta(days=max(d.weekday() - 4, 0))


def month_end(d: date) -> bool:
    return (d + timedelta(days=1)).day == 1


def run(books: Books, seed: int, start: date, today: date) -> None:
    """Simulate every day from ``start`` to ``today`` inclusive."""
    who = books.person.username
    for d in days(start, today):
        rng = random.Random(f"{seed}/{who}/{d.isoformat()}")
        _income_and_bills(books, rng, d, today)
        _transfers(books, rng, d)
        _debit_card(books, rng, d, today)
        _credit_card(books, rng, d, today)
        _loan_payment(books, d)
        _investing(books, d)
        if month_end(d):
            _month_end(books, rng, d)


def _income_and_bills(books: Books, rng: random.Random, d: date, today: date) -> None:
    p, chk = books.person, books.checking
    if payday(d):
        bonus = p.salary_cents // 2 if d.month == 12 and d.day > 15 else 0
        chk.add(d, p.salary_cents + bonus, credit=True, kind="DIRECTDEPOSIT",
                description=f"{p.employer.upper()} PAYROLL PPD", clock="06:00",
                category="Income", subCategory="Payroll", payee=p.employer)  # fmt: skip
    if d.day == 1 and p.housing == "RENT" and d + timedelta(days=2) <= today:
        number = 1000 + (d.year * 12 + d.month) % 9000
        chk.add(d, p.housing_cents, credit=False, kind="CHECK", description=f"CHECK #{number}",
                posted=d + timedelta(days=2), clock="10:00", checkNumber=number,
                category="Housing", subCategory="Rent", memo="Rent")  # fmt: skip
    if d.day == 20 and p.housing != "RENT" and d + timedelta(days=2) <= today:
        # Renters write a rent check every month; everyone else pays the cleaner by check, so
        # every checking account has a check (and its image) each month.
        number = 3000 + (d.year * 12 + d.month) % 2000
        chk.add(d, 14_000, credit=False, kind="CHECK", description=f"CHECK #{number}",
                posted=d + timedelta(days=2), clock="10:00", checkNumber=number,
                category="Home", subCategory="Home Services", memo="House cleaning")  # fmt: skip
    for biller in UTILITIES:
        if d.day == biller.day:
            chk.add(d, rng.randint(biller.low_cents, biller.high_cents), credit=False,
                    kind="BILLPAYMENT", description=f"BILL PAY {biller.name.upper()}",
                    clock="07:30", category="Bills & Utilities", subCategory=biller.category,
                    payee=biller.name)  # fmt: skip
    if rng.random() < 0.012:
        number = 5000 + d.toordinal() % 4000
        chk.add(d, rng.randint(2_000, 40_000), credit=False, kind="CHECK",
                description=f"CHECK #{number}", checkNumber=number, clock="11:00",
                category="Transfers", subCategory="Check")  # fmt: skip


def _transfer(src: Book, dst: Book, d: date, cents: int, what: str, dst_kind: str) -> None:
    src_kind = "TRANSFER" if src.category == "DEPOSIT_ACCOUNT" else "WITHDRAWAL"
    src.add(d, cents, credit=False, kind=src_kind, description=f"TRANSFER TO {what}",
            clock="08:15", category="Transfers", subCategory="Internal Transfer")  # fmt: skip
    dst.add(d, cents, credit=True, kind=dst_kind, description="TRANSFER FROM CHECKING",
            clock="08:15", category="Transfers", subCategory="Internal Transfer")  # fmt: skip


def _transfers(books: Books, rng: random.Random, d: date) -> None:
    p, chk, sav = books.person, books.checking, books.savings
    if d.day == 16:
        # A fixed monthly saving, plus a sweep of whatever piles up beyond three pay periods.
        surplus = max(chk.balance - 3 * p.salary_cents, 0) // 10_000 * 10_000
        _transfer(chk, sav, d, p.salary_cents // 8 + surplus, "SAVINGS", "TRANSFER")
    if d.day == 3 and rng.random() < 0.08 and sav.balance > 300_000:
        cents = rng.randint(50_000, 200_000)
        sav.add(d, cents, credit=False, kind="TRANSFER", description="TRANSFER TO CHECKING",
                clock="09:40", category="Transfers", subCategory="Internal Transfer")  # fmt: skip
        chk.add(d, cents, credit=True, kind="TRANSFER", description="TRANSFER FROM SAVINGS",
                clock="09:40", category="Transfers", subCategory="Internal Transfer")  # fmt: skip
    old = books.closed_savings
    if old is not None and d == books.closed_on and old.balance > 0:
        cents = old.balance
        old.add(d, cents, credit=False, kind="TRANSFER", description="CLOSING TRANSFER TO CHECKING",
                clock="14:00", category="Transfers", subCategory="Internal Transfer")  # fmt: skip
        chk.add(d, cents, credit=True, kind="TRANSFER", description="TRANSFER FROM SAVINGS",
                clock="14:00", category="Transfers", subCategory="Internal Transfer")  # fmt: skip
    card = books.card
    due = card.state.get("statement", 0)
    if d.day == 25 and due > 0:
        chk.add(d, due, credit=False, kind="BILLPAYMENT", description="SANDBOX BANK CARD AUTOPAY",
                clock="05:00", category="Transfers", subCategory="Credit Card Payment",
                payee="Sandbox Bank Card Services")  # fmt: skip
        card.add(d, due, credit=True, kind="PAYMENT", description="AUTOPAY PAYMENT - THANK YOU",
                 clock="05:00", category="Transfers",
                 subCategory="Credit Card Payment")  # fmt: skip
        card.state.update(statement=0, last_payment=(d, due))


def _pick(rng: random.Random, groups: tuple[tuple[tuple[Merchant, ...], float], ...]) -> Merchant:
    families = [family for family, _ in groups]
    family = rng.choices(families, weights=[weight for _, weight in groups])[0]
    return rng.choice(family)


def _purchase_fields(m: Merchant, rng: random.Random) -> dict[str, Any]:
    return {
        "description": m.name.upper(),
        "category": m.category,
        "subCategory": m.sub_category,
        "clock": f"{rng.randint(8, 21):02d}:{rng.randint(0, 59):02d}",
    }


def _spend(p: Person, rng: random.Random, m: Merchant) -> tuple[int, int]:
    """Authorized and settled cents; people spend in proportion to what they earn."""
    cents = round(rng.randint(m.low_cents, m.high_cents) * p.salary_cents / 312_500)
    return cents, round(cents * rng.uniform(1.15, 1.22)) if m.tips else cents


def _thrift(books: Books) -> float:
    """People go out less when the checking account runs low, so balances stay plausible."""
    return 0.4 if books.checking.balance < books.person.salary_cents else 1.0


def _debit_card(books: Books, rng: random.Random, d: date, today: date) -> None:
    chk = books.checking
    if rng.random() < 0.45 * _thrift(books):
        m = _pick(rng, ((GROCERIES, 3.0), (FUEL, 1.5), (RESTAURANTS, 1.0)))
        cents, settled = _spend(books.person, rng, m)
        chk.card(today, d, cents, settled, lag=rng.randint(1, 2), kind="POSDEBIT",
                 payee=m.name, **_purchase_fields(m, rng))  # fmt: skip
    if rng.random() < 0.035:
        chk.add(d, rng.choice((4_000, 6_000, 10_000, 20_000)), credit=False, kind="ATMWITHDRAWAL",
                description="ATM WITHDRAWAL 1420 BROADWAY", clock="18:05",
                category="Cash", subCategory="ATM")  # fmt: skip
        if rng.random() < 0.3:
            chk.add(d, 300, credit=False, kind="FEE", description="NON-NETWORK ATM FEE",
                    clock="18:05", category="Fees", subCategory="ATM Fee")  # fmt: skip


def _credit_card(books: Books, rng: random.Random, d: date, today: date) -> None:
    card = books.card
    thrift = _thrift(books)
    count = (rng.random() < 0.6 * thrift) + (rng.random() < 0.2 * thrift)
    for _ in range(count):
        m = _pick(rng, ((RESTAURANTS, 5.0), (SHOPPING, 3.0), (TRAVEL, 0.4)))
        cents, settled = _spend(books.person, rng, m)
        card.card(today, d, cents, settled, lag=rng.randint(1, 3), kind="PURCHASE",
                  **_purchase_fields(m, rng))  # fmt: skip
    for day, m in zip((9, 14, 2), SUBSCRIPTIONS, strict=True):
        if d.day == day:
            card.card(today, d, m.low_cents, m.low_cents, lag=1, kind="PURCHASE",
                      **_purchase_fields(m, rng))  # fmt: skip
    if rng.random() < 0.006 and d + timedelta(days=2) <= today:
        euros = rng.randint(1_800, 9_500)
        cents = round(euros * 1.09)
        card.add(d, cents, credit=False, kind="PURCHASE", description="CAFE DE FLORE PARIS FR",
                 posted=d + timedelta(days=2), clock="19:30", category="Food and Drink",
                 subCategory="Restaurants", foreignAmount=euros / 100,
                 foreignCurrency="EUR")  # fmt: skip
        card.add(d, round(cents * 0.03), credit=False, kind="FEE", clock="19:30",
                 description="FOREIGN TRANSACTION FEE", posted=d + timedelta(days=2),
                 category="Fees", subCategory="Foreign Transaction Fee")  # fmt: skip
    if (d.month, d.day) == (3, 1):
        card.add(d, 9_500, credit=False, kind="FEE", description="ANNUAL MEMBERSHIP FEE",
                 clock="03:00", category="Fees", subCategory="Annual Fee")  # fmt: skip


def _loan_payment(books: Books, d: date) -> None:
    loan, terms = books.loan, books.loan_terms
    if d.day != terms.due_day or loan.balance <= 0:
        return
    interest = round(loan.balance * terms.rate / 12)
    principal = min(terms.installment - interest, loan.balance)
    total = principal + interest + terms.escrow
    details: dict[str, float] = {
        "principalAmount": principal / 100,
        "interestAmount": interest / 100,
    }
    if terms.escrow:
        details["escrowAmount"] = terms.escrow / 100
    books.checking.add(d, total, credit=False, kind="TRANSFER", clock="04:30",
                       description="LOAN PAYMENT SANDBOX BANK", category="Loans",
                       subCategory="Loan Payment")  # fmt: skip
    loan.add(d, total, credit=True, kind="PAYMENT", description="SCHEDULED PAYMENT - THANK YOU",
             clock="04:30", paymentDetails=details, effect=-principal)  # fmt: skip
    loan.state.update(last_payment=(d, total))
    loan.state.setdefault("interest", []).append((d, interest))


def _investing(books: Books, d: date) -> None:
    p, inv = books.person, books.investment
    if p.investment_type == "401K":
        if payday(d):
            _contribute_401k(inv, d, p.salary_cents)
        if d.day == 1 and d.month in (1, 4, 7, 10):
            inv.add(d, 1_250, credit=False, kind="FEE", description="PLAN ADMINISTRATION FEE",
                    clock="03:00")  # fmt: skip
    elif d.day == 20:
        _transfer(books.checking, inv, d, p.salary_cents // 6, "BROKERAGE", "TRANSFER")
        cash = inv.balance
        for security, share in zip(SECURITIES[:3], (0.6, 0.25, 0.15), strict=True):
            _trade(inv, d, security, round(cash * share), buy=True)
    elif d.day == 10 and d.month == 1 and p.investment_type == "TAXABLE":
        bnd = SECURITIES[2]
        held = inv.state["shares"].get(bnd.symbol, 0.0)
        _trade(inv, d, bnd, round(held * 0.1 * price(bnd, d) * 100), buy=False)
    if d.day == 26 and d.month % 3 == 0:
        for security in SECURITIES:
            held = inv.state["shares"].get(security.symbol, 0.0)
            cents = round(held * price(security, d) * security.dividend_yield / 4 * 100)
            if cents > 0:
                inv.add(d, cents, credit=True, kind="DIVIDEND", clock="07:00",
                        description=f"DIVIDEND {security.symbol}",
                        **_security(security))  # fmt: skip


def _contribute_401k(inv: Book, d: date, salary: int) -> None:
    fund = SECURITIES[3]
    for source, cents in (("PRETAX", salary * 8 // 100), ("MATCH", salary * 4 // 100)):
        inv.add(d, cents, credit=True, kind="CONTRIBUTION", description=f"{source} CONTRIBUTION",
                clock="06:00", inv401kSource=source, subAccountFund="CASH")  # fmt: skip
        _trade(inv, d, fund, cents, buy=True, inv401kSource=source)


def _security(s: Security) -> dict[str, Any]:
    return {"securityId": s.cusip, "securityIdType": "CUSIP", "securityType": s.kind,
            "symbol": s.symbol}  # fmt: skip


def _trade(inv: Book, d: date, s: Security, cents: int, *, buy: bool, **fields: Any) -> None:
    unit = price(s, d)
    shares = round(cents / 100 / unit, 4)
    if shares <= 0:
        return
    amount = round(shares * unit * 100)
    held = inv.state["shares"]
    held[s.symbol] = round(held.get(s.symbol, 0.0) + (shares if buy else -shares), 4)
    verb = "BOUGHT" if buy else "SOLD"
    inv.add(d, amount, credit=not buy, kind="PURCHASED" if buy else "SOLD", clock="15:59",
            description=f"{verb} {shares:g} {s.symbol} @ {unit:.2f}", shares=shares, price=unit,
            subAccountSec="CASH", subAccountFund="CASH", **_security(s), **fields)  # fmt: skip


def _month_end(books: Books, rng: random.Random, d: date) -> None:
    for book, apy in ((books.checking, 0.0005), (books.savings, 0.04)):
        _interest(book, d, apy)
    old = books.closed_savings
    if old is not None and books.closed_on is not None and d < books.closed_on:
        _interest(old, d, 0.006)
    if books.person.username == "carol" and books.checking.balance < 150_000 and rng.random() < 0.2:
        books.checking.add(d, 1_200, credit=False, kind="FEE", clock="23:00",
                           description="MONTHLY MAINTENANCE FEE", category="Fees",
                           subCategory="Service Fee")  # fmt: skip
    card = books.card
    owed = max(card.balance, 0)
    card.state.update(statement=owed, statement_balance=owed, statement_date=d)


def _interest(book: Book, d: date, apy: float) -> None:
    cents = round(book.balance * apy / 12)
    if cents > 0:
        book.add(d, cents, credit=True, kind="INTEREST", description="INTEREST PAYMENT",
                 clock="23:30", category="Income", subCategory="Interest")  # fmt: skip
