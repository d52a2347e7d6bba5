"""The gateway's time budget for every bank adapter call (``adapter_timeout``).

An adapter may have timeouts of its own, or none (a sandbox with injected latency, a core
behind a hung connection). The gateway does not rely on them: ``BudgetedBank`` cancels any call
still running after ``adapter_timeout`` seconds and raises ``BankTimeout``, which the FDX API
answers 503 with FDX code 501 (adapters/errors.py) and the screens with their "cannot be reached"
page. A slow core so costs its own requests the budget at most; the event loop, and every other
request on it, never waits for it.

``create_app`` wraps the configured adapter once, inside ``gateway.metrics``' measuring proxy,
so a call cut short is counted as a ``BankTimeout`` of the adapter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from adapters.base import (
    Account,
    AccountContact,
    BankAdapter,
    Customer,
    CustomerInfo,
    Document,
    Page,
    PageRequest,
    PaymentNetwork,
    Statement,
    Transaction,
    Window,
)
from adapters.errors import BankTimeout

T = TypeVar("T")


class BudgetedBank:
    """A ``BankAdapter`` that gives each call of the one it wraps at most ``seconds``.

    Attributes other than the Protocol's (``members`` of a composite, a ``health`` probe) pass
    through to the wrapped adapter."""

    def __init__(self, bank: BankAdapter, seconds: float) -> None:
        self.wrapped = bank
        self.name: str = getattr(bank, "name", type(bank).__name__)
        self.seconds = seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)

    async def _within(self, call: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(self.seconds):
                return await call
        except TimeoutError:
            # The operation only: the call's arguments name a customer.
            raise BankTimeout(f"no answer within {self.seconds:g} s") from None

    async def authenticate(self, username: str, password: str) -> Customer | None:
        return await self._within(self.wrapped.authenticate(username, password))

    async def get_customer(self, customer_id: str) -> Customer:
        return await self._within(self.wrapped.get_customer(customer_id))

    async def list_accounts(self, customer_id: str) -> Sequence[Account]:
        return await self._within(self.wrapped.list_accounts(customer_id))

    async def get_account(self, customer_id: str, account_id: str) -> Account:
        return await self._within(self.wrapped.get_account(customer_id, account_id))

    async def list_transactions(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Transaction]:
        return await self._within(
            self.wrapped.list_transactions(customer_id, account_id, window, page)
        )

    async def get_contact(self, customer_id: str, account_id: str) -> AccountContact:
        return await self._within(self.wrapped.get_contact(customer_id, account_id))

    async def list_payment_networks(
        self, customer_id: str, account_id: str, page: PageRequest
    ) -> Page[PaymentNetwork]:
        return await self._within(self.wrapped.list_payment_networks(customer_id, account_id, page))

    async def list_statements(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Statement]:
        return await self._within(
            self.wrapped.list_statements(customer_id, account_id, window, page)
        )

    async def get_statement(self, customer_id: str, account_id: str, statement_id: str) -> Document:
        return await self._within(self.wrapped.get_statement(customer_id, account_id, statement_id))

    async def get_customer_info(self, customer_id: str) -> CustomerInfo:
        return await self._within(self.wrapped.get_customer_info(customer_id))

    async def aclose(self) -> None:
        await self.wrapped.aclose()


def within_budget(bank: BankAdapter, seconds: float) -> BankAdapter:
    return BudgetedBank(bank, seconds)


__all__ = ["BudgetedBank", "within_budget"]
