"""Sandbox fault injection: latency, errors, maintenance windows, closed and restricted accounts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.base import PageRequest, Window
from adapters.errors import (
    AccountClosed,
    BankTimeout,
    BankUnavailable,
    ScheduledMaintenance,
)
from adapters.sandbox import SandboxBank
from adapters.sandbox.factory import with_faults
from adapters.sandbox.faults import FaultPlanError, FaultyBank, Maintenance, parse_rule

pytestmark = pytest.mark.anyio

TODAY = date(2026, 5, 14)
EVERYTHING = Window(date(2000, 1, 1), TODAY)
NOON = datetime(2026, 5, 14, 12, 0, tzinfo=UTC).timestamp()


def plan(tmp_path: Path, text: str, **kwargs: Any) -> FaultyBank:
    path = tmp_path / "faults.toml"
    path.write_text(text, encoding="utf-8")
    bank = with_faults(SandboxBank(today=TODAY), str(path))
    return FaultyBank(bank.bank, bank.rules, **kwargs)


async def _ids(bank: FaultyBank, who: str) -> tuple[str, dict[str, str]]:
    customer = await bank.bank.authenticate(who, f"sandbox-{who}")
    assert customer is not None
    accounts = await bank.bank.list_accounts(customer.customer_id)
    by_type = {a["accountType"]: a["accountId"] for a in accounts if a["status"] == "OPEN"}
    return customer.customer_id, by_type


async def test_latency_is_added_to_the_named_calls_only(tmp_path: Path) -> None:
    """latency_ms on bob's card transactions waits there, and nowhere else."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    bank = plan(
        tmp_path,
        '[[faults]]\ncustomer = "bob"\naccount_type = "CREDITCARD"\n'
        'methods = ["list_transactions"]\nlatency_ms = 1500\n',
        sleep=sleep,
    )
    cid, accounts = await _ids(bank, "bob")
    await bank.list_accounts(cid)
    await bank.list_transactions(cid, accounts["CHECKING"], EVERYTHING, PageRequest())
    await bank.list_transactions(cid, accounts["CREDITCARD"], EVERYTHING, PageRequest())

    assert waits == [1.5]


@pytest.mark.parametrize(
    ("error", "raised"),
    [("unavailable", BankUnavailable), ("timeout", BankTimeout), ("closed", AccountClosed)],
)
async def test_errors_are_raised_as_the_adapter_errors_they_name(
    tmp_path: Path, error: str, raised: type[Exception]
) -> None:
    """Each injected error is exactly the adapter error it names (not a subclass or base)."""
    bank = plan(tmp_path, f'[[faults]]\ncustomer = "alice"\nerror = "{error}"\n')
    cid, accounts = await _ids(bank, "alice")

    with pytest.raises(raised) as caught:
        await bank.get_account(cid, accounts["CHECKING"])

    assert raised is type(caught.value)


async def test_other_customers_are_untouched(tmp_path: Path) -> None:
    """A rule for alice leaves bob alone."""
    bank = plan(tmp_path, '[[faults]]\ncustomer = "alice"\nerror = "unavailable"\n')
    cid, _ = await _ids(bank, "bob")

    assert await bank.list_accounts(cid)
    assert await bank.authenticate("bob", "sandbox-bob") is not None
    with pytest.raises(BankUnavailable):
        await bank.authenticate("alice", "sandbox-alice")


async def test_rate_fails_only_that_share_of_calls(tmp_path: Path) -> None:
    """rate = 0.5 with draws 0.2, 0.7, 0.4, 0.9: the first and third calls fail."""
    draws = iter([0.2, 0.7, 0.4, 0.9])
    bank = plan(
        tmp_path,
        '[[faults]]\ncustomer = "alice"\nerror = "unavailable"\nrate = 0.5\n',
        chance=lambda: next(draws),
    )
    cid, _ = await _ids(bank, "alice")
    outcomes = []
    for _ in range(4):
        try:
            await bank.list_accounts(cid)
            outcomes.append("ok")
        except BankUnavailable:
            outcomes.append("503")

    assert outcomes == ["503", "ok", "503", "ok"]


async def test_a_maintenance_window_says_when_to_come_back(tmp_path: Path) -> None:
    """Inside the window: ScheduledMaintenance, retry_after seconds to its end."""
    now = [NOON]
    bank = plan(
        tmp_path,
        '[[faults]]\ncustomer = "carol"\n'
        'maintenance = { start = "2026-05-14T11:30:00Z", end = "2026-05-14T12:45:00Z" }\n',
        clock=lambda: now[0],
    )
    cid, _ = await _ids(bank, "carol")

    with pytest.raises(ScheduledMaintenance) as caught:
        await bank.get_customer_info(cid)
    now[0] = NOON + 3600

    assert 2700 == caught.value.retry_after
    assert await bank.get_customer_info(cid)


@pytest.mark.parametrize(
    ("clock", "retry_after"),
    [("23:50", 1200), ("00:05", 300), ("00:10", None), ("12:00", None)],
)
def test_a_daily_window_may_wrap_past_midnight(clock: str, retry_after: int | None) -> None:
    """23:50-00:10 UTC covers ten minutes either side of midnight."""
    window = Maintenance(23 * 3600 + 50 * 60, 10 * 60, daily=True)
    hours, minutes = map(int, clock.split(":"))
    now = datetime(2026, 5, 14, hours, minutes, tzinfo=UTC).timestamp()

    assert retry_after == window.retry_after(now)


async def test_restricted_and_closed_accounts_show_it_without_payment_networks(
    tmp_path: Path,
) -> None:
    """status = RESTRICTED or CLOSED changes the account's status and empties its networks."""
    bank = plan(
        tmp_path,
        '[[faults]]\ncustomer = "alice"\naccount_type = "CHECKING"\nstatus = "RESTRICTED"\n'
        '[[faults]]\ncustomer = "bob"\naccount_type = "CHECKING"\nstatus = "CLOSED"\n',
    )
    alice, a = await _ids(bank, "alice")
    bob, b = await _ids(bank, "bob")

    listed = {x["accountId"]: x["status"] for x in await bank.list_accounts(alice)}
    networks = await bank.list_payment_networks(alice, a["CHECKING"], PageRequest())
    closed = await bank.get_account(bob, b["CHECKING"])
    untouched = await bank.list_payment_networks(alice, a["SAVINGS"], PageRequest())

    assert listed[a["CHECKING"]] == "RESTRICTED"
    assert (list(networks.items), networks.total) == ([], 0)
    assert closed["status"] == "CLOSED"
    assert untouched.items
    original = await bank.bank.get_account(alice, a["CHECKING"])
    assert original["status"] == "OPEN"  # the bank's own object is not changed


async def test_the_demo_plan_resolves_against_the_demo_bank() -> None:
    """config/demo/faults.toml names real customers and account types."""
    bank = with_faults(SandboxBank(today=TODAY), "config/demo/faults.toml")

    assert len(bank.rules) == 3
    assert all(rule.customers for rule in bank.rules)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"error": "explode"}, "error: one of"),
        ({"status": "FROZEN"}, "status: one of"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"rate": 2}, "rate"),
        ({"methods": ["transfer"]}, "methods"),
        ({"maintenance": {"daily": "25:00-26:00"}}, "maintenance"),
        ({"maintenance": {"start": "2026-05-14T12:00:00Z", "end": "2026-05-14T11:00:00Z"}},
         "maintenance"),
        ({"colour": "red"}, "unknown key"),
    ],
    ids=["error", "status", "latency", "rate", "methods", "daily", "backwards", "unknown"],
)  # fmt: skip
def test_a_malformed_rule_is_refused_naming_its_key(rule: dict[str, Any], message: str) -> None:
    """Each mistake names the rule and the key."""
    with pytest.raises(FaultPlanError, match=rf"faults\[0\].*{message}"):
        parse_rule(0, rule)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[faults]]\ncustomer = "mallory"\n', "no customer 'mallory'"),
        ('[[faults]]\ncustomer = "alice"\naccount_type = "YACHT"\n', "no account matches"),
        ('[[faults]]\nstatus = "CLOSED"\n', "name an account"),
        ("faults = 3\n", "must hold a"),
    ],
    ids=["customer", "account", "status-without-account", "not-a-list"],
)
def test_a_plan_naming_nobody_is_refused(tmp_path: Path, text: str, message: str) -> None:
    """Names that resolve to nothing stop start-up instead of silently doing nothing."""
    with pytest.raises(FaultPlanError, match=message):
        plan(tmp_path, text)
