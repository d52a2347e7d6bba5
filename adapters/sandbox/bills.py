"""Bill payments the customer schedules through the bank's bill pay (FDX Payment,
RecurringPayment): the upcoming bill information of 12 CFR 1033.211(c).

The utilities the simulation pays from checking (catalog.UTILITIES) are the payees. Bills paid
in the last 90 days are PROCESSED payments matching their checking transactions; the next bill of
each payee, due in the coming weeks, is SCHEDULED at the last amount paid. The internet bill is a
fixed amount, paid by a monthly recurring payment that spawns its payments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from adapters.sandbox.book import opaque_id
from adapters.sandbox.catalog import UTILITIES, Biller

HISTORY_DAYS = 90
RECURRING_PAYEE = "Comcast Xfinity"


@dataclass(frozen=True, slots=True)
class Bills:
    payments: tuple[dict[str, Any], ...]  # newest dueDate first
    recurring: tuple[dict[str, Any], ...]


def build_bills(
    seed: int, owner: str, checking_id: str, paid: Iterable[dict[str, Any]], today: date
) -> Bills:
    """``paid``: the checking account's transactions (bill payments among them)."""
    payees = {b.name: opaque_id("pye", seed, owner, b.name) for b in UTILITIES}
    last: dict[str, float] = {}
    payments: list[dict[str, Any]] = []
    recurring_id = opaque_id("rcp", seed, owner, RECURRING_PAYEE)
    for txn in paid:
        biller = _biller(txn)
        posted = str(txn.get("postedTimestamp", ""))[:10]
        if biller is None or not posted:
            continue
        due = date.fromisoformat(posted)
        last.setdefault(biller.name, float(txn["amount"]))
        if (today - due).days > HISTORY_DAYS:
            continue
        payment = _payment(seed, owner, checking_id, payees[biller.name], biller, due)
        payment.update(
            amount=float(txn["amount"]),
            status="PROCESSED",
            startedProcessingTimestamp=f"{(due - timedelta(days=1)).isoformat()}T07:30:00Z",
            processedTimestamp=f"{due.isoformat()}T07:30:00Z",
        )
        if biller.name == RECURRING_PAYEE:
            payment["recurringPaymentId"] = recurring_id
        payments.append(payment)
    for biller in UTILITIES:
        due = _next(today, biller.day)
        upcoming = _payment(seed, owner, checking_id, payees[biller.name], biller, due)
        upcoming.update(amount=last.get(biller.name, biller.high_cents / 100), status="SCHEDULED")
        if biller.name == RECURRING_PAYEE:
            upcoming["recurringPaymentId"] = recurring_id
        payments.append(upcoming)
    payments.sort(key=lambda p: (p["dueDate"], p["paymentId"]), reverse=True)
    internet = next(b for b in UTILITIES if b.name == RECURRING_PAYEE)
    recurring = {
        "recurringPaymentId": recurring_id,
        "frequency": "MONTHLY",
        "duration": {"type": "NOEND"},
        "fromAccountId": checking_id,
        "toPayeeId": payees[RECURRING_PAYEE],
        "amount": internet.low_cents / 100,
        "merchantAccountId": _merchant_account(seed, owner, internet),
        "dueDate": _next(today, internet.day).isoformat(),
        "scheduledTimestamp": f"{(today - timedelta(days=400)).isoformat()}T18:12:00Z",
        "status": "SCHEDULED",
    }
    return Bills(tuple(payments), (recurring,))


def _payment(
    seed: int, owner: str, checking_id: str, payee_id: str, biller: Biller, due: date
) -> dict[str, Any]:
    return {
        "paymentId": opaque_id("pmt", seed, owner, biller.name, due.isoformat()),
        "fromAccountId": checking_id,
        "toPayeeId": payee_id,
        "merchantAccountId": _merchant_account(seed, owner, biller),
        "dueDate": due.isoformat(),
        "scheduledTimestamp": f"{(due - timedelta(days=5)).isoformat()}T18:12:00Z",
    }


def _merchant_account(seed: int, owner: str, biller: Biller) -> str:
    """The customer's account number at the biller, as printed on the bill."""
    return str(int(opaque_id("m", seed, owner, biller.name)[2:14], 16) % 10**9).zfill(9)


def _biller(txn: dict[str, Any]) -> Biller | None:
    if txn.get("transactionType") != "BILLPAYMENT":
        return None
    return next((b for b in UTILITIES if b.name == txn.get("payee")), None)


def _next(today: date, day: int) -> date:
    """The next ``day`` of a month strictly after today (bills already due today are paid)."""
    candidate = today.replace(day=day) if today.day < day else None
    if candidate is None:
        year, month = divmod(today.year * 12 + today.month, 12)
        candidate = date(year, month + 1, day)
    return candidate
