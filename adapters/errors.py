"""Errors a bank adapter may raise, and the one table that maps them to FDX error codes.

Adapters raise only these. The gateway renders them through ``FDX_ERRORS`` (docs/fdx.md §3);
nothing else in the code base decides which FDX code an adapter failure becomes::

    AdapterError
    ├── CustomerNotFound          404 / 601
    ├── AccountNotFound           404 / 701
    ├── StatementNotFound         404 / 1104
    ├── StatementProcessing       400 / 1300
    ├── RecurringPaymentNotFound  404 / 806
    ├── RewardProgramNotFound     404 / 1101
    ├── RewardCategoriesNotFound  404 / 1102
    ├── ImageNotFound             404 / 1103
    ├── TaxFormNotFound           404 / 1200
    ├── TaxFormsNotYetAvailable   409 / 1205
    ├── CategoryNotServed         501 / 1106
    ├── AccountClosed             409 / 705
    ├── AccountTypeNotSupported   422 / 704
    ├── ScheduledMaintenance      503 / 503  (+ Retry-After)
    └── BankUnavailable           503 / 501
        └── BankTimeout           503 / 501
"""

from __future__ import annotations

from typing import NamedTuple


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


class FdxCode(NamedTuple):
    status: int
    code: str
    message: str


# Most specific first: the first row whose class matches wins (docs/fdx.md §3 code table).
# 501 "Subsystem unavailable" goes out as HTTP 503 so clients retry (docs/architecture.md §9).
FDX_ERRORS: tuple[tuple[type[AdapterError], FdxCode], ...] = (
    (CustomerNotFound, FdxCode(404, "601", "Customer not found")),
    (AccountNotFound, FdxCode(404, "701", "Account not found")),
    (StatementNotFound, FdxCode(404, "1104", "Statement id not found")),
    (StatementProcessing, FdxCode(400, "1300", "Statement is processing")),
    (RecurringPaymentNotFound, FdxCode(404, "806", "Recurring payment not found")),
    (RewardProgramNotFound, FdxCode(404, "1101", "Reward program Id not found")),
    (RewardCategoriesNotFound, FdxCode(404, "1102", "Categories not found for the reward program")),
    (ImageNotFound, FdxCode(404, "1103", "Image Id not found for Transaction")),
    (TaxFormNotFound, FdxCode(404, "1200", "Tax Form not Found")),
    (TaxFormsNotYetAvailable, FdxCode(409, "1205", "Tax Forms not yet been made available")),
    (CategoryNotServed, FdxCode(501, "1106", "FdxVersion not supported or not implemented")),
    (AccountClosed, FdxCode(409, "705", "Account is closed")),
    (AccountTypeNotSupported, FdxCode(422, "704", "Account type not supported")),
    (ScheduledMaintenance, FdxCode(503, "503", "Scheduled maintenance")),
    (BankUnavailable, FdxCode(503, "501", "Subsystem unavailable")),
)


def fdx_code_for(error: AdapterError) -> FdxCode:
    for cls, code in FDX_ERRORS:
        if isinstance(error, cls):
            return code
    return FdxCode(500, "500", "Internal server error")
