"""The bank side: the BankAdapter seam, its errors and the adapters that ship with the gateway."""

from __future__ import annotations

from adapters.base import (
    Account,
    AccountContact,
    AdapterFactory,
    AdapterOptions,
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
from adapters.composite import CompositeBank
from adapters.errors import AdapterError
from adapters.registry import ENTRY_POINT_GROUP, AdapterConfigError, load_adapter

__all__ = [
    "ENTRY_POINT_GROUP",
    "Account",
    "AccountContact",
    "AdapterConfigError",
    "AdapterError",
    "AdapterFactory",
    "AdapterOptions",
    "BankAdapter",
    "CompositeBank",
    "Customer",
    "CustomerInfo",
    "Document",
    "Page",
    "PageRequest",
    "PaymentNetwork",
    "Statement",
    "Transaction",
    "Window",
    "load_adapter",
]
