"""Where each customer's books stand on the first simulated day: numbers, ids, opening balances."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from adapters.sandbox.book import Book, opaque_id
from adapters.sandbox.catalog import ROUTING_PREFIX, SECURITIES, Person
from adapters.sandbox.simulate import Books, Loan, loan_balance_at

SLOTS = ("checking", "savings", "card", "loan", "investment", "closed_savings")


@dataclass(frozen=True, slots=True)
class Opened:
    """A customer's books on day one, plus the account numbers only payment networks reveal."""

    books: Books
    numbers: dict[str, str]  # slot → full account number
    ids: dict[str, str]  # slot → accountId


def aba_routing_number(prefix: str) -> str:
    """Append the ABA check digit: 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0 (mod 10)."""
    weights = (3, 7, 1, 3, 7, 1, 3, 7)
    total = sum(int(c) * w for c, w in zip(prefix, weights, strict=True))
    return prefix + str(-total % 10)


ROUTING_NUMBER = aba_routing_number(ROUTING_PREFIX)


def customer_id(seed: int, person: Person) -> str:
    return opaque_id("cus", seed, person.username)


def history_start(today: date) -> date:
    """The first day of the month 25 months back: 24 full statement months and then some."""
    year, month = divmod(today.year * 12 + today.month - 1 - 25, 12)
    return date(year, month + 1, 1)


def closed_on(today: date) -> date:
    return today - timedelta(days=290)


def loan_terms(person: Person, start: date) -> Loan:
    if person.loan_type == "MORTGAGE":
        return Loan(64_000_000, 0.06125, 360, start.replace(year=start.year - 4), 1, 61_000)
    if person.loan_type == "STUDENTLOAN":
        return Loan(3_850_000, 0.055, 120, start.replace(year=start.year - 3), 5, 0)
    return Loan(3_200_000, 0.0649, 60, start.replace(year=start.year - 1), 5, 0)


def open_books(seed: int, person: Person, today: date) -> Opened:
    rng = random.Random(f"{seed}/{person.username}")
    ids = {slot: opaque_id("acc", seed, person.username, slot) for slot in SLOTS}
    numbers = {slot: str(rng.randint(10**9, 10**10 - 1)) for slot in SLOTS}
    numbers["card"] = _card_number(rng)
    start = history_start(today)
    terms = loan_terms(person, start)
    salary = person.salary_cents

    def book(slot: str, category: str, opening: int, *, liability: bool = False) -> Book:
        return Book(ids[slot], category, liability, opening)

    invest = book("investment", "INVESTMENT_ACCOUNT", rng.randint(10_000, 60_000))
    invest.state["shares"] = _initial_shares(rng, person)
    books = Books(
        person=person,
        checking=book("checking", "DEPOSIT_ACCOUNT", round(salary * rng.uniform(1.5, 2.5))),
        savings=book("savings", "DEPOSIT_ACCOUNT", rng.randint(800_000, 2_500_000)),
        card=book("card", "LOC_ACCOUNT", 0, liability=True),
        loan=book("loan", "LOAN_ACCOUNT", loan_balance_at(terms, start), liability=True),
        investment=invest,
        closed_savings=(
            book("closed_savings", "DEPOSIT_ACCOUNT", 320_000) if person.closed_savings else None
        ),
        loan_terms=terms,
        closed_on=closed_on(today) if person.closed_savings else None,
    )
    return Opened(books, numbers, ids)


def _initial_shares(rng: random.Random, person: Person) -> dict[str, float]:
    if person.investment_type == "401K":
        return {SECURITIES[3].symbol: float(rng.randint(150, 320))}
    return {s.symbol: float(rng.randint(20, 120)) for s in SECURITIES[:3]}


def _card_number(rng: random.Random) -> str:
    """A 16-digit Visa-style number with a valid Luhn check digit."""
    body = "4" + "".join(str(rng.randint(0, 9)) for _ in range(14))
    total = 0
    for i, c in enumerate(reversed(body)):
        n = int(c) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return body + str(-total % 10)
