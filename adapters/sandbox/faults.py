"""Fault injection for the sandbox bank, so a recipient can test its error handling.

A fault plan is a list of rules, each for a customer and/or an account (or everyone), read from a
TOML or JSON file (``[sandbox] faults = "…"`` in the adapter configuration; example in
config/demo/faults.toml, reference in docs/adapters.md)::

    [[faults]]
    customer = "bob"                # a demo username or a customer id; omit: every customer
    account_type = "CREDITCARD"     # or account = "acc_…"; omit: every call for the customer
    methods = ["list_transactions"] # omit: every call the rule matches
    latency_ms = 1500               # added before the answer
    error = "unavailable"           # unavailable (FDX 501) | timeout (501) | closed (705)
    rate = 0.5                      # share of matching calls that fail (default 1)
    maintenance = { daily = "02:00-02:30" }   # UTC, or { start = "…Z", end = "…Z" } (FDX 503)
    status = "RESTRICTED"           # CLOSED | RESTRICTED shown on the account; neither has
                                    # payment networks (docs/fdx.md §2: RESTRICTED → empty 200)

``FaultyBank`` wraps any adapter and applies the plan; the sandbox factory resolves usernames and
account types to ids. Without a plan the sandbox is not wrapped at all (no cost on the hot path).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
import tomllib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters import capability
from adapters.base import (
    Account,
    AccountContact,
    AssetTransferNetwork,
    BankAdapter,
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
    AccountClosed,
    AdapterError,
    BankTimeout,
    BankUnavailable,
    ScheduledMaintenance,
)

ERRORS: Mapping[str, Callable[[], AdapterError]] = {
    "unavailable": lambda: BankUnavailable("sandbox: injected outage"),
    "timeout": lambda: BankTimeout("sandbox: injected timeout"),
    "closed": lambda: AccountClosed("sandbox: injected closed account"),
}
STATUSES = ("CLOSED", "RESTRICTED")
METHODS = frozenset(
    {
        "authenticate", "get_customer", "list_accounts", "get_account", "list_transactions",
        "get_contact", "list_payment_networks", "list_statements", "get_statement",
        "get_customer_info", "list_payments", "list_recurring_payments",
        "list_recurring_payment_payments", "list_reward_programs", "get_reward_program",
        "list_reward_categories", "get_transaction_image", "list_tax_forms", "get_tax_form",
        "get_tax_form_pdf", "list_asset_transfer_networks",
    }
)  # fmt: skip
_RULE_KEYS = frozenset(
    {"customer", "account", "account_type", "methods", "latency_ms", "error", "rate"}
    | {"maintenance", "status"}
)
DAY = 86400


class FaultPlanError(ValueError):
    """The fault file is malformed; the message names the rule and the key."""


@dataclass(frozen=True, slots=True)
class Maintenance:
    """A planned window: absolute [start, end) in epoch seconds, or daily [start, end) in
    seconds after midnight UTC (a daily window may wrap past midnight)."""

    start: float
    end: float
    daily: bool = False

    def retry_after(self, now: float) -> int | None:
        """Seconds until the window ends if ``now`` lies inside it, else None."""
        if not self.daily:
            return math.ceil(self.end - now) if self.start <= now < self.end else None
        second = now % DAY
        length = (self.end - self.start) % DAY
        into = (second - self.start) % DAY
        return math.ceil(length - into) if into < length else None


@dataclass(frozen=True, slots=True)
class Rule:
    customers: frozenset[str] | None = None  # customer ids; None: everyone
    usernames: frozenset[str] = frozenset()  # for ``authenticate``
    accounts: frozenset[str] | None = None  # account ids; None: every call of the customer
    methods: frozenset[str] | None = None
    latency: float = 0.0
    error: str | None = None
    rate: float = 1.0
    maintenance: Maintenance | None = None
    status: str | None = None

    def matches(self, method: str, customer_id: str | None, account_id: str | None) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        if self.customers is not None and customer_id not in self.customers:
            return False
        return self.accounts is None or account_id in self.accounts

    def matches_login(self, username: str) -> bool:
        """Sign-in is about a customer, never an account: account rules leave it alone."""
        if self.methods is not None and "authenticate" not in self.methods:
            return False
        return self.accounts is None and (self.customers is None or username in self.usernames)


@dataclass(frozen=True, slots=True)
class RawRule:
    """A rule as written, before the sandbox resolves names to ids."""

    rule: Rule
    customer: str | None
    account: str | None
    account_type: str | None


def read_plan(path: str | Path) -> list[RawRule]:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        raw: Any = json.loads(text) if file.suffix == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as exc:
        raise FaultPlanError(f"faults: cannot read {file} ({exc})") from exc
    rules = raw.get("faults", []) if isinstance(raw, dict) else None
    if not isinstance(rules, list):
        raise FaultPlanError(f"faults: {file} must hold a [[faults]] list")
    return [parse_rule(i, r) for i, r in enumerate(rules)]


def parse_rule(index: int, raw: Any) -> RawRule:
    where = f"faults[{index}]"
    if not isinstance(raw, dict):
        raise FaultPlanError(f"{where}: must be a table")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise FaultPlanError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    methods = raw.get("methods")
    if methods is not None and (not isinstance(methods, list) or not set(methods) <= METHODS):
        raise FaultPlanError(f"{where}.methods: a list of BankAdapter methods, got {methods!r}")
    error = raw.get("error")
    if error is not None and error not in ERRORS:
        raise FaultPlanError(f"{where}.error: one of {', '.join(ERRORS)}, got {error!r}")
    status = raw.get("status")
    if status is not None and status not in STATUSES:
        raise FaultPlanError(f"{where}.status: one of {', '.join(STATUSES)}, got {status!r}")
    latency = _number(where, "latency_ms", raw.get("latency_ms", 0), 0, 60_000) / 1000
    rate = _number(where, "rate", raw.get("rate", 1), 0, 1)
    rule = Rule(
        methods=frozenset(methods) if methods is not None else None,
        latency=latency,
        error=error,
        rate=rate,
        maintenance=_maintenance(where, raw.get("maintenance")),
        status=status,
    )
    texts = {k: raw.get(k) for k in ("customer", "account", "account_type")}
    for key, value in texts.items():
        if value is not None and not isinstance(value, str):
            raise FaultPlanError(f"{where}.{key}: expected text, got {value!r}")
    return RawRule(rule, texts["customer"], texts["account"], texts["account_type"])


def _number(where: str, key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise FaultPlanError(f"{where}.{key}: a number from {low} to {high}, got {value!r}")
    return float(value)


def _maintenance(where: str, raw: Any) -> Maintenance | None:
    if raw is None:
        return None
    try:
        if isinstance(raw, dict) and set(raw) == {"daily"}:
            first, _, last = str(raw["daily"]).partition("-")
            return Maintenance(_clock(first), _clock(last), daily=True)
        if isinstance(raw, dict) and set(raw) == {"start", "end"}:
            start, end = (_instant(raw[k]) for k in ("start", "end"))
            if end > start:
                return Maintenance(start, end)
    except ValueError:
        pass
    raise FaultPlanError(
        f'{where}.maintenance: {{ daily = "HH:MM-HH:MM" }} (UTC) or '
        f'{{ start = "…Z", end = "…Z" }} with end after start, got {raw!r}'
    )


def _clock(text: str) -> float:
    hours, _, minutes = text.strip().partition(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(text)
    return float(h * 3600 + m * 60)


def _instant(value: Any) -> float:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class FaultyBank:
    """Any BankAdapter with a fault plan applied in front of it."""

    def __init__(
        self,
        bank: BankAdapter,
        rules: Sequence[Rule],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        chance: Callable[[], float] | None = None,
    ) -> None:
        self.bank = bank
        self.name = bank.name
        self.categories = capability.categories(bank)
        self.rules = tuple(rules)
        self._clock, self._sleep = clock, sleep
        self._chance = chance or random.Random(0).random
        self._status = {
            a: r.status for r in self.rules if r.status and r.accounts for a in r.accounts
        }

    async def authenticate(self, username: str, password: str) -> Customer | None:
        for rule in self.rules:
            if rule.matches_login(username):
                await self._apply(rule)
        return await self.bank.authenticate(username, password)

    async def get_customer(self, customer_id: str) -> Customer:
        await self._before("get_customer", customer_id, None)
        return await self.bank.get_customer(customer_id)

    async def list_accounts(self, customer_id: str) -> Sequence[Account]:
        await self._before("list_accounts", customer_id, None)
        return [self._restyled(a) for a in await self.bank.list_accounts(customer_id)]

    async def get_account(self, customer_id: str, account_id: str) -> Account:
        await self._before("get_account", customer_id, account_id)
        return self._restyled(await self.bank.get_account(customer_id, account_id))

    async def list_transactions(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Transaction]:
        await self._before("list_transactions", customer_id, account_id)
        return await self.bank.list_transactions(customer_id, account_id, window, page)

    async def get_contact(self, customer_id: str, account_id: str) -> AccountContact:
        await self._before("get_contact", customer_id, account_id)
        return await self.bank.get_contact(customer_id, account_id)

    async def list_payment_networks(
        self, customer_id: str, account_id: str, page: PageRequest
    ) -> Page[PaymentNetwork]:
        await self._before("list_payment_networks", customer_id, account_id)
        found = await self.bank.list_payment_networks(customer_id, account_id, page)
        return Page((), total=0) if account_id in self._status else found

    async def list_statements(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Statement]:
        await self._before("list_statements", customer_id, account_id)
        return await self.bank.list_statements(customer_id, account_id, window, page)

    async def get_statement(self, customer_id: str, account_id: str, statement_id: str) -> Document:
        await self._before("get_statement", customer_id, account_id)
        return await self.bank.get_statement(customer_id, account_id, statement_id)

    async def get_customer_info(self, customer_id: str) -> CustomerInfo:
        await self._before("get_customer_info", customer_id, None)
        return await self.bank.get_customer_info(customer_id)

    async def list_payments(
        self, customer_id: str, account_ids: Sequence[str], window: Window, page: PageRequest
    ) -> Page[Payment]:
        await self._before("list_payments", customer_id, None)
        bank = capability.bills(self.bank)
        return await bank.list_payments(customer_id, account_ids, window, page)

    async def list_recurring_payments(
        self, customer_id: str, account_ids: Sequence[str], page: PageRequest
    ) -> Page[RecurringPayment]:
        await self._before("list_recurring_payments", customer_id, None)
        bank = capability.bills(self.bank)
        return await bank.list_recurring_payments(customer_id, account_ids, page)

    async def list_recurring_payment_payments(
        self,
        customer_id: str,
        recurring_payment_id: str,
        account_ids: Sequence[str],
        window: Window,
        page: PageRequest,
    ) -> Page[Payment]:
        await self._before("list_recurring_payment_payments", customer_id, None)
        return await capability.bills(self.bank).list_recurring_payment_payments(
            customer_id, recurring_payment_id, account_ids, window, page
        )

    async def list_reward_programs(
        self, customer_id: str, page: PageRequest
    ) -> Page[RewardProgram]:
        await self._before("list_reward_programs", customer_id, None)
        return await capability.rewards(self.bank).list_reward_programs(customer_id, page)

    async def get_reward_program(self, customer_id: str, program_id: str) -> RewardProgram:
        await self._before("get_reward_program", customer_id, None)
        return await capability.rewards(self.bank).get_reward_program(customer_id, program_id)

    async def list_reward_categories(
        self, customer_id: str, program_id: str, page: PageRequest
    ) -> Page[RewardCategory]:
        await self._before("list_reward_categories", customer_id, None)
        bank = capability.rewards(self.bank)
        return await bank.list_reward_categories(customer_id, program_id, page)

    async def get_transaction_image(
        self, customer_id: str, account_id: str, image_id: str
    ) -> TransactionImage:
        await self._before("get_transaction_image", customer_id, account_id)
        bank = capability.images(self.bank)
        return await bank.get_transaction_image(customer_id, account_id, image_id)

    async def list_tax_forms(
        self,
        customer_id: str,
        account_ids: Sequence[str],
        tax_year: int | None,
        page: PageRequest,
    ) -> Page[TaxStatement]:
        await self._before("list_tax_forms", customer_id, None)
        bank = capability.tax_forms(self.bank)
        return await bank.list_tax_forms(customer_id, account_ids, tax_year, page)

    async def get_tax_form(
        self, customer_id: str, account_ids: Sequence[str], tax_form_id: str
    ) -> TaxStatement:
        await self._before("get_tax_form", customer_id, None)
        bank = capability.tax_forms(self.bank)
        return await bank.get_tax_form(customer_id, account_ids, tax_form_id)

    async def get_tax_form_pdf(
        self, customer_id: str, account_ids: Sequence[str], tax_form_id: str
    ) -> Document:
        await self._before("get_tax_form_pdf", customer_id, None)
        bank = capability.tax_forms(self.bank)
        return await bank.get_tax_form_pdf(customer_id, account_ids, tax_form_id)

    async def list_asset_transfer_networks(
        self, customer_id: str, account_id: str
    ) -> Sequence[AssetTransferNetwork]:
        await self._before("list_asset_transfer_networks", customer_id, account_id)
        bank = capability.transfer_networks(self.bank)
        return await bank.list_asset_transfer_networks(customer_id, account_id)

    async def aclose(self) -> None:
        await self.bank.aclose()

    async def _before(self, method: str, customer_id: str, account_id: str | None) -> None:
        for rule in self.rules:
            if rule.matches(method, customer_id, account_id):
                await self._apply(rule)

    async def _apply(self, rule: Rule) -> None:
        if rule.maintenance is not None:
            retry_after = rule.maintenance.retry_after(self._clock())
            if retry_after is not None:
                raise ScheduledMaintenance("sandbox: planned window", retry_after=retry_after)
        if rule.latency:
            await self._sleep(rule.latency)
        if rule.error is not None and self._chance() < rule.rate:
            raise ERRORS[rule.error]()

    def _restyled(self, account: Account) -> Account:
        status = self._status.get(account.get("accountId", ""))
        return account if status is None else {**account, "status": status}


def resolve(
    raw_rules: Iterable[RawRule],
    customers: Mapping[str, str],
    accounts: Mapping[str, tuple[str, str]],
) -> list[Rule]:
    """Rules with names made ids. ``customers``: username → customer id; ``accounts``: account
    id → (customer id, FDX accountType)."""
    resolved: list[Rule] = []
    for i, raw in enumerate(raw_rules):
        rule = raw.rule
        if raw.customer is not None:
            if raw.customer in customers:
                cid, names = customers[raw.customer], frozenset({raw.customer})
            elif raw.customer in customers.values():
                cid = raw.customer
                names = frozenset(u for u, c in customers.items() if c == cid)
            else:
                raise FaultPlanError(f"faults[{i}].customer: no customer {raw.customer!r}")
            rule = replace(rule, customers=frozenset({cid}), usernames=names)
        if raw.account is not None or raw.account_type is not None:
            ids = frozenset(
                a
                for a, (owner, kind) in accounts.items()
                if (raw.account is None or a == raw.account)
                and (raw.account_type is None or kind == raw.account_type)
                and (rule.customers is None or owner in rule.customers)
            )
            if not ids:
                raise FaultPlanError(f"faults[{i}]: no account matches it")
            rule = replace(rule, accounts=ids)
        if rule.status is not None and rule.accounts is None:
            raise FaultPlanError(f"faults[{i}].status: name an account or account_type")
        resolved.append(rule)
    return resolved
