"""``BankProxy``: a BankAdapter that forwards every call to another through one hook.

Timing for the conformance report, metrics per adapter and similar wrappers differ only in what
they do around a call; they subclass this and override ``_through``, instead of each restating
the Protocol's methods.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TypeVar

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

T = TypeVar("T")


class BankProxy:
    def __init__(self, wrapped: BankAdapter) -> None:
        self.wrapped = wrapped
        # ``name`` is part of the Protocol; a test double may lack it, and must still work.
        self.name: str = getattr(wrapped, "name", type(wrapped).__name__)
        # A proxy has every method; what it serves is what the wrapped adapter serves.
        self.categories = capability.categories(wrapped)

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

    async def list_payments(
        self, customer_id: str, account_ids: Sequence[str], window: Window, page: PageRequest
    ) -> Page[Payment]:
        bank = capability.bills(self.wrapped)
        call = bank.list_payments(customer_id, account_ids, window, page)
        return await self._through("list_payments", call)

    async def list_recurring_payments(
        self, customer_id: str, account_ids: Sequence[str], page: PageRequest
    ) -> Page[RecurringPayment]:
        bank = capability.bills(self.wrapped)
        call = bank.list_recurring_payments(customer_id, account_ids, page)
        return await self._through("list_recurring_payments", call)

    async def list_recurring_payment_payments(
        self,
        customer_id: str,
        recurring_payment_id: str,
        account_ids: Sequence[str],
        window: Window,
        page: PageRequest,
    ) -> Page[Payment]:
        bank = capability.bills(self.wrapped)
        call = bank.list_recurring_payment_payments(
            customer_id, recurring_payment_id, account_ids, window, page
        )
        return await self._through("list_recurring_payment_payments", call)

    async def list_reward_programs(
        self, customer_id: str, page: PageRequest
    ) -> Page[RewardProgram]:
        call = capability.rewards(self.wrapped).list_reward_programs(customer_id, page)
        return await self._through("list_reward_programs", call)

    async def get_reward_program(self, customer_id: str, program_id: str) -> RewardProgram:
        call = capability.rewards(self.wrapped).get_reward_program(customer_id, program_id)
        return await self._through("get_reward_program", call)

    async def list_reward_categories(
        self, customer_id: str, program_id: str, page: PageRequest
    ) -> Page[RewardCategory]:
        bank = capability.rewards(self.wrapped)
        call = bank.list_reward_categories(customer_id, program_id, page)
        return await self._through("list_reward_categories", call)

    async def get_transaction_image(
        self, customer_id: str, account_id: str, image_id: str
    ) -> TransactionImage:
        bank = capability.images(self.wrapped)
        call = bank.get_transaction_image(customer_id, account_id, image_id)
        return await self._through("get_transaction_image", call)

    async def list_tax_forms(
        self,
        customer_id: str,
        account_ids: Sequence[str],
        tax_year: int | None,
        page: PageRequest,
    ) -> Page[TaxStatement]:
        bank = capability.tax_forms(self.wrapped)
        call = bank.list_tax_forms(customer_id, account_ids, tax_year, page)
        return await self._through("list_tax_forms", call)

    async def get_tax_form(
        self, customer_id: str, account_ids: Sequence[str], tax_form_id: str
    ) -> TaxStatement:
        bank = capability.tax_forms(self.wrapped)
        call = bank.get_tax_form(customer_id, account_ids, tax_form_id)
        return await self._through("get_tax_form", call)

    async def get_tax_form_pdf(
        self, customer_id: str, account_ids: Sequence[str], tax_form_id: str
    ) -> Document:
        bank = capability.tax_forms(self.wrapped)
        call = bank.get_tax_form_pdf(customer_id, account_ids, tax_form_id)
        return await self._through("get_tax_form_pdf", call)

    async def list_asset_transfer_networks(
        self, customer_id: str, account_id: str
    ) -> Sequence[AssetTransferNetwork]:
        bank = capability.transfer_networks(self.wrapped)
        call = bank.list_asset_transfer_networks(customer_id, account_id)
        return await self._through("list_asset_transfer_networks", call)

    async def aclose(self) -> None:
        await self.wrapped.aclose()
