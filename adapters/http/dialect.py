"""``CoreDialect``: what one bank core's HTTP API looks like, and how its JSON becomes FDX.

A bank declares its core in a small mapping module that exports a ``CoreDialect`` (the
reference one is adapters/http/mapping.py) and names it in the ``mapping`` option. The adapter
does the HTTP (pooling, timeouts, retries, breaker, auth); the dialect only knows paths, query
parameters and shapes, so it is plain functions tested against recorded samples.

Dialect functions may raise ``KeyError``, ``TypeError`` or ``ValueError`` on a body they do not
understand; the adapter turns those into ``BankUnavailable`` (the core answered nonsense).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from adapters.base import (
    Account,
    AccountContact,
    AssetTransferNetwork,
    Customer,
    CustomerInfo,
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
    Window,
)
from adapters.errors import AdapterError


@dataclass(frozen=True, slots=True)
class CorePaths:
    """URL templates under ``base_url``; ``{customer}``, ``{account}``, ``{statement}`` are
    filled with percent-encoded ids."""

    login: str = "auth/login"  # POST {"username", "password"} → customer; 401 if wrong
    customer: str = "customers/{customer}"
    accounts: str = "customers/{customer}/accounts"
    account: str = "customers/{customer}/accounts/{account}"
    transactions: str = "customers/{customer}/accounts/{account}/transactions"
    contact: str = "customers/{customer}/accounts/{account}/contact"
    payment_networks: str = "customers/{customer}/accounts/{account}/payment-networks"
    statements: str = "customers/{customer}/accounts/{account}/statements"
    statement: str = "customers/{customer}/accounts/{account}/statements/{statement}"
    # The optional categories (adapters/capability.py); ``{item}`` is the resource's own id.
    payments: str = "customers/{customer}/bill-payments"
    recurring_payments: str = "customers/{customer}/standing-payments"
    recurring_payment_payments: str = "customers/{customer}/standing-payments/{item}/payments"
    reward_programs: str = "customers/{customer}/rewards"
    reward_program: str = "customers/{customer}/rewards/{item}"
    reward_categories: str = "customers/{customer}/rewards/{item}/categories"
    image: str = "customers/{customer}/accounts/{account}/images/{item}"
    image_content: str = "customers/{customer}/accounts/{account}/images/{item}/content"
    tax_documents: str = "customers/{customer}/tax-documents"
    tax_document: str = "customers/{customer}/tax-documents/{item}"
    tax_document_pdf: str = "customers/{customer}/tax-documents/{item}/pdf"
    transfer_networks: str = "customers/{customer}/accounts/{account}/transfer-networks"


@dataclass(frozen=True, slots=True)
class CoreDialect:
    """Paths, query building and body → FDX mapping for one kind of core."""

    login_body: Callable[[str, str], Any]
    customer: Callable[[Any], Customer]
    customer_info: Callable[[Any], CustomerInfo]
    accounts: Callable[[Any], list[Account]]
    account: Callable[[Any], Account]
    transactions: Callable[[Any], Page[Transaction]]
    contact: Callable[[Any], AccountContact]
    payment_networks: Callable[[Any], Page[PaymentNetwork]]
    statements: Callable[[Any], Page[Statement]]
    window_query: Callable[[Window, PageRequest], dict[str, str]]
    page_query: Callable[[PageRequest], dict[str, str]]
    paths: CorePaths = field(default_factory=CorePaths)
    # Codes a core puts in a 4xx body {"error": code}, mapped to adapter errors.
    errors: Mapping[str, type[AdapterError]] = field(default_factory=dict)
    # The code of a login refused for wrong credentials (401), as opposed to our own to the core.
    login_refused: str = "invalid_credentials"
    # One per optional category, or None where the core has none (the adapter then does not
    # serve it). Lists map a body to a page; ``accounts_query`` names the accounts a customer-level
    # list may draw from; ``image`` maps the image's metadata to (media type, transaction date).
    payments: Callable[[Any], Page[Payment]] | None = None
    recurring_payments: Callable[[Any], Page[RecurringPayment]] | None = None
    reward_programs: Callable[[Any], Page[RewardProgram]] | None = None
    reward_program: Callable[[Any], RewardProgram] | None = None
    reward_categories: Callable[[Any], Page[RewardCategory]] | None = None
    image: Callable[[Any], tuple[str, date]] | None = None
    tax_documents: Callable[[Any], Page[TaxStatement]] | None = None
    tax_document: Callable[[Any], TaxStatement] | None = None
    transfer_networks: Callable[[Any], list[AssetTransferNetwork]] | None = None
    accounts_query: Callable[[Sequence[str]], dict[str, str]] | None = None

    @property
    def categories(self) -> frozenset[str]:
        """The optional categories this core serves: those whose mappings are all given."""
        served = {
            "bills": (self.payments, self.recurring_payments, self.accounts_query),
            "rewards": (self.reward_programs, self.reward_program, self.reward_categories),
            "images": (self.image,),
            "tax": (self.tax_documents, self.tax_document, self.accounts_query),
            "transfer_networks": (self.transfer_networks,),
        }
        return frozenset(name for name, needs in served.items() if all(needs))


def load_dialect(target: str) -> CoreDialect:
    """``"package.module:NAME"`` → the ``CoreDialect`` it names."""
    module_name, _, attribute = target.partition(":")
    try:
        dialect = getattr(importlib.import_module(module_name), attribute or "DIALECT")
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"http: mapping {target!r} cannot be loaded ({exc})") from exc
    if not isinstance(dialect, CoreDialect):
        raise ValueError(f"http: mapping {target!r} is not a CoreDialect")
    return dialect
