"""Errors a bank adapter may raise: what went wrong at the bank, in the bank's terms.

Adapters raise only these. They carry no HTTP status and no FDX code: which FDX answer each
becomes is the gateway's business, decided in one table (``FROM_ADAPTER`` in gateway/errors.py).
An adapter's contract is to raise the right class, and the conformance kit checks just that::

    AdapterError
    ├── CustomerNotFound          the bank does not know the customer
    ├── AccountNotFound           unknown account, or another customer's
    ├── StatementNotFound
    ├── StatementProcessing       the statement's document is not ready yet
    ├── RecurringPaymentNotFound
    ├── RewardProgramNotFound
    ├── RewardCategoriesNotFound
    ├── ImageNotFound
    ├── TaxFormNotFound
    ├── TaxFormsNotYetAvailable
    ├── CategoryNotServed         an optional category this adapter does not serve
    ├── AccountClosed
    ├── AccountTypeNotSupported
    ├── ScheduledMaintenance      planned downtime, with ``retry_after`` seconds
    └── BankUnavailable           the core is down or answered nonsense
        └── BankTimeout           ... or did not answer in time
"""

from __future__ import annotations


class AdapterError(Exception):
    """Base of every adapter failure. The message is for logs, never for the response."""


class CustomerNotFound(AdapterError):
    pass


class AccountNotFound(AdapterError):
    pass


class StatementNotFound(AdapterError):
    pass


class StatementProcessing(AdapterError):
    pass


class RecurringPaymentNotFound(AdapterError):
    pass


class RewardProgramNotFound(AdapterError):
    pass


class RewardCategoriesNotFound(AdapterError):
    pass


class ImageNotFound(AdapterError):
    pass


class TaxFormNotFound(AdapterError):
    pass


class TaxFormsNotYetAvailable(AdapterError):
    pass


class CategoryNotServed(AdapterError):
    """The adapter does not implement this optional category (adapters/capability.py); the
    gateway never offers its cluster, so only a call that slipped past that lands here."""


class AccountClosed(AdapterError):
    pass


class AccountTypeNotSupported(AdapterError):
    pass


class BankUnavailable(AdapterError):
    """The core is down or answered nonsense."""


class BankTimeout(BankUnavailable):
    """The core did not answer within the adapter's time budget."""


class ScheduledMaintenance(AdapterError):
    def __init__(self, message: str = "scheduled maintenance", *, retry_after: int = 300) -> None:
        super().__init__(message)
        self.retry_after = retry_after
