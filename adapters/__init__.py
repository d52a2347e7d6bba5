"""The bank side: the BankAdapter seam, its errors and the adapters that ship with the gateway."""

from __future__ import annotations

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
from adapters.errors import AdapterError, fdx_code_for


def load_adapter(name: str) -> BankAdapter:
    """The adapter configured by name (``settings.adapter``)."""
    if name == "sandbox":
        from adapters.sandbox import SandboxBank

        return SandboxBank()
    raise ValueError(f"adapter: unknown bank adapter {name!r} (known: sandbox)")


__all__ = [
    "Account",
    "AccountContact",
    "AdapterError",
    "BankAdapter",
    "Customer",
    "CustomerInfo",
    "Document",
    "Page",
    "PageRequest",
    "PaymentNetwork",
    "Statement",
    "Transaction",
    "Window",
    "fdx_code_for",
    "load_adapter",
]
