"""The seam between the gateway and a bank: the ``BankAdapter`` Protocol and the types it speaks.

An adapter speaks one bank's dialect and answers in FDX v6 shapes (plain JSON-ready dicts whose
keys are FDX field names). It never sees tokens or consents: the gateway passes only the customer
and the accounts, dates and pages that the consent allows, and projects every object it returns
down to the consented fields. Adapters raise only ``adapters.errors.AdapterError`` subclasses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, Protocol, TypeAlias, TypeVar, runtime_checkable

# FDX objects travel as JSON dicts keyed by FDX field names (fdx-api-6.2 schemas): Account is an
# AccountWithDetails (accountCategory discriminates), Transaction one of the *Transaction types.
FdxObject: TypeAlias = dict[str, Any]
Account: TypeAlias = FdxObject
Transaction: TypeAlias = FdxObject
Statement: TypeAlias = FdxObject
AccountContact: TypeAlias = FdxObject
PaymentNetwork: TypeAlias = FdxObject
CustomerInfo: TypeAlias = FdxObject
Payment: TypeAlias = FdxObject  # Paymententity
RecurringPayment: TypeAlias = FdxObject  # RecurringPaymententity
RewardProgram: TypeAlias = FdxObject  # RewardProgramentity
RewardCategory: TypeAlias = FdxObject  # RewardCategoryentity
TaxStatement: TypeAlias = FdxObject  # TaxStatement: one tax document, its forms in ``forms[]``
AssetTransferNetwork: TypeAlias = FdxObject

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Customer:
    """Who signed in: the bank's own customer id and a name to greet them by, and the RFC 6238
    TOTP secret (base32) when the bank asks this customer for a one-time code after the password
    at the built-in sign-in; never shown, logged or stored by the gateway."""

    customer_id: str
    display_name: str
    otp_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Window:
    """Inclusive date range (FDX ``startTime``/``endTime`` are dates, docs/fdx.md §1)."""

    start: date
    end: date


@dataclass(frozen=True, slots=True)
class PageRequest:
    """``offset`` is the opaque cursor the adapter itself returned as ``Page.next_offset``."""

    offset: str | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_offset: str | None = None
    total: int | None = None


@dataclass(frozen=True, slots=True)
class Document:
    content: bytes
    media_type: str = "application/pdf"


@dataclass(frozen=True, slots=True)
class TransactionImage:
    """A check or receipt image (FDX getAccountTransactionImages) and the date of the
    transaction it belongs to, which the look-back window is measured against."""

    content: bytes
    media_type: str  # image/png, image/tiff, image/jpeg, image/gif or application/pdf
    transaction_date: date


@runtime_checkable
class BankAdapter(Protocol):
    """A bank's systems, as the gateway needs them. Every method is async and may raise only
    ``AdapterError``s; unknown ids (or ids of another customer) raise ``AccountNotFound``."""

    name: str

    async def authenticate(self, username: str, password: str) -> Customer | None:
        """The customer if the credentials are right, else None (never say which part failed)."""

    async def get_customer(self, customer_id: str) -> Customer: ...

    async def list_accounts(self, customer_id: str) -> Sequence[Account]:
        """Every account of the customer, with full details; the gateway filters and projects."""

    async def get_account(self, customer_id: str, account_id: str) -> Account: ...

    async def list_transactions(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Transaction]:
        """Transactions whose date (posted, or transaction date when pending) lies in ``window``,
        newest first, pending included."""

    async def get_contact(self, customer_id: str, account_id: str) -> AccountContact: ...

    async def list_payment_networks(
        self, customer_id: str, account_id: str, page: PageRequest
    ) -> Page[PaymentNetwork]: ...

    async def list_statements(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Statement]: ...

    async def get_statement(
        self, customer_id: str, account_id: str, statement_id: str
    ) -> Document: ...

    async def get_customer_info(self, customer_id: str) -> CustomerInfo:
        """The FDX Customer (``/customers/current``); ``accounts[]`` lists all of them."""

    async def aclose(self) -> None: ...


# The optional categories (FDX 6.2 clusters beyond the core): an adapter serves one by having
# its methods, or says exactly which it serves with a ``categories`` attribute (a wrapper does,
# for what it wraps). ``adapters.capability`` reads this once, at start-up.


@runtime_checkable
class BillsSource(Protocol):
    """BILLS: payments the customer scheduled through the bank (upcoming bill information,
    12 CFR 1033.211(c)). ``account_ids`` are the source accounts the consent reaches: only
    payments from them are listed; ``window`` bounds ``dueDate``."""

    async def list_payments(
        self, customer_id: str, account_ids: Sequence[str], window: Window, page: PageRequest
    ) -> Page[Payment]: ...

    async def list_recurring_payments(
        self, customer_id: str, account_ids: Sequence[str], page: PageRequest
    ) -> Page[RecurringPayment]: ...

    async def list_recurring_payment_payments(
        self,
        customer_id: str,
        recurring_payment_id: str,
        account_ids: Sequence[str],
        window: Window,
        page: PageRequest,
    ) -> Page[Payment]:
        """Raises ``RecurringPaymentNotFound`` for an unknown id or one whose source account is
        not among ``account_ids``."""


@runtime_checkable
class RewardsSource(Protocol):
    """REWARDS: the reward programs the customer belongs to (rewards terms, 1033.211(d))."""

    async def list_reward_programs(
        self, customer_id: str, page: PageRequest
    ) -> Page[RewardProgram]: ...

    async def get_reward_program(self, customer_id: str, program_id: str) -> RewardProgram:
        """Raises ``RewardProgramNotFound``."""

    async def list_reward_categories(
        self, customer_id: str, program_id: str, page: PageRequest
    ) -> Page[RewardCategory]:
        """Raises ``RewardProgramNotFound`` or ``RewardCategoriesNotFound``."""


@runtime_checkable
class ImagesSource(Protocol):
    """IMAGES: check and receipt images, by the ids in a transaction's ``imageIds``."""

    async def get_transaction_image(
        self, customer_id: str, account_id: str, image_id: str
    ) -> TransactionImage:
        """Raises ``AccountNotFound`` or ``ImageNotFound``."""


@runtime_checkable
class TaxFormsSource(Protocol):
    """TAX: tax documents (TaxStatement), each tied to accounts through its forms'
    ``accountId``; only documents whose forms all belong to ``account_ids`` exist here."""

    async def list_tax_forms(
        self,
        customer_id: str,
        account_ids: Sequence[str],
        tax_year: int | None,
        page: PageRequest,
    ) -> Page[TaxStatement]: ...

    async def get_tax_form(
        self, customer_id: str, account_ids: Sequence[str], tax_form_id: str
    ) -> TaxStatement:
        """Raises ``TaxFormNotFound``."""

    async def get_tax_form_pdf(
        self, customer_id: str, account_ids: Sequence[str], tax_form_id: str
    ) -> Document:
        """The document as the customer would print it. Raises ``TaxFormNotFound``."""


@runtime_checkable
class TransferNetworksSource(Protocol):
    """PAYMENT_SUPPORT's asset transfer networks (ACATS, DTC, ATON) of an investment account."""

    async def list_asset_transfer_networks(
        self, customer_id: str, account_id: str
    ) -> Sequence[AssetTransferNetwork]: ...


AdapterOptions: TypeAlias = Mapping[str, Any]
"""One adapter's table from the adapter configuration file (``settings.adapter_config``)."""

AdapterFactory: TypeAlias = Callable[[AdapterOptions], BankAdapter]
"""What an entry point in the group ``fdx_gateway.adapters`` loads to (docs/adapters.md): a
callable that takes the adapter's options and returns a ready ``BankAdapter``. It may do no I/O;
an adapter opens its connections on first use and closes them in ``aclose``."""
