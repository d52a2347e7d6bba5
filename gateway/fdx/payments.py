"""BILLS: ``GET /payments``, ``GET /recurring-payments`` and
``GET /recurring-payments/{recurringPaymentId}/payments`` (FDX searchForPayments,
searchForRecurringPayments, getPaymentsForRecurringPayment): the upcoming bill information of
12 CFR 1033.211(c), read-only.

Payments are the customer's, not an account's, yet each is paid from one: only those whose
``fromAccountId`` is a consented account with BILLS are listed, and a payment's ``dueDate``
must lie inside the look-back window (upcoming ones always do). A recurring payment from an
account outside the consent is as unknown as one that does not exist (404/806).

The adapter is given the accounts and the window, but the gateway does not rely on it (an HTTP
core answers whatever it answers): a payment whose ``fromAccountId`` is not a consented BILLS
account, or whose ``dueDate`` is before the look-back, is dropped here too, and so is a
recurring payment from an account outside the consent. A page that lost items this way carries
no ``totalElements`` (the adapter's counted them).

``updatedSince`` (FDX 6.2 on all three operations) is not a date: it returns what changed
"since the nextUpdateId", a token the server hands out in ``updates.nextUpdateId``. This server
issues none (bills carry no change history to answer from), so any value is one it did not
issue and is refused as 400/401 naming the parameter, rather than ignored: a recipient asking for
changes only must not take the whole list for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any, TypeVar

from starlette.routing import Route

from adapters import capability
from adapters.base import Page, Window
from authz.services import Services
from gateway.audit import AuditLog
from gateway.errors import InvalidInput
from gateway.fdx.endpoint import Call, Served, fdx_route
from gateway.pagination import envelope, page_request
from gateway.projection import project_all
from gateway.responses import fdx_json

PAYMENTS = "GET /payments"
RECURRING = "GET /recurring-payments"
SPAWNED = "GET /recurring-payments/{recurringPaymentId}/payments"

T = TypeVar("T")


async def list_payments(call: Call) -> Served:
    accounts, clusters = call.customer_scope()
    _no_updates(call)
    bank = capability.bills(call.services.bank)
    paging = page_request(call.query, call.services.settings)
    window = _window(call)
    page = await bank.list_payments(call.ctx.customer_id, accounts, window, paging)
    page = _kept(page, lambda p: _from_consented(p, accounts) and _due_within(p, window))
    items = project_all(page.items, call.services.policy.allowed_fields("payment", clusters))
    body = envelope(call.request, page, "payments", items)
    return Served(fdx_json(body), accounts, clusters, len(items))


async def list_recurring_payments(call: Call) -> Served:
    accounts, clusters = call.customer_scope()
    _no_updates(call)
    bank = capability.bills(call.services.bank)
    paging = page_request(call.query, call.services.settings)
    page = await bank.list_recurring_payments(call.ctx.customer_id, accounts, paging)
    page = _kept(page, lambda p: _from_consented(p, accounts))
    allowed = call.services.policy.allowed_fields("recurring_payment", clusters)
    items = project_all(page.items, allowed)
    body = envelope(call.request, page, "recurringPayments", items)
    return Served(fdx_json(body), accounts, clusters, len(items))


async def list_recurring_payment_payments(call: Call) -> Served:
    accounts, clusters = call.customer_scope()
    _no_updates(call)
    bank = capability.bills(call.services.bank)
    paging = page_request(call.query, call.services.settings)
    recurring_id = call.path["recurringPaymentId"]
    window = _window(call)
    page = await bank.list_recurring_payment_payments(
        call.ctx.customer_id, recurring_id, accounts, window, paging
    )
    page = _kept(page, lambda p: _from_consented(p, accounts) and _due_within(p, window))
    items = project_all(page.items, call.services.policy.allowed_fields("payment", clusters))
    body = envelope(call.request, page, "payments", items)
    return Served(fdx_json(body), accounts, clusters, len(items))


def _window(call: Call) -> Window:
    """Due dates from the look-back's first day on, with no end: upcoming bills are the point."""
    return Window(call.earliest() or date.min, date.max)


def _no_updates(call: Call) -> None:
    if call.query.get("updatedSince") is not None:
        raise InvalidInput("updatedSince is not an update id this server issued (it issues none)")


def _kept(page: Page[T], keep: Callable[[T], bool]) -> Page[T]:
    items = [i for i in page.items if keep(i)]
    if len(items) == len(page.items):
        return page
    return replace(page, items=items, total=None)


def _from_consented(payment: Any, accounts: tuple[str, ...]) -> bool:
    return isinstance(payment, dict) and payment.get("fromAccountId") in accounts


def _due_within(payment: Any, window: Window) -> bool:
    """``dueDate`` (an FDX DateString) on or after the window's start; one that is missing or
    unreadable is kept only when the consent has no look-back to hold it to."""
    if window.start == date.min:
        return True
    raw = payment.get("dueDate") if isinstance(payment, dict) else None
    try:
        due = date.fromisoformat(raw[:10]) if isinstance(raw, str) else None
    except ValueError:
        due = None
    return due is not None and window.start <= due


def routes(services: Services, audit: AuditLog) -> list[Route]:
    return [
        fdx_route("/payments", PAYMENTS, list_payments, services, audit),
        fdx_route("/recurring-payments", RECURRING, list_recurring_payments, services, audit),
        fdx_route(
            "/recurring-payments/{recurringPaymentId}/payments",
            SPAWNED,
            list_recurring_payment_payments,
            services,
            audit,
        ),
    ]
