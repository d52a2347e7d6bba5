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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.base import (
    Account,
    AccountContact,
    Customer,
    CustomerInfo,
    Page,
    PageRequest,
    PaymentNetwork,
    Statement,
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
