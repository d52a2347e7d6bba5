"""The contract every BankAdapter must keep, as checks a bank runs against its own adapter.

Each check takes a ``Subject`` (the adapter, a test login, what was found so far) and returns an
``Outcome``. A check fails with every problem it found, not just the first, so one run tells a
bank all that is wrong. An exception other than an ``AdapterError`` escaping the adapter fails
the check that saw it: nothing foreign may cross the seam (adapters/base.py).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from adapters.base import (
    Account,
    BankAdapter,
    Customer,
    Page,
    PageRequest,
    Transaction,
    Window,
)
from adapters.conformance.report import Outcome, Status
from adapters.conformance.schemas import BY_CATEGORY, validator
from adapters.errors import (
    AccountNotFound,
    AdapterError,
    CustomerNotFound,
    StatementNotFound,
)

CATEGORIES = frozenset(BY_CATEGORY)
HISTORY_DAYS = 3 * 366  # FDX/§1033.211: at least 24 months of history; look a little further
SMALL_PAGE = 7
BIG_PAGE = 10_000
UNKNOWN = "conformance-no-such-id-0000"
_DIGITS = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class Probe:
    """A test login at the bank, and optionally a second customer's, for the checks."""

    username: str
    password: str = field(repr=False)
    other_username: str | None = None
    other_password: str | None = field(default=None, repr=False)


@dataclass
class Subject:
    adapter: BankAdapter
    probe: Probe
    today: date
    spec: Path | None = None
    max_accounts: int = 20
    _customer: Customer | None = None
    _accounts: list[Account] | None = None
    _history: dict[str, list[Transaction]] = field(default_factory=dict)

    @property
    def signed_in(self) -> bool:
        return self._customer is not None

    @property
    def everything(self) -> Window:
        return Window(self.today - timedelta(days=HISTORY_DAYS), self.today)

    async def customer(self) -> Customer:
        if self._customer is None:
            found = await self.adapter.authenticate(self.probe.username, self.probe.password)
            if found is None:
                raise Problem("the probe login was refused: check the username and password")
            self._customer = found
        return self._customer

    async def accounts(self) -> list[Account]:
        if self._accounts is None:
            customer = await self.customer()
            listed = list(await self.adapter.list_accounts(customer.customer_id))
            self._accounts = listed[: self.max_accounts]
            if not self._accounts:
                raise Problem("the probe customer has no accounts to check")
        return self._accounts

    async def history(self, account_id: str) -> list[Transaction]:
        """Every transaction of the account in ``everything``, walking pages."""
        if account_id not in self._history:
            customer = await self.customer()
            items = await walk(self.adapter, customer.customer_id, account_id, self.everything)
            self._history[account_id] = items
        return self._history[account_id]


class Problem(Exception):
    """A check cannot go on; the message says why."""


async def walk(
    adapter: BankAdapter, customer_id: str, account_id: str, window: Window, limit: int = BIG_PAGE
) -> list[Transaction]:
    items: list[Transaction] = []
    offset: str | None = None
    for _ in range(10_000):
        page = await adapter.list_transactions(
            customer_id, account_id, window, PageRequest(offset, limit)
        )
        items.extend(page.items)
        offset = page.next_offset
        if offset is None:
            return items
    raise Problem(f"{account_id}: pagination never ends")


def day_of(txn: Transaction) -> date:
    """The FDX transaction date: posted, or the transaction date while pending (base.py)."""
    stamp = txn.get("postedTimestamp") or txn.get("transactionTimestamp") or ""
    return date.fromisoformat(str(stamp)[:10])


Check = Callable[[Subject], Awaitable[Outcome]]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Callable[[Subject, list[str]], Awaitable[str]]], Check]:
    """A check body appends problems and returns a one-line summary; this wraps it into an
    ``Outcome`` and turns a foreign exception into a failure naming its type."""

    def register(body: Callable[[Subject, list[str]], Awaitable[str]]) -> Check:
        async def run(subject: Subject) -> Outcome:
            problems: list[str] = []
            try:
                summary = await body(subject, problems)
            except Skip as skip:
                return Outcome(name, Status.SKIPPED, str(skip))
            except Problem as exc:
                return Outcome(name, Status.FAILED, str(exc))
            except AdapterError as exc:
                return Outcome(name, Status.FAILED, f"unexpected {type(exc).__name__}: {exc}")
            except Exception as exc:
                detail = f"{type(exc).__name__} crossed the adapter seam (raise AdapterErrors)"
                return Outcome(name, Status.FAILED, detail)
            if problems:
                return Outcome(name, Status.FAILED, f"{len(problems)} problem(s)", tuple(problems))
            return Outcome(name, Status.PASSED, summary)

        CHECKS[name] = run
        return run

    return register


class Skip(Exception):
    """The check cannot run here (e.g. no FDX schema document); reported, never as a pass."""


@check("authentication")
async def _authentication(s: Subject, problems: list[str]) -> str:
    customer = await s.customer()
    if not customer.customer_id or len(customer.customer_id) > 256:
        problems.append("customer_id must be 1-256 characters")
    wrong = await s.adapter.authenticate(s.probe.username, s.probe.password + "-wrong")
    if wrong is not None:
        problems.append("a wrong password was accepted")
    if await s.adapter.authenticate(UNKNOWN, s.probe.password) is not None:
        problems.append("an unknown username was accepted")
    again = await s.adapter.get_customer(customer.customer_id)
    if again.customer_id != customer.customer_id:
        problems.append("get_customer answered for another customer")
    return "probe login accepted; wrong password and unknown user refused"


@check("accounts")
async def _accounts(s: Subject, problems: list[str]) -> str:
    customer, accounts = await s.customer(), await s.accounts()
    ids = [a.get("accountId") for a in accounts]
    for a in accounts:
        account_id = a.get("accountId")
        if not isinstance(account_id, str) or not 1 <= len(account_id) <= 256:
            problems.append(f"accountId {account_id!r} is not an FDX Identifier (1-256 chars)")
            continue
        if a.get("accountCategory") not in CATEGORIES:
            problems.append(f"{account_id}: accountCategory {a.get('accountCategory')!r}")
        one = await s.adapter.get_account(customer.customer_id, account_id)
        if one.get("accountId") != account_id:
            problems.append(f"{account_id}: get_account answered for {one.get('accountId')!r}")
        elif one.get("accountCategory") != a.get("accountCategory"):
            problems.append(f"{account_id}: get_account and list_accounts disagree on category")
    if len(set(ids)) != len(ids):
        problems.append("list_accounts repeats an accountId")
    return f"{len(accounts)} account(s), each also found by get_account"


@check("stable-ids")
async def _stable_ids(s: Subject, problems: list[str]) -> str:
    customer, accounts = await s.customer(), await s.accounts()
    again = await s.adapter.list_accounts(customer.customer_id)
    if [a.get("accountId") for a in again][: len(accounts)] != [a["accountId"] for a in accounts]:
        problems.append("list_accounts gives other ids (or another order) on a second call")
    seen = 0
    for a in accounts:
        first = await s.history(a["accountId"])
        second = await walk(s.adapter, customer.customer_id, a["accountId"], s.everything)
        ids = [t.get("transactionId") for t in first]
        if ids != [t.get("transactionId") for t in second]:
            problems.append(f"{a['accountId']}: transaction ids change between two calls")
        repeated = [i for i, n in Counter(ids).items() if n > 1]
        if repeated:
            problems.append(f"{a['accountId']}: transactionId repeated: {repeated[:3]}")
        if any(not isinstance(i, str) or not 1 <= len(i) <= 256 for i in ids):
            problems.append(f"{a['accountId']}: a transactionId is not a 1-256 char string")
        seen += len(ids)
    return f"account and {seen} transaction id(s) the same on a second call, none repeated"


@check("pagination")
async def _pagination(s: Subject, problems: list[str]) -> str:
    customer, accounts = await s.customer(), await s.accounts()
    pages = 0
    for a in accounts:
        whole = [t["transactionId"] for t in await s.history(a["accountId"])]
        walked: list[str] = []
        offset: str | None = None
        total: int | None = None
        while True:
            page: Page[Transaction] = await s.adapter.list_transactions(
                customer.customer_id, a["accountId"], s.everything, PageRequest(offset, SMALL_PAGE)
            )
            pages += 1
            if len(page.items) > SMALL_PAGE:
                problems.append(f"{a['accountId']}: a page holds more than its limit")
            walked.extend(t["transactionId"] for t in page.items)
            total = page.total if page.total is not None else total
            offset = page.next_offset
            if offset is None or len(walked) > len(whole) + SMALL_PAGE:
                break
        if walked != whole:
            missing, extra = set(whole) - set(walked), len(walked) - len(set(walked))
            problems.append(
                f"{a['accountId']}: pages of {SMALL_PAGE} give {len(walked)} items, one page "
                f"{len(whole)} ({len(missing)} missing, {extra} repeated)"
            )
        elif total is not None and total != len(whole):
            problems.append(f"{a['accountId']}: total {total} but {len(whole)} items")
    return f"{pages} page(s) of {SMALL_PAGE}: every item exactly once, in order"


@check("date-windows")
async def _date_windows(s: Subject, problems: list[str]) -> str:
    customer, accounts = await s.customer(), await s.accounts()
    probed = 0
    for a in accounts:
        history = await s.history(a["accountId"])
        outside = [t["transactionId"] for t in history if not _inside(day_of(t), s.everything)]
        if outside:
            problems.append(f"{a['accountId']}: {len(outside)} item(s) outside the window")
        days = sorted({day_of(t) for t in history})
        if len(days) < 3:
            continue
        day = days[len(days) // 2]
        on_day = sorted(t["transactionId"] for t in history if day_of(t) == day)
        cid, aid = customer.customer_id, a["accountId"]
        exact = await walk(s.adapter, cid, aid, Window(day, day))
        before = await walk(s.adapter, cid, aid, Window(s.everything.start, day - timedelta(1)))
        after = await walk(s.adapter, cid, aid, Window(day + timedelta(1), s.today))
        if sorted(t["transactionId"] for t in exact) != on_day:
            problems.append(f"{aid}: the window [{day}, {day}] does not give that day's items")
        leaked = {t["transactionId"] for t in before + after} & set(on_day)
        if leaked:
            problems.append(f"{aid}: {len(leaked)} item(s) of {day} leak past a window edge")
        if len(before) + len(exact) + len(after) != len(history):
            problems.append(f"{aid}: windows split at {day} do not add up to the whole")
        probed += 1
    if not probed:
        raise Skip("no account has transactions on three different days")
    return f"window edges inclusive and exact on {probed} account(s)"


def _inside(day: date, window: Window) -> bool:
    return window.start <= day <= window.end


@check("pending-posted")
async def _pending_posted(s: Subject, problems: list[str]) -> str:
    accounts = await s.accounts()
    pending = linked = 0
    for a in accounts:
        history = await s.history(a["accountId"])
        by_id = {t["transactionId"]: t for t in history}
        for t in history:
            status = t.get("status")
            if status in ("PENDING", "AUTHORIZATION"):
                pending += 1
                if t.get("postedTimestamp"):
                    problems.append(f"{t['transactionId']}: pending but has a postedTimestamp")
            ref = t.get("referenceTransactionId")
            if ref is None:
                continue
            if ref == t["transactionId"]:
                problems.append(f"{ref}: references itself (pending and posted need own ids)")
            elif status == "POSTED" and by_id.get(ref, {}).get("status") == "PENDING":
                linked += 1
    if not pending:
        return "no pending transaction seen (nothing to link)"
    return f"{pending} pending, {linked} posted twin(s) linked by referenceTransactionId"


@check("masking")
async def _masking(s: Subject, problems: list[str]) -> str:
    customer, accounts = await s.customer(), await s.accounts()
    cid = customer.customer_id
    numbers: set[str] = set()
    for a in accounts:
        aid = a["accountId"]
        shown = str(a.get("accountNumberDisplay", ""))
        if len(_DIGITS.findall(shown)) > 4:
            problems.append(f"{aid}: accountNumberDisplay shows more than the last 4 digits")
        for key in ("accountNumber", "routingTransitNumber", "micrNumber"):
            if key in a:
                problems.append(f"{aid}: {key} is outside payment networks")
        networks = await s.adapter.list_payment_networks(cid, aid, PageRequest())
        found = {str(n.get("identifier")) for n in networks.items if n.get("identifier")}
        if found and a.get("status") in ("RESTRICTED", "CLOSED"):
            problems.append(f"{aid}: {a.get('status')} but payment networks are listed")
        numbers |= {n for n in found if len(n) >= 5}
    texts = [json.dumps(a) for a in accounts]
    texts.append(json.dumps(await s.adapter.get_customer_info(cid)))
    for a in accounts:
        texts.append(json.dumps(await s.adapter.get_contact(cid, a["accountId"])))
        texts.append(json.dumps((await s.history(a["accountId"]))[:200]))
    leaks = sum(1 for n in numbers for text in texts if n in text)
    if leaks:
        problems.append(f"a full account number appears in {leaks} non-payment object(s)")
    return f"displays show ≤ 4 digits; {len(numbers)} full number(s) only in payment networks"


@check("errors")
async def _errors(s: Subject, problems: list[str]) -> str:
    customer, accounts = await s.customer(), await s.accounts()
    cid, aid, window = customer.customer_id, accounts[0]["accountId"], s.everything
    # The adapter's contract is the class it raises; which FDX answer that becomes is the
    # gateway's table (gateway/errors.py FROM_ADAPTER), not the adapter's.
    expected: list[tuple[str, Callable[[], Awaitable[Any]], type[AdapterError]]] = [
        ("get_account", lambda: s.adapter.get_account(cid, UNKNOWN), AccountNotFound),
        (
            "list_transactions",
            lambda: s.adapter.list_transactions(cid, UNKNOWN, window, PageRequest()),
            AccountNotFound,
        ),
        ("get_contact", lambda: s.adapter.get_contact(cid, UNKNOWN), AccountNotFound),
        (
            "list_payment_networks",
            lambda: s.adapter.list_payment_networks(cid, UNKNOWN, PageRequest()),
            AccountNotFound,
        ),
        (
            "list_statements",
            lambda: s.adapter.list_statements(cid, UNKNOWN, window, PageRequest()),
            AccountNotFound,
        ),
        (
            "get_statement",
            lambda: s.adapter.get_statement(cid, aid, UNKNOWN),
            StatementNotFound,
        ),
        ("get_customer", lambda: s.adapter.get_customer(UNKNOWN), CustomerNotFound),
    ]
    other = await _other_account(s)
    if other is not None:
        expected.append(
            ("another's account", lambda: s.adapter.get_account(cid, other), AccountNotFound)
        )
    for label, call, error in expected:
        try:
            await call()
        except error:
            pass
        except AdapterError as exc:
            problems.append(f"{label}: raised {type(exc).__name__}, not {error.__name__}")
        else:
            problems.append(f"{label}: answered for an unknown id instead of {error.__name__}")
    return f"{len(expected)} unknown-id call(s) raise the adapter error for an unknown id"


async def _other_account(s: Subject) -> str | None:
    p = s.probe
    if p.other_username is None or p.other_password is None:
        return None
    other = await s.adapter.authenticate(p.other_username, p.other_password)
    if other is None:
        raise Problem("the second probe login was refused")
    theirs = await s.adapter.list_accounts(other.customer_id)
    mine = {a["accountId"] for a in await s.accounts()}
    return next((a["accountId"] for a in theirs if a["accountId"] not in mine), None)


@check("schemas")
async def _schemas(s: Subject, problems: list[str]) -> str:
    if s.spec is None:
        raise Skip("FDX 6.2 OpenAPI document not found (set FDX_OPENAPI or use --spec)")
    validate = validator(s.spec)
    customer, accounts = await s.customer(), await s.accounts()
    cid, checked = customer.customer_id, 0

    def expect(value: Any, schema: str | None) -> None:
        nonlocal checked
        if schema is not None:
            checked += 1
            problems.extend(validate(value, schema))

    expect(await s.adapter.get_customer_info(cid), "Customerentity")
    for a in accounts:
        aid, category = a["accountId"], a.get("accountCategory", "")
        account_schema, transaction_schema = BY_CATEGORY.get(category, (None, None))
        expect(a, "AccountWithDetailsentity")
        expect(a, account_schema)
        history = await s.history(aid)
        expect({"transactions": history}, "Transactionsentity")
        for t in _one_per_type(history):
            expect(t, transaction_schema)
        statements = await s.adapter.list_statements(cid, aid, s.everything, PageRequest())
        expect({"statements": list(statements.items)}, "Anarrayofstatements")
        expect(await s.adapter.get_contact(cid, aid), "AccountContactentity")
        networks = await s.adapter.list_payment_networks(cid, aid, PageRequest())
        expect({"paymentNetworks": list(networks.items)}, "Arrayofaccountpaymentnetworks")
    return f"{checked} value(s) valid against FDX 6.2 ({s.spec.name})"


def _one_per_type(history: Sequence[Transaction]) -> list[Transaction]:
    kinds: dict[tuple[Any, Any], Transaction] = {}
    for t in history:
        kinds.setdefault((t.get("transactionType"), t.get("status")), t)
    return list(kinds.values())
