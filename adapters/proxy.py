"""``BankProxy``: a BankAdapter that forwards every call to another through one hook.

Timing for the conformance report, metrics per adapter and similar wrappers differ only in what
they do around a call; they subclass this and override ``_through``, instead of each restating
the Protocol's methods.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
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

T = TypeVar("T")


class BankProxy:
    def __init__(self, wrapped: BankAdapter) -> None:
        self.wrapped = wrapped
        # ``name`` is part of the Protocol; a test double may lack it, and must still work.
        self.name: str = getattr(wrapped, "name", type(wrapped).__name__)

    async def _through(self, operation: str, call: Awaitable[T]) -> T:
        """Await ``call`` (the wrapped adapter's ``operation``); subclasses add around it."""
        return await call

    async def authenticate(self, username: str, password: str) -> Customer | None:
        return await self._through("authenticate", self.wrapped.authenticate(username, password))

    async def get_customer(self, customer_id: str) -> Customer:
        return await self._through("get_customer", self.wrapped.get_customer(customer_id))

    async def list_accounts(self, customer_id: str) -> Sequence[Account]:
        return await self._through("list_accounts", self.wrapped.list_accounts(customer_id))

    async def get_account(self, customer_id: str, account_id: str) -> Account:
        call = self.wrapped.get_account(customer_id, account_id)
        return await self._through("get_account", call)

    async def list_transactions(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Transaction]:
        call = self.wrapped.list_transactions(customer_id, account_id, window, page)
        return await self._through("list_transactions", call)

    async def get_contact(self, customer_id: str, account_id: str) -> AccountContact:
        call = self.wrapped.get_contact(customer_id, account_id)
        return await self._through("get_contact", call)

    async def list_payment_networks(
        self, customer_id: str, account_id: str, page: PageRequest
    ) -> Page[PaymentNetwork]:
        call = self.wrapped.list_payment_networks(customer_id, account_id, page)
        return await self._through("list_payment_networks", call)

    async def list_statements(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Statement]:
        call = self.wrapped.list_statements(customer_id, account_id, window, page)
        return await self._through("list_statements", call)

    async def get_statement(self, customer_id: str, account_id: str, statement_id: str) -> Document:
        call = self.wrapped.get_statement(customer_id, account_id, statement_id)
        return await self._through("get_statement", call)

    async def get_customer_info(self, customer_id: str) -> CustomerInfo:
        call = self.wrapped.get_customer_info(customer_id)
        return await self._through("get_customer_info", call)

    async def aclose(self) -> None:
        await self.wrapped.aclose()
