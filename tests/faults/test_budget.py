"""``adapter_timeout``: the gateway's own time budget around every bank adapter call."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.errors import AccountNotFound, BankTimeout
from config.settings import Settings, SettingsError
from gateway.budget import BudgetedBank

pytestmark = pytest.mark.anyio


class Core:
    """A bank whose ``get_account`` takes ``delay`` seconds, or raises ``error``."""

    name = "core"

    def __init__(self, delay: float = 0.0, error: Exception | None = None) -> None:
        self.delay, self.error = delay, error

    async def get_account(self, customer_id: str, account_id: str) -> dict[str, Any]:
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return {"accountId": account_id}


def budgeted(core: Core, seconds: float) -> BudgetedBank:
    return BudgetedBank(core, seconds)  # type: ignore[arg-type]


async def test_a_call_within_the_budget_returns_its_answer() -> None:
    """A quick core answers through the budget unchanged."""
    bank = budgeted(Core(), 5)

    assert {"accountId": "a1"} == await bank.get_account("c1", "a1")


async def test_a_call_past_the_budget_raises_bank_timeout() -> None:
    """A core hanging 30 s is cut at the 0.2 s budget: BankTimeout (FDX 503/501)."""
    bank = budgeted(Core(delay=30), 0.2)

    with pytest.raises(BankTimeout):
        await asyncio.wait_for(bank.get_account("c1", "a1"), 20)  # a hang guard only


async def test_a_slow_call_does_not_hold_up_the_others() -> None:
    """One call hangs, the others answer meanwhile; only the hung one times out."""
    slow, quick = Core(delay=30), Core()
    bank_slow, bank_quick = budgeted(slow, 0.3), budgeted(quick, 0.3)
    hung = asyncio.ensure_future(bank_slow.get_account("c1", "a1"))
    answers = [await bank_quick.get_account("c1", f"a{n}") for n in range(5)]

    assert not hung.done()
    with pytest.raises(BankTimeout):
        await asyncio.wait_for(hung, 20)
    assert 5 == len(answers)


async def test_the_adapters_own_errors_pass_through() -> None:
    """An adapter error inside the budget is the adapter's, not a timeout."""
    bank = budgeted(Core(error=AccountNotFound("no such account")), 5)

    with pytest.raises(AccountNotFound):
        await bank.get_account("c1", "a1")


async def test_a_cancellation_from_outside_stays_a_cancellation() -> None:
    """A request cancelled (its client gone) is not reported as a bank timeout."""
    bank = budgeted(Core(delay=30), 10)
    call = asyncio.ensure_future(bank.get_account("c1", "a1"))
    await asyncio.sleep(0.05)

    call.cancel()

    with pytest.raises(asyncio.CancelledError):
        await call


async def test_the_budget_leaves_no_task_marked_after_a_timeout() -> None:
    """After a timeout the task carries no pending cancellation: it goes on normally."""
    bank = budgeted(Core(delay=30), 0.1)

    with pytest.raises(BankTimeout):
        await bank.get_account("c1", "a1")
    await asyncio.sleep(0.01)  # would raise CancelledError if a cancellation were left over

    task = asyncio.current_task()
    assert task is not None
    assert 0 == task.cancelling()


@pytest.mark.parametrize("seconds", [0.0, 0.01, 301.0])
def test_an_adapter_timeout_out_of_range_is_refused_naming_the_key(seconds: float) -> None:
    """The budget must leave room to answer (≥ 0.05 s) and not hold a request for ever."""
    with pytest.raises(SettingsError, match="adapter_timeout"):
        Settings(adapter_timeout=seconds)
