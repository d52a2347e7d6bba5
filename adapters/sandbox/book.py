"""One account's book while the sandbox bank simulates its history: balance and FDX transactions.

Amounts are integer cents inside and absolute decimal amounts plus ``debitCreditMemo`` on the wire
(docs/fdx.md §2). Card purchases follow the life of a real authorization: a PENDING transaction
first, then a POSTED one with its own ``transactionId`` whose ``referenceTransactionId`` points at
the authorization it settles (docs/fdx.md §2 and §8 item 15).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

# How long a settled authorization stays visible next to its posted twin.
PENDING_KEPT_DAYS = 10
CHECK_SIDES = ("front", "back")


def opaque_id(prefix: str, *parts: object) -> str:
    """A stable id that reveals nothing: ``prefix_`` + 20 hex chars of a BLAKE2b digest."""
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=10).hexdigest()
    return f"{prefix}_{digest}"


@dataclass(frozen=True, slots=True)
class Entry:
    on: date  # the FDX transaction date: posted date, or transaction date while pending
    stamp: str  # orders entries within a day
    txn: dict[str, Any]
    delta: int  # effect on the posted balance in cents (0 while pending)


@dataclass(slots=True)
class Book:
    account_id: str
    category: str  # FDX accountCategory
    liability: bool  # balance is what the customer owes
    opening: int  # cents, at the first simulated day
    balance: int = 0
    entries: list[Entry] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)  # per-kind simulation state
    _day: date | None = None
    _n: int = 0

    def __post_init__(self) -> None:
        self.balance = self.opening

    def add(
        self,
        when: date,
        cents: int,
        *,
        credit: bool,
        kind: str,
        description: str,
        clock: str = "12:00",
        posted: date | None = None,
        pending: bool = False,
        ref: str | None = None,
        effect: int | None = None,
        **fields: Any,
    ) -> str:
        """Record one transaction dated ``when``; returns its transactionId.

        ``effect`` overrides the change to the tracked balance in cents (a loan payment lowers the
        principal by its principal share only).
        """
        tid = self._next_id(when)
        txn: dict[str, Any] = {
            "accountCategory": self.category,
            "accountId": self.account_id,
            "transactionId": tid,
            "transactionTimestamp": f"{when.isoformat()}T{clock}:00Z",
            "description": description,
            "debitCreditMemo": "CREDIT" if credit else "DEBIT",
            "status": "PENDING" if pending else "POSTED",
            "amount": cents / 100,
            "transactionType": kind,
        }
        txn.update(fields)
        if kind == "CHECK":
            # The bank keeps both sides of every paid check (adapters/sandbox/images.py).
            txn["imageIds"] = [opaque_id("img", tid, side) for side in CHECK_SIDES]
        if ref is not None:
            txn["referenceTransactionId"] = ref
        on = when
        delta = 0
        if not pending:
            on = posted or when
            txn["postedTimestamp"] = f"{on.isoformat()}T{clock if on == when else '09:00'}:00Z"
            delta = cents if credit != self.liability else -cents
            if effect is not None:
                delta = effect
            self.balance += delta
        self.entries.append(Entry(on, f"{clock}{tid}", txn, delta))
        return tid

    def card(
        self,
        today: date,
        when: date,
        authorized: int,
        settled: int,
        *,
        lag: int,
        **fields: Any,
    ) -> None:
        """A card purchase: authorization, then settlement ``lag`` days later (if by today)."""
        posted = when + timedelta(days=lag)
        if posted > today or (today - when).days <= PENDING_KEPT_DAYS:
            auth = self.add(when, authorized, credit=False, pending=True, **fields)
            if posted <= today:
                self.add(when, settled, credit=False, posted=posted, ref=auth, **fields)
        else:
            self.add(when, settled, credit=False, posted=posted, **fields)

    def newest_first(self) -> list[Entry]:
        return sorted(self.entries, key=lambda e: (e.on, e.stamp), reverse=True)

    def _next_id(self, when: date) -> str:
        if when != self._day:
            self._day, self._n = when, 0
        self._n += 1
        return opaque_id("txn", self.account_id, when.isoformat(), self._n)
