"""Errors a bank adapter may raise, and the one table that maps them to FDX error codes.

Adapters raise only these. The gateway renders them through ``FDX_ERRORS`` (docs/fdx.md §3);
nothing else in the code base decides which FDX code an adapter failure becomes::

    AdapterError
    ├── CustomerNotFound          404 / 601
    ├── AccountNotFound           404 / 701
    ├── StatementNotFound         404 / 1104
    ├── StatementProcessing       400 / 1300
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
