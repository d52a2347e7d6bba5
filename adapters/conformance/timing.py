"""``Timed``: a BankAdapter wrapper that records how long each call took, for the report."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

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
from adapters.conformance.report import Latency

T = TypeVar("T")


class Timed:
    def __init__(self, bank: BankAdapter, *, clock: Callable[[], float] = time.perf_counter):
        self.bank = bank
        self.name = bank.name
        self.seconds: defaultdict[str, list[float]] = defaultdict(list)
        self._clock = clock

    def latencies(self) -> tuple[Latency, ...]:
        return tuple(Latency.of(m, s) for m, s in sorted(self.seconds.items()) if s)

    async def _timed(self, method: str, call: Awaitable[T]) -> T:
        start = self._clock()
        try:
            return await call
        finally:
            self.seconds[method].append(self._clock() - start)

    async def authenticate(self, username: str, password: str) -> Customer | None:
        return await self._timed("authenticate", self.bank.authenticate(username, password))

    async def get_customer(self, customer_id: str) -> Customer:
        return await self._timed("get_customer", self.bank.get_customer(customer_id))

    async def list_accounts(self, customer_id: str) -> Sequence[Account]:
        return await self._timed("list_accounts", self.bank.list_accounts(customer_id))

    async def get_account(self, customer_id: str, account_id: str) -> Account:
        return await self._timed("get_account", self.bank.get_account(customer_id, account_id))

    async def list_transactions(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Transaction]:
        call = self.bank.list_transactions(customer_id, account_id, window, page)
        return await self._timed("list_transactions", call)

    async def get_contact(self, customer_id: str, account_id: str) -> AccountContact:
        return await self._timed("get_contact", self.bank.get_contact(customer_id, account_id))

    async def list_payment_networks(
        self, customer_id: str, account_id: str, page: PageRequest
    ) -> Page[PaymentNetwork]:
        call = self.bank.list_payment_networks(customer_id, account_id, page)
        return await self._timed("list_payment_networks", call)

    async def list_statements(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Statement]:
        call = self.bank.list_statements(customer_id, account_id, window, page)
        return await self._timed("list_statements", call)

    async def get_statement(self, customer_id: str, account_id: str, statement_id: str) -> Document:
        call = self.bank.get_statement(customer_id, account_id, statement_id)
        return await self._timed("get_statement", call)

    async def get_customer_info(self, customer_id: str) -> CustomerInfo:
        return await self._timed("get_customer_info", self.bank.get_customer_info(customer_id))

    async def aclose(self) -> None:
        await self.bank.aclose()
