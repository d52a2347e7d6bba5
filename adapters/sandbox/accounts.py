"""FDX AccountWithDetails objects from simulated books (docs/fdx.md §2, one builder per category).

Full account numbers never appear here: ``accountNumberDisplay`` is masked to the last 4 digits,
and ``accountNumber``, ``routingTransitNumber`` and ``micrNumber`` are left out on purpose. The full
number is only served as a payment network (PAYMENT_SUPPORT).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from adapters.sandbox.book import Book, opaque_id
from adapters.sandbox.catalog import SECURITIES, Person, Security
from adapters.sandbox.setup import Opened
from adapters.sandbox.simulate import price

USD = {"currencyCode": "USD"}
LOAN_PRODUCTS = {
    "AUTOLOAN": "Auto Loan",
    "MORTGAGE": "30-Year Fixed Mortgage",
    "STUDENTLOAN": "Student Loan Refinance",
}


def mask(number: str) -> str:
    return "*" * 4 + number[-4:]


def build_accounts(opened: Opened, today: date) -> dict[str, dict[str, Any]]:
    """slot → account, for every account the customer has (closed ones included)."""
    b = opened.books
    accounts = {
        "checking": _deposit(opened, "checking", b.checking, today, "CHECKING", 0.05),
        "savings": _deposit(opened, "savings", b.savings, today, "SAVINGS", 4.0),
        "card": _card(opened, b.card, today),
        "loan": _loan(opened, b.loan, today),
        "investment": _investment(opened, b.investment, today),
    }
    if b.closed_savings is not None and b.closed_on is not None:
        closed = _deposit(opened, "closed_savings", b.closed_savings, today, "SAVINGS", 0.6)
        closed.update(
            status="CLOSED",
            productName="Statement Savings",
            accountCloseDate=b.closed_on.isoformat(),
            availableBalance=0.0,
            transferIn=False,
            transferOut=False,
        )
        accounts["closed_savings"] = closed
    return accounts


def _base(opened: Opened, slot: str, book: Book, today: date, **fields: Any) -> dict[str, Any]:
    person = opened.books.person
    posted = [e for e in book.entries if e.delta]
    last = max((e.on for e in posted), default=today)
    account: dict[str, Any] = {
        "accountCategory": book.category,
        "accountId": opened.ids[slot],
        "accountNumberDisplay": mask(opened.numbers[slot]),
        "nickname": _nickname(person, fields.pop("short")),
        "status": "OPEN",
        "accountOpenDate": _opened_on(person, slot, opened).isoformat(),
        "currency": USD,
        "balanceType": "LIABILITY" if book.liability else "ASSET",
        "lastActivityDate": last.isoformat(),
        "balanceAsOf": f"{last.isoformat()}T23:59:00Z",
    }
    account.update(fields)
    return account


def _nickname(person: Person, short: str) -> str:
    """What the customer calls the account; Bob names his in Japanese (UTF-8 on the wire)."""
    if person.nickname.isascii():
        return f"{person.nickname}'s {short}"
    return f"{person.nickname} {short}"


def _opened_on(person: Person, slot: str, opened: Opened) -> date:
    since = date.fromisoformat(person.customer_since)
    if slot == "loan":
        return opened.books.loan_terms.originated
    offset = {"checking": 0, "closed_savings": 0, "savings": 400, "card": 150, "investment": 700}
    return since + timedelta(days=offset[slot])


def _deposit(
    opened: Opened, slot: str, book: Book, today: date, kind: str, apy: float
) -> dict[str, Any]:
    held = sum(round(e.txn["amount"] * 100) for e in book.entries if _pending_debit(e.txn))
    today_delta = sum(e.delta for e in book.entries if e.on == today)
    checking = kind == "CHECKING"
    return _base(
        opened,
        slot,
        book,
        today,
        short="Checking" if checking else "Savings",
        accountType=kind,
        productName="Everyday Checking" if checking else "High Yield Savings",
        description="Personal checking account" if checking else "Personal savings account",
        currentBalance=book.balance / 100,
        availableBalance=(book.balance - held) / 100,
        openingDayBalance=(book.balance - today_delta) / 100,
        annualPercentageYield=apy,
        interestRate=apy,
        interestRateType="FIXED" if checking else "VARIABLE",
        interestRateAsOf=f"{today.replace(day=1).isoformat()}T00:00:00Z",
        interestYtd=_year_to_date(book, today, "INTEREST") / 100,
        transferIn=True,
        transferOut=True,
        billPayStatus="ACTIVE" if checking else "NOT_AVAILABLE",
    )


def _pending_debit(txn: dict[str, Any]) -> bool:
    return bool(txn["status"] == "PENDING" and txn["debitCreditMemo"] == "DEBIT")


def _year_to_date(book: Book, today: date, kind: str) -> int:
    start = today.replace(month=1, day=1)
    return sum(
        round(e.txn["amount"] * 100)
        for e in book.entries
        if e.delta and e.on >= start and e.txn["transactionType"] == kind
    )


def _next_due(today: date, day: int) -> date:
    due = today.replace(day=day)
    if due <= today:
        due = (due.replace(day=1) + timedelta(days=32)).replace(day=day)
    return due


def _card(opened: Opened, book: Book, today: date) -> dict[str, Any]:
    line = round(opened.books.person.salary_cents * 4, -5)
    held = sum(round(e.txn["amount"] * 100) for e in book.entries if _pending_debit(e.txn))
    due = book.state.get("statement", 0)
    paid_on, paid = book.state.get("last_payment", (None, 0))
    stmt_date = book.state.get("statement_date")
    account = _base(
        opened,
        "card",
        book,
        today,
        short="Visa",
        accountType="CREDITCARD",
        productName="Sandbox Rewards Visa Signature",
        description="Rewards credit card",
        creditLine=line / 100,
        currentBalance=book.balance / 100,
        principalBalance=book.balance / 100,
        availableCredit=(line - book.balance - held) / 100,
        nextPaymentAmount=due / 100,
        nextPaymentDate=_next_due(today, 25).isoformat(),
        minimumPaymentAmount=min(due, max(3_500, due // 100)) / 100,
        pastDueAmount=0.0,
        purchasesApr=21.49,
        advancesApr=28.49,
        interestRate=21.49,
        interestRateType="VARIABLE",
        interestRateIndex="PRIME",
        cashAdvanceLimit=line * 3 // 10 / 100,
        availableCash=min(line * 3 // 10, line - book.balance - held) / 100,
        financeCharges=0.0,
        cardNetwork="VISA",
    )
    if stmt_date is not None:
        account.update(
            lastStmtBalance=book.state["statement_balance"] / 100,
            lastStmtDate=stmt_date.isoformat(),
        )
    if paid_on is not None:
        account.update(lastPaymentAmount=paid / 100, lastPaymentDate=paid_on.isoformat())
    return account


def _loan(opened: Opened, book: Book, today: date) -> dict[str, Any]:
    terms, kind = opened.books.loan_terms, opened.books.person.loan_type
    paid_on, paid = book.state.get("last_payment", (today, 0))
    accrued = round(book.balance * terms.rate / 365 * (today - paid_on).days)
    year = today.replace(month=1, day=1)
    interest_ytd = sum(c for d, c in book.state.get("interest", []) if d >= year)
    months = terms.months
    matures = date(
        terms.originated.year + (terms.originated.month - 1 + months) // 12,
        (terms.originated.month - 1 + months) % 12 + 1,
        terms.due_day,
    )
    account = _base(
        opened,
        "loan",
        book,
        today,
        short=LOAN_PRODUCTS[kind],
        accountType=kind,
        productName=LOAN_PRODUCTS[kind],
        description=f"{LOAN_PRODUCTS[kind]}, fixed rate",
        principalBalance=book.balance / 100,
        originalPrincipal=terms.original / 100,
        originatingDate=terms.originated.isoformat(),
        loanTerm=months,
        totalNumberOfPayments=months,
        nextPaymentAmount=(terms.installment + terms.escrow) / 100,
        nextPaymentDate=_next_due(today, terms.due_day).isoformat(),
        paymentFrequency="MONTHLY",
        compoundingPeriod="MONTHLY",
        payOffAmount=(book.balance + accrued) / 100,
        lastPaymentAmount=paid / 100,
        lastPaymentDate=paid_on.isoformat(),
        maturityDate=matures.isoformat(),
        interestPaidYearToDate=interest_ytd / 100,
        interestRate=round(terms.rate * 100, 3),
        interestRateType="FIXED",
    )
    if terms.escrow:
        account["escrowBalance"] = terms.escrow * 4 / 100
    return account


def _investment(opened: Opened, book: Book, today: date) -> dict[str, Any]:
    person = opened.books.person
    holdings = [_holding(opened.ids["investment"], s, book, today) for s in SECURITIES]
    holdings = [h for h in holdings if h["units"] > 0]
    value = sum(round(h["marketValue"] * 100) for h in holdings) + book.balance
    retirement = person.investment_type == "401K"
    account = _base(
        opened,
        "investment",
        book,
        today,
        short="401(k)" if retirement else "Brokerage",
        accountType=person.investment_type,
        productName=f"{person.employer} 401(k) Plan" if retirement else "Self-Directed Brokerage",
        description="Employer retirement plan" if retirement else "Individual brokerage account",
        currentValue=value / 100,
        availableCashBalance=book.balance / 100,
        holdings=holdings,
        margin=False,
        allowedCheckWriting=False,
        allowedOptionTrade=False,
    )
    if retirement:
        account.update(
            employerName=person.employer, planId="401K-" + opened.ids["investment"][4:12]
        )
    return account


def _holding(account_id: str, s: Security, book: Book, today: date) -> dict[str, Any]:
    units = book.state["shares"].get(s.symbol, 0.0)
    unit = price(s, today)
    return {
        "holdingId": opaque_id("hld", account_id, s.symbol),
        "securityIds": [{"id": s.cusip, "idType": "CUSIP"}],
        "holdingName": s.name,
        "holdingType": s.kind,
        "symbol": s.symbol,
        "units": units,
        "currentUnitPrice": unit,
        "currentUnitPriceDate": today.isoformat(),
        "changeInPrice": round(unit - price(s, today - timedelta(days=1)), 2),
        "marketValue": round(units * unit, 2),
        "positionType": "LONG",
        "heldInAccount": "CASH",
        "currency": USD,
    }
